"""Checks for graded test cells, written for the learner who reads the failure.

Every failed check raises :class:`GradingError` (an ``AssertionError``, so nbgrader
counts the cell as failed) whose message says what was expected, what was
returned, where they differ most, and what to try::

    check_close(mse_loss(y_pred, y), 0.8125, name="mse_loss(y_pred, y)",
                hint="Average the squared errors over the batch.")

The checks never trust the object they are given: results are copied into fresh
float64 arrays before any comparison, so an object that claims to equal
everything cannot pass.
"""

import contextlib

import numpy as np

# The functions that decide pass or fail, bound when this module is imported: learner code that
# later replaces np.allclose (or the like) does not change what these checks conclude.
_array, _allclose, _isfinite, _array_equal = np.array, np.allclose, np.isfinite, np.array_equal


class GradingError(AssertionError):
    """A graded check failed; the message is meant for the learner."""


def _fail(name, problem, hint=None, details=()):
    lines = [f"{name}: {problem}", *(f"  {d}" for d in details)]
    if hint:
        lines.append(f"  hint: {hint}")
    raise GradingError("\n".join(lines))


def call(function, *args, name=None, hint=None, **kwargs):
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
        default = "the traceback above shows the line of your code where it happened; check the shapes there."
        raise GradingError(f"{name}: {problem}" + f"\n  hint: {hint or default}") from error


def as_array(got, name="result", hint=None):
    """A float64 copy of ``got``, or a GradingError if it is not numeric."""
    if got is None:
        _fail(name, "returned None.", hint or "did you forget a `return` statement?")
    if isinstance(got, (str, bytes, dict, set)):
        _fail(name, f"returned a {type(got).__name__}, expected numbers.", hint)
    try:
        array = _array(got, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        _fail(name, f"returned {type(got).__name__}, which is not an array of numbers ({error}).", hint)
    return array


def check_shape(got, expected_shape, name="result", hint=None):
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


def check_length(got, expected_length, name="result", hint=None):
    """``got`` is a sequence (list, tuple or array) of exactly ``expected_length`` items."""
    try:
        length = len(got)
    except TypeError:
        _fail(name, f"should be a list of {expected_length} items, got a {type(got).__name__}.", hint)
    if length != expected_length:
        _fail(name, f"has {length} items, expected {expected_length}.", hint)


def check_finite(got, name="result", hint=None):
    """``got`` holds no NaN or infinity; returns it as a float64 array."""
    array = as_array(got, name, hint)
    bad = ~_isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(name, f"contains {int(bad.sum())} NaN or infinite value(s), the first at index {where}.",
              hint or "look for an overflow (exp of a large number), a log of 0 or a division by 0.")
    return array


def check_scalar(got, name="result", hint=None):
    """``got`` is a single finite number; returns it as a Python float."""
    array = as_array(got, name, hint)
    if array.size != 1:
        _fail(name, f"should be a single number, got an array of shape {array.shape}.",
              hint or "reduce over every axis (e.g. with .mean() or .sum()).")
    return float(check_finite(array.reshape(()), name, hint))


def _worst(got, expected):
    diff = np.abs(got - expected)
    index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    return index, diff[index]


def _short(array):
    return np.array2string(np.asarray(array), precision=6, threshold=12, edgeitems=3, suppress_small=True)


def check_close(got, expected, name="result", hint=None, rtol=1e-6, atol=1e-8, mistakes=()):
    """``got`` equals ``expected`` elementwise within tolerance, with the same shape.

    Args:
        mistakes: pairs ``(wrong_value, explanation)`` for classic mistakes; when
            ``got`` matches one of them, its explanation becomes the hint.
    """
    expected = np.asarray(expected, dtype=np.float64)
    array = check_shape(got, expected.shape, name, hint)
    check_finite(array, name, hint)
    if _allclose(array, expected, rtol=rtol, atol=atol):
        return
    for wrong, explanation in mistakes:
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == array.shape and _allclose(array, wrong, rtol=rtol, atol=atol):
            hint = explanation
            break
    index, diff = _worst(array, expected)
    details = [f"expected: {_short(expected)}", f"got:      {_short(array)}"]
    if array.ndim:
        details.append(f"worst element at index {tuple(int(i) for i in index)}: "
                       f"expected {expected[index]:.6g}, got {array[index]:.6g} (off by {diff:.3g})")
    _fail(name, "has the wrong values.", hint, details)


def check_gradient(got, numerical, name="gradient", hint=None, tol=1e-6):
    """An analytic gradient agrees with a numerical one (relative error below ``tol``)."""
    numerical = np.asarray(numerical, dtype=np.float64)
    array = check_shape(got, numerical.shape, name, hint)
    check_finite(array, name, hint)
    error = np.abs(array - numerical) / np.maximum(1e-8, np.abs(array) + np.abs(numerical))
    if error.max() > tol:
        index = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
        _fail(name, f"disagrees with the numerical gradient (relative error {error.max():.2e}, "
                    f"tolerance {tol:.0e}).",
              hint or "derive the gradient again for one element and compare with this index.",
              [f"at index {tuple(int(i) for i in index)}: analytic {array[index]:.6g}, "
               f"numerical {numerical[index]:.6g}"])


def grad_of(layer, key, name):
    """The gradient ``layer.grads[key]`` a layer's backward stored, or a GradingError saying it is missing."""
    grads = getattr(layer, "grads", None)
    if not isinstance(grads, dict) or key not in grads:
        _fail(f"{name}.grads", f"has no entry {key!r} after backward.",
              f"store the gradient in backward: self.grads[{key!r}] = ...")
    return grads[key]


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
        after = np.asarray(arrays[key])
        if after.shape != before.shape or not _array_equal(after, before, equal_nan=True):
            _fail(name, f"modified its input `{key}` in place.",
                  "work on a copy (x = x.copy()) or build a new array instead of assigning into the input.")


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
