"""Variants for 07_cifar10: the capstone's classic mistakes (channel order, statistics from the wrong set, a
softmax without the max, a gradient not averaged, flattening in the wrong order, parameters that are copies,
a training step in the wrong order, fixes that do not fix) and correct answers in other styles (np.moveaxis,
CS231n's softmax loss, log-softmax by np.logaddexp, the DLFS book's network with named layers)."""

from course import REPO
from dlfs.build import SOLUTION_MARKERS, read_source
from variants import VISIBLE

TESTS = {
    "channels_first": "test_channels_first",
    "normalize": "test_normalize",
    "softmax_loss": "test_softmax_loss",
    "cifar_net": "test_cifar_net",
    "train_step": "test_train_step",
    "fixes": "test_fixes",
}


def _solution(answer_id):
    """The chapter's solution of an answer cell, as a learner would write it (the solution markers removed)."""
    cells = read_source(REPO / "solutions" / "07_cifar10" / "07_cifar10.pct.py").cells
    source = next(cell.source for cell in cells if cell.metadata.get("answer") == answer_id)
    return "\n".join(line for line in source.splitlines() if not SOLUTION_MARKERS.match(line)) + "\n"


def _swap(code, *replacements):
    """``code`` with each (old, new) replaced; every old must occur (a variant that changes nothing is a bug)."""
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


_CHANNELS_FIRST = '''
def to_channels_first(images):
    return {}
'''

_NORMALIZE = '''
def normalize(x_train, x_other):
    mean = {of}.mean(axis={axis}, keepdims=True)
    std = {of}.std(axis={axis}, keepdims=True)
    return {result}
'''
_BOTH = "(x_train - mean) / std, (x_other - mean) / std"


def _normalize(of="x_train", axis="(0, 2, 3)", result=_BOTH):
    return _NORMALIZE.format(of=of, axis=axis, result=result)


# Softmax, then the log of the true class's probability: the chapter 02 way, exact only while no probability
# underflows (a test with scores of scale 300 catches that); each wrong variant changes one line of it.
_SOFTMAX = '''
def softmax_cross_entropy(scores, t):
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), t]))
    dscores = p.copy()
    dscores[np.arange(n), t] -= 1.0
    return float(loss), dscores / n
'''

# The solution's network (read from the chapter's source), one replacement away from each wrong variant.
_NET = _solution("cifar_net")
_HE_DRAW = "W1, W2 = (he_normal(shape, rng) for shape in shapes)"
_STD_DRAW = "W1, W2 = (weight_std * rng.standard_normal(shape) for shape in shapes)"
_FORWARD = '''        h = x
        for layer in self.layers:            # conv, ReLU, pool, affine
            h = layer.forward(h)
        return h'''
_BACKWARD = '''        grad = dscores
        for layer in reversed(self.layers):  # affine, pool, ReLU, conv
            grad = layer.backward(grad)'''
# the pooled maps moved to (N, H, W, C) before the Affine layer flattens them, and back in backward
_FORWARD_CHANNEL_LAST = '''        for layer in self.layers[:3]:
            x = layer.forward(x)
        return self.layers[3].forward(x.transpose(0, 2, 3, 1))'''
_BACKWARD_CHANNEL_LAST = '''        grad = self.layers[3].backward(dscores).transpose(0, 3, 1, 2)
        for layer in reversed(self.layers[:3]):
            grad = layer.backward(grad)'''
_UNSEEDED_HE_DRAW = '''fan_ins = (channels * filter_size * filter_size, shapes[1][0])
            W1, W2 = (np.random.randn(*shape) * np.sqrt(2 / fan_in) for shape, fan_in in zip(shapes, fan_ins))'''

# The DLFS book's SimpleConvNet, cut down to this network: params first, the layers built on those arrays, and
# named attributes (still listed in self.layers); He or N(0, weight_std²) weights from one generator.
_BOOK_NET = '''
class CifarNet:
    def __init__(self, input_dim=(3, 32, 32), filter_num=16, filter_size=3, num_classes=10, weight_std=None, seed=0):
        C, H, W = input_dim
        rng = np.random.default_rng(seed)
        conv_output_h = H - filter_size + 1
        conv_output_w = W - filter_size + 1
        pool_output_size = filter_num * (conv_output_h // 2) * (conv_output_w // 2)
        shape1, shape2 = (filter_num, C, filter_size, filter_size), (pool_output_size, num_classes)
        self.params = {}
        if weight_std is None:
            self.params["W1"] = he_normal(shape1, rng)
            self.params["W2"] = he_normal(shape2, rng)
        else:
            self.params["W1"] = weight_std * rng.standard_normal(shape1)
            self.params["W2"] = weight_std * rng.standard_normal(shape2)
        self.params["b1"] = np.zeros(filter_num)
        self.params["b2"] = np.zeros(num_classes)
        self.conv1 = Convolution(self.params["W1"], self.params["b1"])
        self.relu1 = ReLU()
        self.pool1 = MaxPooling(2, 2, stride=2)
        self.affine1 = Affine(self.params["W2"], self.params["b2"])
        self.layers = [self.conv1, self.relu1, self.pool1, self.affine1]

    def forward(self, x):
        return self.affine1.forward(self.pool1.forward(self.relu1.forward(self.conv1.forward(x))))

    def backward(self, dscores):
        dout = self.affine1.backward(dscores)
        dout = self.pool1.backward(dout)
        dout = self.relu1.backward(dout)
        self.conv1.backward(dout)
        return {"W1": self.conv1.grads["W"], "b1": self.conv1.grads["b"],
                "W2": self.affine1.grads["W"], "b2": self.affine1.grads["b"]}

    def loss(self, x, t):
        loss, _ = softmax_cross_entropy(self.forward(x), t)
        return loss

    def parameter_count(self):
        return sum(int(np.prod(value.shape)) for value in self.params.values())
'''

_STEP = '''
def train_step(net, optimizer, x, t, loss_function=None):
    loss_function = loss_function or softmax_cross_entropy
    {}
'''

_FIXES = '''
def choose_fixes():
    return [
{}
    ]


FIXES = choose_fixes()
'''
_FIX_LINES = {
    "stable_softmax": '("the softmax overflows: subtract the max", "stable_softmax", True),',
    "normalize": '("raw 0-255 pixels: normalize per channel", "normalize", True),',
    "weight_std": '("weights of std 1: He initialization", "weight_std", None),',
    "batch_size": '("one image per step: mini-batches", "batch_size", 32),',
    "lr": '("steps too large: a smaller learning rate", "lr", 0.01),',
}


def _fixes(order=tuple(_FIX_LINES), **lines):
    """FIXES with the solution's tuples in ``order``, each setting's line replaced by ``lines`` (None drops it)."""
    chosen = [lines.get(key, _FIX_LINES[key]) for key in order]
    return _FIXES.format("\n".join("        " + line for line in chosen if line is not None))


# The pipeline test's submission with exactly one wrong answer (only its exercise may lose points).
SINGLE_MISTAKE = ("channels_first", '''
def to_channels_first(images):
    n, h, w, c = images.shape
    return np.asarray(images, dtype=np.float64).reshape(n, c, h, w)
''')

VARIANTS = [
    # channels_first
    ("channels_first", "np.moveaxis", _CHANNELS_FIRST.format("np.moveaxis(images.astype(float), -1, 1)"), True),
    ("channels_first", "reshape instead of transpose", SINGLE_MISTAKE[1], VISIBLE),
    ("channels_first", "transpose(0, 3, 2, 1) swaps height and width",
     _CHANNELS_FIRST.format("np.asarray(images, dtype=np.float64).transpose(0, 3, 2, 1)"), VISIBLE),
    ("channels_first", "uint8 returned", _CHANNELS_FIRST.format("np.transpose(images, (0, 3, 1, 2))"), VISIBLE),
    # normalize
    ("normalize", "statistics without keepdims, broadcast with [None, :, None, None]", '''
def normalize(x_train, x_other):
    mean = np.mean(x_train, axis=(0, 2, 3))
    std = np.std(x_train, axis=(0, 2, 3))
    mean, std = mean[None, :, None, None], std[None, :, None, None]
    return (x_train - mean) / std, (x_other - mean) / std
''', True),
    ("normalize", "one scalar mean and std", _normalize(axis="None"), VISIBLE),
    ("normalize", "per-pixel statistics (axis=0)", _normalize(axis="0"), VISIBLE),
    ("normalize", "std not divided", _normalize(result="x_train - mean, x_other - mean"), VISIBLE),
    ("normalize", "statistics of the other (test) set", _normalize(of="x_other"), VISIBLE),
    ("normalize", "each set with its own statistics", _normalize(result=_BOTH.replace(
        "(x_other - mean) / std", "(x_other - x_other.mean(axis=(0, 2, 3), keepdims=True)) / "
                                  "x_other.std(axis=(0, 2, 3), keepdims=True)")), VISIBLE),
    # softmax_loss
    ("softmax_loss", "CS231n's softmax_loss", '''
def softmax_cross_entropy(scores, t):
    shifted_logits = scores - np.max(scores, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = scores.shape[0]
    loss = -np.sum(log_probs[np.arange(N), t]) / N
    dx = probs.copy()
    dx[np.arange(N), t] -= 1
    dx /= N
    return loss, dx
''', True),
    ("softmax_loss", "log-softmax by np.logaddexp, one-hot labels", '''
def softmax_cross_entropy(scores, t):
    log_p = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
    onehot = np.eye(scores.shape[1])[t]
    return float(-np.sum(onehot * log_p) / len(t)), (np.exp(log_p) - onehot) / len(t)
''', True),
    ("softmax_loss", "no max subtraction", _swap(_SOFTMAX, ("shifted = scores - scores.max(axis=1, keepdims=True)",
                                                            "shifted = scores")), VISIBLE),
    ("softmax_loss", "gradient not averaged over the batch", _swap(_SOFTMAX, ("dscores / n", "dscores")), VISIBLE),
    ("softmax_loss", "loss summed instead of averaged", _swap(_SOFTMAX, ("-np.mean(", "-np.sum(")), VISIBLE),
    ("softmax_loss", "epsilon inside the log", _swap(_SOFTMAX, ("np.log(p[np.arange(n), t])",
                                                                "np.log(p[np.arange(n), t] + 1e-7)")), False),
    ("softmax_loss", "log of a softmax that underflows", _SOFTMAX, False),
    # cifar_net
    ("cifar_net", "the DLFS book's network with named layers", _BOOK_NET, True),
    ("cifar_net", "pooling before the ReLU", _swap(_NET, ("ReLU(), MaxPooling(2, 2, stride=2)",
                                                          "MaxPooling(2, 2, stride=2), ReLU()")), VISIBLE),
    ("cifar_net", "parameter_count counts only the weights", _swap(_NET, (
        "sum(value.size for value in self.params.values())", "self.params['W1'].size + self.params['W2'].size")),
     VISIBLE),
    ("cifar_net", "always He, even when weight_std is given", _swap(_NET, (_STD_DRAW, _HE_DRAW)), VISIBLE),
    ("cifar_net", "params that are copies of the layers' arrays", _swap(_NET, (
        '{"W1": conv.params["W"], "b1": conv.params["b"], "W2": fc.params["W"], "b2": fc.params["b"]}',
        '{"W1": W1.copy(), "b1": np.zeros(filter_num), "W2": W2.copy(), "b2": np.zeros(num_classes)}')), False),
    ("cifar_net", "pooled maps flattened channel last (N, H, W, C)", _swap(_NET, (_FORWARD, _FORWARD_CHANNEL_LAST),
                                                                          (_BACKWARD, _BACKWARD_CHANNEL_LAST)), False),
    ("cifar_net", "backward forgets the biases", _swap(_NET, (
        '{"W1": conv.grads["W"], "b1": conv.grads["b"], "W2": fc.grads["W"], "b2": fc.grads["b"]}',
        '{"W1": conv.grads["W"], "W2": fc.grads["W"]}')), False),
    ("cifar_net", "He weights from np.random.randn, no seed", _swap(_NET, (_HE_DRAW, _UNSEEDED_HE_DRAW)), False),
    ("cifar_net", "a new generator for each weight (he_normal(shape, seed))", _swap(_NET, (
        _HE_DRAW, "W1, W2 = (he_normal(shape, seed) for shape in shapes)"), (
        _STD_DRAW, "W1, W2 = (weight_std * np.random.default_rng(seed).standard_normal(shape) for shape in shapes)")),
     False),
    # train_step
    ("train_step", "explicit names and an if for the default", '''
def train_step(net, optimizer, x, t, loss_function=None):
    if loss_function is None:
        loss_function = softmax_cross_entropy
    scores = net.forward(x)
    loss, dscores = loss_function(scores, t)
    grads = net.backward(dscores)
    optimizer.update(net.params, grads)
    return float(loss)
''', True),
    ("train_step", "update before backward (zero gradients)", _STEP.format('''scores = net.forward(x)
    loss, dscores = loss_function(scores, t)
    grads = {key: np.zeros_like(value) for key, value in net.params.items()}
    optimizer.update(net.params, grads)
    grads.update(net.backward(dscores))
    return float(loss)'''), VISIBLE),
    ("train_step", "the loss after the update", _STEP.format('''dscores = loss_function(net.forward(x), t)[1]
    optimizer.update(net.params, net.backward(dscores))
    return float(loss_function(net.forward(x), t)[0])'''), VISIBLE),
    ("train_step", "net.loss, a second forward pass", _STEP.format('''loss = net.loss(x, t)
    dscores = loss_function(net.forward(x), t)[1]
    optimizer.update(net.params, net.backward(dscores))
    return float(loss)'''), False),
    ("train_step", "loss_function ignored", _STEP.format('''loss, dscores = softmax_cross_entropy(net.forward(x), t)
    optimizer.update(net.params, net.backward(dscores))
    return float(loss)'''), VISIBLE),
    # fixes
    ("fixes", "another order, batches of 64, lr 0.005", _fixes(
        order=("lr", "batch_size", "weight_std", "normalize", "stable_softmax"),
        batch_size='("average the gradient over 64 images", "batch_size", 64),',
        lr='("Momentum multiplies the step: lr 0.005", "lr", 0.005),'), True),
    ("fixes", "a setting fixed twice, another not at all", _fixes(
        lr='("one image per step: mini-batches of 64", "batch_size", 64),'), VISIBLE),
    ("fixes", "weight_std left at 1", _fixes(weight_std='("weights: keep std 1", "weight_std", 1.0),'), VISIBLE),
    ("fixes", "a learning rate far too small (1e-5)", _fixes(lr='("tiny steps", "lr", 1e-5),'), False),
    ("fixes", "a learning rate far too large (1.0)", _fixes(lr='("big steps", "lr", 1.0),'), False),
    ("fixes", "batches far too large (3000)", _fixes(batch_size='("the whole set per step", "batch_size", 3000),'),
     False),
]
