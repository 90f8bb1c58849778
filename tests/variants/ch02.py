"""Variants for 02_softmax."""

from variants import VISIBLE

TESTS = {
    "softmax": "test_softmax",
    "log_softmax": "test_log_softmax",
    "cross_entropy": "test_cross_entropy",
    "cross_entropy_grad": "test_cross_entropy_grad",
    "train_softmax_regression": "test_train_softmax_regression",
}

_SOFTMAX = '''
def softmax(x):
    {body}
'''

_LOG_SOFTMAX = '''
def log_softmax(x):
    {body}
'''

_CE = '''
def cross_entropy(scores, t):
    {body}
'''

_GRAD = '''
def cross_entropy_grad(scores, t):
    {body}
'''

_TRAIN = '''
def train_softmax_regression(X, t, lr, epochs, batch_size, seed=0, n_classes=10, monitor=None):
    rng = np.random.default_rng(seed)
    W = np.zeros((X.shape[1], n_classes))
    b = np.zeros(n_classes)
    history = {{"loss": [], "accuracy": []}}
    n = X.shape[0]
    for _ in range(epochs):
        {body}
    return W, b, history
'''

# The usual loop body over one epoch; each wrong variant changes one line of it.
_EPOCH = '''order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            xb, tb = X[batch], t[batch]
            scores = xb @ W + b
            history["loss"].append(cross_entropy(scores, tb))
            history["accuracy"].append(float(np.mean(scores.argmax(axis=1) == tb)))
            g = cross_entropy_grad(scores, tb)
            W = W - lr * xb.T @ g
            b = b - lr * g.sum(axis=0)'''


def _epoch(old, new):
    assert old in _EPOCH, old
    return _TRAIN.format(body=_EPOCH.replace(old, new))


# The pipeline test's submission with exactly one wrong answer (only its exercise may lose points).
SINGLE_MISTAKE = ("softmax", '''
def softmax(x):
    e = np.exp(x)   # no max subtracted: overflows for large scores
    return e / e.sum(axis=-1, keepdims=True)
''')

VARIANTS = [
    # softmax: correct alternatives
    ("softmax", "loop over rows", _SOFTMAX.format(body="""x2 = np.atleast_2d(np.asarray(x, dtype=float))
    out = np.empty_like(x2)
    for i, row in enumerate(x2):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out.reshape(np.shape(x))"""), True),
    ("softmax", "exp of x minus logsumexp", _SOFTMAX.format(
        body="return np.exp(x - np.logaddexp.reduce(x, axis=-1, keepdims=True))"), True),
    ("softmax", "indexing with None instead of keepdims", _SOFTMAX.format(body="""z = np.exp(x - x.max(axis=-1)[..., None])
    return z / z.sum(axis=-1)[..., None]"""), True),
    # softmax: classic mistakes
    ("softmax", "no max subtracted", _SOFTMAX.format(body="""e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)"""), VISIBLE),
    ("softmax", "max of the whole array", _SOFTMAX.format(body="""e = np.exp(x - np.max(x))
    return e / e.sum(axis=-1, keepdims=True)"""), False),
    ("softmax", "max over axis 0", _SOFTMAX.format(body="""e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)"""), VISIBLE),
    ("softmax", "keepdims missing", _SOFTMAX.format(body="""e = np.exp(x - np.max(x, axis=-1))
    return e / np.sum(e, axis=-1)"""), VISIBLE),
    ("softmax", "sum over the whole array", _SOFTMAX.format(body="""e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / e.sum()"""), VISIBLE),
    ("softmax", "axis 1 only works for 2-D", _SOFTMAX.format(body="""e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)"""), VISIBLE),
    ("softmax", "subtracts the max in place", _SOFTMAX.format(body="""x -= np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)"""), VISIBLE),
    # log_softmax: correct alternatives
    ("log_softmax", "logaddexp.reduce", _LOG_SOFTMAX.format(
        body="return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)"), True),
    ("log_softmax", "loop over rows", _LOG_SOFTMAX.format(body="""x2 = np.atleast_2d(np.asarray(x, dtype=float))
    out = np.empty_like(x2)
    for i, row in enumerate(x2):
        m = row.max()
        out[i] = row - m - np.log(np.sum(np.exp(row - m)))
    return out.reshape(np.shape(x))"""), True),
    ("log_softmax", "shift then normalize", _LOG_SOFTMAX.format(body="""z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))"""), True),
    # log_softmax: classic mistakes
    ("log_softmax", "log of softmax", _LOG_SOFTMAX.format(body="""z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return np.log(e / e.sum(axis=-1, keepdims=True))"""), VISIBLE),
    ("log_softmax", "no max subtracted", _LOG_SOFTMAX.format(
        body="return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))"), VISIBLE),
    ("log_softmax", "forgot to subtract the max itself", _LOG_SOFTMAX.format(body="""m = x.max(axis=-1, keepdims=True)
    return x - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))"""), VISIBLE),
    ("log_softmax", "max of the whole array", _LOG_SOFTMAX.format(body="""m = np.max(x)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))"""), False),
    ("log_softmax", "keepdims missing", _LOG_SOFTMAX.format(body="""m = np.max(x, axis=-1)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1))"""), VISIBLE),
    # cross_entropy: correct alternatives
    ("cross_entropy", "loop over examples", _CE.format(body="""logp = log_softmax(scores)
    labels = t if np.ndim(t) == 1 else np.argmax(t, axis=1)
    total = 0.0
    for n in range(len(scores)):
        total -= logp[n, labels[n]]
    return total / len(scores)"""), True),
    ("cross_entropy", "one-hot everything and einsum", _CE.format(body="""logp = log_softmax(scores)
    hot = np.eye(scores.shape[1])[t] if np.ndim(t) == 1 else t
    return -np.einsum('nc,nc->', hot, logp) / scores.shape[0]"""), True),
    # cross_entropy: classic mistakes
    ("cross_entropy", "sum instead of mean", _CE.format(body="""logp = log_softmax(scores)
    if np.ndim(t) == 1:
        return float(-np.sum(logp[np.arange(len(t)), t]))
    return float(-np.sum(t * logp))"""), VISIBLE),
    ("cross_entropy", "log of softmax", _CE.format(body="""logp = np.log(softmax(scores))
    if np.ndim(t) == 1:
        return float(-np.mean(logp[np.arange(len(t)), t]))
    return float(-np.sum(t * logp) / len(scores))"""), False),
    ("cross_entropy", "integer labels not handled", _CE.format(
        body="return float(-np.sum(t * log_softmax(scores)) / len(scores))"), VISIBLE),
    ("cross_entropy", "one-hot labels not handled", _CE.format(
        body="return float(-np.mean(log_softmax(scores)[np.arange(len(scores)), t]))"), VISIBLE),
    ("cross_entropy", "mean over every entry", _CE.format(body="""logp = log_softmax(scores)
    hot = np.eye(scores.shape[1])[t] if np.ndim(t) == 1 else t
    return float(-np.mean(hot * logp))"""), VISIBLE),
    ("cross_entropy", "minus sign forgotten", _CE.format(body="""logp = log_softmax(scores)
    hot = np.eye(scores.shape[1])[t] if np.ndim(t) == 1 else t
    return float(np.sum(hot * logp) / len(scores))"""), VISIBLE),
    # cross_entropy_grad: correct alternatives
    ("cross_entropy_grad", "subtract 1 at the labels", _GRAD.format(body="""g = softmax(scores).copy()
    labels = t if np.ndim(t) == 1 else np.argmax(t, axis=1)
    g[np.arange(len(g)), labels] -= 1
    return g / len(g)"""), True),
    ("cross_entropy_grad", "eye indexing and a loop", _GRAD.format(body="""y = softmax(scores)
    hot = np.eye(y.shape[1])[t] if np.ndim(t) == 1 else t
    out = np.zeros_like(y)
    for n in range(len(y)):
        out[n] = (y[n] - hot[n]) / len(y)
    return out"""), True),
    # cross_entropy_grad: classic mistakes
    ("cross_entropy_grad", "not divided by N", _GRAD.format(body="""y = softmax(scores)
    hot = np.eye(y.shape[1])[t] if np.ndim(t) == 1 else t
    return y - hot"""), VISIBLE),
    ("cross_entropy_grad", "sign flipped", _GRAD.format(body="""y = softmax(scores)
    hot = np.eye(y.shape[1])[t] if np.ndim(t) == 1 else t
    return (hot - y) / len(y)"""), VISIBLE),
    ("cross_entropy_grad", "integer labels not handled", _GRAD.format(
        body="return (softmax(scores) - t) / len(scores)"), VISIBLE),
    ("cross_entropy_grad", "one-hot labels not handled", _GRAD.format(body="""g = softmax(scores).copy()
    g[np.arange(len(g)), t] -= 1
    return g / len(g)"""), VISIBLE),
    ("cross_entropy_grad", "divided by N * C", _GRAD.format(body="""y = softmax(scores)
    hot = np.eye(y.shape[1])[t] if np.ndim(t) == 1 else t
    return (y - hot) / y.size"""), VISIBLE),
    # train_softmax_regression: correct alternatives
    ("train_softmax_regression", "shuffled copies, einsum, in-place updates", _TRAIN.format(body="""order = rng.permutation(n)
        X_s, t_s = X[order], t[order]
        start = 0
        while start < n:
            xb, tb = X_s[start:start + batch_size], t_s[start:start + batch_size]
            scores = np.einsum('nd,dc->nc', xb, W) + b
            loss, acc = cross_entropy(scores, tb), np.mean(np.argmax(scores, axis=1) == tb)
            g = cross_entropy_grad(scores, tb)
            W -= lr * np.einsum('nd,nc->dc', xb, g)
            b -= lr * np.einsum('nc->c', g)
            history["loss"].append(float(loss))
            history["accuracy"].append(float(acc))
            if monitor is not None:
                monitor.update(loss=loss, accuracy=acc)
            start += batch_size"""), True),
    ("train_softmax_regression", "one-hot labels for the loss", _epoch(
        "history[\"loss\"].append(cross_entropy(scores, tb))",
        "hot = np.eye(n_classes)[tb]\n            history[\"loss\"].append(cross_entropy(scores, hot))"), True),
    # train_softmax_regression: classic mistakes
    ("train_softmax_regression", "never shuffles", _epoch("order = rng.permutation(n)", "order = np.arange(n)"), False),
    ("train_softmax_regression", "shuffles X but not t", _epoch("xb, tb = X[batch], t[batch]",
                                                              "xb, tb = X[batch], t[start:start + batch_size]"), False),
    ("train_softmax_regression", "same order every epoch", _epoch(
        "order = rng.permutation(n)", "order = np.random.default_rng(seed).permutation(n)"), False),
    ("train_softmax_regression", "drops the last short batch", _epoch(
        "range(0, n, batch_size)", "range(0, n - batch_size + 1, batch_size)"), VISIBLE),
    ("train_softmax_regression", "never updates b", _epoch("b = b - lr * g.sum(axis=0)", "pass"), VISIBLE),
    ("train_softmax_regression", "averages the gradient again", _epoch(
        "W = W - lr * xb.T @ g", "W = W - lr * xb.T @ g / len(xb)"), VISIBLE),
    ("train_softmax_regression", "gradient ascent", _epoch("W = W - lr * xb.T @ g", "W = W + lr * xb.T @ g"), VISIBLE),
    ("train_softmax_regression", "loss recorded after the update", _TRAIN.format(body="""order = rng.permutation(n)
        for start in range(0, n, batch_size):
            xb, tb = X[order[start:start + batch_size]], t[order[start:start + batch_size]]
            scores = xb @ W + b
            history["accuracy"].append(float(np.mean(scores.argmax(axis=1) == tb)))
            g = cross_entropy_grad(scores, tb)
            W = W - lr * xb.T @ g
            b = b - lr * g.sum(axis=0)
            history["loss"].append(cross_entropy(xb @ W + b, tb))"""), False),
]

# Review r1: probes that passed or failed the wrong way before the tests were strengthened,
# and further correct styles.
VARIANTS += [
    ("softmax", "subtracts the row mean (overflows for a wide row)", _SOFTMAX.format(body="""e = np.exp(x - np.mean(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)"""), False),
    ("softmax", "transpose trick", _SOFTMAX.format(body="""z = (x.T - x.T.max(axis=0)).T
    e = np.exp(z)
    return (e.T / e.T.sum(axis=0)).T"""), True),
    ("softmax", "shifts only rows with large scores", _SOFTMAX.format(body="""z = x - np.max(x, axis=-1, keepdims=True) if np.max(np.abs(x)) > 500 else x
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)"""), True),
    ("log_softmax", "subtracts the row mean", _LOG_SOFTMAX.format(body="""m = np.mean(x, axis=-1, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))"""), False),
    ("cross_entropy", "label form told apart by dtype (integer one-hot)", _CE.format(body="""logp = log_softmax(scores)
    if np.issubdtype(np.asarray(t).dtype, np.integer):
        return float(-np.mean(logp[np.arange(len(scores)), t]))
    return float(-np.sum(t * logp) / len(scores))"""), False),
    ("cross_entropy", "returns a (1, 1) array", _CE.format(body="""logp = log_softmax(scores)
    hot = np.eye(scores.shape[1])[t] if np.ndim(t) == 1 else t
    return -np.sum(hot * logp, keepdims=True) / len(scores)"""), False),
    ("cross_entropy", "returns a 0-d array, not a float", _CE.format(body="""logp = log_softmax(scores)
    hot = np.eye(scores.shape[1])[t] if np.ndim(t) == 1 else t
    return np.array(-np.sum(hot * logp) / len(scores))"""), False),
    ("cross_entropy", "take_along_axis", _CE.format(body="""logp = log_softmax(scores)
    labels = np.argmax(t, axis=-1) if np.ndim(t) == 2 else np.asarray(t)
    return float(-np.take_along_axis(logp, labels[:, None], axis=1).mean())"""), True),
    ("cross_entropy_grad", "label form told apart by dtype (integer one-hot)", _GRAD.format(body="""y = softmax(scores)
    if np.issubdtype(np.asarray(t).dtype, np.integer):
        hot = np.eye(y.shape[1])[t]
    else:
        hot = t
    return (y - hot) / len(y)"""), False),
    ("cross_entropy_grad", "put_along_axis", _GRAD.format(body="""g = np.array(softmax(scores), dtype=float)
    labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else np.asarray(t)
    np.put_along_axis(g, labels[:, None], np.take_along_axis(g, labels[:, None], 1) - 1, 1)
    return g / g.shape[0]"""), True),
    ("train_softmax_regression", "rng.shuffle of an arange", _epoch("order = rng.permutation(n)", "order = np.arange(n); rng.shuffle(order)"), True),
    ("train_softmax_regression", "ceil number of batches", _epoch("for start in range(0, n, batch_size):\n            batch = order[start:start + batch_size]",
   "for k in range(int(np.ceil(n / batch_size))):\n            batch = order[k * batch_size:(k + 1) * batch_size]"), True),

    # Obvious wrong answers the visible tests catch, and other textbooks' conventions.
    ("softmax", "returns zeros", _SOFTMAX.format(body="return np.zeros_like(x)"), VISIBLE),
    ("softmax", "returns the input unchanged", _SOFTMAX.format(body="return x"), VISIBLE),
    ("softmax", "softmax over axis 0", _SOFTMAX.format(body="""e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)"""), VISIBLE),
    ("log_softmax", "returns zeros", _LOG_SOFTMAX.format(body="return np.zeros_like(x)"), VISIBLE),
    ("log_softmax", "returns the input unchanged", _LOG_SOFTMAX.format(body="return x"), VISIBLE),
    ("log_softmax", "over axis 0", _LOG_SOFTMAX.format(body="""m = np.max(x, axis=0, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=0, keepdims=True))"""), VISIBLE),
    ("cross_entropy", "returns 0", _CE.format(body="return 0.0"), VISIBLE),
    ("cross_entropy", "log(softmax + 1e-7), as in Saito's textbook", _CE.format(body="""y = softmax(scores)
    if np.ndim(t) == 2:
        t = np.argmax(t, axis=1)
    n = scores.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n)"""), False),
    ("cross_entropy_grad", "returns zeros", _GRAD.format(body="return np.zeros_like(scores)"), VISIBLE),
    ("cross_entropy_grad", "returns the scores unchanged", _GRAD.format(body="return scores"), VISIBLE),
    ("cross_entropy_grad", "forgets the labels", _GRAD.format(body="return softmax(scores) / len(scores)"), VISIBLE),
    ("train_softmax_regression", "never updates", _epoch("""W = W - lr * xb.T @ g
            b = b - lr * g.sum(axis=0)""", "pass"), VISIBLE),
]
