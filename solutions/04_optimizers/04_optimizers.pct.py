# %% [markdown]
# # 04 — Optimizers (PLACEHOLDER)
#
# Placeholder written by the chapter-05 helper so that `provided.optimizers` exists; it implements the
# contract's exported API and is replaced by the real chapter at integration.

# %% export=true
import numpy as np


# %% export=true
def minibatches(X, Y, batch_size, seed=0):
    order = np.random.default_rng(seed).permutation(len(X))
    for start in range(0, len(X), batch_size):
        index = order[start:start + batch_size]
        yield X[index], Y[index]


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            v *= self.momentum
            v -= self.lr * grads[key]
            params[key] += v


class Nesterov:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            v *= self.momentum
            v -= self.lr * grads[key]
            params[key] += self.momentum * v - self.lr * grads[key]


class AdaGrad:
    def __init__(self, lr=0.01, eps=1e-7):
        self.lr, self.eps, self.h = lr, eps, {}

    def update(self, params, grads):
        for key in params:
            h = self.h.setdefault(key, np.zeros_like(params[key]))
            h += grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(h) + self.eps)


class RMSProp:
    def __init__(self, lr=0.01, decay=0.99, eps=1e-7):
        self.lr, self.decay, self.eps, self.h = lr, decay, eps, {}

    def update(self, params, grads):
        for key in params:
            h = self.h.setdefault(key, np.zeros_like(params[key]))
            h *= self.decay
            h += (1 - self.decay) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(h) + self.eps)


class AdaDelta:
    def __init__(self, rho=0.95, eps=1e-6):
        self.rho, self.eps, self.h, self.d = rho, eps, {}, {}

    def update(self, params, grads):
        for key in params:
            h = self.h.setdefault(key, np.zeros_like(params[key]))
            d = self.d.setdefault(key, np.zeros_like(params[key]))
            h *= self.rho
            h += (1 - self.rho) * grads[key] ** 2
            step = np.sqrt(d + self.eps) / np.sqrt(h + self.eps) * grads[key]
            d *= self.rho
            d += (1 - self.rho) * step ** 2
            params[key] -= step


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def update(self, params, grads):
        self.t += 1
        for key in params:
            m = self.m.setdefault(key, np.zeros_like(params[key]))
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            m += (1 - self.beta1) * (grads[key] - m)
            v += (1 - self.beta2) * (grads[key] ** 2 - v)
            m_hat = m / (1 - self.beta1 ** self.t)
            v_hat = v / (1 - self.beta2 ** self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# %% export=true
def train(model, optimizer, X, t, epochs, batch_size, seed=0, monitor=None, X_val=None, t_val=None):
    history = {"loss": [], "train_acc": [], "val_acc": []}
    for epoch in range(epochs):
        for xb, tb in minibatches(X, t, batch_size, seed=seed + epoch):
            loss = float(model.loss(xb, tb, train=True))
            optimizer.update(model.params, model.gradient(xb, tb))
            history["loss"].append(loss)
            if monitor is not None:
                monitor.update(loss=loss)
        history["train_acc"].append(model.accuracy(X, t))
        if X_val is not None:
            history["val_acc"].append(model.accuracy(X_val, t_val))
    return history
