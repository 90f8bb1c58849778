"""Variants for 03_mlp: classic wrong answers (must fail their exercise) and correct answers in
another style (must pass), for every answer cell."""

from textwrap import dedent, indent
from variants import VISIBLE

TESTS = {
    "affine": "test_affine",
    "relu": "test_relu",
    "sigmoid": "test_sigmoid",
    "leaky_relu": "test_leaky_relu",
    "elu": "test_elu",
    "flatten": "test_flatten",
    "softmax_with_loss": "test_softmax_with_loss",
    "layer_gradient_errors": "test_layer_gradient_errors",
    "model": "test_model",
    "model_accuracy": "test_model_accuracy",
    "save_load": "test_save_load",
}

_INITS = {
    "Affine": '''class Affine:
    def __init__(self, W, b):
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
''',
    "ReLU": '''class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}
''',
    "Sigmoid": '''class Sigmoid:
    def __init__(self):
        self.params, self.grads = {}, {}
''',
    "LeakyReLU": '''class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.alpha = alpha
        self.params, self.grads = {}, {}
''',
    "ELU": '''class ELU:
    def __init__(self, alpha=1.0):
        self.alpha = alpha
        self.params, self.grads = {}, {}
''',
    "Flatten": '''class Flatten:
    def __init__(self):
        self.params, self.grads = {}, {}
''',
    "SoftmaxWithLoss": '''class SoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = {}, {}
''',
}


def _layer(name, forward, backward, forward_args="x", backward_args="dout"):
    """A layer class: the given __init__, then forward/backward with these bodies."""
    return (_INITS[name]
            + f"\n    def forward(self, {forward_args}):\n" + indent(dedent(forward).strip("\n"), " " * 8)
            + f"\n\n    def backward(self, {backward_args}):\n" + indent(dedent(backward).strip("\n"), " " * 8)
            + "\n")


def _affine(forward, backward):
    return _layer("Affine", forward, backward)


_AFFINE_FORWARD = """
self.shape = x.shape
self.X = x.reshape(x.shape[0], -1)
return self.X @ self.params["W"] + self.params["b"]
"""

_SOFTMAX_FORWARD = """
self.y = softmax(scores)
self.t = np.asarray(t)
return cross_entropy(scores, t)
"""


def _softmax(forward, backward):
    return _layer("SoftmaxWithLoss", forward, backward, "scores, t", "dout=1.0")


_GRADCHECK = '''
def layer_gradient_errors(layer, x, seed=0):
{body}
'''


def _gradcheck(body):
    return _GRADCHECK.format(body=indent(dedent(body).strip("\n"), "    "))


_MODEL = '''
class Model:
    def __init__(self, layers=None, loss_layer=None):
        self.layers = list(layers) if layers is not None else []
        self.loss_layer = loss_layer if loss_layer is not None else SoftmaxWithLoss()

    def add(self, layer):
{add}

    def predict(self, x, train=False):
{predict}

    def loss(self, x, t, train=True):
{loss}

    def gradient(self, x, t):
{gradient}

    @property
    def params(self):
{params}

    @property
    def grads(self):
{grads}

    def accuracy(self, x, t, batch_size=1000):
        return model_accuracy(self, x, t, batch_size)

    def save(self, path):
        save_params(self, path)

    def load(self, path):
        load_params(self, path)
'''

_MODEL_PARTS = {
    "add": """
self.layers.append(layer)
return self
""",
    "predict": """
for layer in self.layers:
    x = layer_forward(layer, x, train)
return x
""",
    "loss": """
return self.loss_layer.forward(self.predict(x, train), t)
""",
    "gradient": """
self.loss(x, t, train=True)
dout = self.loss_layer.backward(1.0)
for layer in self.layers[::-1]:
    dout = layer.backward(dout)
return self.grads
""",
    "params": """
out = {}
for i, layer in enumerate(self.layers):
    for name, value in layer.params.items():
        out[f"{i}.{name}"] = value
return out
""",
    "grads": """
out = {}
for i, layer in enumerate(self.layers):
    for name, value in layer.grads.items():
        out[f"{i}.{name}"] = value
return out
""",
}


def _model(**changes):
    parts = {**_MODEL_PARTS, **changes}
    return _MODEL.format(**{k: indent(dedent(v).strip("\n"), " " * 8) for k, v in parts.items()})


_ACCURACY = '''
def model_accuracy(model, x, t, batch_size=1000):
{body}
'''


def _accuracy(body):
    return _ACCURACY.format(body=indent(dedent(body).strip("\n"), "    "))


_SAVE = '''
def save_params(model, path):
    np.savez(path, **model.params)
'''

_LOAD = '''
def load_params(model, path):
{body}
'''


def _save_load(load_body, save=_SAVE):
    return save + _LOAD.format(body=indent(dedent(load_body).strip("\n"), "    "))


_CHECKED_LOAD = """
stored = dict(np.load(path))
params = model.params
if sorted(stored) != sorted(params):
    raise ValueError(f"keys differ: file {sorted(stored)}, model {sorted(params)}")
for key in params:
    if stored[key].shape != params[key].shape:
        raise ValueError(f"{key}: shape {stored[key].shape} in the file, {params[key].shape} in the model")
for key in params:
    params[key][...] = stored[key]
"""

# The pipeline test's submission with exactly one wrong answer (only its exercise may lose points):
# the classic in-place ReLU.
SINGLE_MISTAKE = ("relu", _layer("ReLU", """
x[x <= 0] = 0
self.mask = x > 0
return x
""", """
return dout * self.mask
"""))

VARIANTS = [
    # ---------------------------------------------------------------- Affine
    ("affine", "einsum", _affine("""
self.shape = x.shape
self.X = x.reshape(len(x), -1)
return np.einsum("nd,dm->nm", self.X, self.params["W"]) + self.params["b"]
""", """
self.grads["W"] = np.einsum("nd,nm->dm", self.X, dout)
self.grads["b"] = np.einsum("nm->m", dout)
return np.einsum("nm,dm->nd", dout, self.params["W"]).reshape(self.shape)
"""), True),
    ("affine", "keeps x, flattens in backward, new grads dict", _affine("""
self.x = x
flat = np.reshape(x, (x.shape[0], int(np.prod(x.shape[1:]))))
return np.dot(flat, self.params["W"]) + self.params["b"]
""", """
flat = self.x.reshape(self.x.shape[0], -1)
self.grads = {"W": flat.T.dot(dout), "b": np.sum(dout, axis=0)}
return np.dot(dout, self.params["W"].T).reshape(*self.x.shape)
"""), True),
    ("affine", "db averaged over the batch", _affine(_AFFINE_FORWARD, """
self.grads["W"] = self.X.T @ dout
self.grads["b"] = dout.mean(axis=0)
return (dout @ self.params["W"].T).reshape(self.shape)
"""), VISIBLE),
    ("affine", "db summed over the wrong axis", _affine(_AFFINE_FORWARD, """
self.grads["W"] = self.X.T @ dout
self.grads["b"] = dout.sum(axis=1)
return (dout @ self.params["W"].T).reshape(self.shape)
"""), VISIBLE),
    ("affine", "db not summed", _affine(_AFFINE_FORWARD, """
self.grads["W"] = self.X.T @ dout
self.grads["b"] = dout
return (dout @ self.params["W"].T).reshape(self.shape)
"""), VISIBLE),
    ("affine", "dW divided by N", _affine(_AFFINE_FORWARD, """
self.grads["W"] = self.X.T @ dout / len(dout)
self.grads["b"] = dout.sum(axis=0)
return (dout @ self.params["W"].T).reshape(self.shape)
"""), VISIBLE),
    ("affine", "dx not restored to the 4-D shape", _affine(_AFFINE_FORWARD, """
self.grads["W"] = self.X.T @ dout
self.grads["b"] = dout.sum(axis=0)
return dout @ self.params["W"].T
"""), VISIBLE),
    ("affine", "input not flattened", _affine("""
self.X = x
return x @ self.params["W"] + self.params["b"]
""", """
self.grads["W"] = self.X.T @ dout
self.grads["b"] = dout.sum(axis=0)
return dout @ self.params["W"].T
"""), VISIBLE),
    ("affine", "gradients accumulated with +=", _affine(_AFFINE_FORWARD, """
self.grads["W"] += self.X.T @ dout
self.grads["b"] += dout.sum(axis=0)
return (dout @ self.params["W"].T).reshape(self.shape)
"""), False),
    ("affine", "private copy of W taken at the first forward", _affine("""
if not hasattr(self, "W"):
    self.W, self.b = self.params["W"].copy(), self.params["b"].copy()
self.shape = x.shape
self.X = x.reshape(x.shape[0], -1)
return self.X @ self.W + self.b
""", """
self.grads["W"] = self.X.T @ dout
self.grads["b"] = dout.sum(axis=0)
return (dout @ self.W.T).reshape(self.shape)
"""), False),
    # ---------------------------------------------------------------- ReLU
    ("relu", "np.maximum, mask from the output", _layer("ReLU", """
self.out = np.maximum(x, 0)
return self.out
""", """
return dout * (self.out > 0)
"""), True),
    ("relu", "book style on copies", _layer("ReLU", """
self.mask = x <= 0
out = x.copy()
out[self.mask] = 0
return out
""", """
dx = dout.copy()
dx[self.mask] = 0
return dx
"""), True),
    ("relu", "edits its input in place", SINGLE_MISTAKE[1], VISIBLE),
    ("relu", "mask recomputed from dout", _layer("ReLU", """
return np.maximum(x, 0)
""", """
return dout * (dout > 0)
"""), VISIBLE),
    ("relu", "backward edits dout in place", _layer("ReLU", """
self.mask = x <= 0
return np.maximum(x, 0)
""", """
dout[self.mask] = 0
return dout
"""), VISIBLE),
    ("relu", "backward returns dout unmasked", _layer("ReLU", """
return np.maximum(x, 0)
""", """
return dout
"""), VISIBLE),
    # ---------------------------------------------------------------- Sigmoid
    ("sigmoid", "tanh identity, derivative from x", _layer("Sigmoid", """
self.x = x
return 0.5 * (1 + np.tanh(0.5 * x))
""", """
e = np.exp(-self.x)
return dout * e / (1 + e) ** 2
"""), True),
    ("sigmoid", "stable via logaddexp", _layer("Sigmoid", """
self.out = np.exp(-np.logaddexp(0, -x))
return self.out
""", """
return dout * (self.out - self.out ** 2)
"""), True),
    ("sigmoid", "backward uses x instead of the output", _layer("Sigmoid", """
self.x = x
return 1 / (1 + np.exp(-x))
""", """
return dout * self.x * (1 - self.x)
"""), VISIBLE),
    ("sigmoid", "backward misses (1 - y)", _layer("Sigmoid", """
self.out = 1 / (1 + np.exp(-x))
return self.out
""", """
return dout * self.out
"""), VISIBLE),
    ("sigmoid", "sign of the exponent flipped", _layer("Sigmoid", """
self.out = 1 / (1 + np.exp(x))
return self.out
""", """
return dout * self.out * (1 - self.out)
"""), VISIBLE),
    ("sigmoid", "backward ignores dout", _layer("Sigmoid", """
self.out = 1 / (1 + np.exp(-x))
return self.out
""", """
return self.out * (1 - self.out)
"""), False),
    # ---------------------------------------------------------------- LeakyReLU
    ("leaky_relu", "np.maximum(x, alpha x)", _layer("LeakyReLU", """
self.x = x
return np.maximum(x, self.alpha * x)
""", """
return dout * np.where(self.x > 0, 1.0, self.alpha)
"""), True),
    ("leaky_relu", "copies and boolean indexing", _layer("LeakyReLU", """
self.negative = x <= 0
out = x.copy()
out[self.negative] *= self.alpha
return out
""", """
dx = dout.copy()
dx[self.negative] *= self.alpha
return dx
"""), True),
    ("leaky_relu", "slope on the wrong side", _layer("LeakyReLU", """
self.x = x
return np.where(x > 0, self.alpha * x, x)
""", """
return np.where(self.x > 0, self.alpha * dout, dout)
"""), VISIBLE),
    ("leaky_relu", "alpha hard-coded to 0.01", _layer("LeakyReLU", """
self.x = x
return np.where(x > 0, x, 0.01 * x)
""", """
return np.where(self.x > 0, dout, 0.01 * dout)
"""), VISIBLE),
    ("leaky_relu", "backward of a plain ReLU", _layer("LeakyReLU", """
self.x = x
return np.where(x > 0, x, self.alpha * x)
""", """
return dout * (self.x > 0)
"""), VISIBLE),
    ("leaky_relu", "edits its input in place", _layer("LeakyReLU", """
self.mask = x > 0
x[~self.mask] *= self.alpha
return x
""", """
return np.where(self.mask, dout, self.alpha * dout)
"""), VISIBLE),
    # ---------------------------------------------------------------- ELU
    ("elu", "expm1, derivative from the output", _layer("ELU", """
self.x = x
self.out = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))
return self.out
""", """
return np.where(self.x > 0, dout, dout * (self.out + self.alpha))
"""), True),
    ("elu", "boolean indexing on copies", _layer("ELU", """
self.neg = x <= 0
out = x.astype(float).copy()
out[self.neg] = self.alpha * (np.exp(x[self.neg]) - 1)
self.out = out
return out
""", """
dx = dout.copy()
dx[self.neg] = dout[self.neg] * (self.out[self.neg] + self.alpha)
return dx
"""), True),
    ("elu", "backward without alpha", _layer("ELU", """
self.x = x
return np.where(x > 0, x, self.alpha * (np.exp(np.minimum(x, 0)) - 1))
""", """
return dout * np.where(self.x > 0, 1.0, np.exp(np.minimum(self.x, 0)))
"""), VISIBLE),
    ("elu", "backward uses the output, not output + alpha", _layer("ELU", """
self.x = x
self.out = np.where(x > 0, x, self.alpha * (np.exp(np.minimum(x, 0)) - 1))
return self.out
""", """
return dout * np.where(self.x > 0, 1.0, self.out)
"""), VISIBLE),
    ("elu", "backward zero for x < 0", _layer("ELU", """
self.x = x
return np.where(x > 0, x, self.alpha * (np.exp(np.minimum(x, 0)) - 1))
""", """
return dout * (self.x > 0)
"""), VISIBLE),
    ("elu", "forward without alpha", _layer("ELU", """
self.x = x
return np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)
""", """
return dout * np.where(self.x > 0, 1.0, np.exp(np.minimum(self.x, 0)))
"""), VISIBLE),
    # ---------------------------------------------------------------- Flatten
    ("flatten", "explicit product, copy", _layer("Flatten", """
self.shape = tuple(x.shape)
return np.reshape(x, (x.shape[0], int(np.prod(x.shape[1:])))).copy()
""", """
return dout.reshape(*self.shape)
"""), True),
    ("flatten", "ravel per example", _layer("Flatten", """
self.shape = x.shape
return np.stack([example.ravel() for example in x])
""", """
return np.reshape(dout, self.shape)
"""), True),
    ("flatten", "flattens the batch axis too", _layer("Flatten", """
self.shape = x.shape
return x.reshape(-1)
""", """
return dout.reshape(self.shape)
"""), VISIBLE),
    ("flatten", "backward does not restore the shape", _layer("Flatten", """
return x.reshape(len(x), -1)
""", """
return dout
"""), VISIBLE),
    ("flatten", "backward assumes MNIST images", _layer("Flatten", """
return x.reshape(len(x), -1)
""", """
return dout.reshape(len(dout), 1, 28, 28)
"""), VISIBLE),
    ("flatten", "transposed order", _layer("Flatten", """
self.shape = x.shape
return x.reshape(-1, x.shape[0]).T
""", """
return dout.T.reshape(self.shape)
"""), VISIBLE),
    # ---------------------------------------------------------------- SoftmaxWithLoss
    ("softmax_with_loss", "uses the provided cross_entropy_grad", _softmax("""
self.scores, self.t = scores, t
return cross_entropy(scores, t)
""", """
return dout * cross_entropy_grad(self.scores, self.t)
"""), True),
    ("softmax_with_loss", "log_softmax and a loop over examples", _softmax("""
logp = log_softmax(scores)
labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else t
self.labels, self.p = labels, np.exp(logp)
return float(-sum(logp[n, labels[n]] for n in range(len(labels))) / len(labels))
""", """
grad = self.p.copy()
for n, label in enumerate(self.labels):
    grad[n, label] -= 1.0
return dout * grad / len(self.labels)
"""), True),
    ("softmax_with_loss", "gradient not divided by N", _softmax(_SOFTMAX_FORWARD, """
onehot = self.t if self.t.ndim == 2 else np.eye(self.y.shape[1])[self.t]
return dout * (self.y - onehot)
"""), VISIBLE),
    ("softmax_with_loss", "only integer labels", _softmax(_SOFTMAX_FORWARD, """
onehot = np.eye(self.y.shape[1])[self.t]
return dout * (self.y - onehot) / len(self.y)
"""), VISIBLE),
    ("softmax_with_loss", "only one-hot labels", _softmax(_SOFTMAX_FORWARD, """
return dout * (self.y - self.t) / len(self.y)
"""), VISIBLE),
    ("softmax_with_loss", "log of softmax", _softmax("""
self.y = softmax(scores)
self.t = np.asarray(t)
labels = self.t.argmax(axis=1) if self.t.ndim == 2 else self.t
return float(-np.mean(np.log(self.y[np.arange(len(labels)), labels])))
""", """
onehot = self.t if self.t.ndim == 2 else np.eye(self.y.shape[1])[self.t]
return dout * (self.y - onehot) / len(self.y)
"""), False),
    ("softmax_with_loss", "backward ignores dout", _softmax(_SOFTMAX_FORWARD, """
onehot = self.t if self.t.ndim == 2 else np.eye(self.y.shape[1])[self.t]
return (self.y - onehot) / len(self.y)
"""), VISIBLE),
    # ---------------------------------------------------------------- layer_gradient_errors
    ("layer_gradient_errors", "own central differences in loops", _gradcheck("""
out = layer.forward(x)
dout = np.random.default_rng(seed).normal(size=out.shape)
dx = layer.backward(dout)
analytic = {"x": np.copy(dx)}
analytic.update({name: np.copy(layer.grads[name]) for name in layer.params})
arrays = {"x": x, **layer.params}
errors = {}
h = 1e-5
for name, array in arrays.items():
    numerical = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + h
        plus = np.sum(layer.forward(x) * dout)
        array[index] = old - h
        minus = np.sum(layer.forward(x) * dout)
        array[index] = old
        numerical[index] = (plus - minus) / (2 * h)
    errors[name] = rel_error(analytic[name], numerical)
return errors
"""), True),
    ("layer_gradient_errors", "numerical_gradient with a closure", _gradcheck("""
from dlfs.gradcheck import numerical_gradient
rng = np.random.default_rng(seed)
dout = rng.normal(size=np.shape(layer.forward(x)))
result = {"x": rel_error(layer.backward(dout), numerical_gradient(lambda _: np.sum(layer.forward(x) * dout), x))}
saved = {k: np.array(v) for k, v in layer.grads.items()}
for k in layer.params:
    result[k] = rel_error(saved[k], numerical_gradient(lambda _: np.sum(layer.forward(x) * dout), layer.params[k]))
return result
"""), True),
    ("layer_gradient_errors", "dout = ones", _gradcheck("""
out = layer.forward(x)
dout = np.ones(out.shape)
dx = layer.backward(dout)
grads = {name: np.copy(layer.grads[name]) for name in layer.params}
errors = {"x": rel_error(dx, numerical_gradient_array(layer.forward, x, dout))}
for name, param in layer.params.items():
    errors[name] = rel_error(grads[name], numerical_gradient_array(lambda _: layer.forward(x), param, dout))
return errors
"""), False),
    ("layer_gradient_errors", "perturbs a copy of the parameter", _gradcheck("""
out = layer.forward(x)
dout = np.random.default_rng(seed).normal(size=out.shape)
dx = layer.backward(dout)
grads = {name: np.copy(layer.grads[name]) for name in layer.params}
errors = {"x": rel_error(dx, numerical_gradient_array(layer.forward, x, dout))}
for name, param in layer.params.items():
    errors[name] = rel_error(grads[name], numerical_gradient_array(lambda _: layer.forward(x), param.copy(), dout))
return errors
"""), VISIBLE),
    ("layer_gradient_errors", "checks dx only", _gradcheck("""
out = layer.forward(x)
dout = np.random.default_rng(seed).normal(size=out.shape)
dx = layer.backward(dout)
return {"x": rel_error(dx, numerical_gradient_array(layer.forward, x, dout))}
"""), VISIBLE),
    ("layer_gradient_errors", "dout from the unseeded global generator", _gradcheck("""
out = layer.forward(x)
dout = np.random.normal(size=out.shape)
dx = layer.backward(dout)
grads = {name: np.copy(layer.grads[name]) for name in layer.params}
errors = {"x": rel_error(dx, numerical_gradient_array(layer.forward, x, dout))}
for name, param in layer.params.items():
    errors[name] = rel_error(grads[name], numerical_gradient_array(lambda _: layer.forward(x), param, dout))
return errors
"""), False),
    # ---------------------------------------------------------------- Model
    ("model", "loops and inspect instead of the helper", _model(
        add="""
self.layers += [layer]
return self
""",
        predict="""
import inspect
out = x
for layer in self.layers:
    if "train" in inspect.signature(layer.forward).parameters:
        out = layer.forward(out, train=train)
    else:
        out = layer.forward(out)
return out
""",
        gradient="""
self.loss_layer.forward(self.predict(x, train=True), t)
dout = self.loss_layer.backward()
for i in range(len(self.layers) - 1, -1, -1):
    dout = self.layers[i].backward(dout)
return self.grads
"""), True),
    ("model", "functools.reduce and comprehensions", _model(
        predict="""
import functools
return functools.reduce(lambda h, layer: layer_forward(layer, h, train), self.layers, x)
""",
        params="""
return dict((f"{i}.{k}", v) for i, layer in enumerate(self.layers) for k, v in layer.params.items())
""",
        grads="""
return dict((f"{i}.{k}", v) for i, layer in enumerate(self.layers) for k, v in layer.grads.items())
"""), True),
    ("model", "predict in reverse order", _model(predict="""
for layer in reversed(self.layers):
    x = layer_forward(layer, x, train)
return x
"""), VISIBLE),
    ("model", "backward in forward order", _model(gradient="""
self.loss(x, t)
dout = self.loss_layer.backward(1.0)
for layer in self.layers:
    dout = layer.backward(dout)
return self.grads
"""), VISIBLE),
    ("model", "loss layer's backward skipped", _model(gradient="""
scores = self.predict(x, train=True)
dout = np.ones_like(scores)
for layer in reversed(self.layers):
    dout = layer.backward(dout)
return self.grads
"""), VISIBLE),
    ("model", "params numbered over parameter layers only", _model(params="""
layers = [layer for layer in self.layers if layer.params]
return {f"{i}.{k}": v for i, layer in enumerate(layers) for k, v in layer.params.items()}
""", grads="""
layers = [layer for layer in self.layers if layer.params]
return {f"{i}.{k}": v for i, layer in enumerate(layers) for k, v in layer.grads.items()}
"""), VISIBLE),
    ("model", "params returns copies", _model(params="""
return {f"{i}.{k}": v.copy() for i, layer in enumerate(self.layers) for k, v in layer.params.items()}
"""), VISIBLE),
    ("model", "train flag not passed on", _model(predict="""
for layer in self.layers:
    x = layer.forward(x)
return x
"""), False),
    ("model", "predict in training mode by default", _model(loss="""
return self.loss_layer.forward(self.predict(x, True), t)
""", predict="""
for layer in self.layers:
    x = layer_forward(layer, x, True)
return x
"""), False),
    ("model", "add does not return the model", _model(add="""
self.layers.append(layer)
"""), VISIBLE),
    # ---------------------------------------------------------------- model_accuracy
    ("model_accuracy", "np.array_split", _accuracy("""
labels = t.argmax(axis=1) if t.ndim > 1 else t
n_chunks = max(1, -(-len(x) // batch_size))
hits = 0
for xs, ts in zip(np.array_split(x, n_chunks), np.array_split(labels, n_chunks)):
    hits += np.count_nonzero(model.predict(xs).argmax(axis=1) == ts)
return hits / len(x)
"""), True),
    ("model_accuracy", "while loop", _accuracy("""
if np.ndim(t) == 2:
    t = np.argmax(t, axis=1)
start, correct = 0, 0
while start < len(x):
    stop = min(start + batch_size, len(x))
    correct += (np.argmax(model.predict(x[start:stop]), axis=1) == t[start:stop]).sum()
    start = stop
return float(correct) / len(x)
"""), True),
    ("model_accuracy", "the whole set at once", _accuracy("""
labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else t
return float(np.mean(np.argmax(model.predict(x), axis=1) == labels))
"""), VISIBLE),
    ("model_accuracy", "last short batch dropped", _accuracy("""
labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else t
correct = 0
for i in range(len(x) // batch_size):
    s = slice(i * batch_size, (i + 1) * batch_size)
    correct += np.sum(np.argmax(model.predict(x[s]), axis=1) == labels[s])
return correct / (len(x) // batch_size * batch_size)
"""), VISIBLE),
    ("model_accuracy", "mean of per-batch accuracies", _accuracy("""
labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else t
accs = [np.mean(np.argmax(model.predict(x[i:i + batch_size]), axis=1) == labels[i:i + batch_size])
        for i in range(0, len(x), batch_size)]
return float(np.mean(accs))
"""), VISIBLE),
    ("model_accuracy", "one-hot labels not converted", _accuracy("""
correct = 0
for i in range(0, len(x), batch_size):
    correct += np.sum(np.argmax(model.predict(x[i:i + batch_size]), axis=1) == t[i:i + batch_size])
return correct / len(x)
"""), False),
    ("model_accuracy", "returns the count", _accuracy("""
labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else t
correct = 0
for i in range(0, len(x), batch_size):
    correct += np.sum(np.argmax(model.predict(x[i:i + batch_size]), axis=1) == labels[i:i + batch_size])
return correct
"""), VISIBLE),
    ("model_accuracy", "predicts in training mode", _accuracy("""
labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else t
correct = 0
for i in range(0, len(x), batch_size):
    correct += np.sum(np.argmax(model.predict(x[i:i + batch_size], train=True), axis=1) == labels[i:i + batch_size])
return correct / len(x)
"""), False),
    # ---------------------------------------------------------------- save / load
    ("save_load", "savez_compressed and np.copyto", _save_load("""
data = np.load(path)
params = model.params
problems = [k for k in set(params) | set(data.files) if k not in params or k not in data.files
            or data[k].shape != params[k].shape]
if problems:
    raise ValueError(f"cannot load {path}: these parameters are missing or differ in shape: {sorted(problems)}")
for k, v in params.items():
    np.copyto(v, data[k])
""", save='''
def save_params(model, path):
    np.savez_compressed(path, **{k: np.asarray(v) for k, v in model.params.items()})
'''), True),
    ("save_load", "checks first, then copies", _save_load(_CHECKED_LOAD), True),
    ("save_load", "assigns into the params dict", _save_load("""
stored = np.load(path)
params = model.params
for key in params:
    if stored[key].shape != params[key].shape:
        raise ValueError(f"{key} has another shape")
    params[key] = stored[key]
"""), VISIBLE),
    ("save_load", "replaces the layers' arrays", _save_load("""
stored = np.load(path)
params = model.params
if sorted(stored.files) != sorted(params):
    raise ValueError(f"keys differ: {sorted(stored.files)} vs {sorted(params)}")
for i, layer in enumerate(model.layers):
    for name in layer.params:
        key = f"{i}.{name}"
        if stored[key].shape != layer.params[name].shape:
            raise ValueError(f"{key} has another shape")
        layer.params[name] = stored[key].copy()
"""), VISIBLE),
    ("save_load", "no shape check (broadcasts silently)", _save_load("""
stored = np.load(path)
params = model.params
if sorted(stored.files) != sorted(params):
    raise ValueError(f"keys differ: {sorted(stored.files)} vs {sorted(params)}")
for key in params:
    params[key][...] = stored[key]
"""), False),
    ("save_load", "ignores missing and extra keys", _save_load("""
stored = np.load(path)
params = model.params
for key in stored.files:
    if key in params:
        if stored[key].shape != params[key].shape:
            raise ValueError(f"{key} has another shape")
        params[key][...] = stored[key]
"""), False),
    ("save_load", "copies before checking every key", _save_load("""
stored = np.load(path)
params = model.params
if sorted(stored.files) != sorted(params):
    raise ValueError(f"keys differ: {sorted(stored.files)} vs {sorted(params)}")
for key in sorted(params, reverse=True):
    if stored[key].shape != params[key].shape:
        raise ValueError(f"{key}: shape {stored[key].shape} in the file, {params[key].shape} in the model")
    params[key][...] = stored[key]
"""), False),
    ("save_load", "np.save of a dict (a pickle, not an .npz)", _save_load("""
stored = np.load(path + ".npy", allow_pickle=True).item()
for key, value in model.params.items():
    if stored[key].shape != value.shape:
        raise ValueError(f"{key} has another shape")
    value[...] = stored[key]
""", save='''
def save_params(model, path):
    np.save(path, model.params)
'''), VISIBLE),
]

# Affine.backward shared by the review variants below.
_AB = """
self.grads["W"] = self.X.T @ dout
self.grads["b"] = dout.sum(axis=0)
return (dout @ self.params["W"].T).reshape(self.shape)
"""

# Review r1: probes that passed or failed the wrong way before the tests were strengthened,
# and further correct styles.
VARIANTS += [
    ("affine", "reshape(-1, D)", _affine("""
self.shape = x.shape
self.X = x.reshape(-1, self.params["W"].shape[0])
return self.X @ self.params["W"] + self.params["b"]
""", _AB), True),
    ("affine", "shape cached at the first forward", _affine("""
if not hasattr(self, "shape"):
    self.shape = x.shape
self.X = x.reshape(x.shape[0], -1)
return self.X @ self.params["W"] + self.params["b"]
""", _AB), False),
    ("affine", "copyto into the grads arrays, W alias", _affine("""
self.W = self.params["W"]
self.shape = x.shape
self.X = np.reshape(x, (len(x), -1))
return np.matmul(self.X, self.W) + self.params["b"]
""", """
np.copyto(self.grads["W"], self.X.T @ dout)
np.copyto(self.grads["b"], dout.sum(axis=0))
return np.matmul(dout, self.W.T).reshape(self.shape)
"""), True),
 # relu,
    ("relu", "clip and keep x", _layer("ReLU", """
self.x = x
return x.clip(min=0)
""", "return np.where(self.x > 0, dout, 0)"), True),
    ("sigmoid", "output cached at first forward", _layer("Sigmoid", """
out = 1 / (1 + np.exp(-x))
if getattr(self, "o", None) is None:
    self.o = out
return out
""", "return dout * self.o * (1 - self.o)"), False),
    ("sigmoid", "backward edits the kept output in place", _layer("Sigmoid", """
self.out = 1 / (1 + np.exp(-x))
return self.out
""", """
self.out *= 1 - self.out
return dout * self.out"""), False),
 # leaky,
    ("sigmoid", "piecewise stable", _layer("Sigmoid", """
pos = x >= 0
z = np.exp(-np.abs(x))
self.out = np.where(pos, 1 / (1 + z), z / (1 + z))
return self.out
""", "return dout * self.out * (1 - self.out)"), True),
    ("leaky_relu", "mask cached at first forward", _layer("LeakyReLU", """
if getattr(self, "m", None) is None:
    self.m = x > 0
return np.where(x > 0, x, self.alpha * x)
""", "return np.where(self.m, dout, self.alpha * dout)"), False),
    ("leaky_relu", "slope array multiply", _layer("LeakyReLU", """
self.slope = np.where(x > 0, 1.0, self.alpha)
return x * self.slope
""", "return dout * self.slope"), True),
    ("elu", "x cached at first forward", _layer("ELU", """
if getattr(self, "x", None) is None:
    self.x = x
return np.where(x > 0, x, self.alpha * (np.exp(np.minimum(x, 0)) - 1))
""", "return dout * np.where(self.x > 0, 1.0, self.alpha * np.exp(np.minimum(self.x, 0)))"), False),
    ("elu", "np.exp of all x under errstate", _layer("ELU", """
self.x = x
with np.errstate(over="ignore"):
    return np.where(x > 0, x, self.alpha * (np.exp(x) - 1))
""", "return dout * np.where(self.x > 0, 1, self.alpha * np.exp(np.minimum(self.x, 0)))"), True),
    ("flatten", "shape cached at first forward", _layer("Flatten", """
if getattr(self, "s", None) is None:
    self.s = x.shape
return x.reshape(len(x), -1)
""", "return dout.reshape(self.s)"), False),
    ("flatten", "keeps only the trailing shape", _layer("Flatten", """
self.s = x.shape[1:]
return x.reshape(len(x), -1)
""", "return dout.reshape((-1,) + self.s)"), True),
 # softmax with loss,
    ("softmax_with_loss", "backward subtracts 1 inside the kept probabilities", _softmax(_SOFTMAX_FORWARD, """
g = self.y
labels = self.t.argmax(axis=1) if self.t.ndim == 2 else self.t
g[np.arange(len(g)), labels] -= 1
return dout * g / len(g)
"""), VISIBLE),
    ("softmax_with_loss", "label form told apart by dtype (integer one-hot)", _softmax(_SOFTMAX_FORWARD, """
onehot = self.t if self.t.dtype.kind == "f" else np.eye(self.y.shape[1])[self.t]
return dout * (self.y - onehot) / len(self.y)
"""), False),
    ("softmax_with_loss", "returns a (1,) array", _softmax("""
self.y = softmax(scores)
self.t = np.asarray(t)
return np.atleast_1d(cross_entropy(scores, t))
""", """
onehot = self.t if self.t.ndim == 2 else np.eye(self.y.shape[1])[self.t]
return dout * (self.y - onehot) / len(self.y)
"""), False),
    ("softmax_with_loss", "argmax labels + log_softmax", _softmax("""
self.labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else np.asarray(t)
logp = log_softmax(scores)
self.y = np.exp(logp)
return float(-logp[np.arange(len(logp)), self.labels].mean())
""", """
g = self.y.copy()
g[np.arange(len(g)), self.labels] -= 1
return dout * g / len(g)
"""), True),
 # layer_gradient_errors,
    ("layer_gradient_errors", "dout uniform in [0, 1)", _gradcheck("""
out = layer.forward(x)
dout = np.random.default_rng(seed).random(size=out.shape)
dx = layer.backward(dout)
grads = {name: np.copy(layer.grads[name]) for name in layer.params}
errors = {"x": rel_error(dx, numerical_gradient_array(layer.forward, x, dout))}
for name, param in layer.params.items():
    errors[name] = rel_error(grads[name], numerical_gradient_array(lambda _: layer.forward(x), param, dout))
return errors
"""), False),
    ("layer_gradient_errors", "backward after the numerical gradients", _gradcheck("""
out = layer.forward(x)
dout = np.random.default_rng(seed).normal(size=out.shape)
num_x = numerical_gradient_array(layer.forward, x, dout)
num = {name: numerical_gradient_array(lambda _: layer.forward(x), p, dout) for name, p in layer.params.items()}
dx = layer.backward(dout)
errors = {"x": rel_error(dx, num_x)}
for name in layer.params:
    errors[name] = rel_error(layer.grads[name], num[name])
return errors
"""), True),
    ("model", "gradient runs the forward pass twice", _model(gradient="""
self.predict(x, train=True)
self.loss(x, t)
dout = self.loss_layer.backward(1.0)
for layer in reversed(self.layers):
    dout = layer.backward(dout)
return self.grads
"""), True),
    ("model", "try/except TypeError for train", _model(predict="""
for layer in self.layers:
    try:
        x = layer.forward(x, train=train)
    except TypeError:
        x = layer.forward(x)
return x
"""), True),
    ("model", "params cached before add", _model(params="""
if not hasattr(self, "_params"):
    self._params = {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}
return self._params
"""), False),
    ("model", "grads cached at first access", _model(grads="""
if not hasattr(self, "_grads"):
    self._grads = {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}
return self._grads
"""), False),
    ("model", "add inserts at front", _model(add="""
self.layers.insert(0, layer)
return self
"""), False),
    ("save_load", "size check, flat copy (transposed loads silently)", _save_load("""
stored = dict(np.load(path))
params = model.params
if sorted(stored) != sorted(params):
    raise ValueError(f"keys differ: file {sorted(stored)}, model {sorted(params)}")
for key in params:
    if stored[key].size != params[key].size:
        raise ValueError(f"{key}: size differs")
for key in params:
    params[key].flat[:] = stored[key].ravel()
"""), False),
    ("save_load", "size check, numpy raises", _save_load("""
stored = dict(np.load(path))
params = model.params
if sorted(stored) != sorted(params):
    raise ValueError(f"keys differ: file {sorted(stored)}, model {sorted(params)}")
for key in params:
    if stored[key].size != params[key].size:
        raise ValueError(f"{key}: size differs")
for key in params:
    params[key][...] = stored[key]
"""), False),
    ("save_load", "with-block, checks then copies", _save_load("""
with np.load(path) as data:
    params = model.params
    bad = sorted(set(params) ^ set(data.files))
    if bad:
        raise ValueError(f"parameters {bad} are in only one of the file and the model")
    for k in params:
        if data[k].shape != params[k].shape:
            raise ValueError(f"parameter {k}: {data[k].shape} vs {params[k].shape}")
    for k in params:
        params[k][:] = data[k]
"""), True),
]

# Obvious wrong answers the visible tests catch (issue 11: messages that teach).
_RELU_OK = ("self.mask = x > 0\nreturn np.where(self.mask, x, 0.0)", "return dout * self.mask")
_SIG_OK = ("self.out = 1 / (1 + np.exp(-x))\nreturn self.out", "return dout * self.out * (1 - self.out)")
_LEAKY_OK = ("self.mask = x > 0\nreturn np.where(self.mask, x, self.alpha * x)",
             "return np.where(self.mask, dout, self.alpha * dout)")
_ELU_OK = ("self.x = x\nreturn np.where(x > 0, x, self.alpha * (np.exp(np.minimum(x, 0)) - 1))",
           "return dout * np.where(self.x > 0, 1.0, self.alpha * np.exp(np.minimum(self.x, 0)))")
_FLAT_OK = ("self.s = x.shape\nreturn x.reshape(len(x), -1)", "return dout.reshape(self.s)")
VARIANTS += [
    ("affine", "forward returns zeros", _affine("""
self.shape = x.shape
self.X = x.reshape(x.shape[0], -1)
return np.zeros((x.shape[0], self.params["W"].shape[1]))
""", _AB), VISIBLE),
    ("affine", "backward returns dout unchanged", _affine(_AFFINE_FORWARD, """
self.grads["W"] = self.X.T @ dout
self.grads["b"] = dout.sum(axis=0)
return dout
"""), VISIBLE),
    ("affine", "dW transposed", _affine(_AFFINE_FORWARD, """
self.grads["W"] = dout.T @ self.X
self.grads["b"] = dout.sum(axis=0)
return (dout @ self.params["W"].T).reshape(self.shape)
"""), VISIBLE),
    ("relu", "forward returns the input unchanged", _layer("ReLU", "self.mask = x > 0\nreturn x", _RELU_OK[1]), VISIBLE),
    ("relu", "backward returns zeros", _layer("ReLU", _RELU_OK[0], "return np.zeros_like(dout)"), VISIBLE),
    ("sigmoid", "forward returns the input unchanged", _layer("Sigmoid", "self.out = 1 / (1 + np.exp(-x))\nreturn x",
                                                             _SIG_OK[1]), VISIBLE),
    ("sigmoid", "backward returns dout unchanged", _layer("Sigmoid", _SIG_OK[0], "return dout"), VISIBLE),
    ("leaky_relu", "forward returns the input unchanged", _layer("LeakyReLU", "self.mask = x > 0\nreturn x",
                                                                _LEAKY_OK[1]), VISIBLE),
    ("leaky_relu", "backward returns dout unchanged", _layer("LeakyReLU", _LEAKY_OK[0], "return dout"), VISIBLE),
    ("elu", "forward returns the input unchanged", _layer("ELU", "self.x = x\nreturn x", _ELU_OK[1]), VISIBLE),
    ("elu", "backward returns dout unchanged", _layer("ELU", _ELU_OK[0], "return dout"), VISIBLE),
    ("flatten", "forward returns the input unchanged", _layer("Flatten", "self.s = x.shape\nreturn x", _FLAT_OK[1]), VISIBLE),
    ("flatten", "backward returns dout unchanged", _layer("Flatten", _FLAT_OK[0], "return dout"), VISIBLE),
    ("softmax_with_loss", "forward returns 0", _softmax("""
self.y = softmax(scores)
self.t = np.asarray(t)
return 0.0
""", """
onehot = self.t if self.t.ndim == 2 else np.eye(self.y.shape[1])[self.t]
return dout * (self.y - onehot) / len(self.y)
"""), VISIBLE),
    ("softmax_with_loss", "backward returns dout", _softmax(_SOFTMAX_FORWARD, "return dout"), VISIBLE),
    ("softmax_with_loss", "backward forgets the labels", _softmax(_SOFTMAX_FORWARD, "return dout * self.y / len(self.y)"),
     VISIBLE),
    ("layer_gradient_errors", "returns zeros", _gradcheck("""
layer.backward(np.ones_like(layer.forward(x)))
return {"x": 0.0, **{name: 0.0 for name in layer.params}}
"""), VISIBLE),
    ("layer_gradient_errors", "returns an empty dict", _gradcheck("return {}"), VISIBLE),
    ("model", "predict returns x unchanged", _model(predict="return x"), VISIBLE),
    ("model", "gradient returns an empty dict", _model(gradient="""
self.loss(x, t, train=True)
return {}
"""), VISIBLE),
    ("model_accuracy", "returns 0", _accuracy("return 0.0"), VISIBLE),
    ("save_load", "load does nothing", _save_load("pass"), VISIBLE),
]
