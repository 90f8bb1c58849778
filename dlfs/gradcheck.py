"""Numerical gradients by central differences, and the relative error used to compare them.

The derivative of a scalar function f at x along coordinate i is approximated by

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)

whose error is O(h^2). Use float64 inputs: in float32 the rounding error of
f(x +- h) swamps the difference for any useful h.
"""

import numpy as np


def _check_float64(x):
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            f"numerical gradients need a float64 NumPy array, got "
            f"{type(x).__name__} with dtype {getattr(x, 'dtype', None)}. "
            "Convert it first, e.g. x = x.astype(np.float64)."
        )


def numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function ``f`` at ``x`` by central differences.

    Args:
        f: callable taking ``x`` and returning a scalar. It may also ignore its
            argument and read ``x`` through a closure: ``x`` is perturbed in place.
        x: float64 array of any shape; restored exactly before returning.
        h: step size.

    Returns:
        grad: array of ``x.shape``, ``grad[i] ~ d f / d x[i]``.
    """
    _check_float64(x)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        f_plus = float(f(x))
        x[index] = original - h
        f_minus = float(f(x))
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_array(f, x, dout, h=1e-5):
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x``: what a layer's backward returns.

    Args:
        f: callable taking ``x`` and returning an array of ``dout.shape``.
        x: float64 array of any shape (perturbed in place, restored before returning).
        dout: upstream gradient, same shape as ``f(x)``.

    Returns:
        dx: array of ``x.shape``.
    """
    dout = np.asarray(dout, dtype=np.float64)
    return numerical_gradient(lambda z: np.sum(np.asarray(f(z), dtype=np.float64) * dout), x, h)


def rel_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(1e-8, |a| + |b|)``.

    With float64 and central differences (h = 1e-5), a correct gradient gives below 1e-7
    (typically 1e-11 to 1e-9; gradients with many tiny entries come closer to 1e-7); 1e-2 or
    more means a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
