# %% [markdown]
# # 03 — Multilayer perceptron and backprop (PLACEHOLDER)
#
# Placeholder written by the chapter-05 helper so that `provided.mlp` exists; it implements the
# contract's exported API and is replaced by the real chapter at integration.

# %% export=true
import inspect

import numpy as np

from provided.softmax import cross_entropy, softmax


# %% export=true
class Affine:
    def __init__(self, W, b):
        self.params = {"W": W, "b": b}
        self.grads = {}
        self.x = None
        self.x_shape = None

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return (dout @ self.params["W"].T).reshape(self.x_shape)


class ReLU:
    def __init__(self):
        self.params, self.grads, self.mask = {}, {}, None

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, dout):
        return dout * self.mask


class Sigmoid:
    def __init__(self):
        self.params, self.grads, self.out = {}, {}, None

    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.alpha, self.params, self.grads, self.mask = alpha, {}, {}, None

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, self.alpha * x)

    def backward(self, dout):
        return np.where(self.mask, dout, self.alpha * dout)


class ELU:
    def __init__(self, alpha=1.0):
        self.alpha, self.params, self.grads, self.x = alpha, {}, {}, None

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha * (np.exp(np.minimum(x, 0)) - 1))

    def backward(self, dout):
        return np.where(self.x > 0, dout, dout * self.alpha * np.exp(np.minimum(self.x, 0)))


class Flatten:
    def __init__(self):
        self.params, self.grads, self.shape = {}, {}, None

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.shape)


class SoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads, self.y, self.t = {}, {}, None, None

    def forward(self, scores, t):
        self.y = softmax(scores)
        t = np.asarray(t)
        self.t = t.argmax(axis=1) if t.ndim == 2 else t.astype(np.int64)
        return cross_entropy(scores, self.t)

    def backward(self, dout=1.0):
        n = len(self.y)
        d = self.y.copy()
        d[np.arange(n), self.t] -= 1.0
        return dout * d / n


# %% export=true
def _takes_train(layer):
    try:
        return "train" in inspect.signature(layer.forward).parameters
    except (TypeError, ValueError):
        return False


class Model:
    def __init__(self, layers=None, loss_layer=None):
        self.layers = list(layers or [])
        self.loss_layer = loss_layer if loss_layer is not None else SoftmaxWithLoss()

    def add(self, layer):
        self.layers.append(layer)
        return self

    def predict(self, x, train=False):
        for layer in self.layers:
            x = layer.forward(x, train=train) if _takes_train(layer) else layer.forward(x)
        return x

    def loss(self, x, t, train=True):
        return self.loss_layer.forward(self.predict(x, train=train), t)

    def gradient(self, x, t):
        self.loss(x, t, train=True)
        dout = self.loss_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return self.grads

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    def accuracy(self, x, t, batch_size=1000):
        t = np.asarray(t)
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        correct = 0
        for start in range(0, len(x), batch_size):
            scores = self.predict(x[start:start + batch_size], train=False)
            correct += int((scores.argmax(axis=1) == labels[start:start + batch_size]).sum())
        return correct / len(x)

    def save(self, path):
        np.savez(path, **self.params)

    def load(self, path):
        with np.load(path) as data:
            stored = {k: data[k] for k in data.files}
        params = self.params
        if set(stored) != set(params):
            raise ValueError(f"the file holds parameters {sorted(stored)}, the model has {sorted(params)}")
        for key, value in stored.items():
            if value.shape != params[key].shape:
                raise ValueError(f"parameter {key}: file shape {value.shape}, model shape {params[key].shape}")
        for key, value in stored.items():
            params[key][...] = value


def make_mlp(sizes, activation=ReLU, weight_std=0.01, seed=0):
    rng = np.random.default_rng(seed)
    model = Model()
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        model.add(Affine(weight_std * rng.standard_normal((d_in, d_out)), np.zeros(d_out)))
        if i < len(sizes) - 2:
            model.add(activation())
    return model
