"""Variants for 04_optimizers."""

from variants import VISIBLE

TESTS = {
    "minibatches": "test_minibatches",
    "sgd": "test_sgd",
    "momentum": "test_momentum",
    "nesterov": "test_nesterov",
    "adagrad": "test_adagrad",
    "rmsprop": "test_rmsprop",
    "adadelta": "test_adadelta",
    "adam": "test_adam",
}

_BATCHES = '''
def minibatches(X, Y, batch_size, seed=0):
    n = len(X)
    rng = np.random.default_rng(seed)
    {body}
'''

_SGD = '''
class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        {body}
'''

_MOMENTUM = '''
class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = {{}}

    def update(self, params, grads):
        mu, lr = self.momentum, self.lr
        for key in params:
            g = grads[key]
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            {body}
'''

_NESTEROV = _MOMENTUM.replace("class Momentum:", "class Nesterov:")

_ADAGRAD = '''
class AdaGrad:
    def __init__(self, lr=0.01, eps=1e-7):
        self.lr = lr
        self.eps = eps
        self.h = {{}}

    def update(self, params, grads):
        lr, eps = self.lr, self.eps
        for key in params:
            g = grads[key]
            if key not in self.h:
                self.h[key] = np.zeros_like(params[key])
            {body}
'''

_RMSPROP = '''
class RMSProp:
    def __init__(self, lr=0.01, decay=0.99, eps=1e-7):
        self.lr = lr
        self.decay = decay
        self.eps = eps
        self.h = {{}}

    def update(self, params, grads):
        lr, rho, eps = self.lr, self.decay, self.eps
        for key in params:
            g = grads[key]
            if key not in self.h:
                self.h[key] = np.zeros_like(params[key])
            {body}
'''

_ADADELTA = '''
class AdaDelta:
    def __init__(self, rho=0.95, eps=1e-6):
        self.rho = rho
        self.eps = eps
        self.avg_sq_grad = {{}}
        self.avg_sq_delta = {{}}

    def update(self, params, grads):
        rho, eps = self.rho, self.eps
        for key in params:
            g = grads[key]
            if key not in self.avg_sq_grad:
                self.avg_sq_grad[key] = np.zeros_like(params[key])
                self.avg_sq_delta[key] = np.zeros_like(params[key])
            Eg, Ed = self.avg_sq_grad[key], self.avg_sq_delta[key]
            {body}
'''

_ADAM = '''
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.t = 0
        self.m = {{}}
        self.v = {{}}

    def update(self, params, grads):
        b1, b2, lr, eps = self.beta1, self.beta2, self.lr, self.eps
        {before}
        for key in params:
            g = grads[key]
            if key not in self.m:
                self.m[key] = np.zeros_like(params[key])
                self.v[key] = np.zeros_like(params[key])
            {body}
'''

_ADAM_MOMENTS = """self.m[key] = b1 * self.m[key] + (1 - b1) * g
            self.v[key] = b2 * self.v[key] + (1 - b2) * g * g
            """

# The pipeline test's submission with exactly one wrong answer (only its exercise may lose points).
SINGLE_MISTAKE = ("adam", _ADAM.format(before="self.t += 1", body=_ADAM_MOMENTS + """# no bias correction
            params[key] -= lr * self.m[key] / (np.sqrt(self.v[key]) + eps)"""))

VARIANTS = [
    # minibatches
    ("minibatches", "np.split at multiples of B", _BATCHES.format(body="""order = rng.permutation(n)
    for rows in np.split(order, range(batch_size, n, batch_size)):
        yield X[rows], Y[rows]"""), True),
    ("minibatches", "permuted copies and a while loop, returns a list", _BATCHES.format(body="""perm = list(rng.permutation(n))
    X_shuffled, Y_shuffled = X[perm], Y[perm]
    batches, start = [], 0
    while start < n:
        batches.append((X_shuffled[start:start + batch_size], Y_shuffled[start:start + batch_size]))
        start += batch_size
    return batches"""), True),
    ("minibatches", "choice without replacement, number of batches by ceil", _BATCHES.format(body="""order = rng.choice(n, size=n, replace=False)
    for k in range(int(np.ceil(n / batch_size))):
        rows = order[k * batch_size:(k + 1) * batch_size]
        yield X[rows], Y[rows]"""), True),
    ("minibatches", "separate permutations for X and Y", _BATCHES.format(body="""X_shuffled, Y_shuffled = X[rng.permutation(n)], Y[rng.permutation(n)]
    for start in range(0, n, batch_size):
        yield X_shuffled[start:start + batch_size], Y_shuffled[start:start + batch_size]"""), VISIBLE),
    ("minibatches", "drops the last short batch", _BATCHES.format(body="""order = rng.permutation(n)
    for k in range(n // batch_size):
        rows = order[k * batch_size:(k + 1) * batch_size]
        yield X[rows], Y[rows]"""), VISIBLE),
    ("minibatches", "an empty batch when B divides N", _BATCHES.format(body="""order = rng.permutation(n)
    for k in range(n // batch_size + 1):
        rows = order[k * batch_size:(k + 1) * batch_size]
        yield X[rows], Y[rows]"""), False),
    ("minibatches", "no shuffling", _BATCHES.format(body="""for start in range(0, n, batch_size):
        yield X[start:start + batch_size], Y[start:start + batch_size]"""), VISIBLE),
    ("minibatches", "shuffles the inputs in place", _BATCHES.format(body="""np.random.default_rng(seed).shuffle(X)
    np.random.default_rng(seed).shuffle(Y)
    for start in range(0, n, batch_size):
        yield X[start:start + batch_size], Y[start:start + batch_size]"""), False),
    ("minibatches", "ignores the seed", _BATCHES.format(body="""order = np.random.permutation(n)
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], Y[rows]"""), False),
    ("minibatches", "samples with replacement", _BATCHES.format(body="""order = rng.integers(0, n, size=n)
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], Y[rows]"""), False),
    # SGD
    ("sgd", "np.subtract with out=, over grads.items()", _SGD.format(body="""for key, g in grads.items():
            np.subtract(params[key], self.lr * g, out=params[key])"""), True),
    ("sgd", "slice assignment", _SGD.format(body="""for key in params:
            params[key][...] = params[key] - self.lr * grads[key]"""), True),
    ("sgd", "replaces the arrays instead of updating them", _SGD.format(body="""for key in params:
            params[key] = params[key] - self.lr * grads[key]"""), VISIBLE),
    ("sgd", "gradient ascent", _SGD.format(body="""for key in params:
            params[key] += self.lr * grads[key]"""), VISIBLE),
    ("sgd", "scales the gradient in place", _SGD.format(body="""for key in params:
            g = grads[key]
            g *= self.lr
            params[key] -= g"""), False),
    # Momentum
    ("momentum", "opposite sign convention: v = mu v + lr g, p -= v", _MOMENTUM.format(body="""self.v[key] = mu * self.v[key] + lr * g
            params[key] -= self.v[key]"""), True),
    ("momentum", "velocity in gradient units (PyTorch form)", _MOMENTUM.format(body="""self.v[key] = mu * self.v[key] + g
            params[key] -= lr * self.v[key]"""), True),
    ("momentum", "in-place velocity updates", _MOMENTUM.format(body="""self.v[key] *= mu
            self.v[key] -= lr * g
            params[key] += self.v[key]"""), True),
    ("momentum", "+ lr * g", _MOMENTUM.format(body="""self.v[key] = mu * self.v[key] + lr * g
            params[key] += self.v[key]"""), VISIBLE),
    ("momentum", "dampening (1 - mu)", _MOMENTUM.format(body="""self.v[key] = mu * self.v[key] - (1 - mu) * lr * g
            params[key] += self.v[key]"""), False),
    ("momentum", "moves by the old velocity", _MOMENTUM.format(body="""params[key] += self.v[key]
            self.v[key] = mu * self.v[key] - lr * g"""), VISIBLE),
    ("momentum", "velocity not kept between steps", _MOMENTUM.format(body="""v = mu * np.zeros_like(g) - lr * g
            params[key] += v"""), VISIBLE),
    ("momentum", "one velocity shared by all parameters", '''
class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        for key in params:
            if self.v is None:
                self.v = np.zeros_like(params[key])
            self.v = self.momentum * self.v - self.lr * grads[key]
            params[key] += self.v
''''', False),
    # Nesterov
    ("nesterov", "p += mu * v_new - lr * g", _NESTEROV.format(body="""self.v[key] = mu * self.v[key] - lr * g
            params[key] += mu * self.v[key] - lr * g"""), True),
    ("nesterov", "Bengio et al.: mu**2 * v_old - (1 + mu) * lr * g", _NESTEROV.format(body="""params[key] += mu * mu * self.v[key] - (1 + mu) * lr * g
            self.v[key] = mu * self.v[key] - lr * g"""), True),
    ("nesterov", "PyTorch form with a gradient-unit buffer", _NESTEROV.format(body="""self.v[key] = mu * self.v[key] + g
            params[key] -= lr * (g + mu * self.v[key])"""), True),
    ("nesterov", "plain momentum", _NESTEROV.format(body="""self.v[key] = mu * self.v[key] - lr * g
            params[key] += self.v[key]"""), VISIBLE),
    ("nesterov", "mu**2 times the NEW velocity", _NESTEROV.format(body="""self.v[key] = mu * self.v[key] - lr * g
            params[key] += mu * mu * self.v[key] - (1 + mu) * lr * g"""), False),
    ("nesterov", "sign of the v_old term", _NESTEROV.format(body="""v_old = self.v[key]
            self.v[key] = mu * v_old - lr * g
            params[key] += mu * v_old + (1 + mu) * self.v[key]"""), False),
    ("nesterov", "state in a class attribute, shared by every instance", '''
class Nesterov:
    v = {}

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum

    def update(self, params, grads):
        mu, lr = self.momentum, self.lr
        for key in params:
            v_old = self.v.get(key, np.zeros_like(params[key]))
            self.v[key] = mu * v_old - lr * grads[key]
            params[key] += -mu * v_old + (1 + mu) * self.v[key]
''''', False),
    # AdaGrad
    ("adagrad", "dict.get and np.divide", _ADAGRAD.format(body="""self.h[key] = self.h.get(key, 0.0) + np.square(g)
            params[key] -= lr * np.divide(g, np.sqrt(self.h[key]) + eps)"""), True),
    ("adagrad", "elementwise loop", _ADAGRAD.format(body="""h, p = self.h[key], params[key]
            for i in np.ndindex(p.shape):
                h[i] += g[i] * g[i]
                p[i] -= lr * g[i] / (h[i] ** 0.5 + eps)"""), True),
    ("adagrad", "sums g instead of g**2", _ADAGRAD.format(body="""self.h[key] += np.abs(g)
            params[key] -= lr * g / (np.sqrt(self.h[key]) + eps)"""), False),
    ("adagrad", "eps inside the square root", _ADAGRAD.format(body="""self.h[key] += g * g
            params[key] -= lr * g / np.sqrt(self.h[key] + eps)"""), False),
    ("adagrad", "divides by h instead of sqrt(h)", _ADAGRAD.format(body="""self.h[key] += g * g
            params[key] -= lr * g / (self.h[key] + eps)"""), False),
    ("adagrad", "uses h before adding g**2", _ADAGRAD.format(body="""params[key] -= lr * g / (np.sqrt(self.h[key]) + eps)
            self.h[key] += g * g"""), VISIBLE),
    ("adagrad", "one h shared by parameters of the same shape", '''
class AdaGrad:
    def __init__(self, lr=0.01, eps=1e-7):
        self.lr = lr
        self.eps = eps
        self.h = {}

    def update(self, params, grads):
        for key in params:
            shape = params[key].shape
            if shape not in self.h:
                self.h[shape] = np.zeros(shape)
            self.h[shape] += grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[shape]) + self.eps)
''', False),
    # RMSProp
    ("rmsprop", "in-place decay", _RMSPROP.format(body="""self.h[key] *= rho
            self.h[key] += (1 - rho) * np.square(g)
            params[key] -= lr * g / (np.sqrt(self.h[key]) + eps)"""), True),
    ("rmsprop", "moving average written as h += (1 - rho) * (g**2 - h)", _RMSPROP.format(body="""h = self.h[key]
            h += (1 - rho) * (g ** 2 - h)
            params[key] -= lr * g / (h ** 0.5 + eps)"""), True),
    ("rmsprop", "weights swapped", _RMSPROP.format(body="""self.h[key] = (1 - rho) * self.h[key] + rho * g * g
            params[key] -= lr * g / (np.sqrt(self.h[key]) + eps)"""), VISIBLE),
    ("rmsprop", "AdaGrad's sum", _RMSPROP.format(body="""self.h[key] += g * g
            params[key] -= lr * g / (np.sqrt(self.h[key]) + eps)"""), False),
    ("rmsprop", "eps inside the square root", _RMSPROP.format(body="""self.h[key] = rho * self.h[key] + (1 - rho) * g * g
            params[key] -= lr * g / np.sqrt(self.h[key] + eps)"""), False),
    ("rmsprop", "h started at g**2", '''
class RMSProp:
    def __init__(self, lr=0.01, decay=0.99, eps=1e-7):
        self.lr = lr
        self.decay = decay
        self.eps = eps
        self.h = {}

    def update(self, params, grads):
        for key in params:
            g = grads[key]
            if key not in self.h:
                self.h[key] = g * g
            else:
                self.h[key] = self.decay * self.h[key] + (1 - self.decay) * g * g
            params[key] -= self.lr * g / (np.sqrt(self.h[key]) + self.eps)
''', VISIBLE),
    # AdaDelta
    ("adadelta", "RMS values first, in-place averages", _ADADELTA.format(body="""Eg *= rho
            Eg += (1 - rho) * g ** 2
            rms_delta = np.sqrt(Ed + eps)
            rms_grad = np.sqrt(Eg + eps)
            delta = -(rms_delta / rms_grad) * g
            Ed *= rho
            Ed += (1 - rho) * delta ** 2
            params[key] += delta"""), True),
    ("adadelta", "own state dictionary of pairs", '''
class AdaDelta:
    def __init__(self, rho=0.95, eps=1e-6):
        self.rho = rho
        self.eps = eps
        self.state = {}

    def update(self, params, grads):
        for key, p in params.items():
            g = grads[key]
            Eg, Ed = self.state.get(key, (0.0, 0.0))
            Eg = self.rho * Eg + (1 - self.rho) * g * g
            step = np.sqrt((Ed + self.eps) / (Eg + self.eps)) * g
            Ed = self.rho * Ed + (1 - self.rho) * step * step
            self.state[key] = (Eg, Ed)
            p -= step
''', True),
    ("adadelta", "eps outside the square roots", _ADADELTA.format(body="""Eg[...] = rho * Eg + (1 - rho) * g * g
            delta = -(np.sqrt(Ed) + eps) / (np.sqrt(Eg) + eps) * g
            Ed[...] = rho * Ed + (1 - rho) * delta * delta
            params[key] += delta"""), False),
    ("adadelta", "E[g^2] updated after the step", _ADADELTA.format(body="""delta = -np.sqrt(Ed + eps) / np.sqrt(Eg + eps) * g
            Eg[...] = rho * Eg + (1 - rho) * g * g
            Ed[...] = rho * Ed + (1 - rho) * delta * delta
            params[key] += delta"""), VISIBLE),
    ("adadelta", "no square root in the numerator", _ADADELTA.format(body="""Eg[...] = rho * Eg + (1 - rho) * g * g
            delta = -(Ed + eps) / np.sqrt(Eg + eps) * g
            Ed[...] = rho * Ed + (1 - rho) * delta * delta
            params[key] += delta"""), False),
    ("adadelta", "weights swapped", _ADADELTA.format(body="""Eg[...] = (1 - rho) * Eg + rho * g * g
            delta = -np.sqrt(Ed + eps) / np.sqrt(Eg + eps) * g
            Ed[...] = (1 - rho) * Ed + rho * delta * delta
            params[key] += delta"""), False),
    # Adam
    ("adam", "the paper's efficient form lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)", _ADAM.format(
        before="self.t += 1\n        lr_t = lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)",
        body=_ADAM_MOMENTS + "params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + eps)"), True),
    ("adam", "moments updated in place as m += (1 - b1)(g - m)", _ADAM.format(before="self.t += 1", body="""m, v = self.m[key], self.v[key]
            m += (1 - b1) * (g - m)
            v += (1 - b2) * (g ** 2 - v)
            m_hat = m / (1 - np.power(b1, self.t))
            v_hat = v / (1 - np.power(b2, self.t))
            params[key] -= lr * m_hat / (np.sqrt(v_hat) + eps)"""), True),
    ("adam", "no bias correction", SINGLE_MISTAKE[1], VISIBLE),
    ("adam", "t starting at 0 (used before the increment)", _ADAM.format(before="", body=_ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            params[key] -= lr * m_hat / (np.sqrt(v_hat) + eps)
        self.t += 1"""), False),
    ("adam", "bias correction with t + 1", _ADAM.format(before="self.t += 1", body=_ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** (self.t + 1))
            v_hat = self.v[key] / (1 - b2 ** (self.t + 1))
            params[key] -= lr * m_hat / (np.sqrt(v_hat) + eps)"""), False),
    ("adam", "t incremented once per parameter", _ADAM.format(before="", body="self.t += 1\n            " + _ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            params[key] -= lr * m_hat / (np.sqrt(v_hat) + eps)"""), False),
    ("adam", "stores the corrected moments", _ADAM.format(before="self.t += 1", body=_ADAM_MOMENTS + """self.m[key] = self.m[key] / (1 - b1 ** self.t)
            self.v[key] = self.v[key] / (1 - b2 ** self.t)
            params[key] -= lr * self.m[key] / (np.sqrt(self.v[key]) + eps)"""), False),
    ("adam", "moments shared by parameters of the same shape", '''
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m, self.v = {}, {}

    def update(self, params, grads):
        self.t += 1
        for key in params:
            g, shape = grads[key], params[key].shape
            if shape not in self.m:
                self.m[shape], self.v[shape] = np.zeros(shape), np.zeros(shape)
            self.m[shape] = self.beta1 * self.m[shape] + (1 - self.beta1) * g
            self.v[shape] = self.beta2 * self.v[shape] + (1 - self.beta2) * g * g
            m_hat = self.m[shape] / (1 - self.beta1 ** self.t)
            v_hat = self.v[shape] / (1 - self.beta2 ** self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
''', False),
    ("adam", "only the first moment corrected", _ADAM.format(before="self.t += 1", body=_ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            params[key] -= lr * m_hat / (np.sqrt(self.v[key]) + eps)"""), False),
]

# Review r2: key order, state shared by instances, the global random state, where Adam's eps goes.
_POSITIONAL = '''
class {name}:
    def __init__(self, lr=0.01, decay=0.99, eps=1e-7):
        self.lr, self.decay, self.eps = lr, decay, eps
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = [np.zeros_like(p) for p in params.values()]
        for h, p, g in zip(self.h, params.values(), grads.values()):
            h *= self.decay
            h += (1 - self.decay) * g * g
            p -= self.lr * g / (np.sqrt(h) + self.eps)
'''

VARIANTS += [
    ("minibatches", "reseeds the global RNG", _BATCHES.format(body="""np.random.seed(seed)
    order = np.random.permutation(n)
    for start in range(0, n, batch_size):
        yield X[order[start:start + batch_size]], Y[order[start:start + batch_size]]"""), False),
    ("minibatches", "two generators with the same seed permute X and Y", _BATCHES.format(body="""X_shuffled = np.random.default_rng(seed).permutation(X)
    Y_shuffled = np.random.default_rng(seed).permutation(Y)
    for start in range(0, n, batch_size):
        yield X_shuffled[start:start + batch_size], Y_shuffled[start:start + batch_size]"""), True),
    ("sgd", "pairs params and grads by position", _SGD.format(body="""for p, g in zip(params.values(), grads.values()):
            p -= self.lr * g"""), False),
    ("sgd", "keys sorted, np.copyto", _SGD.format(body="""for key in sorted(grads):
            np.copyto(params[key], params[key] - self.lr * grads[key])"""), True),
    ("momentum", "state keyed by position", '''
class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for i, key in enumerate(params):
            if i not in self.v:
                self.v[i] = np.zeros_like(params[key])
            self.v[i] = self.momentum * self.v[i] - self.lr * grads[key]
            params[key] += self.v[i]
''', False),
    ("momentum", "class attribute state, cleared in __init__", '''
class Momentum:
    v = {}

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.v.clear()

    def update(self, params, grads):
        for key in params:
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]
''', False),
    ("momentum", "setdefault and ufuncs with out=", _MOMENTUM.format(body="""v = self.v.setdefault(key, np.zeros_like(params[key]))
            np.multiply(v, mu, out=v)
            np.subtract(v, lr * g, out=v)
            np.add(params[key], v, out=params[key])"""), True),
    ("nesterov", "pairs params and grads by position", '''
class Nesterov:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        mu, lr = self.momentum, self.lr
        for (key, p), g in zip(params.items(), grads.values()):
            v_old = self.v.get(key, np.zeros_like(p))
            self.v[key] = mu * v_old - lr * g
            p += -mu * v_old + (1 + mu) * self.v[key]
''', False),
    ("nesterov", "in-place velocity, v_old an alias of it", _NESTEROV.format(body="""v_old = self.v[key]
            self.v[key] *= mu
            self.v[key] -= lr * g
            params[key] += -mu * v_old + (1 + mu) * self.v[key]"""), False),
    ("nesterov", "in-place velocity, v_old copied", _NESTEROV.format(body="""v_old = self.v[key].copy()
            self.v[key] *= mu
            self.v[key] -= lr * g
            params[key] += -mu * v_old + (1 + mu) * self.v[key]"""), True),
    ("adagrad", "state keyed by position", '''
class AdaGrad:
    def __init__(self, lr=0.01, eps=1e-7):
        self.lr, self.eps, self.h = lr, eps, {}

    def update(self, params, grads):
        for i, key in enumerate(params):
            if i not in self.h:
                self.h[i] = np.zeros_like(params[key])
            self.h[i] += grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[i]) + self.eps)
''', False),
    ("rmsprop", "state in a list, pairs by position", _POSITIONAL.format(name="RMSProp"), False),
    ("adadelta", "state in class attributes", '''
class AdaDelta:
    avg_sq_grad, avg_sq_delta = {}, {}

    def __init__(self, rho=0.95, eps=1e-6):
        self.rho, self.eps = rho, eps

    def update(self, params, grads):
        rho, eps = self.rho, self.eps
        for key in params:
            g = grads[key]
            Eg = rho * self.avg_sq_grad.get(key, 0.0) + (1 - rho) * g * g
            delta = -np.sqrt(self.avg_sq_delta.get(key, 0.0) + eps) / np.sqrt(Eg + eps) * g
            self.avg_sq_grad[key] = Eg
            self.avg_sq_delta[key] = rho * self.avg_sq_delta.get(key, 0.0) + (1 - rho) * delta * delta
            params[key] += delta
''', False),
    ("adam", "eps inside the square root", _ADAM.format(before="self.t += 1", body=_ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            params[key] -= lr * m_hat / np.sqrt(v_hat + eps)"""), False),
    ("adam", "eps added to the ratio", _ADAM.format(before="self.t += 1", body=_ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            params[key] -= lr * (m_hat / np.sqrt(v_hat) + eps)"""), False),
    ("adam", "eps hard-coded to 1e-8", _ADAM.format(before="self.t += 1", body=_ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            params[key] -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)"""), False),
    ("adam", "pairs params and grads by position", _ADAM.format(before="self.t += 1", body="pass").replace(
        "for key in params:", "for (key, p), g in zip(params.items(), grads.values()):").replace(
        "            g = grads[key]\n", "").replace("pass", _ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            p -= lr * m_hat / (np.sqrt(v_hat) + eps)"""), False),
    ("adam", "a step counter per key (PyTorch's state['step'])", _ADAM.format(before="", body="""self.steps = getattr(self, "steps", {})
            self.steps[key] = t = self.steps.get(key, 0) + 1
            """ + _ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** t)
            v_hat = self.v[key] / (1 - b2 ** t)
            params[key] -= lr * m_hat / (np.sqrt(v_hat) + eps)"""), True),
    ("adam", "t starts at 1 and is incremented at the end", _ADAM.format(before="self.t = self.t or 1", body=_ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            params[key] -= lr * m_hat / (np.sqrt(v_hat) + eps)
        self.t += 1"""), True),
]

# Obvious wrong answers the visible tests catch, with a hint: nothing happens, the input comes back unchanged.
_NOT_MOVED = {
    "sgd": _SGD.format(body="""params = {key: params[key] - self.lr * grads[key] for key in params}"""),
    "momentum": _MOMENTUM.format(body="""self.v[key] = mu * self.v[key] - lr * g
            p = params[key] + self.v[key]"""),
    "nesterov": _NESTEROV.format(body="""v_old = self.v[key]
            self.v[key] = mu * v_old - lr * g
            p = params[key] - mu * v_old + (1 + mu) * self.v[key]"""),
    "adagrad": _ADAGRAD.format(body="""self.h[key] += g * g
            p = params[key]
            p = p - lr * g / (np.sqrt(self.h[key]) + eps)"""),
    "rmsprop": _RMSPROP.format(body="""self.h[key] = rho * self.h[key] + (1 - rho) * g * g
            new_p = params[key] - lr * g / (np.sqrt(self.h[key]) + eps)"""),
    "adadelta": _ADADELTA.format(body="""Eg[...] = rho * Eg + (1 - rho) * g * g
            delta = -np.sqrt(Ed + eps) / np.sqrt(Eg + eps) * g
            Ed[...] = rho * Ed + (1 - rho) * delta * delta"""),
    "adam": _ADAM.format(before="self.t += 1", body=_ADAM_MOMENTS + """m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            step = lr * m_hat / (np.sqrt(v_hat) + eps)"""),
}

VARIANTS += [(answer, "the parameters never change (the result stays in a local variable)", code, VISIBLE)
             for answer, code in _NOT_MOVED.items()]
VARIANTS += [
    ("minibatches", "the whole data set as one batch", _BATCHES.format(body="yield X, Y"), VISIBLE),
    ("sgd", "the update written into a new dict that is returned", _SGD.format(body="""return {key: params[key] - self.lr * grads[key] for key in params}"""), VISIBLE),
    ("adam", "the momentum form v = beta1 v + g without (1 - beta1) (not Adam)", _ADAM.format(before="self.t += 1", body="""self.m[key] = b1 * self.m[key] + g
            self.v[key] = b2 * self.v[key] + (1 - b2) * g * g
            m_hat = self.m[key] / (1 - b1 ** self.t)
            v_hat = self.v[key] / (1 - b2 ** self.t)
            params[key] -= lr * m_hat / (np.sqrt(v_hat) + eps)"""), VISIBLE),
]
