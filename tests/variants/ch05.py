"""Variants for 05_regularization."""

from variants import VISIBLE

TESTS = {
    "fans": "test_fans",
    "xavier": "test_xavier",
    "he": "test_he",
    "weight_decay": "test_weight_decay",
    "dropout": "test_dropout",
    "batchnorm": "test_batchnorm",
}

_FANS = '''
def fans(shape):
    {body}
'''

_XAVIER = '''
def xavier_uniform(shape, rng=None):
    rng = np.random.default_rng(rng)
    fan_in, fan_out = fans(shape)
    {uniform}

def xavier_normal(shape, rng=None):
    rng = np.random.default_rng(rng)
    fan_in, fan_out = fans(shape)
    {normal}
'''

_HE = '''
def he_normal(shape, rng=None):
    rng = np.random.default_rng(rng)
    fan_in, fan_out = fans(shape)
    {normal}

def he_uniform(shape, rng=None):
    rng = np.random.default_rng(rng)
    fan_in, fan_out = fans(shape)
    {uniform}
'''

_XAVIER_OK_U = "a = np.sqrt(6 / (fan_in + fan_out))\n    return rng.uniform(-a, a, size=shape)"
_XAVIER_OK_N = "return rng.normal(0, np.sqrt(2 / (fan_in + fan_out)), size=shape)"
_HE_OK_N = "return rng.normal(0, np.sqrt(2 / fan_in), size=shape)"
_HE_OK_U = "a = np.sqrt(6 / fan_in)\n    return rng.uniform(-a, a, size=shape)"

_L2 = '''
def l2_penalty(params, lam):
    {penalty}

def l2_gradients(params, grads, lam):
    {gradients}
'''

_L2_OK_P = "return 0.5 * lam * sum(np.sum(v ** 2) for k, v in params.items() if is_weight(k))"
_L2_OK_G = "return {k: g + lam * params[k] if is_weight(k) else g for k, g in grads.items()}"

_DROPOUT = '''
class Dropout:
    def __init__(self, p=0.5, seed=0):
        self.p = p
        self.rng = np.random.default_rng(seed)
        self.mask = None
        self.params, self.grads = {{}}, {{}}

    def forward(self, x, train=True):
        {forward}

    def backward(self, dout):
        {backward}
'''

_BN = '''
class BatchNorm:
    def __init__(self, num_features, momentum=0.9, eps=1e-5):
        self.params = {{"gamma": np.ones(num_features), "beta": np.zeros(num_features)}}
        self.grads = {{}}
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.momentum = momentum
        self.eps = eps
        self.cache = None

    def forward(self, x, train=True):
        gamma, beta = self.params["gamma"], self.params["beta"]
        if train:
            mu = {mean}
            var = {var}
            std = np.sqrt(var + self.eps)
            x_hat = (x - mu) / std
            {update}
            self.cache = (x, x_hat, mu, var, std)
        else:
            {test}
        return gamma * x_hat + beta

    def backward(self, dout):
        x, x_hat, mu, var, std = self.cache
        self.grads["beta"] = {dbeta}
        self.grads["gamma"] = {dgamma}
        g = dout * self.params["gamma"]
        {dx}
'''

_BN_MEAN = "x.mean(axis=0)"
_BN_VAR = "x.var(axis=0)"
_BN_UPDATE = ("self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu\n"
              "            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var")
_BN_TEST = "x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)"
_BN_DBETA = "dout.sum(axis=0)"
_BN_DGAMMA = "(dout * x_hat).sum(axis=0)"
_BN_DX = "return (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std"


def _bn(**parts):
    values = {"mean": _BN_MEAN, "var": _BN_VAR, "update": _BN_UPDATE, "test": _BN_TEST,
              "dbeta": _BN_DBETA, "dgamma": _BN_DGAMMA, "dx": _BN_DX}
    values.update(parts)
    return _BN.format(**values)


def _bn_graph(mean_scale="1 / n", ds="-np.sum(dx_hat * xc, axis=0) / std ** 2", dv="ds / (2 * std)",
              second_path="dxc = dxc + 2 * xc * dq", mu_path="dx = dxc + dmu * mean_scale"):
    """The backward pass walked through the graph step by step (the course's way), with one step replaceable."""
    return _bn(dx=f"""n = x.shape[0]
        mean_scale = {mean_scale}
        xc = x - mu
        dx_hat = g
        dxc = dx_hat / std
        ds = {ds}
        dv = {dv}
        dq = np.ones_like(xc) * dv * mean_scale
        {second_path}
        dmu = -np.sum(dxc, axis=0)
        {mu_path}
        return dx""")


# The pipeline test's submission with exactly one wrong answer (only its exercise may lose points).
SINGLE_MISTAKE = ("he", _HE.format(normal="return rng.normal(0, np.sqrt(2 / fan_out), size=shape)   # fan_out: wrong",
                                   uniform="a = np.sqrt(6 / fan_out)\n    return rng.uniform(-a, a, size=shape)"))

VARIANTS = [
    # fans
    ("fans", "prod of the receptive field", _FANS.format(body="""if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive"""), True),
    ("fans", "PyTorch's (out, in) layout for affine weights", _FANS.format(body="""receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive"""), False),
    ("fans", "explicit cases with a list", _FANS.format(body="""if len(shape) == 2:
        d, m = shape
        return [d, m]
    f, c, kh, kw = shape
    return [c * kh * kw, f * kh * kw]"""), True),
    ("fans", "fan_in and fan_out swapped", _FANS.format(body="""if len(shape) == 2:
        return shape[1], shape[0]
    f, c, kh, kw = shape
    return f * kh * kw, c * kh * kw"""), VISIBLE),
    ("fans", "conv ignores the kernel area", _FANS.format(body="""if len(shape) == 2:
        return shape[0], shape[1]
    return shape[1], shape[0]"""), False),
    ("fans", "conv kernel area as KH squared", _FANS.format(body="""if len(shape) == 2:
        return shape[0], shape[1]
    f, c, kh, kw = shape
    return c * kh * kh, f * kh * kh"""), False),
    ("fans", "conv fan_out counts the channels", _FANS.format(body="""if len(shape) == 2:
        return shape[0], shape[1]
    f, c, kh, kw = shape
    return c * kh * kw, f * c * kh * kw"""), False),
    # xavier
    ("xavier", "standard draws scaled by hand", _XAVIER.format(
        uniform="a = np.sqrt(6.0 / (fan_in + fan_out))\n    return a * (2 * rng.random(shape) - 1)",
        normal="std = np.sqrt(2.0 / (fan_in + fan_out))\n    return std * rng.standard_normal(shape)"), True),
    ("xavier", "float32 weights from a tuple shape", _XAVIER.format(
        uniform="a = (6 / (fan_in + fan_out)) ** 0.5\n    return rng.uniform(-a, a, size=tuple(shape)).astype(np.float32)",
        normal="return (rng.normal(size=tuple(shape)) * (2 / (fan_in + fan_out)) ** 0.5).astype(np.float32)"), True),
    ("xavier", "fan_in only (LeCun)", _XAVIER.format(
        uniform="a = np.sqrt(3 / fan_in)\n    return rng.uniform(-a, a, size=shape)",
        normal="return rng.normal(0, np.sqrt(1 / fan_in), size=shape)"), False),
    ("xavier", "uniform limit and normal std mixed up", _XAVIER.format(
        uniform="a = np.sqrt(2 / (fan_in + fan_out))\n    return rng.uniform(-a, a, size=shape)",
        normal="return rng.normal(0, np.sqrt(6 / (fan_in + fan_out)), size=shape)"), False),
    ("xavier", "variance used as the standard deviation", _XAVIER.format(
        uniform=_XAVIER_OK_U, normal="return rng.normal(0, 2 / (fan_in + fan_out), size=shape)"), False),
    ("xavier", "uniform drawn from a normal", _XAVIER.format(
        uniform="return rng.normal(0, np.sqrt(2 / (fan_in + fan_out)), size=shape)", normal=_XAVIER_OK_N), False),
    ("xavier", "uses the global np.random", _XAVIER.format(
        uniform="a = np.sqrt(6 / (fan_in + fan_out))\n    return np.random.uniform(-a, a, size=shape)",
        normal="return np.random.normal(0, np.sqrt(2 / (fan_in + fan_out)), size=shape)"), False),
    ("xavier", "conv fans computed without the kernel area", '''
def xavier_uniform(shape, rng=None):
    rng = np.random.default_rng(rng)
    a = np.sqrt(6 / (shape[0] + shape[1]))
    return rng.uniform(-a, a, size=shape)

def xavier_normal(shape, rng=None):
    rng = np.random.default_rng(rng)
    return rng.normal(0, np.sqrt(2 / (shape[0] + shape[1])), size=shape)
''', False),
    # he
    ("he", "standard draws scaled by hand", _HE.format(
        normal="return np.sqrt(2.0 / fan_in) * rng.standard_normal(shape)",
        uniform="return np.sqrt(6.0 / fan_in) * rng.uniform(-1.0, 1.0, size=shape)"), True),
    ("he", "He with fan_out", SINGLE_MISTAKE[1], VISIBLE),
    ("he", "missing the factor 2", _HE.format(
        normal="return rng.normal(0, np.sqrt(1 / fan_in), size=shape)",
        uniform="a = np.sqrt(3 / fan_in)\n    return rng.uniform(-a, a, size=shape)"), False),
    ("he", "Xavier's scale", _HE.format(
        normal="return rng.normal(0, np.sqrt(2 / (fan_in + fan_out)), size=shape)",
        uniform="a = np.sqrt(6 / (fan_in + fan_out))\n    return rng.uniform(-a, a, size=shape)"), False),
    ("he", "uniform limit from the normal's std", _HE.format(
        normal=_HE_OK_N, uniform="a = np.sqrt(2 / fan_in)\n    return rng.uniform(-a, a, size=shape)"), False),
    ("he", "shape[0] as fan_in for every shape", '''
def he_normal(shape, rng=None):
    rng = np.random.default_rng(rng)
    return rng.normal(0, np.sqrt(2 / shape[0]), size=shape)

def he_uniform(shape, rng=None):
    rng = np.random.default_rng(rng)
    a = np.sqrt(6 / shape[0])
    return rng.uniform(-a, a, size=shape)
''', False),
    # weight_decay
    ("weight_decay", "loops and copies", _L2.format(
        penalty="""total = 0.0
    for name in params:
        if is_weight(name):
            total += float((params[name] * params[name]).sum())
    return lam / 2 * total""",
        gradients="""out = {}
    for name in grads:
        out[name] = grads[name].copy()
        if is_weight(name):
            out[name] = out[name] + lam * params[name]
    return out"""), True),
    ("weight_decay", "einsum and its own weight rule", _L2.format(
        penalty="return 0.5 * lam * sum(float(np.einsum('i,i->', v.ravel(), v.ravel())) for k, v in params.items() if k.split('.')[-1][0] == 'W')",
        gradients="return {k: (g + lam * params[k]) if k.split('.')[-1][0] == 'W' else g for k, g in grads.items()}"), True),
    ("weight_decay", "biases decayed too", _L2.format(
        penalty="return 0.5 * lam * sum(np.sum(v ** 2) for v in params.values())",
        gradients="return {k: g + lam * params[k] for k, g in grads.items()}"), VISIBLE),
    ("weight_decay", "gradient 2 lam W", _L2.format(
        penalty=_L2_OK_P,
        gradients="return {k: g + 2 * lam * params[k] if is_weight(k) else g for k, g in grads.items()}"), False),
    ("weight_decay", "lam ||W||^2 and 2 lam W, consistent but not the course's convention", _L2.format(
        penalty="return lam * sum(np.sum(v ** 2) for k, v in params.items() if is_weight(k))",
        gradients="return {k: g + 2 * lam * params[k] if is_weight(k) else g for k, g in grads.items()}"), False),
    ("weight_decay", "added to the loss only", _L2.format(penalty=_L2_OK_P, gradients="return dict(grads)"), VISIBLE),
    ("weight_decay", "gradients modified in place", _L2.format(
        penalty=_L2_OK_P, gradients="""for k in grads:
        if is_weight(k):
            grads[k] += lam * params[k]
    return grads"""), False),
    ("weight_decay", "penalty without the square", _L2.format(
        penalty="return 0.5 * lam * sum(np.sum(np.abs(v)) for k, v in params.items() if is_weight(k))",
        gradients=_L2_OK_G), False),
    # dropout
    ("dropout", "binomial mask, scaled in backward", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = self.rng.binomial(1, 1 - self.p, size=x.shape).astype(bool)
        return np.where(self.mask, x / (1 - self.p), 0.0)""",
        backward="return np.where(self.mask, dout / (1 - self.p), 0.0)"), True),
    ("dropout", "uniform draws compared with the keep rate", _DROPOUT.format(
        forward="""if train:
            keep = 1.0 - self.p
            self.mask = (self.rng.uniform(size=x.shape) < keep) / keep
            return x * self.mask
        return x.copy()""",
        backward="return self.mask * dout"), True),
    ("dropout", "no rescaling", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = self.rng.random(x.shape) >= self.p
        return x * self.mask""",
        backward="return dout * self.mask"), VISIBLE),
    ("dropout", "classic dropout: scales at test time", _DROPOUT.format(
        forward="""if not train:
            return x * (1 - self.p)
        self.mask = self.rng.random(x.shape) >= self.p
        return x * self.mask""",
        backward="return dout * self.mask"), VISIBLE),
    ("dropout", "inverted and scaled again at test time", _DROPOUT.format(
        forward="""if not train:
            return x * (1 - self.p)
        self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask""",
        backward="return dout * self.mask"), False),
    ("dropout", "new mask in backward", _DROPOUT.format(
        forward="""if not train:
            return x
        mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * mask""",
        backward="return dout * (self.rng.random(dout.shape) >= self.p) / (1 - self.p)"), False),
    ("dropout", "p taken as the keep probability", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = (self.rng.random(x.shape) < self.p) / self.p
        return x * self.mask""",
        backward="return dout * self.mask"), False),
    ("dropout", "ignores its seed", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = (np.random.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask""",
        backward="return dout * self.mask"), False),
    ("dropout", "one mask for the layer's lifetime", _DROPOUT.format(
        forward="""if not train:
            return x
        if self.mask is None or self.mask.shape != x.shape:
            self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask""",
        backward="return dout * self.mask"), False),
    ("dropout", "masks its input in place", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        x *= self.mask
        return x""",
        backward="return dout * self.mask"), False),
    # batchnorm
    ("batchnorm", "computational-graph backward", _BN.format(
        mean=_BN_MEAN, var=_BN_VAR, update=_BN_UPDATE, test=_BN_TEST, dbeta=_BN_DBETA, dgamma=_BN_DGAMMA,
        dx="""n = x.shape[0]
        xc = x - mu
        dxc = g / std
        dstd = -np.sum(g * xc / std ** 2, axis=0)
        dvar = 0.5 * dstd / std
        dxc = dxc + 2.0 / n * xc * dvar
        dmu = np.sum(dxc, axis=0)
        return dxc - dmu / n"""), True),
    ("batchnorm", "einsum statistics, in-place running updates", _bn(
        mean="np.einsum('nd->d', x) / x.shape[0]",
        var="np.einsum('nd,nd->d', x - x.mean(axis=0), x - x.mean(axis=0)) / x.shape[0]",
        update=("self.running_mean *= self.momentum\n            self.running_mean += (1 - self.momentum) * mu\n"
                "            self.running_var *= self.momentum\n            self.running_var += (1 - self.momentum) * var"),
        dx="n = x.shape[0]\n        return (n * g - g.sum(axis=0) - x_hat * np.einsum('nd,nd->d', g, x_hat)) / (n * std)"), True),
    ("batchnorm", "graph walk, step by step", _bn_graph(), True),
    ("batchnorm", "graph walk through 1/s instead of a division", _bn(dx="""n = x.shape[0]
        xc = x - mu
        inv = 1.0 / std
        dinv = np.sum(g * xc, axis=0)
        dstd = -dinv / std ** 2
        dvar = 0.5 * dstd / std
        dxc = g * inv + 2.0 * xc * dvar / n
        return dxc - np.mean(dxc, axis=0)"""), True),
    ("batchnorm", "graph walk: the means do not divide by N", _bn_graph(mean_scale="1.0"), False),
    ("batchnorm", "graph walk: the derivative of the square root without 1/2", _bn_graph(dv="ds / std"), False),
    ("batchnorm", "graph walk: the division's derivative without its minus sign",
     _bn_graph(ds="np.sum(dx_hat * xc, axis=0) / std ** 2"), False),
    ("batchnorm", "graph walk: s's gradient not summed over the batch", _bn_graph(ds="-dx_hat * xc / std ** 2"), False),
    ("batchnorm", "graph walk: the fork at xc overwrites instead of adding", _bn_graph(second_path="dxc = 2 * xc * dq"), False),
    ("batchnorm", "graph walk: the path through mu forgotten", _bn_graph(mu_path="dx = dxc"), False),
    ("batchnorm", "unbiased variance in the normalization", _bn(var="x.var(axis=0, ddof=1)"), VISIBLE),
    ("batchnorm", "unbiased variance for the running statistics only", _bn(
        update=("self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu\n"
                "            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * x.var(axis=0, ddof=1)")), False),
    ("batchnorm", "statistics over the wrong axis", _bn(
        mean="x.mean(axis=1, keepdims=True)", var="x.var(axis=1, keepdims=True)",
        update="pass", dx="return g / std"), VISIBLE),
    ("batchnorm", "running statistics never updated", _bn(update="pass"), False),
    ("batchnorm", "momentum the wrong way round", _bn(
        update=("self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mu\n"
                "            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var")), False),
    ("batchnorm", "running statistics updated at test time too", _bn(
        test=("mu, var = x.mean(axis=0), x.var(axis=0)\n"
              "            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu\n"
              "            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var\n"
              "            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)")), False),
    ("batchnorm", "batch statistics at test time", _bn(
        test="x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + self.eps)"), False),
    ("batchnorm", "backward treats mean and variance as constants", _bn(dx="return g / std"), False),
    ("batchnorm", "backward missing the variance term", _bn(dx="return (g - g.mean(axis=0)) / std"), False),
    ("batchnorm", "dgamma and dbeta averaged", _bn(dbeta="dout.mean(axis=0)", dgamma="(dout * x_hat).mean(axis=0)"), False),
    ("batchnorm", "eps outside the square root at test time", _bn(
        test="x_hat = (x - self.running_mean) / (np.sqrt(self.running_var) + self.eps)"), False),
]

# Review r2: the grads dict itself, dropout with p = 0, one mask entry per example and unit.
VARIANTS += [
    ("weight_decay", "replaces the entries of grads and returns it", _L2.format(penalty=_L2_OK_P, gradients="""for k in grads:
        if is_weight(k):
            grads[k] = grads[k] + lam * params[k]
    return grads"""), False),
    ("weight_decay", "deepcopy, then in place", _L2.format(penalty=_L2_OK_P, gradients="""import copy
    out = copy.deepcopy(grads)
    for k in out:
        if is_weight(k):
            out[k] += lam * params[k]
    return out"""), True),
    ("dropout", "p == 0 returns x without keeping a mask", _DROPOUT.format(
        forward="""if not train or self.p == 0:
            return x
        self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask""",
        backward="return dout * self.mask"), False),
    ("dropout", "one mask per feature, shared by the batch", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = (self.rng.random(x.shape[1:]) >= self.p) / (1 - self.p)
        return x * self.mask""",
        backward="return dout * self.mask"), False),
    ("dropout", "one mask per example", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = (self.rng.random((x.shape[0],) + (1,) * (x.ndim - 1)) >= self.p) / (1 - self.p)
        return x * self.mask""",
        backward="return dout * self.mask"), False),
    ("dropout", "bool mask, scaled where it is used", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = self.rng.random(x.shape) > self.p
        return np.where(self.mask, x, 0.0) / (1 - self.p)""",
        backward="return np.where(self.mask, dout, 0.0) / (1 - self.p)"), True),
]

# Obvious wrong answers the visible tests catch, with a hint.
VARIANTS += [
    ("fans", "returns the shape itself", _FANS.format(body="return tuple(shape)"), VISIBLE),
    ("xavier", "zeros", _XAVIER.format(uniform="return np.zeros(shape)", normal="return np.zeros(shape)"), VISIBLE),
    ("xavier", "the transposed shape", _XAVIER.format(
        uniform="a = np.sqrt(6 / (fan_in + fan_out))\n    return rng.uniform(-a, a, size=shape[::-1])",
        normal="return rng.normal(0, np.sqrt(2 / (fan_in + fan_out)), size=shape[::-1])"), VISIBLE),
    ("he", "zeros", _HE.format(normal="return np.zeros(shape)", uniform="return np.zeros(shape)"), VISIBLE),
    ("weight_decay", "penalty 0 and the gradients returned unchanged", _L2.format(
        penalty="return 0.0", gradients="return grads"), VISIBLE),
    ("dropout", "returns x unchanged in training", _DROPOUT.format(
        forward="return x", backward="return dout"), VISIBLE),
    ("dropout", "backward returns dout unchanged", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask""", backward="return dout"), VISIBLE),
    ("dropout", "backward returns zeros", _DROPOUT.format(
        forward="""if not train:
            return x
        self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask""", backward="return np.zeros_like(dout)"), VISIBLE),
    ("batchnorm", "backward returns dout unchanged", _bn(dx="return dout"), VISIBLE),
    ("batchnorm", "forward returns its input unchanged", _bn(test="x_hat = x").replace(
        "return gamma * x_hat + beta", "return x"), VISIBLE),
]
