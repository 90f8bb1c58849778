"""The verdict on one test cell: the learner's observations against the reference run's records.

Both lists come from the same test code (dlfs.grading): the reference run, in a trusted kernel with
the instructor's solution, records for each check what was expected, with its tolerance, hint and
classic mistakes; the learner's kernel records, for the same checks in the same order, only what the
learner's code produced. Nothing here runs or imports learner code: observations are plain data,
checked for form before use, and a missing, extra, reordered or malformed observation fails the test.
The messages are the ones the learner sees while working; for hidden checks they leave out the
expected values (a hint names what to fix, never the answer).
"""

import re
from dataclasses import dataclass

import numpy as np

from dlfs import grading

_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,60}")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""
    mistake: str | None = None     # the classic mistake the failing check recognised (for the class report)


NOT_ATTEMPTED = "not attempted (the stub's NotImplementedError)"
NO_RETURN = "returned None (a missing return)"


class _Problem(str):
    """A failing check's message for the learner, carrying the mistake it recognised (or None)."""

    def __new__(cls, message, mistake=None):
        problem = super().__new__(cls, message)
        problem.mistake = mistake
        return problem


def _invalid_message(name, code):
    if code == "none":
        return _Problem(f"{name}: returned None.\n  hint: did you forget a `return` statement?", NO_RETURN)
    kind = code.partition(":")[2] if isinstance(code, str) else ""
    kind = kind if _TYPE_NAME.fullmatch(kind) else "an object"
    return f"{name}: returned {kind}, which is not an array of numbers."


def _without_values(message):
    """A hidden check's message without the lines that show values: the problem, the hint and the shapes."""
    lines = message.splitlines()
    return "\n".join(lines[:1] + [line for line in lines[1:]
                                   if line.startswith("  hint:") or re.match(r"\s+(expected|got) shape:", line)])


def _compare(record, observed):
    """None if the observation passes the record's check, else the learner's message."""
    check, name, hint = record["check"], record["name"], record.get("hint")
    if "invalid" in observed:
        return _invalid_message(name, observed["invalid"])
    try:
        if check == "call":
            raised = observed.get("raised")
            if raised is None:
                return None
            if raised == "NotImplementedError":
                return _Problem(f"{name}: is not implemented yet.\n  hint: replace `raise NotImplementedError()` with "
                                "your code, run that cell, then this one.", NOT_ATTEMPTED)
            kind = raised if isinstance(raised, str) and _TYPE_NAME.fullmatch(raised) else "an error"
            return f"{name}: raised {kind}.\n  hint: {hint or 'run the test cell in your notebook to see the line.'}"
        if check == "length":
            got = observed.get("got")
            if not isinstance(got, int) or isinstance(got, bool):
                return f"{name}: is not a list."
            return None if got == record["expected"] else f"{name}: has {got} items, expected {record['expected']}."
        if check == "grad_of":
            present = observed.get("got")
            return None if present is True else (f"{name}.grads: has no entry {record['key']!r} after backward.\n"
                                                  f"  hint: store the gradient in backward: self.grads[{record['key']!r}] = ...")
        if check == "unchanged":
            after = observed.get("got")
            before = grading.decode(record["expected"])
            if after is not None:
                after = grading.decode(after)
            if after is None or after.shape != before.shape or not np.array_equal(after, before, equal_nan=True):
                return (f"{name}: modified its input `{record['key']}` in place.\n  hint: work on a copy "
                        "(x = x.copy()) or build a new array instead of assigning into the input.")
            return None
        if check == "float":
            if observed.get("got") is True:
                return None
            kind = observed.get("type") if _TYPE_NAME.fullmatch(str(observed.get("type"))) else "an object"
            return (f"{name}: returned a {kind}, expected a Python float.\n"
                    f"  hint: {hint or 'reduce to one number and return float(...) of it.'}")
        if check == "that":
            arrays = observed.get("got")
            if not isinstance(arrays, list) or any(a is None for a in arrays):
                return f"{name}: the result is not an array of numbers."
            values = [grading._direct_check_finite(grading.decode(a), name, hint) for a in arrays]
            holds, measured = grading.PREDICATES[record["predicate"]](*values, **record["params"])
            own_hint = next((line.partition("hint:")[2].strip() for line in str(measured).splitlines()
                             if line.startswith("  hint:")), None)     # a predicate's own hint names the mistake
            return None if holds else _Problem(grading.measured_message(name, measured, hint), own_hint)
        got = grading.decode(observed.get("got"))
        if check == "shape":
            grading._direct_check_shape(got, record["expected"], name, hint)
        elif check == "finite":
            grading._direct_check_finite(got, name, hint)
        elif check == "scalar":
            grading._direct_check_scalar(got, name, hint)
        elif check == "close":
            mistakes = [(grading.decode(wrong), explanation) for wrong, explanation in record.get("mistakes", ())]
            grading._direct_check_close(got, grading.decode(record["expected"]), name, hint,
                                        record["rtol"], record["atol"], mistakes, echoed=observed.get("echo") is True)
        elif check == "gradient":
            grading._direct_check_gradient(got, grading.decode(record["expected"]), name, hint, record["tol"])
        else:
            return f"{name}: the test recorded an unknown check {check!r}."
    except grading.GradingError as failure:
        return _Problem(str(failure), failure.mistake)
    except (ValueError, TypeError, KeyError):
        return f"{name}: the result could not be read."
    return None


def judge(reference, observed, hidden_from=None):
    """The verdict on one test cell.

    Args:
        reference: the reference run's records for the cell, in order (it passed every check).
        observed: the learner's records for the same cell, in order, as received (untrusted).
        hidden_from: index of the first record that belongs to the hidden tests (their messages leave
            out expected values); None if all are visible.
    """
    if not isinstance(observed, list):
        return Verdict(False, "the test produced no readable results.")
    for index, record in enumerate(reference):
        hidden = hidden_from is not None and index >= hidden_from
        if index >= len(observed):
            return Verdict(False, f"{record['name']}: the test stopped before this check (an error, a timeout "
                                  "or the kernel stopping in the code it tested).")
        seen = observed[index]
        if isinstance(seen, dict) and seen.get("check") == "stopped":
            raised = seen.get("raised")
            kind = raised if isinstance(raised, str) and _TYPE_NAME.fullmatch(raised) else "an error"
            return Verdict(False, f"{record['name']}: the test stopped before this check: {kind} in the code it "
                                  "tested (run the test cell in your notebook to see where).")
        if not isinstance(seen, dict) or seen.get("check") != record["check"] or seen.get("name") != record["name"]:
            return Verdict(False, f"{record['name']}: the test's results came in an unexpected order; "
                                  "was the test cell changed, or does your code print or display test results?")
        message = _compare(record, seen)
        if message:
            return Verdict(False, _without_values(message) if hidden else str(message),
                           getattr(message, "mistake", None))
    if len(observed) > len(reference):
        return Verdict(False, "the test produced more results than it checks; does your code display test results?")
    return Verdict(True)
