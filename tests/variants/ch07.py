"""Variants for 07_cifar10: the capstone's classic mistakes (channel order, statistics from the wrong set, a
softmax without the max, a gradient not averaged, flattening in the wrong order) and correct answers in
other styles."""

from variants import VISIBLE

TESTS = {
    "channels_first": "test_channels_first",
    "normalize": "test_normalize",
    "softmax_loss": "test_softmax_loss",
    "cifar_net": "test_cifar_net",
    "train_step": "test_train_step",
    "fixes": "test_fixes",
}

SINGLE_MISTAKE = ("channels_first", '''
def to_channels_first(images):
    n, h, w, c = images.shape
    return np.asarray(images, dtype=np.float64).reshape(n, c, h, w)
''')

VARIANTS = [
    ("channels_first", "np.moveaxis", '''
def to_channels_first(images):
    return np.moveaxis(images.astype(float), -1, 1)
''', True),
    ("channels_first", "reshape instead of transpose", SINGLE_MISTAKE[1], VISIBLE),
]
