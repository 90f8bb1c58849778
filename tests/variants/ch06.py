"""Variants for 06_cnn: the classic mistakes of convolution, im2col, col2im and pooling, and correct
answers in other styles (loops, einsum, window views, tensordot, the DLFS book's code)."""

from variants import VISIBLE


TESTS = {
    "conv_naive": "test_conv_naive",
    "im2col": "test_im2col",
    "col2im": "test_col2im",
    "convolution": "test_convolution",
    "max_pooling": "test_max_pooling",
    "avg_pooling": "test_avg_pooling",
    "simple_conv_net": "test_simple_conv_net",
}

_NAIVE = '''
def conv_forward_naive(x, W, b, stride=1, pad=0):
    n, c, h, w = x.shape
    fn, _, fh, fw = W.shape
    oh, ow = {size}
    xp = {padded}
    out = np.zeros((n, fn, oh, ow))
    for k in range(n):
        for f in range(fn):
            for i in range(oh):
                for j in range(ow):
                    window = xp[k, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
                    out[k, f, i, j] = np.sum(window * {kernel}) {bias}
    return out
'''
_SIZE = "(h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1"
_PADDED = "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))"


def _naive(size=_SIZE, padded=_PADDED, kernel="W[f]", bias="+ b[f]"):
    return _NAIVE.format(size=size, padded=padded, kernel=kernel, bias=bias)


# The DLFS book's im2col and col2im (common/util.py), unchanged.
_BOOK_IM2COL = '''
def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2*pad - filter_h)//stride + 1
    out_w = (W + 2*pad - filter_w)//stride + 1
    img = np.pad(input_data, [(0,0), (0,0), (pad, pad), (pad, pad)], 'constant')
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        y_max = y + stride*out_h
        for x in range(filter_w):
            x_max = x + stride*out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    col = col.transpose(0, 4, 5, 1, 2, 3).reshape(N*out_h*out_w, -1)
    return col
'''

_BOOK_COL2IM = '''
def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2*pad - filter_h)//stride + 1
    out_w = (W + 2*pad - filter_w)//stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2*pad + stride - 1, W + 2*pad + stride - 1))
    for y in range(filter_h):
        y_max = y + stride*out_h
        for x in range(filter_w):
            x_max = x + stride*out_w
            img[:, :, y:y_max:stride, x:x_max:stride] {op} col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]
'''

_WINDOWS_IM2COL = '''
def im2col(x, FH, FW, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c = x.shape[:2]
    oh, ow = (xp.shape[2] - FH) // stride + 1, (xp.shape[3] - FW) // stride + 1
    windows = np.lib.stride_tricks.sliding_window_view(xp, (FH, FW), axis=(2, 3))[:, :, ::stride, ::stride]
    windows = windows[:, :, :oh, :ow]
    return windows.transpose({order}).reshape(n * oh * ow, c * FH * FW)
'''

_LOOP_IM2COL = '''
def im2col(x, FH, FW, stride=1, pad=0):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - FH) // stride + 1, (w + 2 * pad - FW) // stride + 1
    rows = []
    for k in range(n):
        for i in range(oh):
            for j in range(ow):
                rows.append(xp[k, :, i * stride:i * stride + FH, j * stride:j * stride + FW].ravel())
    return np.array(rows)
'''

_LOOP_COL2IM = '''
def col2im(col, x_shape, FH, FW, stride=1, pad=0):
    n, c, h, w = x_shape
    oh, ow = (h + 2 * pad - FH) // stride + 1, (w + 2 * pad - FW) // stride + 1
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    r = 0
    for k in range(n):
        for i in range(oh):
            for j in range(ow):
                xp[k, :, i * stride:i * stride + FH, j * stride:j * stride + FW] {op} col[r].reshape(c, FH, FW)
                r += 1
    return {result}
'''

_CONV = '''
class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.params = {{"W": W, "b": b}}
        self.grads = {{"W": np.zeros_like(W), "b": np.zeros_like(b)}}
        self.stride, self.pad = stride, pad
        self.x_shape = None
        self.col = None
        {init}

    def forward(self, x):
        W, b = {weights}
        fn, _, fh, fw = W.shape
        n, _, h, w = x.shape
        oh, ow = (h + 2 * self.pad - fh) // self.stride + 1, (w + 2 * self.pad - fw) // self.stride + 1
        self.x_shape = x.shape
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        out = self.col @ W.reshape(fn, -1).T + b
        return {out}

    def backward(self, dout):
        W = self.params["W"]
        fn, _, fh, fw = W.shape
        dy = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.grads["W"] = {dW}
        self.grads["b"] = {db}
        dcol = dy @ W.reshape(fn, -1)
        return col2im(dcol, self.x_shape, fh, fw, self.stride, self.pad)
'''


def _conv(init="", weights='self.params["W"], self.params["b"]', out="out.reshape(n, oh, ow, fn).transpose(0, 3, 1, 2)",
          dW="(self.col.T @ dy).T.reshape(W.shape)", db="dy.sum(axis=0)"):
    return _CONV.format(init=init, weights=weights, out=out, dW=dW, db=db)


# The DLFS book's Convolution (common/layers.py), with this course's params/grads interface.
_BOOK_CONV = '''
class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        FN, C, FH, FW = W.shape
        N, C, H, W_ = x.shape
        out_h = 1 + int((H + 2*self.pad - FH) / self.stride)
        out_w = 1 + int((W_ + 2*self.pad - FW) / self.stride)
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = W.reshape(FN, -1).T
        out = np.dot(col, col_W) + b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x = x
        self.col = col
        self.col_W = col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.params["W"].shape
        dout = dout.transpose(0,2,3,1).reshape(-1, FN)
        self.grads["b"] = np.sum(dout, axis=0)
        self.grads["W"] = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)
'''

_EINSUM_CONV = '''
class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.stride, self.pad = stride, pad

    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        fn, c, fh, fw = W.shape
        n, _, h, w = x.shape
        self.oh = (h + 2 * self.pad - fh) // self.stride + 1
        self.ow = (w + 2 * self.pad - fw) // self.stride + 1
        self.shape = x.shape
        self.cols = im2col(x, fh, fw, self.stride, self.pad).reshape(n, self.oh, self.ow, c * fh * fw)
        return np.einsum("nijk,fk->nfij", self.cols, W.reshape(fn, -1)) + b[:, None, None]

    def backward(self, dout):
        W = self.params["W"]
        fn, c, fh, fw = W.shape
        self.grads["W"] = np.einsum("nfij,nijk->fk", dout, self.cols).reshape(W.shape)
        self.grads["b"] = np.einsum("nfij->f", dout)
        dcol = np.einsum("nfij,fk->nijk", dout, W.reshape(fn, -1))
        return col2im(dcol.reshape(-1, c * fh * fw), self.shape, fh, fw, self.stride, self.pad)
'''

# The DLFS book's Pooling (common/layers.py), with this course's params/grads interface.
_BOOK_POOL = '''
class MaxPooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.params, self.grads = {}, {}

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h*self.pool_w)
        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        self.x = x
        self.arg_max = arg_max
        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        dx = col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
        return dx
'''

_LOOP_POOL = '''
class {name}:
    def __init__(self, pool_h=2, pool_w=2, stride=2):
        self.pool_h, self.pool_w, self.stride = pool_h, pool_w, stride
        self.params, self.grads = {{}}, {{}}

    def forward(self, x):
        self.x = x
        n, c, h, w = x.shape
        oh, ow = (h - self.pool_h) // self.stride + 1, (w - self.pool_w) // self.stride + 1
        out = np.zeros((n, c, oh, ow))
        for i in range(oh):
            for j in range(ow):
                window = x[:, :, i * self.stride:i * self.stride + self.pool_h, j * self.stride:j * self.stride + self.pool_w]
                out[:, :, i, j] = {reduce}
        return out

    def backward(self, dout):
        x = self.x
        n, c = x.shape[:2]
        dx = np.zeros(x.shape)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                rows = slice(i * self.stride, i * self.stride + self.pool_h)
                cols = slice(j * self.stride, j * self.stride + self.pool_w)
                window = x[:, :, rows, cols].reshape(n, c, -1)
                g = dout[:, :, i, j]
                {route}
        return dx
'''

_MAX_FIRST = '''share = np.zeros_like(window)
                share[np.arange(n)[:, None], np.arange(c)[None, :], window.argmax(axis=2)] = g
                dx[:, :, rows, cols] {op} share.reshape(n, c, self.pool_h, self.pool_w)'''
_MAX_ALL_TIES = '''share = (window == window.max(axis=2, keepdims=True)) * g[:, :, None]
                dx[:, :, rows, cols] += share.reshape(n, c, self.pool_h, self.pool_w)'''
_MEAN = '''dx[:, :, rows, cols] += g[:, :, None, None] / {divisor}'''


def _loop_pool(name, reduce, route):
    return _LOOP_POOL.format(name=name, reduce=reduce, route=route)


_NET = '''
class SimpleConvNet(Model):
    def __init__(self, input_dim=(1, 28, 28), filter_num=30, filter_size=5, hidden_size=100, output_size=10,
                 seed=0):
        super().__init__()
        g = np.random.default_rng(seed)
        oh, ow = input_dim[1] - filter_size + 1, input_dim[2] - filter_size + 1
        pooled = {pooled}
        shapes = [(filter_num, input_dim[0], filter_size, filter_size), (pooled, hidden_size), (hidden_size, output_size)]
        W1, W2, W3 = (he_normal(shape, g) for shape in shapes)
        for layer in (Convolution(W1, np.zeros(len(W1))), ReLU(), MaxPooling(2, 2, stride=2),
                      Affine(W2, np.zeros(W2.shape[1])), ReLU(), Affine(W3, np.zeros(W3.shape[1]))):
            self.add(layer)

    def predict(self, x, train=False, batch_size=100):
        {predict}
'''
_PREDICT_OK = '''if train:
            return Model.predict(self, x, train=True)
        return np.vstack([Model.predict(self, x[i:i + batch_size]) for i in range(0, len(x), batch_size)])'''
_PREDICT_LAYERS = '''chunks = [x] if train else [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
        out = []
        for chunk in chunks:
            for layer in self.layers:
                chunk = layer.forward(chunk)
            out.append(chunk)
        return np.concatenate(out, axis=0)'''
_PREDICT_ALL_AT_ONCE = '''return Model.predict(self, x, train=train)'''
_PREDICT_ALWAYS_BATCHED = '''return np.vstack([Model.predict(self, x[i:i + batch_size], train=train)
                          for i in range(0, len(x), batch_size)])'''


def _net(pooled="filter_num * (oh // 2) * (ow // 2)", predict=_PREDICT_OK):
    return _NET.format(pooled=pooled, predict=predict)


_AVG_NOT_DIVIDED = _loop_pool("AveragePooling", "window.mean(axis=(2, 3))", _MEAN.format(divisor="1"))

# The pipeline test's submission with exactly one wrong answer (only its exercise may lose points).
SINGLE_MISTAKE = ("avg_pooling", _AVG_NOT_DIVIDED)

VARIANTS = [
    # conv_naive
    ("conv_naive", "four loops", _naive(), True),
    ("conv_naive", "einsum per output position", '''
def conv_forward_naive(x, W, b, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    fn, c, fh, fw = W.shape
    oh, ow = (xp.shape[2] - fh) // stride + 1, (xp.shape[3] - fw) // stride + 1
    out = np.empty((x.shape[0], fn, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = np.einsum("ncuv,fcuv->nf", xp[:, :, i*stride:i*stride+fh, j*stride:j*stride+fw], W) + b
    return out
''', True),
    ("conv_naive", "tensordot over all windows at once", '''
def conv_forward_naive(x, W, b, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    fn, c, fh, fw = W.shape
    oh, ow = (xp.shape[2] - fh) // stride + 1, (xp.shape[3] - fw) // stride + 1
    windows = np.empty((x.shape[0], oh, ow, c, fh, fw))
    for i in range(oh):
        for j in range(ow):
            windows[:, i, j] = xp[:, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
    return np.moveaxis(np.tensordot(windows, W, axes=([3, 4, 5], [1, 2, 3])), 3, 1) + b.reshape(1, -1, 1, 1)
''', True),
    ("conv_naive", "flipped filter (true convolution)", _naive(kernel="W[f, :, ::-1, ::-1]"), VISIBLE),
    ("conv_naive", "bias forgotten", _naive(bias=""), VISIBLE),
    ("conv_naive", "padding ignored", _naive(size="(h - fh) // stride + 1, (w - fw) // stride + 1", padded="x"), VISIBLE),
    ("conv_naive", "output size without the stride",
     _naive(size="(h + 2 * pad - fh) // 1 + 1, (w + 2 * pad - fw) // 1 + 1",
            padded="np.pad(x, ((0, 0), (0, 0), (pad, pad + 8), (pad, pad + 8)))"), False),
    # im2col
    ("im2col", "the DLFS book's im2col", _BOOK_IM2COL, True),
    ("im2col", "window views", _WINDOWS_IM2COL.format(order="0, 2, 3, 1, 4, 5"), True),
    ("im2col", "a loop over windows", _LOOP_IM2COL, True),
    ("im2col", "channel-last columns", _WINDOWS_IM2COL.format(order="0, 2, 3, 4, 5, 1"), VISIBLE),
    ("im2col", "rows ordered (i, j, n)", _WINDOWS_IM2COL.format(order="2, 3, 0, 1, 4, 5"), False),
    ("im2col", "no padding", _BOOK_IM2COL.replace("(pad, pad), (pad, pad)], 'constant')", "(0, 0), (0, 0)], 'constant')")
     .replace("out_h = (H + 2*pad", "out_h = (H").replace("out_w = (W + 2*pad", "out_w = (W"), VISIBLE),
    # col2im
    ("col2im", "the DLFS book's col2im", _BOOK_COL2IM.format(op="+="), True),
    ("col2im", "a loop over windows", _LOOP_COL2IM.format(op="+=", result="xp[:, :, pad:pad + h, pad:pad + w]"), True),
    ("col2im", "np.add.at on pixel indices", '''
def col2im(col, x_shape, FH, FW, stride=1, pad=0):
    n, c, h, w = x_shape
    hp, wp = h + 2 * pad, w + 2 * pad
    index = im2col(np.arange(n * c * hp * wp).reshape(n, c, hp, wp), FH, FW, stride, 0)
    xp = np.zeros(n * c * hp * wp)
    np.add.at(xp, index.ravel(), col.ravel())
    return xp.reshape(n, c, hp, wp)[:, :, pad:pad + h, pad:pad + w]
''', True),
    ("col2im", "windows overwrite instead of adding", _BOOK_COL2IM.format(op="="), VISIBLE),
    ("col2im", "padding not removed", _LOOP_COL2IM.format(op="+=", result="xp"), VISIBLE),
    # convolution
    ("convolution", "the DLFS book's layer", _BOOK_CONV, True),
    ("convolution", "einsum on the im2col rows", _EINSUM_CONV, True),
    ("convolution", "plain reshape to (N, FN, OH, OW)", _conv(out="out.reshape(n, fn, oh, ow)"), VISIBLE),
    ("convolution", "bias gradient as a mean", _conv(db="dy.mean(axis=0)"), VISIBLE),
    ("convolution", "dW reshaped without the transpose", _conv(dW="(self.col.T @ dy).reshape(W.shape)"), False),
    ("convolution", "a private copy of the weights", _conv(init='self.W, self.b = W.copy(), b.copy()',
                                                          weights="self.W, self.b"), False),
    # max_pooling
    ("max_pooling", "the DLFS book's Pooling", _BOOK_POOL, True),
    ("max_pooling", "loops over windows", _loop_pool("MaxPooling", "window.max(axis=(2, 3))",
                                                    _MAX_FIRST.format(op="+=")), True),
    ("max_pooling", "a reshape into blocks where stride == window, loops elsewhere", '''
class MaxPooling:
    def __init__(self, pool_h=2, pool_w=2, stride=2):
        self.pool_h, self.pool_w, self.stride = pool_h, pool_w, stride
        self.params, self.grads = {}, {}

    def _blocks(self, x):
        """(N, C, OH, OW, PH * PW) windows: a reshape when they tile x, strided slices otherwise."""
        n, c, h, w = x.shape
        ph, pw, s = self.pool_h, self.pool_w, self.stride
        oh, ow = (h - ph) // s + 1, (w - pw) // s + 1
        if s == ph == pw and h % s == 0 and w % s == 0:
            return x.reshape(n, c, oh, ph, ow, pw).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, ph * pw)
        out = np.empty((n, c, oh, ow, ph * pw))
        for i in range(oh):
            for j in range(ow):
                out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(n, c, -1)
        return out

    def forward(self, x):
        self.x_shape = x.shape
        blocks = self._blocks(x)
        self.first = blocks.argmax(axis=-1)
        return blocks.max(axis=-1)

    def backward(self, dout):
        n, c, oh, ow = dout.shape
        ph, pw, s = self.pool_h, self.pool_w, self.stride
        dx = np.zeros(self.x_shape)
        u, v = np.divmod(self.first, pw)
        for i in range(oh):
            for j in range(ow):
                rows, cols = i * s + u[:, :, i, j], j * s + v[:, :, i, j]
                np.add.at(dx, (np.arange(n)[:, None], np.arange(c)[None, :], rows, cols), dout[:, :, i, j])
        return dx
''', True),
    ("max_pooling", "the gradient to every tied maximum", _loop_pool("MaxPooling", "window.max(axis=(2, 3))",
                                                                    _MAX_ALL_TIES), VISIBLE),
    ("max_pooling", "overlapping windows overwrite", _loop_pool("MaxPooling", "window.max(axis=(2, 3))",
                                                               _MAX_FIRST.format(op="=")), False),
    ("max_pooling", "the gradient spread like a mean", _loop_pool("MaxPooling", "window.max(axis=(2, 3))",
                                                                 _MEAN.format(divisor="(self.pool_h * self.pool_w)")), False),
    # avg_pooling
    ("avg_pooling", "loops over windows", _loop_pool("AveragePooling", "window.mean(axis=(2, 3))",
                                                    _MEAN.format(divisor="(self.pool_h * self.pool_w)")), True),
    ("avg_pooling", "gradient not divided by the window size", _AVG_NOT_DIVIDED, VISIBLE),
    # simple_conv_net
    ("simple_conv_net", "vstack of Model.predict batches", _net(), True),
    ("simple_conv_net", "its own loop over the layers", _net(predict=_PREDICT_LAYERS), True),
    ("simple_conv_net", "predicts everything at once", _net(predict=_PREDICT_ALL_AT_ONCE), False),
    ("simple_conv_net", "batches in training mode too", _net(predict=_PREDICT_ALWAYS_BATCHED), False),
    ("simple_conv_net", "affine input without the pooling", _net(pooled="filter_num * oh * ow"), VISIBLE),
]

# Obvious wrong answers the visible tests catch, with a hint.
_MAX_OK = _loop_pool("MaxPooling", "window.max(axis=(2, 3))", _MAX_FIRST.format(op="+="))
VARIANTS += [
    ("conv_naive", "zeros of the right shape", '''
def conv_forward_naive(x, W, b, stride=1, pad=0):
    n, c, h, w = x.shape
    fn, _, fh, fw = W.shape
    return np.zeros((n, fn, (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1))
''', VISIBLE),
    ("im2col", "columns and rows transposed", _BOOK_IM2COL.replace("return col", "return col.T"), VISIBLE),
    ("col2im", "zeros of the image's shape", '''
def col2im(col, x_shape, FH, FW, stride=1, pad=0):
    return np.zeros(x_shape)
''', VISIBLE),
    ("convolution", "forward returns the input, backward returns dout", _conv(out="x").replace(
        "return col2im(dcol, self.x_shape, fh, fw, self.stride, self.pad)", "return dout"), VISIBLE),
    ("convolution", "backward returns dout unchanged", _conv().replace(
        "return col2im(dcol, self.x_shape, fh, fw, self.stride, self.pad)", "return dout"), VISIBLE),
    ("max_pooling", "forward returns its input", _MAX_OK.replace("        return out\n", "        return x\n", 1), VISIBLE),
    ("max_pooling", "backward returns dout unchanged", _MAX_OK.replace("        return dx\n", "        return dout\n"), VISIBLE),
    ("max_pooling", "maxima reshaped to (N, C, OH, OW) without the transpose", _BOOK_POOL.replace(
        "out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)", "out = out.reshape(N, C, out_h, out_w)"), VISIBLE),
    ("avg_pooling", "backward returns dout unchanged", _loop_pool("AveragePooling", "window.mean(axis=(2, 3))",
        _MEAN.format(divisor="(self.pool_h * self.pool_w)")).replace("        return dx\n", "        return dout\n"), VISIBLE),
    ("simple_conv_net", "affine weights of the transposed shape", _net().replace(
        "(pooled, hidden_size), (hidden_size, output_size)", "(hidden_size, pooled), (output_size, hidden_size)"), VISIBLE),
]

_BOOK_AVG = _BOOK_POOL.replace("class MaxPooling:", "class AveragePooling:").replace(
    "out = np.max(col, axis=1)", "out = np.mean(col, axis=1)").replace(
    "dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()",
    "dmax[:] = dout.flatten()[:, None] / pool_size")
VARIANTS += [
    ("avg_pooling", "the DLFS book's Pooling with a mean", _BOOK_AVG, True),
    ("avg_pooling", "means reshaped to (N, C, OH, OW) without the transpose", _BOOK_AVG.replace(
        "out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)", "out = out.reshape(N, C, out_h, out_w)"), VISIBLE),
    ("avg_pooling", "forward returns its input", _BOOK_AVG.replace("        return out\n", "        return x\n", 1), VISIBLE),
]
