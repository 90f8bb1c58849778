# %% [markdown]
# # 02 — Softmax classification (PLACEHOLDER)
#
# A placeholder so that chapter 03 can import `provided.softmax`; the real chapter 02 replaces this
# file at integration. Only plain exported code cells implementing the contract's API.

# %% export=true
import numpy as np


# %% export=true
def softmax(x):
    """(N, C) or (C,) scores -> probabilities of the same shape, row-wise, stable."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


# %% export=true
def log_softmax(x):
    """(N, C) or (C,) scores -> log-probabilities: x - max - log(sum(exp(x - max)))."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# %% export=true
def _labels_as_int(t, n_classes):
    t = np.asarray(t)
    return t.argmax(axis=1) if t.ndim == 2 else t.astype(np.int64)


def cross_entropy(scores, t):
    """Mean over the batch of -log_softmax(scores)[n, t_n]; t int (N,) or one-hot (N, C)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = _labels_as_int(t, scores.shape[1])
    return float(-log_softmax(scores)[np.arange(len(labels)), labels].mean())


def cross_entropy_grad(scores, t):
    """(softmax(scores) - onehot(t)) / N, shape (N, C)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = _labels_as_int(t, scores.shape[1])
    grad = softmax(scores)
    grad[np.arange(len(labels)), labels] -= 1.0
    return grad / len(labels)
