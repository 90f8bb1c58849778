"""Checks for graded test cells, written for the learner who reads the failure.

Every failed check raises :class:`GradingError` (an ``AssertionError``, so nbgrader
counts the cell as failed) whose message says what is wrong, then what to try (the hint,
first and in full), then what was expected, what was returned and where they differ most::

    check_close(mse_loss(y_pred, y), 0.8125, name="mse_loss(y_pred, y)",
                hint="Average the squared errors over the batch.")

The checks never trust the object they are given: results are copied into fresh
float64 arrays before any comparison, so an object that claims to equal
everything cannot pass.
"""

import base64
import binascii
import contextlib
import os
import warnings

import numpy as np

# The functions that decide pass or fail, bound when this module is imported: learner code that
# later replaces np.allclose (or the like) does not change what these checks conclude.
_array, _allclose, _isfinite, _array_equal = np.array, np.allclose, np.isfinite, np.array_equal


class GradingError(AssertionError):
    """A graded check failed; the message is meant for the learner. ``mistake``: the classic mistake the
    check recognised in the result (its explanation, or the name of a telling relation), else None: the
    class report (dlfs.judge.class_report) counts learners by it."""

    def __init__(self, message, mistake=None):
        super().__init__(message)
        self.mistake = mistake


def _fail(name, problem, hint=None, details=(), mistake=None):
    lines = [f"{name}: {problem}"]
    if hint:
        lines.append(f"  hint: {hint}")
    lines += [f"  {d}" for d in details]
    raise GradingError("\n".join(lines), mistake)


def _direct_call(function, *args, name=None, hint=None, **kwargs):
    """Call a learner's function; an error inside it becomes a GradingError that names the function.

    The original exception stays chained (``raise ... from``), so the traceback still points at
    the learner's line.
    """
    name = name or getattr(function, "__name__", "your function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        _fail(name, "is not implemented yet.",
              "replace `raise NotImplementedError()` with your code, run that cell, then this one.")
    except GradingError:
        raise
    except Exception as error:  # noqa: BLE001 - any error in learner code is reported the same way
        problem = f"raised {type(error).__name__}: {error}"
        default = "the lines of your code where it happened are shown below; check the shapes there."
        raise GradingError(f"{name}: {problem}" + f"\n  hint: {hint or default}") from error


def _float64(got):
    """A float64 copy of ``got``; numpy's own conversion warnings (complex parts, ragged lists) stay
    inside: the check that follows reports what is wrong in the learner's terms."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _array(got, dtype=np.float64, copy=True)


def _is_complex(got):
    try:
        return bool(np.iscomplexobj(got))
    except Exception:  # noqa: BLE001 - ragged lists and odd objects are reported by the conversion
        return False


def as_array(got, name="result", hint=None):
    """A float64 copy of ``got``, or a GradingError if it is not numeric."""
    if got is None:
        _fail(name, "returned None.", hint or "did you forget a `return` statement?")
    if isinstance(got, (str, bytes, dict, set)):
        _fail(name, f"returned a {type(got).__name__}, expected numbers.", hint)
    if _is_complex(got):
        _fail(name, "returned complex numbers, expected real ones.",
              hint or "a square root or log of a negative number? Work with real arrays.")
    try:
        array = _float64(got)
    except (TypeError, ValueError) as error:
        _fail(name, f"returned {type(got).__name__}, which is not an array of numbers ({error}).", hint)
    return array


def _direct_check_shape(got, expected_shape, name="result", hint=None):
    """``got`` has exactly ``expected_shape``; returns it as a float64 array."""
    array = as_array(got, name, hint)
    expected_shape = tuple(expected_shape)
    if array.shape != expected_shape:
        default = None
        if array.ndim == len(expected_shape) + 1 or array.ndim + 1 == len(expected_shape):
            default = "a missing or extra axis: check keepdims, reshape, or (N,) versus (N, 1)."
        elif array.ndim == 2 and len(expected_shape) == 2 and array.shape == expected_shape[::-1]:
            default = "the shape is transposed: check the order of a matrix product."
        _fail(name, "has the wrong shape.", hint or default,
              [f"expected shape: {expected_shape}", f"got shape:      {array.shape}"])
    return array


def _direct_check_length(got, expected_length, name="result", hint=None):
    """``got`` is a sequence (list, tuple or array) of exactly ``expected_length`` items."""
    try:
        length = len(got)
    except TypeError:
        _fail(name, f"should be a list of {expected_length} items, got a {type(got).__name__}.", hint)
    if length != expected_length:
        _fail(name, f"has {length} items, expected {expected_length}.", hint)


def _direct_check_finite(got, name="result", hint=None):
    """``got`` holds no NaN or infinity; returns it as a float64 array."""
    array = as_array(got, name, hint)
    bad = ~_isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(name, f"contains {int(bad.sum())} NaN or infinite value(s), the first at index {where}.",
              hint or "look for an overflow (exp of a large number), a log of 0 or a division by 0.")
    return array


def _direct_check_scalar(got, name="result", hint=None):
    """``got`` is a single finite number; returns it as a Python float."""
    array = as_array(got, name, hint)
    if array.size != 1:
        _fail(name, f"should be a single number, got an array of shape {array.shape}.",
              hint or "reduce over every axis (e.g. with .mean() or .sum()).")
    return float(_direct_check_finite(array.reshape(()), name, hint))


def _worst(got, expected):
    diff = np.abs(got - expected)
    index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    return index, diff[index]


def _short(array):
    return np.array2string(np.asarray(array), precision=6, threshold=12, edgeitems=3, suppress_small=True)


def _is_whole(number):
    return abs(number) >= 2 and abs(number - round(number)) <= 1e-6 * abs(number)


def diagnose(got, expected, echoed=False, rtol=1e-6, atol=1e-8):
    """(mistake, hint) naming the likely mistake when ``got`` (wrong) relates to ``expected`` in a telling way:
    the input returned unchanged (``echoed``), all zeros, the transpose, the opposite sign, a constant
    factor or a constant offset. None when no such relation holds. Both arrays have the same shape."""
    def close(a, b):
        return _allclose(a, b, rtol=rtol, atol=atol)

    if echoed:
        return "the input returned unchanged", (
            "this is the input, returned unchanged: compute the result from it (is a line missing, or is the result "
            "stored under another name than the one returned?).")
    if not got.any() and expected.any():
        return "every value 0 (the placeholder)", (
            "every value is 0: is the array you return still the np.zeros placeholder, or is the result computed "
            "but never written into it?")
    if got.ndim == 2 and got.shape[0] == got.shape[1] > 1 and not close(expected, expected.T) \
            and close(got, expected.T):
        return "transposed", ("these are the expected values transposed: check the order of a matrix product or a "
                              "stray .T.")
    if expected.any() and close(got, -expected):
        return "the opposite sign", ("every value has the opposite sign: check the direction (prediction minus "
                                     "target, or + versus - in an update).")
    nonzero = np.abs(expected) > 1e-12
    if nonzero.any() and close(got[~nonzero], 0):
        ratios = got[nonzero] / expected[nonzero]
        factor = float(np.median(ratios))
        constant = np.allclose(ratios, factor, rtol=1e-6, atol=0)
        telling = got.size > 1 or _is_whole(factor) or (factor and _is_whole(1 / factor))
        if constant and telling and abs(factor) > 1e-12 and not np.isclose(abs(factor), 1):
            return "off by a constant factor", (
                f"every value is {factor:.4g} times the expected one: a constant factor is off. The course averages "
                "losses over the batch (divide by N, no 1/2 in front), and a gradient carries the same factor as its "
                "loss; other textbooks scale differently.")
    if got.size > 1:
        offset = got - expected
        if np.ptp(offset) <= atol + rtol * np.abs(expected).max() and abs(float(offset.flat[0])) > atol:
            return "off by a constant term", ("every value is off by the same amount: a constant term (a bias, an "
                                              "epsilon, a +1) is missing or extra.")
    return None


def _inputs_echoed(array):
    """Whether ``array`` is, value for value, one of the arrays the last ``call`` passed in."""
    for value in _state["inputs"]:
        try:
            given = _float64(value)
        except (TypeError, ValueError):
            continue
        if given.shape == array.shape and given.size > 1 and _array_equal(given, array):
            return True
    return False


def _direct_check_close(got, expected, name="result", hint=None, rtol=1e-6, atol=1e-8, mistakes=(), echoed=None):
    """``got`` equals ``expected`` elementwise within tolerance, with the same shape.

    Args:
        mistakes: pairs ``(wrong_value, explanation)`` for classic mistakes; when
            ``got`` matches one of them, its explanation becomes the hint. Otherwise a
            telling relation to the expected values (see ``diagnose``) does.
        echoed: whether ``got`` is an input of the last ``call`` returned unchanged (None: find out).
    """
    expected = np.asarray(expected, dtype=np.float64)
    array = _direct_check_shape(got, expected.shape, name, hint)
    _direct_check_finite(array, name, hint)
    if _allclose(array, expected, rtol=rtol, atol=atol):
        return
    for wrong, explanation in mistakes:
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == array.shape and _allclose(array, wrong, rtol=rtol, atol=atol):
            mistake = hint = explanation
            break
    else:
        echoed = _inputs_echoed(array) if echoed is None else echoed
        mistake, hint = diagnose(array, expected, echoed, rtol, atol) or (None, hint)
    index, diff = _worst(array, expected)
    details = [f"expected: {_short(expected)}", f"got:      {_short(array)}"]
    if array.ndim:
        details.append(f"worst element at index {tuple(int(i) for i in index)}: "
                       f"expected {expected[index]:.6g}, got {array[index]:.6g} (off by {diff:.3g})")
    _fail(name, "has the wrong values.", hint, details, mistake)


def _direct_check_gradient(got, numerical, name="gradient", hint=None, tol=1e-6):
    """An analytic gradient agrees with a numerical one (relative error below ``tol``)."""
    numerical = np.asarray(numerical, dtype=np.float64)
    array = _direct_check_shape(got, numerical.shape, name, hint)
    _direct_check_finite(array, name, hint)
    error = np.abs(array - numerical) / np.maximum(1e-8, np.abs(array) + np.abs(numerical))
    if error.max() > tol:
        index = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
        mistake, hint = diagnose(array, numerical, rtol=tol, atol=1e-8) or (
            None, hint or "derive the gradient again for one element and compare with this index.")
        _fail(name, f"disagrees with the numerical gradient (relative error {error.max():.2e}, "
                    f"tolerance {tol:.0e}).", hint,
              [f"at index {tuple(int(i) for i in index)}: analytic {array[index]:.6g}, "
               f"numerical {numerical[index]:.6g}"], mistake)


def _direct_grad_of(layer, key, name):
    """The gradient ``layer.grads[key]`` a layer's backward stored, or a GradingError saying it is missing."""
    grads = getattr(layer, "grads", None)
    if not isinstance(grads, dict) or key not in grads:
        _fail(f"{name}.grads", f"has no entry {key!r} after backward.",
              f"store the gradient in backward: self.grads[{key!r}] = ...")
    return grads[key]


@contextlib.contextmanager
def replaced(namespace, **replacements):
    """Temporarily replace names in a notebook's namespace (``globals()``).

    A test uses it to grade one exercise on its own: a later function that calls
    an earlier one sees the reference version, so a mistake is only counted once.
    """
    missing = object()
    saved = {key: namespace.get(key, missing) for key in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is missing:
                namespace.pop(key, None)
            else:
                namespace[key] = value


# ---------------------------------------------------------------------------------------------------
# Grading outside the learner's kernel.
#
# While a learner works, every check runs here and raises at once ("direct" mode). When a class is
# graded, the test cells run twice: in a trusted kernel with the instructor's solution ("reference"
# mode: each check reports the expected value, the tolerances, the hint and the classic mistakes),
# and in the learner's kernel ("observe" mode: each check only reports what the learner's code gave,
# as plain numbers). The verdict is reached by dlfs.judge, in a process learner code cannot reach,
# from these two lists of records; the learner's version of a test cell never computes an expected
# value (dlfs.judge.hidden strips them).
# ---------------------------------------------------------------------------------------------------

MIME = "application/vnd.dlfs.observation+json"
MODES = ("direct", "observe", "reference")
BATCH = 1000     # records per display data message: a message per record costs the grader ~1 ms each
_state = {"mode": "direct", "sink": None, "inputs": (), "batch": []}


def grading_mode(mode, sink=None):
    """Set how checks behave: "direct", "observe" or "reference". Records go to ``sink.append`` if
    given (in-process runs), else to the kernel's output as display data of type MIME: lists of records,
    sent every BATCH records and whenever the mode is set (in a grading kernel every cell ends by setting it:
    end_of_cell)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    _flush()
    _state["mode"], _state["sink"] = mode, sink


def end_of_cell(result=None):
    """A grading kernel's post_run_cell hook (dlfs.judge.kernel registers it): every cell ends in "direct" mode,
    which sends the records it gathered, also after an error or an interrupt."""
    grading_mode("direct")


def encode(value):
    """A float64 array (or anything np.array turns into one) as a record holds it: its shape and its bytes.
    ``json_default`` writes the bytes into JSON as base64, which ``decode`` reads too."""
    array = _array(value, dtype=np.float64, copy=None)     # (tobytes copies it)
    return {"shape": list(array.shape), "float64": array.tobytes()}


def decode(data):
    """The float64 array ``encode`` described (its bytes, or them in base64); raises ValueError on anything
    malformed."""
    raw = data.get("float64") if isinstance(data, dict) else None
    if not isinstance(raw, (str, bytes)) or not isinstance(data.get("shape"), list):
        raise ValueError("not an encoded array")
    shape = tuple(int(n) for n in data["shape"])
    if any(n < 0 for n in shape) or len(shape) > 8:
        raise ValueError("bad shape")
    raw = binascii.a2b_base64(raw, strict_mode=True) if isinstance(raw, str) else raw
    if len(raw) != 8 * int(np.prod(shape, dtype=np.int64)):
        raise ValueError("size does not match the shape")
    return np.frombuffer(raw, dtype=np.float64).reshape(shape).copy()


def json_default(value):
    """``json.dumps(records, default=json_default)``: an encoded array's bytes as base64 text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _encoded_arrays(records, replace):
    """``records`` with every encoded array ``replace(array)``-d. Arrays sit at most three levels deep in a record
    (record["got"], record["got"][i], record["mistakes"][i][0]): nothing deeper is looked at, so a forged record
    nested a thousand levels deep costs the grader nothing."""
    def walk(value, depth):
        if isinstance(value, dict):
            if "shape" in value and ("float64" in value or "buffer" in value):
                return replace(value)
            return {k: walk(v, depth + 1) for k, v in value.items()} if depth < 3 else value
        if isinstance(value, list) and depth < 3:
            return [walk(v, depth + 1) for v in value]
        return value
    return [walk(record, 0) for record in records]


def to_buffers(records):
    """(records, buffers): the records with each encoded array's bytes moved into a buffer of the message that
    carries them (``{"shape": ..., "buffer": index}``; arrays with the same bytes share one buffer). Binary
    buffers skip the base64, JSON and signing that a message's content goes through: chapter 05's dropout test
    observes 15 MB of distinct arrays, which as base64 text in the content took 47 MB."""
    buffers = {}

    def move(array):
        raw = array["float64"]
        if not isinstance(raw, bytes):
            return array
        return {"shape": array["shape"], "buffer": buffers.setdefault(raw, len(buffers))}
    return _encoded_arrays(records, move), list(buffers)


def from_buffers(records, buffers):
    """The records ``to_buffers`` split, with each array's bytes back from ``buffers`` (a reference to no buffer
    is left as it is: ``decode`` refuses it)."""
    def restore(array):
        index = array.get("buffer")
        if type(index) is not int or not 0 <= index < len(buffers):
            return array
        return {"shape": array["shape"], "float64": bytes(buffers[index])}
    return _encoded_arrays(records, restore)


def _emit(record):
    if _state["sink"] is not None:
        _state["sink"].append(record)
    else:
        _state["batch"].append(record)
        if len(_state["batch"]) >= BATCH:
            _flush()


def _flush():
    """Send the records gathered so far to the grader, as one display data message of the Jupyter kernel this runs
    in, whose arrays travel as binary buffers. Outside a kernel there is no grader to send them to: pass a sink."""
    batch, _state["batch"] = _state["batch"], []
    if not batch:
        return
    from IPython import get_ipython
    publisher = getattr(get_ipython(), "display_pub", None)
    session, socket = getattr(publisher, "session", None), getattr(publisher, "pub_socket", None)
    if session is None or socket is None:
        raise RuntimeError(f"{len(batch)} grading records and no Jupyter kernel to send them from: outside a kernel, "
                           "give grading_mode a sink (a list) to collect them")
    records, buffers = to_buffers(batch)
    text = f"[{len(batch)} observations]"
    message = session.msg("display_data", {"data": {MIME: records, "text/plain": text}, "metadata": {}, "transient": {}},
                          parent=publisher.parent_header)
    session.send(socket, message, ident=publisher.topic, buffers=buffers)


def _invalid_kind(got):
    """Why ``got`` is not an array of numbers, as a code the judge turns into a message (None if it is)."""
    if got is None:
        return "none"
    if isinstance(got, (str, bytes, dict, set)):
        return "type:" + type(got).__name__
    try:
        if _is_complex(got):
            return "type:complex"
        _float64(got)
    except (TypeError, ValueError):
        return "type:" + type(got).__name__
    return None


def _observe(check, name, got, **notes):
    """Report the learner's value for one check; returns it as a float64 array (or stops the cell).

    ``notes`` map a key to a function of the array whose value goes into the record too."""
    invalid = _invalid_kind(got)
    if invalid:
        _emit({"check": check, "name": name, "invalid": invalid})
        _fail(name, "is not an array of numbers.")
    array = _float64(got)
    _emit({"check": check, "name": name, "got": encode(array), **{k: f(array) for k, f in notes.items()}})
    return array


def call(function, *args, name=None, hint=None, **kwargs):
    """Call a learner's function; an error inside it becomes a GradingError that names the function.

    The original exception stays chained (``raise ... from``), so the traceback still points at
    the learner's line.
    """
    name = name or getattr(function, "__name__", "your function")
    _state["inputs"] = (*args, *kwargs.values())  # for the hint "returned its input unchanged"
    if _state["mode"] == "direct":
        return _direct_call(function, *args, name=name, hint=hint, **kwargs)
    try:
        result = function(*args, **kwargs)
    except NotImplementedError:
        _emit({"check": "call", "name": name, "raised": "NotImplementedError", "hint": hint})
        _fail(name, "is not implemented yet.")
    except GradingError:
        raise
    except Exception as error:  # noqa: BLE001 - any error in learner code is reported the same way
        _emit({"check": "call", "name": name, "raised": type(error).__name__, "message": str(error)[:300],
               "hint": hint})
        raise GradingError(f"{name}: raised {type(error).__name__}") from error
    _emit({"check": "call", "name": name, "raised": None, "hint": hint})
    return result


def check_shape(got, expected_shape, name="result", hint=None):
    """``got`` has exactly ``expected_shape``; returns it as a float64 array."""
    if _state["mode"] == "observe":
        return _observe("shape", name, got)
    array = _direct_check_shape(got, expected_shape, name, hint)
    if _state["mode"] == "reference":
        _emit({"check": "shape", "name": name, "hint": hint, "expected": list(tuple(expected_shape))})
    return array


def check_length(got, expected_length, name="result", hint=None):
    """``got`` is a sequence (list, tuple or array) of exactly ``expected_length`` items."""
    if _state["mode"] == "observe":
        try:
            length = len(got)
        except TypeError:
            _emit({"check": "length", "name": name, "invalid": "type:" + type(got).__name__})
            _fail(name, "is not a sequence.")
        _emit({"check": "length", "name": name, "got": int(length)})
        return
    _direct_check_length(got, expected_length, name, hint)
    if _state["mode"] == "reference":
        _emit({"check": "length", "name": name, "hint": hint, "expected": int(expected_length)})


def check_finite(got, name="result", hint=None):
    """``got`` holds no NaN or infinity; returns it as a float64 array."""
    if _state["mode"] == "observe":
        return _observe("finite", name, got)
    array = _direct_check_finite(got, name, hint)
    if _state["mode"] == "reference":
        _emit({"check": "finite", "name": name, "hint": hint})
    return array


def check_scalar(got, name="result", hint=None):
    """``got`` is a single finite number; returns it as a Python float."""
    if _state["mode"] == "observe":
        array = _observe("scalar", name, got)
        return float(array.reshape(-1)[0]) if array.size else float("nan")
    value = _direct_check_scalar(got, name, hint)
    if _state["mode"] == "reference":
        _emit({"check": "scalar", "name": name, "hint": hint})
    return value


def check_close(got, expected, name="result", hint=None, rtol=1e-6, atol=1e-8, mistakes=()):
    """``got`` equals ``expected`` elementwise within tolerance, with the same shape.

    Args:
        mistakes: pairs ``(wrong_value, explanation)`` for classic mistakes; when
            ``got`` matches one of them, its explanation becomes the hint.
    """
    if _state["mode"] == "observe":
        # "echo" only ever changes the hint of a failed check, never its verdict
        _observe("close", name, got, echo=_inputs_echoed)
        return
    _direct_check_close(got, expected, name, hint, rtol, atol, mistakes)
    if _state["mode"] == "reference":
        _emit({"check": "close", "name": name, "hint": hint, "rtol": rtol, "atol": atol, "expected": encode(expected),
               "mistakes": [[encode(wrong), explanation] for wrong, explanation in mistakes]})


def check_gradient(got, numerical, name="gradient", hint=None, tol=1e-6):
    """An analytic gradient agrees with a numerical one (relative error below ``tol``)."""
    if _state["mode"] == "observe":
        _observe("gradient", name, got)
        return
    _direct_check_gradient(got, numerical, name, hint, tol)
    if _state["mode"] == "reference":
        _emit({"check": "gradient", "name": name, "hint": hint, "tol": tol, "expected": encode(numerical)})


def grad_of(layer, key, name):
    """The gradient ``layer.grads[key]`` a layer's backward stored, or a GradingError saying it is missing."""
    if _state["mode"] == "observe":
        grads = getattr(layer, "grads", None)
        present = isinstance(grads, dict) and key in grads
        _emit({"check": "grad_of", "name": name, "key": key, "got": bool(present)})
        if not present:
            _fail(f"{name}.grads", f"has no entry {key!r} after backward.")
        return grads[key]
    value = _direct_grad_of(layer, key, name)
    if _state["mode"] == "reference":
        _emit({"check": "grad_of", "name": name, "key": key})
    return value


@contextlib.contextmanager
def unchanged(name="your function", **arrays):
    """Check that the code in the ``with`` block leaves the given arrays as they were.

    Example::

        with unchanged("gradient_descent", X=X, y=y):
            gradient_descent(X, y, ...)
    """
    snapshots = {key: _array(value, copy=True) for key, value in arrays.items()}
    yield
    for key, before in snapshots.items():
        if _state["mode"] == "observe":
            after = arrays[key]
            _emit({"check": "unchanged", "name": name, "key": key,
                   "got": encode(after) if _invalid_kind(after) is None else None})
            continue
        after = np.asarray(arrays[key])
        if after.shape != before.shape or not _array_equal(after, before, equal_nan=True):
            _fail(name, f"modified its input `{key}` in place.",
                  "work on a copy (x = x.copy()) or build a new array instead of assigning into the input.")
        if _state["mode"] == "reference":
            _emit({"check": "unchanged", "name": name, "key": key, "expected": encode(before)})


def check_float(got, name="result", hint=None):
    """``got`` is one Python float (an np.floating counts), not an array; returns it."""
    is_float = isinstance(got, (float, np.floating))
    if _state["mode"] == "observe":
        _emit({"check": "float", "name": name, "got": bool(is_float), "type": type(got).__name__[:60]})
        if not is_float:
            _fail(name, "is not a float.")
        return got
    if not is_float:
        _fail(name, f"returned a {type(got).__name__} of shape {np.shape(got)}, expected a Python float.",
              hint or "reduce to one number and return float(...) of it.")
    if _state["mode"] == "reference":
        _emit({"check": "float", "name": name, "hint": hint})
    return got


PREDICATES = {}


def predicate(function):
    """Register a named test the judge applies to observed arrays (``check_that``)."""
    PREDICATES[function.__name__] = function
    return function


@predicate
def mnist_accuracy_at_least(W, b, threshold, n_test):
    """The linear classifier (W (784, 10), b (10,)) gets at least ``threshold`` of the first ``n_test``
    MNIST test images right. Returns (holds, what was measured)."""
    from dlfs.data import load_mnist
    _, (x_test, t_test) = load_mnist(n_train=1, n_test=int(n_test))
    accuracy = float(np.mean(np.argmax(x_test @ W + b, axis=1) == t_test))
    return accuracy >= threshold, f"{accuracy:.1%} on {int(n_test)} test images, expected at least {threshold:.0%}"


def check_that(name_of_predicate, arrays, name="result", hint=None, **params):
    """A named predicate of PREDICATES holds for ``arrays`` (a tuple of arrays) with ``params``.

    In the learner's kernel only the arrays are observed; the judge evaluates the predicate."""
    if _state["mode"] == "observe":
        _emit({"check": "that", "name": name, "got": [encode(a) if _invalid_kind(a) is None else None for a in arrays]})
        return
    values = [_direct_check_finite(a, name, hint) for a in arrays]
    holds, measured = PREDICATES[name_of_predicate](*values, **params)
    if not holds:
        raise GradingError(measured_message(name, measured, hint))
    if _state["mode"] == "reference":
        _emit({"check": "that", "name": name, "hint": hint, "predicate": name_of_predicate, "params": params})


def measured_message(name, measured, hint=None):
    """The message of a predicate that does not hold: what was measured, then the hint (the predicate's
    own, which names the likely mistake, else the test's), then the details."""
    first, *rest = str(measured).splitlines()
    hints = [line for line in rest if line.startswith("  hint:")] or ([f"  hint: {hint}"] if hint else [])
    details = [line for line in rest if not line.startswith("  hint:")]
    return "\n".join([f"{name}: measured {first.rstrip('.')}.", *(h.rstrip('.') + '.' for h in hints), *details])


def check_keys(got, keys, name="result", hint=None, what="key"):
    """``got`` is a dict with exactly the keys ``keys``. The judge sees one flag per expected key and the number
    of keys (-1 for anything but a dict), so no key has to be a number."""
    is_dict = isinstance(got, dict)
    present = [bool(is_dict and key in got) for key in keys]
    check_that("has_keys", (present, len(got) if is_dict else -1), name, hint, keys=list(keys), what=what)


# chapter 03

@predicate
def below(value, bound):
    """Every entry of ``value`` is below ``bound`` (a relative error that must be tiny)."""
    if not value.size:
        return False, f"no number, expected one below {bound:.0e}"
    worst = float(np.max(value))
    return worst < bound, f"{worst:.2e}, expected below {bound:.0e}"


@predicate
def above(value, bound):
    """Every entry of ``value`` is above ``bound`` (a relative error that must show a bug)."""
    if not value.size:
        return False, f"no number, expected one above {bound:.0e}"
    least = float(np.min(value))
    return least > bound, f"{least:.2e}, expected above {bound:.0e}"


@predicate
def has_keys(present, count, keys, what="key"):
    """A dict has exactly ``keys``: ``present`` flags each of them and ``count`` is its number of keys, -1 if it is
    not a dict (see check_keys)."""
    keys = [str(key) for key in keys]
    flags, count = present.reshape(-1), count.reshape(-1)
    if count.size != 1 or count[0] < 0 or flags.size != len(keys):
        return False, f"something other than a dict, expected a dict with exactly the {what}s {keys}"
    found = [key for key, flag in zip(keys, flags) if flag]
    others = int(count[0]) - len(found)
    return (len(found) == len(keys) and others == 0,
            f"the {what}s {found} and {others} other {what}(s), expected exactly the {what}s {keys}")


@predicate
def holds(*flags, problem):
    """Every flag is true (nonzero): a fact about the learner's objects that only their kernel can see, such as
    an array being a layer's own. Each flag is one array: a single fact, or one flag per item (a dict still holding
    the same arrays); no flag at all, or an empty one, shows nothing and fails. ``problem`` says what was found when
    a flag is not true."""
    return bool(flags) and all(bool(flag.size) and bool(np.all(flag != 0)) for flag in flags), problem


def _with_hint(problem, details=(), hint=None):
    """A measurement that says what was found, what was expected and what to try, on the lines check_that's
    message uses (check_that adds the final period): the judge hides the detail lines of hidden checks."""
    lines = [problem]
    if hint:
        lines.append(f"  hint: {hint.rstrip('.')}")
    return "\n".join(lines + [f"  {d}" for d in details])


def _exact(array):
    return np.array2string(np.asarray(array), precision=12, threshold=12, edgeitems=3)


@predicate
def agree(got, other, what, rtol=0.0, atol=0.0):
    """Two of the learner's results agree within tolerance (two runs or calls with the same seed, labels that must
    stay with their examples, a result and what an earlier result of theirs implies); ``what`` names the second
    one. The default compares exactly; pass ``rtol`` and ``atol`` (as check_close takes) for results of float
    arithmetic. Says how many entries differ and where the worst one is, with the values on the detail lines (which
    the judge leaves out of hidden checks)."""
    if got.shape != other.shape:
        return False, _with_hint(f"values other than {what}",
                                 [f"expected shape: {other.shape}", f"got shape:      {got.shape}"])
    if _allclose(got, other, rtol=rtol, atol=atol):
        return True, f"the same values as {what}"
    differing = int(np.sum(~np.isclose(got, other, rtol=rtol, atol=atol)))
    details = [f"expected: {_exact(other)}", f"got:      {_exact(got)}"]
    if got.ndim:
        index, diff = _worst(got, other)
        details.append(f"worst element at index {tuple(int(i) for i in index)}: expected {other[index]:.12g}, "
                       f"got {got[index]:.12g} (off by {diff:.3g})")
    return False, _with_hint(f"values that differ from {what} in {differing} of {got.size} entries", details)


@predicate
def differ(got, other, same, rtol=0.0, atol=0.0):
    """Two of the learner's results differ (a shuffled order and the original one, two seeds, two training passes):
    another shape, or an entry farther apart than ``rtol`` and ``atol`` allow (by default, any difference at all);
    ``same`` says what it means when they do not."""
    return got.shape != other.shape or not _allclose(got, other, rtol=rtol, atol=atol), same


@predicate
def batch_sizes(sizes, largest, total=None, unit="images", missing="no image through the layer"):
    """The sizes of the batches a spy (a stand-in model's predict, a layer's forward) was given: at most
    ``largest`` each and, if ``total`` is given, ``total`` in all (every example once). ``unit`` names what the
    batches hold; ``missing`` says what it means when there was no batch at all."""
    sizes = sizes.reshape(-1)
    expected = f"at most {largest:g} {unit} per batch" + (f", covering all {total:g} once" if total is not None else "")
    if not sizes.size:
        return False, f"{missing}, expected {expected}"
    if sizes.size <= 20:
        seen = f"batches of {[int(s) if s == int(s) else float(s) for s in sizes]} {unit}"
    else:
        seen = f"{sizes.size} batches, the largest of {sizes.max():g} {unit}, {sizes.sum():g} in all"
    fits = bool(sizes.max() <= largest) and (total is None or bool(sizes.sum() == total))
    return fits, f"{seen}, expected {expected}"


@predicate
def train_flags(modes, expected):
    """The ``train`` flags a stand-in layer or model was called with (True 1, False 0): every one is ``expected``."""
    modes = modes.reshape(-1)
    shown = ", ".join(str(bool(m)) if m in (0.0, 1.0) else f"{m:g}" for m in modes[:12])
    more = ", ..." if modes.size > 12 else ""
    seen = f"the train flags [{shown}{more}]" if modes.size else "no call with a train flag"
    return (bool(modes.size) and bool(np.all(modes == float(expected))),
            f"{seen}, expected train={bool(expected)} in every call")


# chapter 05

def _text(codes):
    """The text a test sent as UTF-8 bytes (``np.frombuffer(text.encode(), np.uint8)``); never fails."""
    codes = np.asarray(codes, dtype=np.float64).reshape(-1)
    codes = np.where((codes >= 0) & (codes <= 255), np.round(codes), 63)     # anything else becomes "?"
    return bytes(codes.astype(np.uint8)).decode("utf-8", errors="replace")


@predicate
def names_are(codes, expected, what="names"):
    """The learner's names (sent as UTF-8 text, one per line) are exactly ``expected``, in order."""
    text = _text(codes)
    names = text.split("\n") if text else []
    expected = [str(name) for name in expected]
    return names == expected, f"the {what} {names}, expected {expected}"


@predicate
def initializer_statistics(w, kind, scale, mistakes=()):
    """A large sample of initial weights has the distribution ``kind`` ("uniform": U(-scale, scale), "normal":
    N(0, scale**2)): its spread within 3 %, its mean within 6 standard errors of 0, and its range (uniform) or
    its share beyond two standard deviations (normal). ``mistakes``: pairs (wrong standard deviation, what that
    spread means), the hint when the sample's spread is that one."""
    if not w.size:
        return False, "no weights at all"
    std_expected = scale / np.sqrt(3) if kind == "uniform" else scale
    mean, std, largest = float(w.mean()), float(w.std()), float(np.abs(w).max())
    expected = f"expected: mean 0, standard deviation {std_expected:.4g}"
    expected += f", every value in [-{scale:.4g}, {scale:.4g}]" if kind == "uniform" else " (a normal distribution)"
    details = [expected, f"got:      mean {mean:.4g}, standard deviation {std:.4g}, largest |w| {largest:.4g}"]
    if abs(std / std_expected - 1) > 0.03:
        hint = "check the formula of the scale, and that you used fan_in and fan_out from fans(shape)."
        for wrong_std, explanation in mistakes:
            if abs(std / wrong_std - 1) < 0.03:
                hint = explanation
                break
        return False, _with_hint("the wrong spread", details, hint)
    if abs(mean) > 6 * std_expected / np.sqrt(w.size):
        return False, _with_hint("weights that are not centred on 0", details, "draw values symmetric around 0.")
    if kind == "uniform" and not 0.98 * scale < largest <= scale * (1 + 1e-6):
        return False, _with_hint("weights that are not uniform on [-a, a]", details,
                                 "draw with rng.uniform(-a, a, size=shape).")
    beyond = float(np.mean(np.abs(w) > 2 * std_expected))
    if kind == "normal" and not 0.035 < beyond < 0.056:
        return False, _with_hint(f"weights that do not look normal: {beyond:.1%} of the values lie beyond 2 standard "
                                 "deviations (a normal distribution has 4.6 %)", details,
                                 "draw with rng.normal(0, std, size=shape).")
    return True, f"mean {mean:.4g}, standard deviation {std:.4g}"


@predicate
def dropout_mask(out, p, tolerance, rate_hint="drop a unit when rng.random() < p (p is the drop rate, not the keep "
                                               "rate)."):
    """Dropout's training output ``out`` drops units with a mask drawn per entry (not one per example or one per
    unit), and about the share ``p`` of them (within ``tolerance``). A dropped unit is exactly 0."""
    kept = out != 0
    dropped = 1.0 - float(kept.mean()) if kept.size else 0.0
    rate = _with_hint(f"{dropped:.1%} of the units dropped, expected about {p:.0%}", (), rate_hint)
    if not 0 < dropped < 1:         # nothing or everything dropped: a mask shared by all says nothing more
        return abs(dropped - p) < tolerance, rate
    for axis, what in ((0, "example"), (1, "unit")):
        if kept.ndim >= 2 and kept.shape[axis] > 1 and bool(np.all(kept == kept.take([0], axis=axis))):
            return False, _with_hint(f"the same mask for every {what}", (), "draw one random number per entry of x: "
                                     "self.rng.random(x.shape).")
    return abs(dropped - p) < tolerance, rate


@predicate
def dropout_scaling(out, x, p, mean_tolerance, mistakes=()):
    """Inverted dropout: the kept units of ``out`` are x / (1 - p), and the mean activation stays within
    ``mean_tolerance`` of x's. ``mistakes``: pairs (factor, explanation) for kept units equal to x * factor."""
    if out.shape != x.shape:
        return False, f"an output of shape {out.shape}, expected the shape {x.shape} of x"
    kept = out != 0
    if not kept.any():
        return False, "no unit kept"
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        ratio = out[kept] / x[kept]
    if not _allclose(ratio, 1 / (1 - p), rtol=1e-6, atol=1e-8):
        hint = next((explanation for factor, explanation in mistakes
                     if _allclose(ratio, factor, rtol=1e-6, atol=1e-8)), None)
        return False, _with_hint(f"kept units of x * {float(np.median(ratio)):.4g}, expected x / (1 - p) = "
                                 f"x * {1 / (1 - p):.4g}", (), hint)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = float(out.mean() / x.mean())
    return abs(change - 1) < mean_tolerance, _with_hint(
        f"the mean activation changed by a factor {change:.3f}; expected 1", (),
        "inverted dropout keeps the expected activation unchanged.")


@predicate
def dropout_backward(dx, expected):
    """Dropout's backward ``dx`` is ``expected`` = dout * mask / (1 - p) with the forward pass's own mask (computed
    from the learner's forward output): zero exactly where forward dropped units, and equal elsewhere."""
    if dx.shape != expected.shape:
        return False, f"an array of shape {dx.shape}, expected {expected.shape}"
    if not np.array_equal(dx == 0, expected == 0):
        return False, "a gradient that is not zero exactly where the forward pass dropped units"
    return agree(dx, expected, "dout * mask / (1 - p) with the forward pass's mask", rtol=1e-6, atol=1e-8)


# chapter 06

@predicate
def standard_deviation_near(w, expected, tolerance, formula):
    """A sample of initial weights has a standard deviation within ``tolerance`` (relative) of ``expected``, the
    value of ``formula`` (e.g. "He's initialization gives sqrt(2 / 25)")."""
    std = float(w.std()) if w.size else 0.0
    return abs(std / expected - 1) < tolerance, f"a standard deviation of {std:.4f}; {formula} = {expected:.4f}"


@predicate
def peak_memory_within(peak, scores_bytes, allowance):
    """The peak memory a prediction allocated (tracemalloc, in bytes) stays within ``allowance`` besides the
    ``scores_bytes`` its result takes."""
    peak, scores_bytes = float(peak.reshape(-1)[0]) if peak.size else np.inf, float(scores_bytes.sum())
    return bool(peak <= allowance + scores_bytes), (f"{peak / 1e6:.0f} MB at its peak, expected below "
                                                    f"{allowance / 1e6:.0f} MB besides the scores")


# ---------------------------------------------------------------------------------------------------
# How a failed check looks in the notebook: the message (what was expected, what came back, the hint),
# then only the lines of the learner's own code where an error happened, never the test's source or a
# stack through IPython, nbgrader and this module.
# ---------------------------------------------------------------------------------------------------

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _own_frames(error, test_cell):
    """The frames of ``error``'s traceback that are the learner's code: notebook cells other than the
    test cell that failed, not this package, not an installed library."""
    import traceback
    frames = traceback.extract_tb(error.__traceback__) if error is not None else []
    return [f for f in frames if f.filename != test_cell and not f.filename.startswith(_PACKAGE)
            and "site-packages" not in f.filename and "/lib/python" not in f.filename]


def _brief_failure(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for GradingError (see set_custom_exc): a short, readable error output."""
    import traceback
    outermost = traceback.extract_tb(tb)[0].filename if tb is not None else ""
    lines = [f"{etype.__name__}: {value}"]
    own = _own_frames(value.__cause__, outermost)
    if own:
        cells = getattr(getattr(shell, "compile", None), "_filename_map", {})
        lines += ["", "Where it happened, in your code:"]
        for frame in own:
            where = f"Cell In[{cells[frame.filename]}]" if frame.filename in cells else frame.filename
            lines.append(f"  {where}, line {frame.lineno}, in {frame.name}")
            if frame.line:
                lines.append(f"    {frame.line}")
    shell._showtraceback(etype, value, lines)
    return lines


def _install_brief_failures():
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "_showtraceback"):
        shell.set_custom_exc((GradingError,), _brief_failure)


_install_brief_failures()
