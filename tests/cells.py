"""Run a notebook's code cells in-process, with some answer cells swapped, and report its test cells.

Much faster than a kernel per run, so every wrong and every alternative answer in
``tests/variants/`` can be tried. The nbgrader pipeline itself is tested with real
kernels in test_pipeline.py.
"""

import contextlib
import os
import sys
import traceback

import matplotlib

matplotlib.use("Agg")


@contextlib.contextmanager
def _inside(directory):
    """cwd and sys.path at a chapter directory (for `provided`), and a clean module cache."""
    old_cwd, old_path = os.getcwd(), list(sys.path)
    stale = [name for name in sys.modules if name == "provided" or name.startswith("provided.")]
    for name in stale:
        del sys.modules[name]
    os.chdir(directory)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        for name in [n for n in sys.modules if n == "provided" or n.startswith("provided.")]:
            del sys.modules[name]


class Failure(str):
    """A failed test cell's error text; ``visible`` says whether it failed in the part of the cell the
    learner has (before ``### BEGIN HIDDEN TESTS``) rather than in the hidden tests."""

    def __new__(cls, text, visible):
        failure = super().__new__(cls, text)
        failure.visible = visible
        return failure


def run_tests(notebook, directory, answers=None):
    """Execute the code cells in order, except ``demo`` cells (which no test depends on);
    returns {test grade_id: None if passed else a Failure (the error text)}.

    Args:
        notebook: an nbformat notebook with nbgrader metadata (a source or a release notebook).
        directory: the chapter directory to run in.
        answers: {answer grade_id: code} replacing those answer cells.
    """
    import matplotlib.pyplot as plt

    from dlfs.judge.hidden import split_test

    answers = answers or {}
    namespace = {"__name__": "__main__"}
    results = {}
    with _inside(directory):
        for cell in notebook.cells:
            if cell.cell_type != "code" or cell.metadata.get("demo"):
                continue
            meta = cell.metadata.get("nbgrader", {})
            source = answers.get(meta.get("grade_id"), cell.source)
            is_test = meta.get("grade") and not meta.get("solution")
            setup, visible, hidden = split_test(source) if is_test else ("", source, "")
            error = None
            # each part is compiled on its own lines, so tracebacks keep the cell's line numbers
            parts = ((setup, 0, False), (visible, setup.count("\n"), True),
                     (hidden, setup.count("\n") + visible.count("\n"), False))
            for part, offset, is_visible in parts:
                if not part.strip():
                    continue
                try:
                    exec(compile("\n" * offset + part, f"<cell {meta.get('grade_id', '')}>", "exec"), namespace)
                except Exception:  # noqa: BLE001 - any failure of learner code is a result
                    error = Failure(traceback.format_exc(limit=-3), is_visible)
                    break
            if meta.get("grade"):
                results[meta["grade_id"]] = error
            plt.close("all")
    return results


def _run_graded(notebook, directory, mode, answers=None):
    """Run the notebook like run_tests, but with dlfs.grading in ``mode`` ("reference" or "observe"):
    returns {test grade_id: (records, index of the first hidden record)}. Test cells run in the parts
    the grading kernel gets (dlfs.judge.hidden.parts_to_run, as dlfs.judge.kernel.graded_run does)."""
    import matplotlib.pyplot as plt

    from dlfs import grading
    from dlfs.judge.hidden import parts_to_run

    answers = answers or {}
    namespace = {"__name__": "__main__"}
    results = {}
    with _inside(directory):
        try:
            for cell in notebook.cells:
                if cell.cell_type != "code" or cell.metadata.get("demo"):
                    continue
                meta = cell.metadata.get("nbgrader", {})
                source = answers.get(meta.get("grade_id"), cell.source)
                is_test = meta.get("grade") and not meta.get("solution")
                parts = parts_to_run(source, mode) if is_test else [(False, source)]
                records, hidden_from = [], None
                grading.grading_mode(mode if is_test else "direct", records)
                for hidden, code in parts:
                    if hidden is True:
                        hidden_from = len(records)
                    try:
                        exec(compile(code, f"<cell {meta.get('grade_id', '')}>", "exec"), namespace)
                    except Exception as error:  # noqa: BLE001 - the records so far are the result
                        if is_test and not isinstance(error, grading.GradingError):
                            records.append({"check": "stopped", "raised": type(error).__name__})
                        break
                if is_test:
                    results[meta["grade_id"]] = (records, hidden_from)
                plt.close("all")
        finally:
            grading.grading_mode("direct")
    return results


def judge_tests(source_notebook, directory, answers=None, reference=None):
    """Grade like a class is graded: the reference run with the solution, the learner's run in observe
    mode, and dlfs.judge's verdict per test; returns {test grade_id: None if passed else the message}."""
    from dlfs.judge.verdict import judge

    reference = reference or _run_graded(source_notebook, directory, "reference")
    observed = _run_graded(source_notebook, directory, "observe", answers)
    return {grade_id: (lambda v: None if v.passed else v.message)(
                judge(records, observed.get(grade_id, ([], None))[0], hidden_from))
            for grade_id, (records, hidden_from) in reference.items()}
