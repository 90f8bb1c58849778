# %% [markdown]
# # 02 — Softmax classification (PLACEHOLDER)
#
# PLACEHOLDER written by the chapter 04 helper so that later chapters can import
# `provided.softmax`. It implements exactly the contract's exported API and holds no exercise.
# It is replaced by the real chapter at integration.

# %% export=true
import numpy as np


# %% export=true
def softmax(x):
    """(N, C) or (C,) scores -> row-wise probabilities of the same shape (max subtracted)."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    """(N, C) or (C,) scores -> x - max - log(sum(exp(x - max)))."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _one_hot_like(scores, t):
    t = np.asarray(t)
    if t.ndim == scores.ndim:
        return t.astype(np.float64)
    onehot = np.zeros(scores.shape, dtype=np.float64)
    onehot[np.arange(scores.shape[0]), t.astype(np.int64)] = 1.0
    return onehot


def cross_entropy(scores, t):
    """Mean over the batch of -log_softmax(scores)[n, t_n]; t integer (N,) or one-hot (N, C)."""
    scores = np.asarray(scores, dtype=np.float64)
    return float(-(_one_hot_like(scores, t) * log_softmax(scores)).sum() / scores.shape[0])


def cross_entropy_grad(scores, t):
    """(softmax(scores) - onehot(t)) / N, shape (N, C)."""
    scores = np.asarray(scores, dtype=np.float64)
    return (softmax(scores) - _one_hot_like(scores, t)) / scores.shape[0]
