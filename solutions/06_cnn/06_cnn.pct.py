# %% [markdown]
# # 06 — Convolutional networks with im2col
#
# **Learning objectives.** After this notebook you can
# 1. compute a convolution by its definition — with stride, zero padding, several input channels and
#    several filters — and give the output size $\lfloor (H + 2P - F_H)/S \rfloor + 1$;
# 2. turn every window of an image batch into one row of a matrix (`im2col`), and scatter such rows
#    back onto images, **adding** where windows overlap (`col2im`, its transpose);
# 3. write a `Convolution` layer whose forward pass is one matrix product and whose backward pass
#    gives $\partial L/\partial x$, $\partial L/\partial W$ and $\partial L/\partial b$, with the shapes
#    at every step;
# 4. write max- and average-pooling layers, forward and backward, and say where a tie sends the
#    gradient;
# 5. assemble a `SimpleConvNet` from your layers and the provided ones, train it on MNIST, evaluate it
#    in memory-bounded batches, and look at what its filters and feature maps learned;
# 6. measure why im2col is fast, and what makes a convolutional network faster still.
#
# **How this notebook is graded.** Each exercise is a cell with `raise NotImplementedError()`: replace
# that line with your code (in a class, inside each method) and run the cell, then run the test cell
# below it. The tests you see are part of the grade; hidden tests (random shapes, strides and paddings,
# overlapping windows, numerical gradient checks) run when your notebook is graded. A failed test says
# what was expected, what you returned, and a hint. Each test cell grades its own exercise only: the
# hidden tests of a layer swap in reference versions of `im2col` and `col2im`, so one mistake costs
# points once. One question near the end is read and graded by a person.
#
# **Building blocks.** Chapter 03's layers and `Model` (`Affine`, `ReLU`, `SoftmaxWithLoss`, `Model`
# with `predict`, `loss`, `gradient`, `params`, `grads`, batched `accuracy`, `save` and `load`),
# chapter 04's optimizers (`Adam`, `Momentum`, `minibatches`) and chapter 05's He initialization (`he_normal`) are
# provided, working, in the package `provided`.
#
# **Notation.** A batch of images has shape $(N, C, H, W)$: $N$ images of $C$ channels (1 for MNIST,
# 3 for colour), $H$ rows and $W$ columns — "channels first", as in the DLFS book and PyTorch. A
# convolution has $F_N$ filters of shape $(C, F_H, F_W)$, so its weights have shape $(F_N, C, F_H, F_W)$
# and its bias $(F_N,)$; its stride is $S$, its zero padding $P$ pixels on every side, and its output
# has shape $(N, F_N, O_H, O_W)$. In code: `FN, C, FH, FW = W.shape`, `OH, OW`. In this chapter $C$
# counts channels; the network's classes are its `output_size` (10).
#
# | symbol | meaning |
# |---|---|
# | $(N, C, H, W)$ | images: batch, channels, height, width (`x.shape`) |
# | $(F_N, C, F_H, F_W)$; $b$ $(F_N,)$ | filters (the weight array `W`) and biases: `FN, C, FH, FW = W.shape` |
# | $S$, $P$ | stride; zero padding on every side |
# | $O_H$, $O_W$ | output height and width (`OH, OW`) |
# | $P_H$, $P_W$ | a pooling window's height and width (not the padding $P$) |
# | $n, f, c, i, j, u, v$ | image, filter, channel, output row and column, offset in the window — all counted from 0 |
# | `col`; `dout`, `dx` | the im2col matrix $(N O_H O_W, C F_H F_W)$; $\partial L/\partial\,\text{out}$, $\partial L/\partial x$ |
# | $\eta$, $\mu$ | learning rate (`lr`), Momentum's coefficient (`momentum`) |

# %% export=true
import numpy as np

from provided.mlp import Affine, Model, ReLU
from provided.regularization import he_normal

# %%
import tempfile
import time
import tracemalloc
from pathlib import Path

from dlfs.convviz import ConvolutionExplorer, FeatureMaps, FilterViewer, speed_figure
from dlfs.data import load_mnist
from dlfs.gradcheck import numerical_gradient_array
from dlfs.grading import (GradingError, call, check_close, check_gradient, check_scalar, check_shape, grad_of,
                          replaced, unchanged)
from dlfs.monitor import TrainingMonitor
from provided.mlp import layer_gradient_errors
from provided.optimizers import Adam, Momentum, minibatches

np.set_printoptions(precision=4, suppress=True)


def your_block_works(function, args, expected):
    """True when your earlier ``function(*args)`` gives ``expected``; quiet otherwise.

    The visible checks of a layer run on your own im2col and col2im. When one of them is still wrong
    on that input, those checks run on stand-ins for both on that one input (with a note) instead of
    failing the layer for a mistake made elsewhere; the graded hidden tests use reference versions of
    both either way.
    """
    try:
        got = np.asarray(function(*args), dtype=np.float64)
    except Exception:  # noqa: BLE001 - any failure means "not working yet"
        return False
    expected = np.asarray(expected, dtype=np.float64)
    return got.shape == expected.shape and bool(np.allclose(got, expected))


# %% [markdown]
# ## 1. Convolution, by its definition
#
# A convolution layer slides each filter over the image. At every position the filter covers a
# window of $C \times F_H \times F_W$ input values; the output there is the sum of the window times the
# filter, plus the filter's bias:
#
# $$ \text{out}[n, f, i, j] = b_f + \sum_{c=0}^{C-1} \sum_{u=0}^{F_H - 1} \sum_{v=0}^{F_W - 1}
#    W[f, c, u, v]\; \tilde x[n, c,\; iS + u,\; jS + v], $$
#
# where $\tilde x$ is $x$ with $P$ rows and columns of zeros added on every side (shape
# $(N, C, H + 2P, W + 2P)$), and $S$ is the **stride**: the window moves $S$ pixels at a time. The
# window must fit inside $\tilde x$, so
#
# $$ O_H = \left\lfloor \frac{H + 2P - F_H}{S} \right\rfloor + 1, \qquad
#    O_W = \left\lfloor \frac{W + 2P - F_W}{S} \right\rfloor + 1 . $$
#
# When $S$ does not divide $H + 2P - F_H$, the last few rows are never covered by a window and are
# ignored (PyTorch does the same). Two remarks:
# - each filter sums over **all** input channels: a filter of an RGB image is a $3 \times F_H \times F_W$
#   block, and one filter gives one output channel;
# - deep learning's "convolution" does not flip the filter. Mathematically it is a
#   *cross-correlation*; flipping would only relabel the learned weights.
#
# The helper below computes one output size; it is given.

# %% export=true
def conv_output_size(size, filter_size, stride=1, pad=0):
    """Output length along one axis: floor((size + 2 pad - filter_size) / stride) + 1.

    Raises:
        ValueError: when the filter does not fit into the padded input even once.
    """
    if stride < 1 or pad < 0:
        raise ValueError(f"stride must be >= 1 and pad >= 0, got stride={stride}, pad={pad}")
    if size + 2 * pad < filter_size:
        raise ValueError(f"a filter of {filter_size} does not fit into {size} + 2 * {pad} padded pixels")
    return (size + 2 * pad - filter_size) // stride + 1


# %% [markdown]
# **Exercise 1 (3 points).** Write `conv_forward_naive(x, W, b, stride=1, pad=0)` straight from the
# formula, with explicit loops (at least over the output positions). `np.pad(x, ((0, 0), (0, 0),
# (pad, pad), (pad, pad)))` adds the zeros. Return an array of shape $(N, F_N, O_H, O_W)$; do not
# modify `x`. It is slow — that is the point of the next sections — and it is the ground truth every
# faster version is compared with.

# %% answer="conv_naive" export=true
def conv_forward_naive(x, W, b, stride=1, pad=0):
    """Convolution by its definition.

    Args:
        x: (N, C, H, W) images.  W: (FN, C, FH, FW) filters.  b: (FN,) biases.
        stride: S >= 1.  pad: P >= 0 zeros on every side.

    Returns:
        out: (N, FN, OH, OW) with OH = (H + 2P - FH) // S + 1, OW likewise.
    """
    ### BEGIN SOLUTION
    n, c, h, w = x.shape
    fn, _, fh, fw = W.shape
    oh, ow = conv_output_size(h, fh, stride, pad), conv_output_size(w, fw, stride, pad)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, fn, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, :, i * stride:i * stride + fh, j * stride:j * stride + fw]  # (N, C, FH, FW)
            for f in range(fn):
                out[:, f, i, j] = np.sum(window * W[f], axis=(1, 2, 3)) + b[f]
    return out
    ### END SOLUTION


# %% tests="test_conv_naive" points=3
# By hand: a 3x3 image, one 2x2 filter [[1, 0], [0, -1]] (top-left minus bottom-right), bias 10.
x = np.arange(9.0).reshape(1, 1, 3, 3)              # [[0 1 2] [3 4 5] [6 7 8]]
W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])         # (1, 1, 2, 2)
b = np.array([10.0])
with unchanged("conv_forward_naive", x=x, W=W, b=b):
    out = call(conv_forward_naive, x, W, b)
check_close(out, [[[[6.0, 6.0], [6.0, 6.0]]]], "conv_forward_naive(x, W, b)", mistakes=[
    ([[[[14.0, 14.0], [14.0, 14.0]]]], "do not flip the filter: deep learning's convolution multiplies "
                                        "W[f, c, u, v] with x[n, c, i*S + u, j*S + v]."),
    ([[[[-4.0, -4.0], [-4.0, -4.0]]]], "add the bias b[f] of each filter."),
], hint="out[n, f, i, j] = b[f] + sum over c, u, v of W[f, c, u, v] * x[n, c, i*S + u, j*S + v].")
# Shapes: stride 2 and padding 1 on a 5x5 image with 3 channels and 4 filters of 3x3.
out = call(conv_forward_naive, np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.zeros(4), 2, 1)
check_shape(out, (2, 4, 3, 3), "conv_forward_naive on (2, 3, 5, 5) with 4 filters 3x3, stride 2, pad 1",
            hint="OH = (H + 2P - FH) // S + 1 = (5 + 2 - 3) // 2 + 1 = 3.")
# With padding 1 the corner window holds 4 real pixels and 5 zeros: 3 channels * 4 ones = 12.
check_close(out[0, 0, 0, 0], 12.0, "the top-left output with padding 1",
            hint="pad with zeros on every side: np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(601)
for shape, wshape, stride, pad in (((2, 3, 7, 6), (4, 3, 3, 2), 1, 0), ((3, 2, 8, 8), (2, 2, 3, 3), 2, 1),
                                   ((1, 1, 9, 7), (3, 1, 4, 3), 3, 2), ((2, 4, 5, 5), (5, 4, 1, 1), 1, 0),
                                   ((1, 2, 6, 6), (1, 2, 6, 6), 1, 0)):
    x_, W_, b_ = rng.normal(size=shape), rng.normal(size=wshape), rng.normal(size=wshape[0])
    where = f"conv_forward_naive(x {shape}, W {wshape}, stride={stride}, pad={pad})"
    with unchanged("conv_forward_naive", x=x_, W=W_, b=b_):
        got = call(conv_forward_naive, x_, W_, b_, stride, pad, name="conv_forward_naive")
    ### BEGIN REFERENCE
    # every window as a strided view of the padded images, (N, C, OH, OW, FH, FW), times every filter
    padded_ = np.pad(x_, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows_ = np.lib.stride_tricks.sliding_window_view(padded_, wshape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    expected = np.einsum("ncijuv,fcuv->nfij", windows_, W_) + b_[None, :, None, None]
    ### END REFERENCE
    check_close(got, expected, where, mistakes=[
        (np.einsum("ncijuv,fcuv->nfij", windows_, W_[:, :, ::-1, ::-1]) + b_[None, :, None, None],
         "do not flip the filter (no W[..., ::-1, ::-1])."),
        (expected - b_[None, :, None, None], "add the bias b[f] of each filter."),
    ], hint="windows start at i*stride and j*stride of the PADDED image, and sum over all C channels.")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. im2col: every window becomes a row
#
# Four nested loops in Python are slow: the MNIST network of this chapter would spend minutes per
# epoch in them. The trick of *im2col* ("image to columns") is to copy every window into one row of
# a matrix, so that all the multiply-adds become **one matrix product**, which NumPy hands to an
# optimized BLAS library.
#
# For a batch $x$ of shape $(N, C, H, W)$ and windows of $F_H \times F_W$ with stride $S$ and padding $P$,
# `col = im2col(x, FH, FW, S, P)` has
# - one **row per window**: $N \cdot O_H \cdot O_W$ rows, ordered by image $n$, then output row $i$,
#   then output column $j$ — row $r = (n \cdot O_H + i) \cdot O_W + j$;
# - one **column per value in a window**: $C \cdot F_H \cdot F_W$ columns, ordered by channel $c$, then
#   $u$, then $v$ — column $k = (c \cdot F_H + u) \cdot F_W + v$, the order in which
#   `W[f].reshape(-1)` lists the weights of filter $f$.
#
# So `col[r, k]` $= \tilde x[n, c, iS + u, jS + v]$, and the whole convolution is
#
# $$ \underbrace{\texttt{col}}_{(N O_H O_W,\; C F_H F_W)} \;
#    \underbrace{\texttt{W.reshape(FN, -1).T}}_{(C F_H F_W,\; F_N)} + b
#    \;\to\; (N O_H O_W,\; F_N) \;\xrightarrow{\text{reshape}}\; (N, O_H, O_W, F_N)
#    \;\xrightarrow{\text{transpose}}\; (N, F_N, O_H, O_W). $$
#
# The price is memory: each input value is copied into up to $F_H F_W$ windows. For a batch of 100
# MNIST images and 5×5 filters, `col` has $100 \cdot 24 \cdot 24 = 57\,600$ rows of 25 values — 1.44
# million values for a batch of 78 400 pixels, about 18 times its size (a pixel away from the border
# lies in 25 windows, one in a corner in a single window).
#
# A small example, a $3 \times 3$ image with $2 \times 2$ windows and stride 1, gives four windows:
#
# ```
#  x = 0 1 2      col = [[0 1 3 4]    window at (0, 0)
#      3 4 5             [1 2 4 5]    window at (0, 1)
#      6 7 8             [3 4 6 7]    window at (1, 0)
#                        [4 5 7 8]]   window at (1, 1)
# ```
#
# **Exercise 2 (3 points).** Write `im2col(x, FH, FW, stride=1, pad=0)` with exactly this layout, for
# any stride and padding. Loops over the $F_H \cdot F_W$ offsets $(u, v)$, each copying a strided slice
# of all windows at once, are fast enough; so is a loop over windows. Do not modify `x`.

# %% answer="im2col" export=true
def im2col(x, FH, FW, stride=1, pad=0):
    """Every FH x FW window of the (zero-padded) images as one row.

    Args:
        x: (N, C, H, W).  FH, FW: window size.  stride: S.  pad: P.

    Returns:
        col: (N * OH * OW, C * FH * FW); row (n * OH + i) * OW + j holds the window at output
        position (i, j) of image n, its values ordered by channel, then window row, then column.
    """
    ### BEGIN SOLUTION
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, FH, stride, pad), conv_output_size(w, FW, stride, pad)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    col = np.empty((n, c, FH, FW, oh, ow), dtype=padded.dtype)
    for u in range(FH):
        for v in range(FW):
            # the value at offset (u, v) of every window: rows u, u + S, ..., columns v, v + S, ...
            col[:, :, u, v] = padded[:, :, u:u + stride * oh:stride, v:v + stride * ow:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * FH * FW)
    ### END SOLUTION


# %% tests="test_im2col" points=3
x = np.arange(9.0).reshape(1, 1, 3, 3)
with unchanged("im2col", x=x):
    col = call(im2col, x, 2, 2)
check_close(col, [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]], "im2col(x, 2, 2) of the 3x3 example",
            mistakes=[(np.array([[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]).T,
                       "one ROW per window (N*OH*OW rows), one column per value in the window.")],
            hint="row r = the window at output position (r // OW, r % OW), its values read row by row.")
# Two channels: each row holds channel 0's window, then channel 1's.
x2 = np.stack([np.arange(9.0).reshape(3, 3), 100 + np.arange(9.0).reshape(3, 3)])[None]   # (1, 2, 3, 3)
col = call(im2col, x2, 2, 2)
col = check_shape(col, (4, 8), "im2col(x2, 2, 2) of one image with two 3x3 channels",
                  hint="one ROW per window (N * OH * OW = 4) and one column per value in a window (C * FH * FW = 8); "
                       "(8, 4) is the transpose: check for a stray .T or the order of a reshape.")
check_close(col[0], [0, 1, 3, 4, 100, 101, 103, 104], "the first row of im2col on two channels", mistakes=[
    ([0, 100, 1, 101, 3, 103, 4, 104], "columns are ordered channel first, then window row, then window "
                                        "column: the order of W[f].reshape(-1) for W of shape (FN, C, FH, FW)."),
], hint="columns: all of channel 0's window, then channel 1's; col[r, (c * FH + u) * FW + v].")
# Stride 2 and padding 1 on a 4x4 image: (4 + 2 - 2) // 2 + 1 = 3 windows per row and column.
col = call(im2col, np.ones((2, 3, 4, 4)), 2, 2, 2, 1)
check_shape(col, (2 * 3 * 3, 3 * 2 * 2), "im2col of (2, 3, 4, 4) with 2x2 windows, stride 2, pad 1",
            hint="N * OH * OW rows and C * FH * FW columns, with OH = (H + 2P - FH) // S + 1.")
check_close(col[0], [0, 0, 0, 1] * 3, "the top-left window with padding 1",
            hint="pad with zeros first: the top-left window holds three padded zeros and one pixel.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(602)
for shape, fh, fw, stride, pad in (((2, 3, 6, 5), 3, 2, 1, 0), ((3, 2, 7, 7), 3, 3, 2, 1), ((1, 1, 9, 8), 4, 3, 3, 2),
                                   ((2, 2, 5, 5), 1, 1, 1, 0), ((2, 3, 4, 4), 4, 4, 1, 0), ((4, 1, 6, 6), 2, 2, 2, 0),
                                   ((1, 2, 7, 5), 2, 3, 1, 3)):
    x_ = rng.normal(size=shape)
    where = f"im2col(x {shape}, FH={fh}, FW={fw}, stride={stride}, pad={pad})"
    with unchanged("im2col", x=x_):
        got = call(im2col, x_, fh, fw, stride, pad, name="im2col")
    ### BEGIN REFERENCE
    # every window as a strided view of the padded images, in the order (n, i, j, c, u, v)
    padded_ = np.pad(x_, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows_ = np.lib.stride_tricks.sliding_window_view(padded_, (fh, fw), axis=(2, 3))[:, :, ::stride, ::stride]
    as_blocks = windows_.transpose(0, 2, 3, 1, 4, 5)                      # (N, OH, OW, C, FH, FW)
    expected = as_blocks.reshape(-1, shape[1] * fh * fw)
    ### END REFERENCE
    check_close(got, expected, where, mistakes=[
        (as_blocks.transpose(0, 1, 2, 4, 5, 3).reshape(expected.shape),
         "columns are ordered (channel, window row, window column), not channel last."),
        (as_blocks.transpose(1, 2, 0, 3, 4, 5).reshape(expected.shape),
         "rows are ordered by image first, then output row, then output column."),
        (as_blocks.transpose(0, 2, 1, 3, 4, 5).reshape(expected.shape),
         "rows go along each output row first: row (n * OH + i) * OW + j, i the output row."),
        (as_blocks.transpose(0, 1, 2, 3, 5, 4).reshape(expected.shape),
         "inside a window, read the values row by row: column (c * FH + u) * FW + v."),
    ], hint="check the stride (windows start every S pixels of the padded image) and the padding.")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. col2im: the way back, adding where windows overlap
#
# The backward pass of a convolution produces a gradient for every value of every window, a matrix
# `dcol` of the shape of `col`. But windows overlap: with stride 1, a pixel in the middle of a 3×3
# image belongs to all four 2×2 windows, so it influenced four values of `col`, and by the chain rule
# its gradient is the **sum** of the four. `col2im(dcol, x_shape, FH, FW, S, P)` adds every row back
# onto the window it came from and returns an array of shape `x_shape` (padding removed: a padded
# zero is not an input).
#
# Formally, im2col is a linear map $x \mapsto A x$ that copies entries; col2im is its transpose
# $\text{dcol} \mapsto A^\top \text{dcol}$. That gives a test that needs no loops at all: for any $x$
# and any $d$ of the right shapes,
#
# $$ \langle \text{im2col}(x),\, d \rangle = \langle x,\, \text{col2im}(d) \rangle
#    \qquad (\langle a, b\rangle = \textstyle\sum a \odot b). $$
#
# Applied to a matrix of ones, col2im counts how many windows cover each pixel:
#
# ```
#  col2im(ones((4, 4)), (1, 1, 3, 3), 2, 2) = 1 2 1
#                                             2 4 2
#                                             1 2 1
# ```
#
# **Exercise 3 (3 points).** Write `col2im(col, x_shape, FH, FW, stride=1, pad=0)`. Accumulate with
# `+=` (a plain assignment keeps only the last window that wrote a pixel). Pixels no window covers get
# 0. Do not modify `col`.

# %% answer="col2im" export=true
def col2im(col, x_shape, FH, FW, stride=1, pad=0):
    """The transpose of im2col: adds every row of col back onto its window.

    Args:
        col: (N * OH * OW, C * FH * FW), laid out as im2col's output.
        x_shape: (N, C, H, W) of the images.  FH, FW, stride, pad: as for im2col.

    Returns:
        x: (N, C, H, W); each pixel holds the sum of the col entries that came from it.
    """
    ### BEGIN SOLUTION
    n, c, h, w = x_shape
    oh, ow = conv_output_size(h, FH, stride, pad), conv_output_size(w, FW, stride, pad)
    blocks = col.reshape(n, oh, ow, c, FH, FW).transpose(0, 3, 4, 5, 1, 2)   # (N, C, FH, FW, OH, OW)
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for u in range(FH):
        for v in range(FW):
            padded[:, :, u:u + stride * oh:stride, v:v + stride * ow:stride] += blocks[:, :, u, v]
    return padded[:, :, pad:pad + h, pad:pad + w]
    ### END SOLUTION


# %% tests="test_col2im" points=3
ones = np.ones((4, 4))
with unchanged("col2im", col=ones):
    x = call(col2im, ones, (1, 1, 3, 3), 2, 2)
check_close(x, [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]], "col2im(ones((4, 4)), (1, 1, 3, 3), 2, 2)", mistakes=[
    ([[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]], "ADD each window's values (+=): a pixel covered by several windows "
                                            "receives the sum of their gradients."),
], hint="each pixel holds the number of windows that cover it.")
# The adjoint identity <im2col(x), d> = <x, col2im(d)> on the 3x3 example:
d = np.arange(16.0).reshape(4, 4)
check_close(call(col2im, d, (1, 1, 3, 3), 2, 2), [[[[0, 5, 5], [10, 30, 20], [10, 25, 15]]]],
            "col2im(arange(16).reshape(4, 4), (1, 1, 3, 3), 2, 2)",
            hint="row r of col goes back to the window at (r // OW, r % OW), value k to (k // FW, k % FW).")
# Padding is cut off: the result has the shape of x, not of the padded image.
check_shape(call(col2im, np.ones((2 * 9, 3 * 4)), (2, 3, 4, 4), 2, 2, 2, 1), (2, 3, 4, 4),
            "col2im with stride 2 and pad 1 on (2, 3, 4, 4)", hint="drop the P padded rows and columns at the end.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(603)
for shape, fh, fw, stride, pad in (((2, 3, 6, 5), 3, 2, 1, 0), ((3, 2, 7, 7), 3, 3, 2, 1), ((1, 1, 9, 8), 4, 3, 3, 2),
                                   ((2, 2, 5, 5), 1, 1, 1, 0), ((2, 3, 4, 4), 4, 4, 1, 0), ((2, 1, 6, 6), 3, 3, 2, 0),
                                   ((1, 2, 7, 5), 2, 3, 1, 3), ((2, 1, 8, 8), 2, 2, 3, 0)):
    x_ = rng.normal(size=shape)
    oh_, ow_ = (shape[2] + 2 * pad - fh) // stride + 1, (shape[3] + 2 * pad - fw) // stride + 1
    d_ = rng.normal(size=(shape[0] * oh_ * ow_, shape[1] * fh * fw))
    where = f"col2im(d, {shape}, FH={fh}, FW={fw}, stride={stride}, pad={pad})"
    with unchanged("col2im", col=d_):
        got = call(col2im, d_, shape, fh, fw, stride, pad, name="col2im")
    ### BEGIN REFERENCE
    # every row of d added onto its window of the padded images, the padding cut off
    padded_ = np.zeros(shape[:2] + (shape[2] + 2 * pad, shape[3] + 2 * pad))
    for row_, (n_, i_, j_) in zip(d_, np.ndindex(shape[0], oh_, ow_)):
        padded_[n_, :, i_ * stride:i_ * stride + fh, j_ * stride:j_ * stride + fw] += row_.reshape(-1, fh, fw)
    expected = padded_[:, :, pad:pad + shape[2], pad:pad + shape[3]]
    ### END REFERENCE
    check_close(got, expected, where, hint=(
        "every entry col[r, k] is ADDED to the pixel it was copied from by im2col; pixels no window covers "
        "get 0; the result has the shape of x (padding removed)."))
    # <im2col(x), d> is <x, col2im(d)> for the right col2im
    check_close(float(np.sum(got * x_)), float(np.sum(expected * x_)),
                f"<x, col2im(d)> versus <im2col(x), d> for {where}", hint="col2im must be the transpose of im2col.")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The convolution layer
#
# With im2col the layer's forward pass is the matrix product above. Keep `col` (and the shape of
# `x`) for backward. With the convolution's output gradient `dout` $(N, F_N, O_H, O_W)$, first
# bring it into the layout of the product's output, `dY = dout.transpose(0, 2, 3, 1).reshape(-1, FN)`
# $(N O_H O_W, F_N)$; then, exactly as for an affine layer $Y = \texttt{col}\, W_\text{col} + b$ with
# $W_\text{col}$ = `W.reshape(FN, -1).T`:
#
# $$ \frac{\partial L}{\partial W_\text{col}} = \texttt{col}^\top dY \quad (C F_H F_W, F_N), \qquad
#    \frac{\partial L}{\partial b} = \sum_{\text{rows}} dY \quad (F_N,), \qquad
#    \frac{\partial L}{\partial\, \texttt{col}} = dY\, W_\text{col}^\top \quad (N O_H O_W, C F_H F_W). $$
#
# $\partial L/\partial W$ is $\partial L/\partial W_\text{col}$ transposed and reshaped back to
# $(F_N, C, F_H, F_W)$, and $\partial L/\partial x$ = `col2im(dcol, x.shape, FH, FW, S, P)`: every
# window's gradient flows back to its pixels and overlapping windows add up.
#
# The layer follows chapter 03's interface: `params = {"W": W, "b": b}` (read them from `self.params`
# every time: an optimizer updates them in place), `grads` with the same keys (set, not added, by
# every backward), and inputs are never modified.
#
# **Exercise 4 (4 points).** Complete `Convolution` using your `im2col` and `col2im`.

# %% answer="convolution" export=true
class Convolution:
    """A convolution layer: out[n, f] = b[f] + sum over channels of (x[n, c] cross-correlated with W[f, c])."""

    def __init__(self, W, b, stride=1, pad=0):
        self.params = {"W": W, "b": b}                   # W: (FN, C, FH, FW), b: (FN,)
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.stride, self.pad = stride, pad
        self.x_shape = None  # (N, C, H, W) of the latest forward
        self.col = None      # im2col of the latest input, (N * OH * OW, C * FH * FW)

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, FN, OH, OW)."""
        ### BEGIN SOLUTION
        W, b = self.params["W"], self.params["b"]
        fn, _, fh, fw = W.shape
        n, c, h, w = x.shape
        oh, ow = conv_output_size(h, fh, self.stride, self.pad), conv_output_size(w, fw, self.stride, self.pad)
        self.x_shape = (n, c, h, w)
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        out = self.col @ W.reshape(fn, -1).T + b                  # (N * OH * OW, FN)
        return out.reshape(n, oh, ow, fn).transpose(0, 3, 1, 2)
        ### END SOLUTION

    def backward(self, dout):
        """dout: (N, FN, OH, OW) -> dx: (N, C, H, W); sets grads["W"] (FN, C, FH, FW) and grads["b"] (FN,)."""
        ### BEGIN SOLUTION
        W = self.params["W"]
        fn, _, fh, fw = W.shape
        dy = dout.transpose(0, 2, 3, 1).reshape(-1, fn)          # (N * OH * OW, FN)
        self.grads["W"] = (self.col.T @ dy).T.reshape(W.shape)
        self.grads["b"] = dy.sum(axis=0)
        dcol = dy @ W.reshape(fn, -1)                              # (N * OH * OW, C * FH * FW)
        return col2im(dcol, self.x_shape, fh, fw, self.stride, self.pad)
        ### END SOLUTION


# %% tests="test_convolution" points=4
### BEGIN HIDDEN TESTS
# The reference convolution, for expected values only (REFERENCE), and the reference im2col and col2im, so
# that Convolution, the pooling layers and the network are graded on their own (the tests of im2col and col2im
# above are done). Defined first, before anything can fail: the tests below rely on them.
### BEGIN REFERENCE
def _ref_conv(x, W, b, stride=1, pad=0):
    """Reference convolution: every window as a strided view, one einsum."""
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    fn, c, fh, fw = W.shape
    oh, ow = (xp.shape[2] - fh) // stride + 1, (xp.shape[3] - fw) // stride + 1
    windows = np.lib.stride_tricks.sliding_window_view(xp, (fh, fw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :oh, :ow]          # (N, C, OH, OW, FH, FW)
    out = np.tensordot(windows, W, axes=((1, 4, 5), (1, 2, 3)))          # (N, OH, OW, FN)
    return out.transpose(0, 3, 1, 2) + b[None, :, None, None]
### END REFERENCE


def _ref_im2col(x, FH, FW, stride=1, pad=0):
    """Reference im2col: strided window views, reordered to (n, i, j) rows and (c, u, v) columns."""
    xp = np.pad(np.asarray(x), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c = xp.shape[:2]
    oh, ow = (xp.shape[2] - FH) // stride + 1, (xp.shape[3] - FW) // stride + 1
    windows = np.lib.stride_tricks.sliding_window_view(xp, (FH, FW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :oh, :ow]          # (N, C, OH, OW, FH, FW)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * FH * FW)


def _ref_col2im(col, x_shape, FH, FW, stride=1, pad=0):
    """Reference col2im: np.add.at over the (padded) pixel index of every col entry."""
    n, c, h, w = x_shape
    index = _ref_im2col(np.arange(n * c * (h + 2 * pad) * (w + 2 * pad)).reshape(n, c, h + 2 * pad, w + 2 * pad),
                        FH, FW, stride, 0)
    padded = np.zeros(n * c * (h + 2 * pad) * (w + 2 * pad))
    np.add.at(padded, index.ravel(), np.asarray(col, dtype=np.float64).ravel())
    return padded.reshape(n, c, h + 2 * pad, w + 2 * pad)[:, :, pad:pad + h, pad:pad + w]
### END HIDDEN TESTS
def stand_ins(windows):
    """Stand-ins for im2col and col2im on one single-image example, from its windows as pixel indices (im2col of
    the image np.arange(H * W)): when your im2col or col2im is not right yet, the visible checks of a layer use
    them, so that a mistake made there is not counted again here."""
    windows = np.array(windows)

    def stand_in_im2col(x, *window_and_stride):
        return np.asarray(x, dtype=np.float64).reshape(-1)[windows]

    def stand_in_col2im(col, x_shape, *window_and_stride):
        return np.bincount(windows.ravel(), weights=np.ravel(col), minlength=int(np.prod(x_shape))).reshape(x_shape)

    return {"im2col": stand_in_im2col, "col2im": stand_in_col2im}


# The 3x3 example with the filter [[1, 0], [0, -1]] and bias 10: every output is 0 - 4 + 10 = 6.
x = np.arange(9.0).reshape(1, 1, 3, 3)
W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
b = np.array([10.0])
windows = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
blocks = {}
if not (your_block_works(im2col, (x, 2, 2), windows) and
        your_block_works(col2im, (np.arange(16.0).reshape(4, 4), (1, 1, 3, 3), 2, 2),
                         [[[[0, 5, 5], [10, 30, 20], [10, 25, 15]]]])):
    blocks = stand_ins(windows)
    print("Your im2col or col2im is not right yet (see their tests above): the visible checks of Convolution use "
          "stand-ins for both on this example. The hidden tests grade Convolution with reference versions of both.")
layer = Convolution(W, b)
with replaced(globals(), **blocks), unchanged("Convolution", x=x, W=W, b=b):
    check_close(call(layer.forward, x, name="Convolution.forward"), [[[[6.0, 6.0], [6.0, 6.0]]]],
                "Convolution.forward(x)", hint="out = im2col(x) @ W.reshape(FN, -1).T + b, reshaped to "
                                               "(N, OH, OW, FN), then transposed to (N, FN, OH, OW).")
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = call(layer.backward, dout, name="Convolution.backward")
# dx: each output's gradient flows to the window's top-left pixel (+) and bottom-right pixel (-).
check_close(dx, [[[[1, 2, 0], [3, 3, -2], [0, -3, -4]]]], "Convolution.backward: dx",
            hint="dcol = dY @ W.reshape(FN, -1), then dx = col2im(dcol, x.shape, FH, FW, stride, pad).")
check_close(grad_of(layer, "W", "Convolution"), [[[[0 + 2 + 9 + 16, 1 * 1 + 2 * 2 + 4 * 3 + 5 * 4],
                                                    [3 + 8 + 18 + 28, 4 + 10 + 21 + 32]]]],
            'Convolution.grads["W"]', hint="dW = (col.T @ dY).T reshaped to (FN, C, FH, FW).")
check_close(grad_of(layer, "b", "Convolution"), [10.0], 'Convolution.grads["b"]',
            hint="db sums dout over the batch and every output position: dY.sum(axis=0).",
            mistakes=[([2.5], "db is a sum over the batch and every output position, not a mean.")])
# Two filters: the first as above, the second [[0, 1], [0, 0]] picks each window's top-right pixel (bias 0).
W2 = np.array([[[[1.0, 0.0], [0.0, -1.0]]], [[[0.0, 1.0], [0.0, 0.0]]]])   # (2, 1, 2, 2)
b2 = np.array([10.0, 0.0])
with replaced(globals(), **blocks):
    out2 = call(Convolution(W2, b2).forward, x, name="Convolution.forward")
check_close(out2, [[[[6.0, 6.0], [6.0, 6.0]], [[1.0, 2.0], [4.0, 5.0]]]], "Convolution.forward(x) with two filters",
            mistakes=[([[[[6.0, 1.0], [6.0, 2.0]], [[6.0, 4.0], [6.0, 5.0]]]],
                       "im2col(x) @ W.reshape(FN, -1).T has one row per output position and one column per filter: "
                       "reshape it to (N, OH, OW, FN), then transpose to (N, FN, OH, OW); a plain reshape to "
                       "(N, FN, OH, OW) mixes the filters up.")],
            hint="out[n, f] is filter f's map: im2col(x) @ W.reshape(FN, -1).T + b, reshaped to (N, OH, OW, FN), "
                 "transposed to (N, FN, OH, OW).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(604)
with replaced(globals(), im2col=_ref_im2col, col2im=_ref_col2im):
    for shape, wshape, stride, pad in (((2, 3, 6, 5), (4, 3, 3, 2), 1, 0), ((3, 2, 7, 7), (2, 2, 3, 3), 2, 1),
                                       ((1, 1, 9, 8), (3, 1, 4, 3), 3, 2), ((2, 2, 5, 5), (5, 2, 1, 1), 1, 0),
                                       ((2, 2, 5, 5), (3, 2, 2, 2), 2, 0)):
        x_, W_, b_ = rng.normal(size=shape), rng.normal(size=wshape), rng.normal(size=wshape[0])
        where = f"Convolution(W {wshape}, stride={stride}, pad={pad}) on x {shape}"
        layer = Convolution(W_, b_, stride, pad)
        oh_, ow_ = (shape[2] + 2 * pad - wshape[2]) // stride + 1, (shape[3] + 2 * pad - wshape[3]) // stride + 1
        dout_ = rng.normal(size=(shape[0], wshape[0], oh_, ow_))
        ### BEGIN REFERENCE
        out_ = _ref_conv(x_, W_, b_, stride, pad)
        ### END REFERENCE
        with unchanged("Convolution", x=x_, W=W_, b=b_, dout=dout_):
            check_close(call(layer.forward, x_, name="Convolution.forward"), out_, f"{where}: forward", mistakes=[
                (out_.transpose(0, 2, 3, 1).reshape(out_.shape),
                 "reshape the product to (N, OH, OW, FN) and transpose to (N, FN, OH, OW); a plain reshape "
                 "to (N, FN, OH, OW) mixes up the axes."),
            ], hint="out = im2col(x, FH, FW, stride, pad) @ W.reshape(FN, -1).T + b, reshaped to (N, OH, OW, FN) "
                    "and transposed to (N, FN, OH, OW).")
            dx = call(layer.backward, dout_, name="Convolution.backward")
        check_gradient(dx, numerical_gradient_array(lambda z: _ref_conv(z, W_, b_, stride, pad), x_.copy(), dout_),
                       f"{where}: dx", hint="dx = col2im(dY @ W.reshape(FN, -1), x.shape, FH, FW, stride, pad).")
        check_gradient(grad_of(layer, "W", "Convolution"),
                       numerical_gradient_array(lambda w: _ref_conv(x_, w, b_, stride, pad), W_.copy(), dout_),
                       f'{where}: grads["W"]', hint="dW = (col.T @ dY).T.reshape(FN, C, FH, FW), with "
                                                     "dY = dout.transpose(0, 2, 3, 1).reshape(-1, FN).")
        check_close(grad_of(layer, "b", "Convolution"), dout_.sum(axis=(0, 2, 3)), f'{where}: grads["b"]',
                    hint="db = dout summed over the batch and all output positions, shape (FN,).")
        # a second backward sets the gradients again (it does not add to them)
        call(layer.backward, dout_, name="Convolution.backward")
        check_close(grad_of(layer, "b", "Convolution"), dout_.sum(axis=(0, 2, 3)),
                    f'{where}: grads["b"] after a second backward',
                    hint="assign the gradients (self.grads['b'] = ...) instead of adding to them (+=).")
    # parameters are read from self.params: an in-place update is seen
    W_, b_ = rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2)
    layer = Convolution(W_, b_, 1, 1)
    x_ = rng.normal(size=(2, 1, 4, 4))
    call(layer.forward, x_, name="Convolution.forward")
    W_ -= 0.5
    b_ += 1.0
    check_close(call(layer.forward, x_, name="Convolution.forward"), _ref_conv(x_, W_, b_, 1, 1),
                "Convolution.forward after updating W and b in place",
                hint='read self.params["W"] and self.params["b"] in forward; do not keep a private copy.')
    # backward belongs to the latest forward (a last, smaller batch)
    call(layer.forward, rng.normal(size=(3, 1, 5, 5)), name="Convolution.forward")
    x_ = rng.normal(size=(1, 1, 4, 4))
    call(layer.forward, x_, name="Convolution.forward")
    dout_ = rng.normal(size=(1, 2, 4, 4))
    latest = "keep the input shape and col of the LATEST forward (set them on every call)."
    dx = call(layer.backward, dout_, name="Convolution.backward", hint=latest)
    check_gradient(dx, numerical_gradient_array(lambda z: _ref_conv(z, W_, b_, 1, 1), x_.copy(), dout_),
                   "Convolution.backward after forwards on (3, 1, 5, 5) then (1, 1, 4, 4): dx", hint=latest)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Pooling
#
# A pooling layer shrinks each channel on its own: it slides a $P_H \times P_W$ window with stride $S$
# over every channel and keeps one number per window — the **maximum** (max-pooling) or the **mean**
# (average-pooling). It has no parameters, keeps the number of channels, and gives
# $(N, C, O_H, O_W)$ with $O_H = \lfloor (H - P_H)/S \rfloor + 1$. The usual choice, and the one in this
# chapter's network, is a $2 \times 2$ window with stride 2: it halves the height and the width, so a
# later layer sees a larger part of the image per value, and a small shift of a stroke barely changes
# the result.
#
# **Backward.** Each output depends on one window:
# - average: $\text{out} = \frac{1}{P_H P_W}\sum \text{window}$, so every value of the window receives
#   $\text{dout}/(P_H P_W)$;
# - max: only the window's largest value affects the output (moving any other value a little changes
#   nothing), so it receives all of `dout` and the others receive 0. When several values of a window
#   tie for the maximum the derivative does not exist; this course sends the **whole** gradient to the
#   **first** maximum in row-major order (the position `np.argmax` returns on the window's values read
#   row by row), as PyTorch and the DLFS book do. Splitting it, or giving it to every tied value, is
#   not what the tests expect.
#
# When windows overlap (stride smaller than the window), a value that lies in several windows receives
# the **sum** of what each window sends it — col2im does exactly that.
#
# With im2col, pooling is short: `im2col(x, PH, PW, S)` gives rows of $C \cdot P_H P_W$ values; reshaped
# to `(-1, PH * PW)` each row is one window of one channel (rows ordered by $n, i, j, c$), and
# `max`/`argmax`/`mean` along axis 1 do the rest. A reshape of `x` into blocks, or plain loops over
# the output positions, are just as good.
#
# **Exercise 5 (3 points).** Complete `MaxPooling(pool_h, pool_w, stride)`. Do not modify `x` or `dout`.

# %% answer="max_pooling" export=true
class MaxPooling:
    """Max over every pool_h x pool_w window of each channel, the window moving by `stride`."""

    def __init__(self, pool_h=2, pool_w=2, stride=2):
        self.pool_h, self.pool_w, self.stride = pool_h, pool_w, stride
        self.params, self.grads = {}, {}
        self.x_shape = None   # (N, C, H, W) of the latest forward
        self.argmax = None    # which value of each window was the maximum

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, OH, OW)."""
        ### BEGIN SOLUTION
        n, c, h, w = x.shape
        oh, ow = conv_output_size(h, self.pool_h, self.stride), conv_output_size(w, self.pool_w, self.stride)
        windows = im2col(x, self.pool_h, self.pool_w, self.stride).reshape(-1, self.pool_h * self.pool_w)
        self.x_shape = (n, c, h, w)
        self.argmax = np.argmax(windows, axis=1)   # the first maximum of each window, row by row
        out = windows[np.arange(len(windows)), self.argmax]
        return out.reshape(n, oh, ow, c).transpose(0, 3, 1, 2)
        ### END SOLUTION

    def backward(self, dout):
        """dout: (N, C, OH, OW) -> dx: (N, C, H, W); all of each window's gradient goes to its (first) maximum."""
        ### BEGIN SOLUTION
        size = self.pool_h * self.pool_w
        flat = dout.transpose(0, 2, 3, 1).reshape(-1)                 # one value per window, rows (n, i, j, c)
        dwindows = np.zeros((flat.size, size), dtype=dout.dtype)
        dwindows[np.arange(flat.size), self.argmax] = flat
        return col2im(dwindows.reshape(-1, self.x_shape[1] * size), self.x_shape, self.pool_h, self.pool_w,
                      self.stride)
        ### END SOLUTION


# %% tests="test_max_pooling" points=3
### BEGIN HIDDEN TESTS
### BEGIN REFERENCE
def _windows(x, ph, pw, stride):
    """(N, C, OH, OW, PH, PW) strided views of every pooling window."""
    oh, ow = (x.shape[2] - ph) // stride + 1, (x.shape[3] - pw) // stride + 1
    return np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]


def _ref_pool_backward(x, dout, ph, pw, stride, kind):
    """Reference pooling backward by loops: max sends dout to the first maximum, mean spreads it."""
    dx = np.zeros(x.shape)
    windows = _windows(x, ph, pw, stride)
    for n, c, i, j in np.ndindex(dout.shape):
        if kind == "max":
            u, v = np.unravel_index(np.argmax(windows[n, c, i, j]), (ph, pw))
            dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j]
        else:
            dx[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] += dout[n, c, i, j] / (ph * pw)
    return dx
### END REFERENCE


def _grade_pooling(layer_class, kind, seed, forward_hint, backward_hint):
    """Hidden checks shared by both pooling layers: forward and backward on several window sizes and
    strides (overlapping windows included), with reference im2col/col2im, then backward after a second,
    smaller forward. (Defined first: test_avg_pooling relies on it.)"""
    name = layer_class.__name__
    draws = np.random.default_rng(seed)
    with replaced(globals(), im2col=_ref_im2col, col2im=_ref_col2im):
        for shape, ph, pw, stride in (((2, 3, 6, 6), 2, 2, 2), ((2, 2, 7, 5), 3, 2, 1), ((1, 3, 9, 9), 3, 3, 3),
                                      ((3, 1, 5, 7), 2, 3, 2), ((2, 2, 4, 4), 4, 4, 1)):
            x_ = draws.normal(size=shape)
            where = f"{name}({ph}, {pw}, stride={stride}) on {shape}"
            layer = layer_class(ph, pw, stride=stride)
            dout_ = draws.normal(size=shape[:2] + ((shape[2] - ph) // stride + 1, (shape[3] - pw) // stride + 1))
            ### BEGIN REFERENCE
            expected = {"max": np.max, "mean": np.mean}[kind](_windows(x_, ph, pw, stride), axis=(4, 5))
            ### END REFERENCE
            with unchanged(name, x=x_, dout=dout_):
                check_close(call(layer.forward, x_, name=f"{name}.forward"), expected, f"{where}: forward",
                            hint=forward_hint)
                dx = call(layer.backward, dout_, name=f"{name}.backward")
            check_close(dx, _ref_pool_backward(x_, dout_, ph, pw, stride, kind), f"{where}: backward",
                        hint=backward_hint)
        layer = layer_class(pool_h=2, pool_w=2, stride=2)
        call(layer.forward, draws.normal(size=(3, 2, 6, 6)), name=f"{name}.forward")
        x_ = draws.normal(size=(1, 2, 4, 4))
        call(layer.forward, x_, name=f"{name}.forward")
        dout_ = draws.normal(size=(1, 2, 2, 2))
        check_close(call(layer.backward, dout_, name=f"{name}.backward"),
                    _ref_pool_backward(x_, dout_, 2, 2, 2, kind),
                    f"{name}.backward after forwards on (3, 2, 6, 6) then (1, 2, 4, 4)",
                    hint="keep what backward needs from the LATEST forward (set it on every call).")
### END HIDDEN TESTS
x = np.array([[[[1.0, 2.0, 5.0, 0.0],
                [3.0, 4.0, 1.0, 1.0],
                [0.0, 0.0, 7.0, 7.0],
                [0.0, -1.0, 7.0, 7.0]]]])        # (1, 1, 4, 4); the last window is a four-way tie
dout = np.array([[[[10.0, 20.0], [30.0, 40.0]]]])
# (stand_ins is defined in test_convolution above)
windows = [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]
blocks = {}
if not (your_block_works(im2col, (np.arange(16.0).reshape(1, 1, 4, 4), 2, 2, 2), windows) and
        your_block_works(col2im, (np.arange(16.0).reshape(4, 4), (1, 1, 4, 4), 2, 2, 2),
                         [[[[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]]])):
    blocks = stand_ins(windows)
    print("Your im2col or col2im is not right yet (see their tests above): the visible checks of MaxPooling use "
          "stand-ins for both on this example. The hidden tests grade MaxPooling with reference versions of both.")
layer = MaxPooling(2, 2, stride=2)
with replaced(globals(), **blocks), unchanged("MaxPooling", x=x, dout=dout):
    check_close(call(layer.forward, x, name="MaxPooling.forward"), [[[[4.0, 5.0], [0.0, 7.0]]]],
                "MaxPooling(2, 2, stride=2).forward(x)", hint="the largest value of each 2x2 block.")
    dx = call(layer.backward, dout, name="MaxPooling.backward")
check_close(dx, [[[[0, 0, 20, 0], [0, 10, 0, 0], [30, 0, 40, 0], [0, 0, 0, 0]]]],
            "MaxPooling.backward(dout)", mistakes=[
                ([[[[0, 0, 20, 0], [0, 10, 0, 0], [30, 30, 40, 40], [30, 0, 40, 40]]]],
                 "on a tie send the WHOLE gradient to the FIRST maximum only (np.argmax's choice), not to "
                 "every tied value."),
                ([[[[0, 0, 20, 0], [0, 10, 0, 0], [10, 10, 10, 10], [10, 0, 10, 10]]]],
                 "on a tie send the whole gradient to the first maximum; do not split it."),
            ], hint="dout goes to the position of each window's maximum (the first one, row by row, on a "
                    "tie); every other position gets 0.")
# Two channels, two windows side by side: channel 0 holds 0..7, channel 1 holds 100 minus them.
x2 = np.stack([np.arange(8.0).reshape(2, 4), 100 - np.arange(8.0).reshape(2, 4)])[None]     # (1, 2, 2, 4)
windows2 = [[c * 8 + u * 4 + 2 * j + v for c in range(2) for u in range(2) for v in range(2)] for j in range(2)]
blocks2 = {} if your_block_works(im2col, (x2, 2, 2, 2), x2.reshape(-1)[np.array(windows2)]) else stand_ins(windows2)
with replaced(globals(), **blocks2):
    out2 = call(MaxPooling(2, 2, stride=2).forward, x2, name="MaxPooling.forward")
check_close(out2, [[[[5.0, 7.0]], [[100.0, 98.0]]]], "MaxPooling(2, 2, stride=2).forward on (1, 2, 2, 4)", mistakes=[
    ([[[[5.0, 100.0]], [[7.0, 98.0]]]], "the maxima come out ordered (n, i, j, c): reshape them to (N, OH, OW, C), "
                                        "then transpose to (N, C, OH, OW); a plain reshape to (N, C, OH, OW) mixes "
                                        "the channels up.")],
            hint="pool each channel on its own: out[n, c, i, j] is the largest value of channel c's window (i, j).")
### BEGIN HIDDEN TESTS
_grade_pooling(MaxPooling, "max", 605,
               forward_hint="rows of im2col reshaped to (-1, PH * PW) are windows ordered (n, i, j, c): reshape "
                            "the maxima to (N, OH, OW, C), then transpose to (N, C, OH, OW).",
               backward_hint="all of dout goes to the window's maximum; where windows overlap (stride < window) a "
                             "value that is the maximum of several windows receives the SUM of their gradients.")
# ties in every window: the first maximum, row by row, gets everything
with replaced(globals(), im2col=_ref_im2col, col2im=_ref_col2im):
    layer = MaxPooling(2, 3, stride=2)
    call(layer.forward, np.zeros((1, 2, 4, 6)), name="MaxPooling.forward")
    dx = call(layer.backward, np.ones((1, 2, 2, 2)), name="MaxPooling.backward")
### BEGIN REFERENCE
expected = np.zeros((1, 2, 4, 6))
expected[:, :, 0::2, 0:3:2] = 1.0   # windows start at rows 0, 2 and columns 0, 2
### END REFERENCE
check_close(dx, expected, "MaxPooling(2, 3, stride=2).backward on an all-zero input (every value ties)",
            hint="on a tie the whole gradient goes to the first maximum in row-major order (np.argmax).")
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 6 (2 points).** Complete `AveragePooling(pool_h, pool_w, stride)`: the mean of every window
# forward; backward, each value of a window receives $\text{dout}/(P_H P_W)$, summed over the windows it
# belongs to.

# %% answer="avg_pooling" export=true
class AveragePooling:
    """Mean over every pool_h x pool_w window of each channel, the window moving by `stride`."""

    def __init__(self, pool_h=2, pool_w=2, stride=2):
        self.pool_h, self.pool_w, self.stride = pool_h, pool_w, stride
        self.params, self.grads = {}, {}
        self.x_shape = None   # (N, C, H, W) of the latest forward

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, OH, OW)."""
        ### BEGIN SOLUTION
        n, c, h, w = x.shape
        oh, ow = conv_output_size(h, self.pool_h, self.stride), conv_output_size(w, self.pool_w, self.stride)
        self.x_shape = (n, c, h, w)
        windows = im2col(x, self.pool_h, self.pool_w, self.stride).reshape(-1, self.pool_h * self.pool_w)
        return windows.mean(axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)
        ### END SOLUTION

    def backward(self, dout):
        """dout: (N, C, OH, OW) -> dx: (N, C, H, W)."""
        ### BEGIN SOLUTION
        size = self.pool_h * self.pool_w
        flat = dout.transpose(0, 2, 3, 1).reshape(-1, 1)              # one value per window
        dwindows = np.repeat(flat / size, size, axis=1)               # shared equally by its values
        return col2im(dwindows.reshape(-1, self.x_shape[1] * size), self.x_shape, self.pool_h, self.pool_w,
                      self.stride)
        ### END SOLUTION


# %% tests="test_avg_pooling" points=2
x = np.arange(16.0).reshape(1, 1, 4, 4)
# (stand_ins is defined in test_convolution above)
windows = [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]
blocks = {}
if not (your_block_works(im2col, (x, 2, 2, 2), windows) and
        your_block_works(col2im, (np.arange(16.0).reshape(4, 4), (1, 1, 4, 4), 2, 2, 2),
                         [[[[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]]])):
    blocks = stand_ins(windows)
    print("Your im2col or col2im is not right yet (see their tests above): the visible checks of AveragePooling "
          "use stand-ins for both on this example. The hidden tests grade AveragePooling with reference versions "
          "of both.")
layer = AveragePooling(2, 2, stride=2)
dout = np.array([[[[4.0, 8.0], [12.0, 16.0]]]])
with replaced(globals(), **blocks):
    with unchanged("AveragePooling", x=x):
        check_close(call(layer.forward, x, name="AveragePooling.forward"), [[[[2.5, 4.5], [10.5, 12.5]]]],
                    "AveragePooling(2, 2, stride=2).forward(x)", hint="the mean of each 2x2 block.")
    dx = call(layer.backward, dout, name="AveragePooling.backward")
check_close(dx, [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]], "AveragePooling.backward(dout)",
            mistakes=[([[[[4, 4, 8, 8], [4, 4, 8, 8], [12, 12, 16, 16], [12, 12, 16, 16]]]],
                       "divide by the window size PH * PW: the mean weighs each value by 1 / (PH * PW).")],
            hint="every value of a window receives dout / (PH * PW).")
# Two channels, two windows side by side (the example of test_max_pooling): each channel is pooled on its own.
x2 = np.stack([np.arange(8.0).reshape(2, 4), 100 - np.arange(8.0).reshape(2, 4)])[None]     # (1, 2, 2, 4)
windows2 = [[c * 8 + u * 4 + 2 * j + v for c in range(2) for u in range(2) for v in range(2)] for j in range(2)]
blocks2 = {} if your_block_works(im2col, (x2, 2, 2, 2), x2.reshape(-1)[np.array(windows2)]) else stand_ins(windows2)
with replaced(globals(), **blocks2):
    out2 = call(AveragePooling(2, 2, stride=2).forward, x2, name="AveragePooling.forward")
check_close(out2, [[[[2.5, 4.5]], [[97.5, 95.5]]]], "AveragePooling(2, 2, stride=2).forward on (1, 2, 2, 4)", mistakes=[
    ([[[[2.5, 97.5]], [[4.5, 95.5]]]], "the means come out ordered (n, i, j, c): reshape them to (N, OH, OW, C), "
                                       "then transpose to (N, C, OH, OW); a plain reshape to (N, C, OH, OW) mixes "
                                       "the channels up.")],
            hint="pool each channel on its own: out[n, c, i, j] is the mean of channel c's window (i, j).")
### BEGIN HIDDEN TESTS
_grade_pooling(AveragePooling, "mean", 606,
               forward_hint="the mean of each window; reshape to (N, OH, OW, C) and transpose to (N, C, OH, OW).",
               backward_hint="each value of a window receives dout / (PH * PW); where windows overlap the shares "
                             "ADD up.")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. A convolutional network
#
# `SimpleConvNet` is the network of the DLFS book, built from your layers and chapter 03's:
#
# ```
#  x (N, 1, 28, 28)
#   ─► Convolution: 30 filters 5×5, stride 1, pad 0 ─► (N, 30, 24, 24)
#   ─► ReLU
#   ─► MaxPooling 2×2, stride 2                      ─► (N, 30, 12, 12)
#   ─► Affine 4320 → 100 (it flattens its input)     ─► (N, 100)
#   ─► ReLU
#   ─► Affine 100 → 10                               ─► (N, 10) scores
#   ─► SoftmaxWithLoss (the Model's loss layer)
# ```
#
# It is a chapter-03 `Model` (provided): with `self.layers` set, `loss`, `gradient`, `params`, `grads`,
# `accuracy`, `save` and `load` work as they are, and the parameters are called `"0.W"`, `"0.b"` (the
# convolution), `"3.W"`, `"3.b"` and `"5.W"`, `"5.b"` (the affine layers) — **build the layers in
# exactly this order**, without extra layers, so that saved weights fit. The constructor takes the
# sizes as arguments; the input of the first affine layer has $F_N \cdot \lfloor O_H/2 \rfloor \cdot
# \lfloor O_W/2 \rfloor$ values (`conv_output_size` gives $O_H$, $O_W$). Initialize every weight with
# He's initialization, `he_normal(shape, rng)` of chapter 05 with **one** generator
# `rng = np.random.default_rng(seed)` drawn in layer order, and every bias with zeros.
#
# **Prediction in batches.** Evaluating 10 000 images at once would build an im2col matrix of
# $10\,000 \cdot 576 \cdot 25$ values — 1.15 GB in float64 — and a convolution output of the same order;
# all 60 000 training images need about 7 GB for `col` alone, more than many laptops have. So `predict(x)` in prediction mode
# pushes at most `batch_size` images (default 100) through the layers at a time and concatenates the
# scores. Then the extra memory does not grow with $N$: for 100 MNIST images the largest arrays are
# `col` (1.44 million values) and the convolution's output (1.73 million values, 14 MB in float64),
# and with a few temporary copies of these the whole prediction stays **below 100 MB** besides the
# returned scores, whatever the number of images (the test checks this bound). In training mode
# (`train=True`, used by `loss` and `gradient`) `predict` must run the whole batch in one pass: the
# layers keep what their backward pass needs from that one forward pass.
#
# **Exercise 7 (4 points).** Complete `SimpleConvNet`: the constructor builds the layers, `predict`
# evaluates in batches.

# %% answer="simple_conv_net" export=true
class SimpleConvNet(Model):
    """conv (filter_num filters) - ReLU - 2x2 max-pool - affine (hidden_size) - ReLU - affine - softmax loss."""

    def __init__(self, input_dim=(1, 28, 28), filter_num=30, filter_size=5, hidden_size=100, output_size=10,
                 seed=0):
        """input_dim: (C, H, W) of one image. Stride 1 and no padding; pooling 2x2 with stride 2."""
        ### BEGIN SOLUTION
        c, h, w = input_dim
        rng = np.random.default_rng(seed)   # one generator, drawn in layer order
        oh, ow = conv_output_size(h, filter_size), conv_output_size(w, filter_size)
        pooled = filter_num * (oh // 2) * (ow // 2)
        super().__init__([
            Convolution(he_normal((filter_num, c, filter_size, filter_size), rng), np.zeros(filter_num)),
            ReLU(),
            MaxPooling(2, 2, stride=2),
            Affine(he_normal((pooled, hidden_size), rng), np.zeros(hidden_size)),
            ReLU(),
            Affine(he_normal((hidden_size, output_size), rng), np.zeros(output_size)),
        ])
        ### END SOLUTION

    def predict(self, x, train=False, batch_size=100):
        """x: (N, C, H, W) -> scores (N, output_size). Prediction mode: at most batch_size images per pass."""
        ### BEGIN SOLUTION
        if train:
            return super().predict(x, train=True)
        scores = []
        for first in range(0, len(x), batch_size):
            scores.append(super().predict(x[first:first + batch_size], train=False))
        return np.concatenate(scores)
        ### END SOLUTION


# %% tests="test_simple_conv_net" points=4
from dlfs.grading import check_that


def as_text(names):
    """Names as UTF-8 bytes, one per line: how a check sends them to the judge (predicate names_are)."""
    return np.frombuffer("\n".join(map(str, names)).encode(), dtype=np.uint8)


def check_net_structure(net, shapes, name, expected=("Convolution", "ReLU", "MaxPooling", "Affine", "ReLU", "Affine")):
    """The layer types in order and the parameter shapes of a SimpleConvNet."""
    check_that("names_are", (as_text(type(layer).__name__ for layer in getattr(net, "layers", [])),),
               f"{name}.layers", what="layers", expected=list(expected),
               hint="build exactly these six layers in this order (the Model adds the loss layer).")
    params = net.params
    check_that("names_are", (as_text(sorted(params)),), f"{name}.params", what="keys", expected=sorted(shapes),
               hint="add the six layers with Model.add: the Model names each parameter 'layer index.W' or '.b'.")
    for key, shape in shapes.items():
        check_shape(params[key], shape, f"{name}.params[{key!r}]",
                    hint="an Affine weight has the shape (inputs, outputs); the first affine layer has "
                         "FN * (OH // 2) * (OW // 2) inputs, OH = H - filter_size + 1.")


net = SimpleConvNet(input_dim=(1, 10, 10), filter_num=4, filter_size=3, hidden_size=6, output_size=3, seed=0)
check_net_structure(net, {"0.W": (4, 1, 3, 3), "0.b": (4,), "3.W": (64, 6), "3.b": (6,), "5.W": (6, 3), "5.b": (3,)},
                    "SimpleConvNet(input_dim=(1, 10, 10), filter_num=4, filter_size=3, hidden_size=6, output_size=3)")
default = SimpleConvNet()
check_net_structure(default, {"0.W": (30, 1, 5, 5), "0.b": (30,), "3.W": (4320, 100), "3.b": (100,),
                              "5.W": (100, 10), "5.b": (10,)}, "SimpleConvNet()")
for key, fan_in in (("0.W", 25), ("3.W", 4320)):
    check_that("standard_deviation_near", (default.params[key],), f"SimpleConvNet().params[{key!r}]",
               expected=float(np.sqrt(2 / fan_in)), tolerance=0.15,
               formula=f"He's initialization gives sqrt(2 / {fan_in})", hint="he_normal(shape, rng).")
for key, size in (("0.b", 30), ("3.b", 100), ("5.b", 10)):
    check_close(default.params[key], np.zeros(size), f"SimpleConvNet().params[{key!r}]", rtol=0, atol=0,
                hint="SimpleConvNet's biases start at zero.")
### BEGIN HIDDEN TESTS
### BEGIN REFERENCE
def _scores(params, x):
    """Reference scores of a SimpleConvNet with the given parameters."""
    h = np.maximum(_ref_conv(x, params["0.W"], params["0.b"]), 0)
    h = _windows(h, 2, 2, 2).max(axis=(4, 5)).reshape(len(x), -1)
    h = np.maximum(h @ params["3.W"] + params["3.b"], 0)
    return h @ params["5.W"] + params["5.b"]


def _loss(params, x, t):
    s = _scores(params, x)
    s = s - s.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(x)), t]))
### END REFERENCE


# Reference convolution and max-pooling layers (on the reference im2col and col2im of test_convolution), so
# that the network is graded on its own.
class _RefConvolution:
    """Reference convolution layer."""

    def __init__(self, weights, bias, stride=1, pad=0):
        self.params = dict(W=weights, b=bias)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.step, self.padding = stride, pad

    def forward(self, images):
        self.images = images
        weights = self.params["W"]
        fn, c, fh, fw = weights.shape
        oh = (images.shape[2] + 2 * self.padding - fh) // self.step + 1
        ow = (images.shape[3] + 2 * self.padding - fw) // self.step + 1
        rows = _ref_im2col(images, fh, fw, self.step, self.padding) @ weights.reshape(fn, -1).T + self.params["b"]
        return rows.reshape(len(images), oh, ow, fn).transpose(0, 3, 1, 2)

    def backward(self, grad_out):
        weights = self.params["W"]
        fn, c, fh, fw = weights.shape
        cols = _ref_im2col(self.images, fh, fw, self.step, self.padding)
        rows = np.moveaxis(grad_out, 1, 3).reshape(-1, fn)
        self.grads["W"] = np.tensordot(rows, cols, axes=(0, 0)).reshape(weights.shape)
        self.grads["b"] = grad_out.sum(axis=(0, 2, 3))
        return _ref_col2im(rows @ weights.reshape(fn, -1), self.images.shape, fh, fw, self.step, self.padding)


class _SpyConvolution(_RefConvolution):
    """The reference convolution, recording the batch size of every forward."""
    seen = []

    def forward(self, images):
        _SpyConvolution.seen.append(len(images))
        return super().forward(images)


class _RefMaxPooling:
    """Reference max-pooling layer: all of a window's gradient to its first maximum."""

    def __init__(self, pool_h=2, pool_w=2, stride=2, pad=0):
        self.size, self.step = (pool_h, pool_w), stride
        self.params, self.grads = dict(), dict()

    def forward(self, images):
        (ph, pw), n, c = self.size, len(images), images.shape[1]
        pools = _ref_im2col(images, ph, pw, self.step).reshape(-1, ph * pw)        # one window a row: (n, i, j, c)
        self.shape, self.first = images.shape, pools.argmax(axis=1)
        oh, ow = (images.shape[2] - ph) // self.step + 1, (images.shape[3] - pw) // self.step + 1
        return pools.max(axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, grad_out):
        (ph, pw), c = self.size, self.shape[1]
        dpools = np.zeros((grad_out.size, ph * pw))
        dpools[np.arange(grad_out.size), self.first] = np.moveaxis(grad_out, 1, 3).reshape(-1)
        return _ref_col2im(dpools.reshape(-1, c * ph * pw), self.shape, ph, pw, self.step)


rng = np.random.default_rng(607)
with replaced(globals(), Convolution=_SpyConvolution, MaxPooling=_RefMaxPooling):
    small = dict(input_dim=(2, 9, 8), filter_num=3, filter_size=3, hidden_size=5, output_size=4)
    net = SimpleConvNet(**small, seed=1)
    check_net_structure(net, {"0.W": (3, 2, 3, 3), "0.b": (3,), "3.W": (27, 5), "3.b": (5,), "5.W": (5, 4),
                              "5.b": (4,)}, "SimpleConvNet(input_dim=(2, 9, 8), filter_num=3, filter_size=3, ...)",
                        ["_SpyConvolution", "ReLU", "_RefMaxPooling", "Affine", "ReLU", "Affine"])
    again, other = SimpleConvNet(**small, seed=1), SimpleConvNet(**small, seed=2)
    seeded = "draw every weight from one rng = np.random.default_rng(seed)."
    check_that("agree", (np.concatenate([np.ravel(again.params[k]) for k in net.params]),
                         np.concatenate([np.ravel(net.params[k]) for k in net.params])),
               "SimpleConvNet(..., seed=1) twice", what="the first network's parameters", rtol=0, atol=0, hint=seeded)
    check_that("differ", (np.concatenate([np.ravel(other.params[k]) for k in net.params if k.endswith("W")]),
                          np.concatenate([np.ravel(net.params[k]) for k in net.params if k.endswith("W")])),
               "SimpleConvNet with the seeds 1 and 2", same="the same weights for both seeds", rtol=1e-6, atol=1e-8,
               hint=seeded)
    x_ = rng.normal(size=(130, 2, 9, 8))
    t_ = rng.integers(0, 4, size=130)
    check_close(check_scalar(call(net.loss, x_, t_, name="SimpleConvNet.loss"), "SimpleConvNet.loss",
                             hint="loss returns the mean cross-entropy of the batch, one number."),
                _loss(net.params, x_, t_), "SimpleConvNet.loss on 130 images",
                hint="the layers in the order conv, ReLU, pool, affine, ReLU, affine.")
    grads = {k: np.array(v, dtype=np.float64) for k, v in call(net.gradient, x_[:5], t_[:5],
                                                               name="SimpleConvNet.gradient").items()}
    for key in net.params:
        ### BEGIN REFERENCE
        numerical = numerical_gradient_array(lambda _: np.array(_loss(net.params, x_[:5], t_[:5])), net.params[key],
                                             np.array(1.0))
        ### END REFERENCE
        check_gradient(grads.get(key), numerical, f"SimpleConvNet.gradient on 5 images: {key!r}",
                       hint="gradient runs one training forward pass, then backward through the layers in reverse "
                            "order; every parameter's gradient comes from its own layer's grads.")
    # the mean loss over 130 images: its gradient is (100 * the first 100's + 30 * the last 30's) / 130
    ### BEGIN REFERENCE
    parts = [{k: np.array(v, dtype=np.float64) for k, v in net.gradient(x_[rows], t_[rows]).items()}
             for rows in (slice(0, 100), slice(100, 130))]
    ### END REFERENCE
    one_pass = ("predict(x, train=True) must be ONE forward pass over all images (no batches): backward uses what "
                "that forward kept.")
    grads = call(net.gradient, x_, t_, name="SimpleConvNet.gradient", hint=one_pass)
    for key in net.params:
        check_close(grads[key], (100 * parts[0][key] + 30 * parts[1][key]) / 130,
                    f"SimpleConvNet.gradient on 130 images: {key!r}", hint=one_pass)
    # prediction in batches: at most 100 images per pass, the same scores, bounded memory
    _SpyConvolution.seen.clear()
    scores = call(net.predict, x_, name="SimpleConvNet.predict")
    check_close(scores, _scores(net.params, x_), "SimpleConvNet.predict(x) on 130 images",
                hint="stack the scores of the batches in their order (np.concatenate along axis 0), in test mode.")
    check_that("batch_sizes", (_SpyConvolution.seen,), "SimpleConvNet.predict(x) on 130 images, through the "
               "convolution", largest=100, hint="predict at most batch_size = 100 images at a time.")
    _SpyConvolution.seen.clear()
    call(net.predict, x_, False, 7, name="SimpleConvNet.predict")
    check_that("batch_sizes", (_SpyConvolution.seen,), "SimpleConvNet.predict(x, batch_size=7) on 130 images, "
               "through the convolution", largest=7, total=130,
               hint="predict at most batch_size images at a time, every image once.")
    big = SimpleConvNet(seed=3)
    images = rng.random((600, 1, 28, 28)).astype(np.float32)
    tracemalloc.start()
    try:
        scores = call(big.predict, images, name="SimpleConvNet.predict")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    scores_bytes = np.asarray(scores).nbytes
    scores = check_shape(scores, (600, 10), "SimpleConvNet().predict on 600 images",
                         hint="one row of scores per image: concatenate the batches' scores along axis 0.")
    check_that("peak_memory_within", (peak, scores_bytes), "SimpleConvNet().predict on 600 MNIST-sized images",
               allowance=100e6, hint="predict batch_size images at a time and keep only their scores.")
    labels = rng.integers(0, 10, size=600)
    check_that("agree", (call(big.accuracy, images, labels, name="SimpleConvNet.accuracy"),
                         np.mean(np.argmax(scores, axis=1) == labels)), "SimpleConvNet().accuracy on 600 images",
               what="the share of its predictions that are right", rtol=1e-6, atol=1e-8,
               hint="accuracy = the mean of (argmax of the scores == label) over every image, from predict in batches; "
                    "do not drop the last, short batch.")
    # save and load (chapter 03's format) round-trip
    with tempfile.TemporaryDirectory() as temporary:
        path = str(Path(temporary) / "net.npz")
        net.save(path)
        loaded = SimpleConvNet(**small, seed=5)
        loaded.load(path)
        check_close(call(loaded.predict, x_, name="SimpleConvNet.predict"), _scores(net.params, x_),
                    "a SimpleConvNet loaded from a saved one: predict",
                    hint="keep chapter 03's save and load: the parameters by name, written into the layers' own arrays.")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Convolution, fast and slow
#
# The same input through your loops and through your im2col layer: the same numbers, and the
# speed-up im2col buys. (The times are this machine's; run the cell again to see the spread.)

# %% demo=true
def seconds(function, *args, repeat=3):
    """The best of `repeat` wall-clock times of function(*args), in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - start)
    return best


rng = np.random.default_rng(0)
x_speed = rng.random((20, 1, 28, 28))
W_speed, b_speed = rng.normal(size=(30, 1, 5, 5)), np.zeros(30)
same = np.allclose(conv_forward_naive(x_speed, W_speed, b_speed), Convolution(W_speed, b_speed).forward(x_speed))
timings = {"loops (conv_forward_naive)": seconds(conv_forward_naive, x_speed, W_speed, b_speed),
           "im2col (Convolution.forward)": seconds(Convolution(W_speed, b_speed).forward, x_speed)}
print(f"20 images, 30 filters 5x5: the same output: {same}")
for label, t in timings.items():
    print(f"{label:30s} {t * 1e3:8.1f} ms")
print(f"im2col is {timings['loops (conv_forward_naive)'] / timings['im2col (Convolution.forward)']:.0f} times faster")
speed_figure(timings)

# %% [markdown]
# ## 8. Training the network on MNIST
#
# Training is a loop like chapter 04's `train`, with Adam. The graded run below trains on 5000 images for one epoch
# (50 steps of 100 images, seconds) and measures the accuracy on 1000 validation images, held out from
# the training set as in chapter 02 — about 90 % after these 50 steps; every 5 steps it keeps a copy of
# the 30 first-layer filters for the filter viewer. Set `FULL_RUN = True` to train on all 50 000
# training images instead (see the end of this section), and set it back before you hand the notebook
# in — the grader gives each cell 60 seconds.

# %%
FULL_RUN = False  # True: all 50 000 training images, 3 epochs (minutes)


# %%
def train_conv_net(net, optimizer, x, t, epochs, batch_size=100, seed=0, monitor=None, snapshot_every=None):
    """Mini-batch training of `net` (integer labels t) with `optimizer`.

    Returns:
        (losses, snapshots): the loss of every step, and every `snapshot_every` steps (and at step 0) a
        (label, copy of the first-layer filters (FN, C, FH, FW)) pair for the filter viewer.
    """
    losses, snapshots, step = [], [], 0
    if snapshot_every:
        snapshots.append(("step 0", net.params["0.W"].copy()))
    for epoch in range(epochs):
        for x_batch, t_batch in minibatches(x, t, batch_size, seed=seed + epoch):
            optimizer.update(net.params, net.gradient(x_batch, t_batch))
            # The loss layer kept this batch's softmax probabilities (N, 10): the loss and the batch
            # accuracy come from them, without a second forward pass. A probability that underflowed
            # to 0 would give log 0 = -inf (chapter 02), hence the floor at the smallest normal float
            # (that step's logged loss is then capped near 708).
            probabilities = net.loss_layer.y
            true_class = probabilities[np.arange(len(t_batch)), t_batch]
            losses.append(float(-np.mean(np.log(np.maximum(true_class, np.finfo(true_class.dtype).tiny)))))
            step += 1
            if monitor is not None:
                batch_accuracy = float(np.mean(np.argmax(probabilities, axis=1) == t_batch))
                monitor.update(loss=losses[-1], batch_accuracy=batch_accuracy)
            if snapshot_every and step % snapshot_every == 0:
                snapshots.append((f"step {step}", net.params["0.W"].copy()))
    return losses, snapshots


# %% demo=true
(x_train, t_train), (x_val, t_val), (x_test, t_test) = load_mnist(flatten=False, n_train=5000, n_validation=10_000)
x_held_out, t_held_out = x_val[:1000], t_val[:1000]
net = SimpleConvNet(seed=0)
start = time.perf_counter()
with TrainingMonitor(total=50, title="SimpleConvNet, Adam lr 0.001, 5000 images", every=1.0) as monitor:
    losses, snapshots = train_conv_net(net, Adam(lr=0.001), x_train, t_train, epochs=1, monitor=monitor,
                                       snapshot_every=5)
print(f"50 steps in {time.perf_counter() - start:.1f} s; accuracy on 1000 validation images: "
      f"{net.accuracy(x_held_out, t_held_out):.3f}")

# %% [markdown]
# The trained weights are saved and loaded with chapter 03's `save` and `load` (one `.npz` file, keys
# `"0.W"` … `"5.b"`): a fresh network that loads them predicts exactly the same.

# %% demo=true
with tempfile.TemporaryDirectory() as folder:
    path = str(Path(folder) / "simple_conv_net.npz")
    net.save(path)
    restored = SimpleConvNet(seed=1)
    restored.load(path)
    same = np.array_equal(restored.predict(x_held_out), net.predict(x_held_out))
    print(f"{Path(path).stat().st_size / 1e6:.2f} MB; the loaded network predicts exactly the same: {same}")

# %% [markdown]
# ### The full run
#
# With `FULL_RUN = True` the cell below trains a fresh network with your own layers (float64) on all
# 50 000 training images for three epochs, measures the accuracy on the 10 000 validation images after
# every epoch, and on the 10 000 test images once, at the end. The recipe: Momentum ($\mu$ = 0.9) with
# learning rate 0.03 on batches of 20 images, the learning rate multiplied by 0.3 after every epoch
# (in the course's measurements, small batches and a decaying rate did better here than Adam on
# batches of 100; `python benchmarks/cnn_full_run.py --optimizer Adam --lr 0.001 --batch-size 100`
# runs that alternative). The DLFS book trains this network for 20 epochs with
# Adam on batches of 100 (its `ch07/train_convnet.py`) and reports about 99 % test accuracy. Measured on the course's 2-core test machine (`python benchmarks/full_runs.py 06_cnn`
# records the run in `benchmarks/full_runs/06_cnn.txt`), this cell reached a validation accuracy of
# 98.38 % after one epoch, 98.89 % after two and 98.96 % after three, and **99.00 % on the test set**,
# in about 3 minutes of training and validation.

# %% demo=true
from dlfs.monitor import announce_full_run

announce_full_run(FULL_RUN, 4.1, "training SimpleConvNet on 50 000 images for 3 epochs")
if FULL_RUN:
    (x_all, t_all), (x_val_all, t_val_all), (x_test_all, t_test_all) = load_mnist(flatten=False, n_validation=10_000)
    full_net = SimpleConvNet(seed=0)
    optimizer = Momentum(lr=0.03, momentum=0.9)
    start = time.perf_counter()
    for epoch in range(3):
        with TrainingMonitor(total=len(x_all) // 20, title=f"epoch {epoch + 1} of 3, lr {optimizer.lr:g}",
                             every=2.0) as monitor:
            train_conv_net(full_net, optimizer, x_all, t_all, epochs=1, batch_size=20, seed=epoch, monitor=monitor)
        optimizer.lr *= 0.3
        print(f"epoch {epoch + 1}: validation accuracy {full_net.accuracy(x_val_all, t_val_all):.4f} "
              f"({time.perf_counter() - start:.0f} s of training and validation so far)")
    print(f"test accuracy, looked at once: {full_net.accuracy(x_test_all, t_test_all):.4f}")
else:
    print("FULL_RUN is False: the full training is skipped.")

# %% [markdown]
# ## 9. What the network learned
#
# **The filters.** Each first-layer filter is a 5×5 pattern the network matches against every window
# of the digit (red: positive weights, blue: negative). They start as random noise (He's
# initialization), and 50 small steps only move them a little: the slider over the snapshots shows
# which weights moved. What each filter responds to is easier to see in its output, the feature maps
# below. Run the viewer after the full run to see filters trained for three epochs.

# %% demo=true
FilterViewer(snapshots if not FULL_RUN else snapshots + [("full run", full_net.params["0.W"].copy())])

# %% [markdown]
# **Feature maps.** Pick a test digit: the first row shows the 30 maps of the convolution's output —
# where each filter found its pattern — then the same maps after ReLU (negative responses cut to 0)
# and after max-pooling (half the size, the strongest response of every 2×2 block kept).

# %% demo=true
conv_layer, relu_layer, pool_layer = net.layers[:3]


def first_stages(image):
    """The outputs of the first three layers for one image (1, 1, 28, 28)."""
    convolved = conv_layer.forward(image)
    rectified = relu_layer.forward(convolved)
    return {"convolution": convolved, "ReLU": rectified, "max-pooling": pool_layer.forward(rectified)}


FeatureMaps(x_test[:50], first_stages, labels=t_test[:50])

# %% [markdown]
# **A convolution explorer.** Classic image processing uses hand-made 3×3 kernels; your convolution
# applies them (padding 1 keeps the size). Pick one, or type your own numbers into the kernel: a
# kernel that sums to 0 (edges, Sobel) answers only where the image changes, one that sums to 1 (blur,
# sharpen) keeps the brightness. The filters your network learned are of the same kind.

# %% demo=true
def convolve(image, kernel):
    """One (H, W) image convolved with one (3, 3) kernel by your Convolution layer, size kept."""
    layer = Convolution(np.asarray(kernel, dtype=np.float64)[None, None], np.zeros(1), stride=1, pad=1)
    return layer.forward(np.asarray(image, dtype=np.float64)[None, None])[0, 0]


ConvolutionExplorer(x_test[0, 0], convolve)

# %% [markdown]
# ## 10. Faster still
#
# Your network is a clear im2col implementation, like the DLFS book's. The course also has a fast
# reference of the same network, `benchmarks/fast_cnn.py`: the same parameters, the same loss and the
# same gradients (a test checks them against this chapter's network to $10^{-10}$ in float64), in a
# fraction of the time. `python benchmarks/cnn_train_step.py` times one training step (batch 100) of
# your kind of network, of the fast reference and, if it is installed, of the same network in PyTorch
# on the same CPU, and prints last `ratio fast/pytorch` (below 1: the fast reference is faster). The
# fast reference owes its speed to seven ideas, none of them exotic:
#
# 1. **float32.** Half the bytes to move and twice the numbers per vector instruction; 24 bits of
#    mantissa are plenty for training (not for numerical gradient checks — keep float64 there).
# 2. **Window views instead of index arithmetic.** `np.lib.stride_tricks.sliding_window_view` returns
#    every window as a view without copying; one copy then lays the im2col matrix out.
# 3. **Columns ordered by pooling window.** If the im2col rows of the four members of every 2×2
#    pooling window are grouped into four blocks, the convolution's single matrix product returns the
#    four members as four contiguous arrays: max-pooling becomes three element-wise maxima, and its
#    backward pass needs no scatter.
# 4. **Pooling before bias and ReLU.** The bias is the same over a pooling window and ReLU never
#    reverses the order of two numbers, so $\max_w \text{ReLU}(c_w + b) = \text{ReLU}(\max_w c_w + b)$:
#    the bias and the ReLU only touch the pooled quarter of the values.
# 5. **No dx for the first layer.** Nothing needs the gradient with respect to the images: skip the
#    product `dY @ W` and the whole `col2im`.
# 6. **One large matrix product per layer,** with the batch folded into the rows, so BLAS runs long
#    loops on both cores.
# 7. **Buffers reused** from one step to the next instead of allocating tens of megabytes every step,
#    and element-wise operations done in place.
#
# The cells below measure ideas 1, 4 and 5 on your layers, for the first layer of the network and a
# batch of 100 images.

# %% demo=true
rng = np.random.default_rng(1)
x64 = rng.random((100, 1, 28, 28))
W64 = he_normal((30, 1, 5, 5), rng)


def conv_step(W, x):
    """Forward and backward of your Convolution layer for the batch x."""
    layer = Convolution(W, np.zeros(len(W), dtype=W.dtype))
    out = layer.forward(x)
    layer.backward(np.ones_like(out))


t64 = seconds(conv_step, W64, x64)
t32 = seconds(conv_step, W64.astype(np.float32), x64.astype(np.float32))
print(f"1. convolution forward + backward, float64: {t64 * 1e3:6.1f} ms, float32: {t32 * 1e3:6.1f} ms")

maps = Convolution(W64, np.zeros(30)).forward(x64)
relu_then_pool = MaxPooling(2, 2, 2).forward(ReLU().forward(maps))
pool_then_relu = ReLU().forward(MaxPooling(2, 2, 2).forward(maps))
print(f"4. ReLU then pool equals pool then ReLU: {np.array_equal(relu_then_pool, pool_then_relu)}; "
      f"ReLU on {maps.shape}: {seconds(ReLU().forward, maps) * 1e3:.1f} ms, "
      f"on {pool_then_relu.shape}: {seconds(ReLU().forward, pool_then_relu) * 1e3:.1f} ms")

dcol = rng.normal(size=(100 * 24 * 24, 25))
t_col2im = seconds(col2im, dcol, x64.shape, 5, 5)
print(f"5. col2im for dx of the first layer: {t_col2im * 1e3:.1f} ms of the {t64 * 1e3:.1f} ms above, "
      "saved by not computing dx")

# %% [markdown]
# **Optional exercise (not graded).** Write `im2col_windows`, an im2col with the same layout as yours
# built on `np.lib.stride_tricks.sliding_window_view` (idea 2): pad, take the $(F_H, F_W)$ windows over
# axes 2 and 3, keep every `stride`-th one, then one `transpose` and one `reshape`. The cell after it
# checks it against your `im2col` and times both. Leave it returning `None` to skip.

# %%
def im2col_windows(x, FH, FW, stride=1, pad=0):
    """Optional: im2col through window views; the layout of im2col."""
    return None  # replace with your version


# %% demo=true
x_windows = rng.random((100, 3, 28, 28))
if im2col_windows(x_windows, 5, 5, 1, 2) is None:
    print("im2col_windows is not written (optional).")
else:
    for stride, pad in ((1, 0), (1, 2), (2, 1)):
        agree = np.array_equal(im2col_windows(x_windows, 5, 5, stride, pad), im2col(x_windows, 5, 5, stride, pad))
        print(f"stride {stride}, pad {pad}: the same matrix as im2col: {agree}")
    print(f"im2col: {seconds(im2col, x_windows, 5, 5) * 1e3:.1f} ms, "
          f"im2col_windows: {seconds(im2col_windows, x_windows, 5, 5) * 1e3:.1f} ms")

# %% [markdown]
# ## 11. Written question
#
# **Written question (3 points, graded by a person).** Take the first layer of `SimpleConvNet` — 30
# filters of 5×5 on 28×28 MNIST images, stride 1, no padding — and a batch of 100 images.
# (a) What is the shape of its output? (b) How many multiply-adds does its forward pass make (give the
# formula and the number)? (c) How many values does its im2col matrix hold, how many megabytes is that
# in float64, and how does that compare with the batch itself? (d) Why is the im2col version
# nevertheless much faster than loops, and when does its memory become a problem? Answer in five to
# eight sentences.

# %% [markdown] written="q_im2col_memory" points=3
# ### BEGIN SOLUTION
# (a) $O_H = O_W = (28 - 5)/1 + 1 = 24$, so the output has shape $(100, 30, 24, 24)$. (b) Each of the
# $100 \cdot 30 \cdot 24 \cdot 24 = 1\,728\,000$ outputs is a sum of $C F_H F_W = 25$ products:
# $N F_N O_H O_W \cdot C F_H F_W = 43\,200\,000$ multiply-adds (plus one bias addition per output).
# (c) `col` has $N O_H O_W = 57\,600$ rows of $C F_H F_W = 25$ values, 1 440 000 values, 11.5 MB in
# float64, against 78 400 values (0.63 MB) for the batch: about 18 times as much, because every
# interior pixel is copied into 25 windows. (d) The copy costs one pass over 1.44 million values, and
# then all 43 million multiply-adds happen inside one matrix product, which BLAS computes with
# vector instructions, cache blocking and both cores, instead of millions of Python-level loop steps
# that each do a handful of arithmetic operations; trading a linear amount of extra memory for that is
# cheap. It becomes a problem when the batch is large: for all 60 000 training images `col` alone
# would need about 6.9 GB in float64, which is why evaluation must run in batches of a bounded size.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - A convolution computes $b_f + \sum_{c,u,v} W[f,c,u,v]\,\tilde x[n, c, iS+u, jS+v]$ with output size
#   $\lfloor (H + 2P - F_H)/S \rfloor + 1$; loops are the definition, not the implementation.
# - `im2col` lays every window out as a row (rows $n, i, j$; columns $c, u, v$) so that the convolution
#   is one matrix product; `col2im`, its transpose, adds gradients back onto the pixels, summing
#   where windows overlap.
# - The convolution layer's backward is an affine layer's backward on `col`, with `col2im` for $dx$.
# - Max-pooling routes the whole gradient to each window's (first) maximum, average-pooling shares it
#   equally; overlapping windows add up.
# - A convolutional network is a chapter-03 `Model` of these layers; evaluating it in batches keeps its
#   memory bounded whatever the data set's size.
#
# Next, in **07 — the capstone**, you build a CNN for colour CIFAR-10 images by hand and find out why a
# network that looks right can refuse to learn.
