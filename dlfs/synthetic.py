"""Seeded toy datasets. The same seed always gives the same arrays."""

import numpy as np


def make_regression(n_samples=100, weights=(2.0,), bias=1.0, noise=0.5, x_range=(-3.0, 3.0), seed=0):
    """Points on the plane y = x W + b plus Gaussian noise.

    Args:
        n_samples: N.
        weights: the true W as a sequence of D numbers (one per feature).
        bias: the true b.
        noise: standard deviation of the noise added to y.
        x_range: x is drawn uniformly from this interval, per feature.

    Returns:
        X: (N, D) float64 inputs.
        y: (N, 1) float64 targets.
    """
    rng = np.random.default_rng(seed)
    W = np.asarray(weights, dtype=np.float64).reshape(-1, 1)
    X = rng.uniform(x_range[0], x_range[1], size=(n_samples, W.shape[0]))
    y = X @ W + bias + noise * rng.standard_normal((n_samples, 1))
    return X, y


def make_moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles, a classic non-linearly-separable set.

    Returns:
        X: (N, 2) float64 points.
        y: (N,) int64 labels in {0, 1}; the first half of the samples is class 0.
    """
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    angle_upper = np.linspace(0.0, np.pi, n_upper)
    angle_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.column_stack([np.cos(angle_upper), np.sin(angle_upper)])
    lower = np.column_stack([1.0 - np.cos(angle_lower), 0.5 - np.sin(angle_lower)])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    return X, y


def make_spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class (CS231n's toy set).

    Returns:
        X: (n_per_class * n_classes, 2) float64 points.
        y: (n_per_class * n_classes,) int64 labels in {0, ..., n_classes - 1}.
    """
    rng = np.random.default_rng(seed)
    X = np.zeros((n_per_class * n_classes, 2))
    y = np.zeros(n_per_class * n_classes, dtype=np.int64)
    radius = np.linspace(0.0, 1.0, n_per_class)
    for k in range(n_classes):
        rows = slice(k * n_per_class, (k + 1) * n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + noise * rng.standard_normal(n_per_class)
        X[rows] = np.column_stack([radius * np.sin(theta), radius * np.cos(theta)])
        y[rows] = k
    return X, y
