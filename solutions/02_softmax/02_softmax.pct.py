# %% [markdown]
# # 02 — Softmax classification (PLACEHOLDER)
#
# Placeholder written by the chapter-05 helper so that `provided.softmax` exists; it implements the
# contract's exported API and is replaced by the real chapter at integration.

# %% export=true
import numpy as np


# %% export=true
def softmax(x):
    """Row-wise probabilities of scores x, (N, C) or (C,)."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    """x - max - log(sum(exp(x - max))), row-wise."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _labels(t, n_classes):
    t = np.asarray(t)
    if t.ndim == 2:
        return t.argmax(axis=1)
    return t.astype(np.int64)


def cross_entropy(scores, t):
    """Mean over the batch of -log_softmax(scores)[n, t_n]; t integer (N,) or one-hot (N, C)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores, t = scores[None, :], np.asarray(t)[None]
    labels = _labels(t, scores.shape[1])
    return float(-log_softmax(scores)[np.arange(len(scores)), labels].mean())


def cross_entropy_grad(scores, t):
    """(softmax(scores) - onehot(t)) / N."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = _labels(t, scores.shape[1])
    grad = softmax(scores)
    grad[np.arange(len(scores)), labels] -= 1.0
    return grad / len(scores)
