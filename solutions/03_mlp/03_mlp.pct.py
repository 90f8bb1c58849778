# %% [markdown]
# # 03 — Multilayer perceptron and backpropagation
#
# **Learning objectives.** After this notebook you can
# 1. write the layers of a multilayer perceptron — `Affine`, `ReLU`, `Sigmoid`, `LeakyReLU`, `ELU`,
#    `Flatten` and `SoftmaxWithLoss` — each with a `forward` pass that keeps what it needs and a
#    `backward` pass that applies the chain rule, with the shapes at every step;
# 2. check any layer's backward pass against a numerical gradient, and read the relative error;
# 3. stack layers into a `Model` that predicts, computes the loss and its gradient by
#    backpropagation, measures accuracy in memory-bounded batches, and saves and loads its weights;
# 4. explain why hidden layers need a nonlinear activation (XOR, two moons);
# 5. train a two-hidden-layer network on MNIST and look at the digits it gets wrong.
#
# **How this notebook is graded.** Each exercise is a cell with `raise NotImplementedError()`: replace
# that line with your code (in a class, replace it inside each method) and run the cell. The cell
# after it holds tests: run it to check yourself. The tests you see are part of the grade; hidden
# tests (random inputs, edge cases, numerical gradient checks) run when your notebook is graded. A
# failing test says what was expected, what you returned, and a hint. Each test cell grades its own
# exercise only: when an exercise uses earlier ones, the test swaps in stand-ins, so one mistake
# costs points once. One question at the end is read and graded by a person.
#
# **Why hidden layers.** Chapter 02's softmax regression scores each class with one affine function
# of the pixels, so the boundary between two classes is a straight line (a hyperplane): it can only
# separate classes that a hyperplane separates. The four points of XOR — $(0, 0)$ and $(1, 1)$ in one
# class, $(0, 1)$ and $(1, 0)$ in the other — already defeat it: any line that puts both points of
# one class on its side puts a point of the other class there too. Stacking affine layers does not
# help by itself: with examples as rows, as everywhere in this course,
# $(X W_1 + b_1)\, W_2 + b_2 = X\,(W_1 W_2) + (b_1 W_2 + b_2)$ is again one affine function, with the
# same straight boundaries. What breaks the collapse is a *nonlinear* activation
# between the layers, such as ReLU: then every hidden layer bends the space the next one draws its
# lines in. For XOR two ReLUs are enough: with $h = (\operatorname{ReLU}(x_1 + x_2),\
# \operatorname{ReLU}(x_1 + x_2 - 1))$, the output $h_1 - 2h_2$ is 0, 1, 1, 0 on $(0, 0)$, $(0, 1)$,
# $(1, 0)$, $(1, 1)$. Section 10 shows the difference on two interleaving half-moons before training on MNIST.
#
# **What you already have.** Chapter 02's softmax, log-softmax and cross-entropy are provided, solved,
# in the package `provided` next to this notebook (`from provided.softmax import ...`).
#
# **Notation.**
#
# | symbol | meaning |
# |---|---|
# | $N$, $D$, $M$, $C$ | batch size, a layer's inputs, its outputs, classes |
# | $x$; $X$ = `x.reshape(N, D)` | a layer's input; the same, one flattened row per example |
# | $W$ $(D, M)$, $b$ $(M,)$ | an affine layer's parameters (`params["W"]`, `params["b"]`) |
# | out; `dout` $= \partial L/\partial\,\text{out}$ | a layer's output and its gradient; $\text{dout}_n$ is row $n$ |
# | `dx`, `grads[name]` | $\partial L/\partial x$; $\partial L/\partial$ each parameter |
# | $A$ $(N, C)$; $\hat Y = \operatorname{softmax}(A)$ | scores; predicted probabilities, entries $\hat y_{nk}$ |
# | $t$ $(N,)$ / $T$ $(N, C)$ | integer labels $0, \dots, C-1$ / the same labels one-hot |
# | $f$, $f'$, $\alpha$ | an activation, its derivative, the slope of Leaky ReLU and the scale of ELU |
# | $\sigma$ | the sigmoid $1/(1 + e^{-x})$ (chapter 05 uses $\sigma$ for a standard deviation and writes the sigmoid out) |
# | `loss_layer.y` | $\hat Y$ in code (the DLFS book's attribute name) |
# | $\eta$ | learning rate (`lr`) |

# %% export=true
import inspect

import numpy as np

from dlfs.gradcheck import numerical_gradient_array, rel_error
from provided.softmax import cross_entropy, cross_entropy_grad, log_softmax, softmax

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from dlfs.data import load_mnist
from dlfs.gradcheck import numerical_gradient
from dlfs.grading import (GradingError, call, check_close, check_gradient, check_scalar, check_shape, grad_of,
                          unchanged)
from dlfs.monitor import TrainingMonitor
from dlfs.playground import decision_boundaries
from dlfs.plots import image_grid
from dlfs.synthetic import make_moons

np.set_printoptions(precision=4, suppress=True)


class StandInScale:
    """A stand-in layer the tests use instead of yours: out = x * w, with one weight per feature."""

    def __init__(self, w):
        self.params = {"w": w}
        self.grads = {"w": np.zeros_like(w)}

    def forward(self, x):
        self.x = x
        return x * self.params["w"]

    def backward(self, dout):
        self.grads["w"] = (dout * self.x).sum(axis=0)
        return dout * self.params["w"]


# %% [markdown]
# ## 1. The layer interface
#
# In chapter 01 a layer had a `forward` and a `backward`. From now on every layer follows one
# interface, so that a model can treat them all alike and an optimizer can update any of them:
#
# | member | meaning |
# |---|---|
# | `forward(x) -> out` | computes the output and **keeps** what backward will need (`self.x`, a mask, ...) |
# | `backward(dout) -> dx` | `dout` $= \partial L/\partial\,\text{out}$ (shape of `out`) $\;\to\;$ `dx` $= \partial L/\partial x$ (shape of `x`) |
# | `params` | dict name $\to$ the layer's own parameter arrays, e.g. `{"W": W, "b": b}`; `{}` without parameters |
# | `grads` | dict with the same keys: $\partial L/\partial$ each parameter, set by `backward` |
#
# Two rules hold for every layer in this course:
# - **never modify an input in place** — neither `x` in `forward` nor `dout` in `backward`. Other
#   code still holds those arrays (the layer before, the data set, a gradient check); build new
#   arrays instead (`np.maximum(x, 0)`, `x * mask`, `x.copy()`);
# - **read the parameters from `self.params` every time**. An optimizer updates those very arrays in
#   place (`W -= lr * dW`) and `load` writes saved weights into them; the layer must see the change.

# %% [markdown]
# ## 2. The affine layer
#
# An affine (fully connected) layer maps $D$ inputs to $M$ outputs with weights $W$ $(D, M)$ and bias
# $b$ $(M,)$. Its input may be a batch of images, e.g. $(N, 1, 28, 28)$: the layer first flattens
# each example into a row, $X = \text{reshape}(x, (N, D))$, with $D$ the product of the other axes.
#
# $$ \text{out} = X W + b \qquad (N, D)\,(D, M) + (M,) \to (N, M) $$
#
# Backward, with `dout` $= \partial L/\partial\,\text{out}$ of shape $(N, M)$:
#
# $$ \frac{\partial L}{\partial W} = X^\top \,\text{dout} \quad (D, M), \qquad
#    \frac{\partial L}{\partial b} = \sum_{n} \text{dout}_n \quad (M,), \qquad
#    \frac{\partial L}{\partial X} = \text{dout}\, W^\top \quad (N, D), $$
#
# and $\partial L/\partial x$ is $\partial L/\partial X$ reshaped back to the **original** shape of
# `x`, e.g. $(N, 1, 28, 28)$. As in chapter 01, $b$ was added to every example, so $\partial L/\partial b$
# is a **sum** over the batch: the $\frac1N$ of the mean lives only in the loss.
#
# **Exercise 1 (3 points).** Complete `Affine.forward` and `Affine.backward`. Store the parameter
# gradients in `self.grads["W"]` and `self.grads["b"]`.

# %% answer="affine" export=true
class Affine:
    """out = x.reshape(N, D) @ W + b, for x of shape (N, ...) with D = prod(...)."""

    def __init__(self, W, b):
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.x = None        # the input flattened to (N, D), kept for backward
        self.x_shape = None  # the original input shape, e.g. (N, 1, 28, 28)

    def forward(self, x):
        """x: (N, ...) with D features per example -> out: (N, M)."""
        ### BEGIN SOLUTION
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.params["W"] + self.params["b"]
        ### END SOLUTION

    def backward(self, dout):
        """dout: (N, M) -> dx of the original input shape; sets self.grads["W"] (D, M), ["b"] (M,)."""
        ### BEGIN SOLUTION
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return (dout @ self.params["W"].T).reshape(self.x_shape)
        ### END SOLUTION


# %% tests="test_affine" points=3
# By hand, N=2 examples, D=2 inputs, M=3 outputs: row 0 of x picks row 0 of W; row 1 is 2 * W[0] + W[1]; then + b.
W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = np.array([0.1, 0.2, 0.3])
x = np.array([[1.0, 0.0], [2.0, 1.0]])
layer = Affine(W, b)
with unchanged("Affine.forward", x=x):
    out = call(layer.forward, x, name="Affine.forward", hint="out = x.reshape(N, -1) @ W + b: (N, D) @ (D, M) + (M,).")
check_close(out, [[1.1, 2.2, 3.3], [6.1, 9.2, 12.3]], "Affine.forward(x)",
            hint="out = x @ W + b, a matrix product, shape (N, M).")
dout = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
dx = call(layer.backward, dout, name="Affine.backward", hint="dx = dout @ W.T: (N, M) @ (M, D).")
check_close(dx, [[1.0, 4.0], [5.0, 11.0]], "Affine.backward: dx", hint="dx = dout @ W.T, shape (N, D) like x.")
check_close(grad_of(layer, "W", "Affine"), [[1.0, 2.0, 2.0], [0.0, 1.0, 1.0]], 'Affine.grads["W"]',
            hint="dW = x.T @ dout with the (flattened) x kept in forward, shape (D, M) like W.", mistakes=[
                ([[0.5, 1.0, 1.0], [0.0, 0.5, 0.5]], "do not divide dW by N: the 1/N of the mean lives only in the "
                                                     "loss layer.")])
check_close(grad_of(layer, "b", "Affine"), [1.0, 1.0, 1.0], 'Affine.grads["b"]', mistakes=[
    ([0.5, 0.5, 0.5], "b was added to every example: db is the SUM of dout over the batch, not the mean."),
], hint="db = dout.sum(axis=0): a sum over the batch axis, shape (M,).")
# Any rank: a batch of two 1x2x2 "images" is flattened to (2, 4) and dx gets the image shape back.
images = np.arange(8.0).reshape(2, 1, 2, 2)
layer = Affine(np.ones((4, 3)), np.zeros(3))
check_close(call(layer.forward, images, name="Affine.forward", hint="flatten each example first: x.reshape(N, -1)."),
            [[6.0] * 3, [22.0] * 3], "Affine.forward on (2, 1, 2, 2) images", hint="flatten each example: x.reshape(N, -1).")
dx = call(layer.backward, np.ones((2, 3)), name="Affine.backward", hint="dx = (dout @ W.T).reshape(x.shape).")
check_shape(dx, (2, 1, 2, 2), "Affine.backward on (2, 1, 2, 2) images: dx",
            hint="remember x.shape in forward and reshape dx back to it.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(301)
for shape, m in (((5, 4), 3), ((3, 2, 4), 2), ((2, 3, 2, 2), 4), ((1, 6), 1)):
    n, d = shape[0], int(np.prod(shape[1:]))
    x_, W_, b_ = rng.normal(size=shape), rng.normal(size=(d, m)), rng.normal(size=m)
    dout_ = rng.normal(size=(n, m))
    layer = Affine(W_, b_)
    with unchanged("Affine", x=x_, W=W_, b=b_, dout=dout_):
        out = call(layer.forward, x_, name="Affine.forward")
        check_close(out, x_.reshape(n, d) @ W_ + b_, f"Affine.forward on {shape}",
                    hint="flatten x to (N, D) with x.reshape(N, -1), then x @ W + b.")
        dx = call(layer.backward, dout_, name="Affine.backward")
    where = f"Affine on input {shape}"
    check_gradient(dx, numerical_gradient_array(lambda z: z.reshape(n, d) @ W_ + b_, x_.copy(), dout_),
                   f"{where}: dx", hint="dx = (dout @ W.T).reshape(original shape of x).")
    check_gradient(grad_of(layer, "W", "Affine"),
                   numerical_gradient_array(lambda w: x_.reshape(n, d) @ w + b_, W_.copy(), dout_),
                   f'{where}: grads["W"]', hint="dW = X.T @ dout with X the input flattened to (N, D).")
    check_close(grad_of(layer, "b", "Affine"), dout_.sum(axis=0), f'{where}: grads["b"]', mistakes=[
        (dout_.mean(axis=0), "db is the SUM of dout over the batch (axis 0), not the mean."),
    ], hint="db = dout.sum(axis=0), shape (M,).")
    # backward again with the same dout: the same gradients (set them, do not accumulate them)
    call(layer.backward, dout_, name="Affine.backward")
    check_close(grad_of(layer, "W", "Affine"), x_.reshape(n, d).T @ dout_, f'{where}: grads["W"] after a second backward',
                hint="assign the gradients (self.grads['W'] = ...) instead of adding to them (+=).")
# The layer reads its parameters from self.params each time: an in-place update must be seen.
W_, b_ = rng.normal(size=(3, 2)), rng.normal(size=2)
layer = Affine(W_, b_)
x_ = rng.normal(size=(4, 3))
call(layer.forward, x_, name="Affine.forward")
W_ -= 1.0
b_ += 2.0
check_close(call(layer.forward, x_, name="Affine.forward"), x_ @ W_ + b_,
            "Affine.forward after updating W and b in place",
            hint='read self.params["W"] and self.params["b"] in forward; do not keep a private copy.')
# Two forwards of different shapes (a last, shorter batch), then backward: it belongs to the latest forward.
layer = Affine(rng.normal(size=(6, 2)), rng.normal(size=2))
call(layer.forward, rng.normal(size=(2, 3, 2)), name="Affine.forward")
x_, dout_ = rng.normal(size=(5, 6)), rng.normal(size=(5, 2))
call(layer.forward, x_, name="Affine.forward")
latest = "keep the input and its shape of the LATEST forward (set them on every call), not of the first one."
dx = call(layer.backward, dout_, name="Affine.backward", hint=latest)
check_close(dx, dout_ @ layer.params["W"].T, "Affine.backward after forwards on (2, 3, 2) then (5, 6): dx", hint=latest)
check_close(grad_of(layer, "W", "Affine"), x_.T @ dout_,
            'Affine.grads["W"] after forwards on (2, 3, 2) then (5, 6)', hint=latest)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Activation layers
#
# An activation applies a scalar function $f$ elementwise, so `out` has the shape of `x` (any shape)
# and the chain rule is elementwise too:
#
# $$ \text{out} = f(x), \qquad \frac{\partial L}{\partial x} = \text{dout} \odot f'(x). $$
#
# Each layer decides what to keep for backward: the input, a mask, or its own output.
#
# ### ReLU
#
# $$ f(x) = \max(0, x), \qquad f'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases} $$
#
# Keep the mask $x > 0$ (or $x \le 0$) from `forward`: in `backward` only `dout` is available, and its
# signs say nothing about where $x$ was positive.
#
# **Exercise 2 (2 points).** Complete `ReLU`. It must **not** modify its input: `x[x < 0] = 0`
# zeroes the caller's array too (see the written question at the end).

# %% answer="relu" export=true
class ReLU:
    """out = max(0, x) elementwise."""

    def __init__(self):
        self.params, self.grads = {}, {}
        self.mask = None

    def forward(self, x):
        """x: any shape -> out: same shape. Does not modify x."""
        ### BEGIN SOLUTION
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)
        ### END SOLUTION

    def backward(self, dout):
        """dout: shape of x -> dx: shape of x."""
        ### BEGIN SOLUTION
        return dout * self.mask
        ### END SOLUTION


# %% tests="test_relu" points=2
x = np.array([[-2.0, 0.5], [3.0, -0.1]])
layer = ReLU()
with unchanged("ReLU.forward", x=x):
    out = call(layer.forward, x, name="ReLU.forward")
check_close(out, [[0.0, 0.5], [3.0, 0.0]], "ReLU.forward(x)", hint="out = max(0, x) elementwise: np.maximum(x, 0).")
dout = np.array([[10.0, -20.0], [30.0, 40.0]])
with unchanged("ReLU.backward", dout=dout):
    dx = call(layer.backward, dout, name="ReLU.backward")
check_close(dx, [[0.0, -20.0], [30.0, 0.0]], "ReLU.backward(dout)", mistakes=[
    ([[10.0, 0.0], [30.0, 40.0]], "the mask must come from x (kept in forward), not from the sign of dout."),
], hint="dx = dout where x > 0, and 0 where x <= 0.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(302)
for shape in ((4, 5), (1, 6), (2, 3, 4), (2, 1, 3, 3)):
    x_ = rng.normal(size=shape)
    x_[np.abs(x_) < 1e-3] = 0.5   # keep away from the kink, where the numerical gradient is ambiguous
    dout_ = rng.normal(size=shape)
    layer = ReLU()
    with unchanged("ReLU", x=x_, dout=dout_):
        check_close(call(layer.forward, x_, name="ReLU.forward"), np.maximum(x_, 0), f"ReLU.forward on {shape}",
                    hint="out = np.maximum(x, 0), the same shape as x.")
        dx = call(layer.backward, dout_, name="ReLU.backward")
    check_gradient(dx, numerical_gradient_array(lambda z: np.maximum(z, 0), x_.copy(), dout_),
                   f"ReLU.backward on {shape}", hint="dx = dout * (x > 0) with the x of the last forward.")
# the mask belongs to the latest forward
layer = ReLU()
call(layer.forward, np.array([1.0, -1.0]), name="ReLU.forward")
call(layer.forward, np.array([-1.0, 1.0]), name="ReLU.forward")
for attempt in ("", " (called a second time)"):
    check_close(call(layer.backward, np.array([5.0, 7.0]), name="ReLU.backward"), [0.0, 7.0],
                f"ReLU.backward after forwards on [1, -1] then [-1, 1]{attempt}",
                hint="keep the mask of the LATEST forward (set it on every call), and do not modify it in backward.")
### END HIDDEN TESTS

# %% [markdown]
# ### Sigmoid
#
# $$ \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr). $$
#
# The derivative is written with the **output** $\text{out} = \sigma(x)$: keep `out` in forward and use
# $\text{out}\,(1-\text{out})$ in backward — not $x(1-x)$.
#
# **Exercise 3 (2 points).** Complete `Sigmoid`.

# %% answer="sigmoid" export=true
class Sigmoid:
    """out = 1 / (1 + exp(-x)) elementwise."""

    def __init__(self):
        self.params, self.grads = {}, {}
        self.out = None

    def forward(self, x):
        """x: any shape -> out: same shape, values in (0, 1)."""
        ### BEGIN SOLUTION
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out
        ### END SOLUTION

    def backward(self, dout):
        """dout: shape of x -> dx: shape of x."""
        ### BEGIN SOLUTION
        return dout * self.out * (1.0 - self.out)
        ### END SOLUTION


# %% tests="test_sigmoid" points=2
# sigma(0) = 1/2 and sigma(ln 3) = 1 / (1 + 1/3) = 3/4; slopes 1/4 and 3/4 * 1/4 = 3/16.
x = np.array([[0.0, np.log(3.0)]])
layer = Sigmoid()
with unchanged("Sigmoid.forward", x=x):
    check_close(call(layer.forward, x, name="Sigmoid.forward"), [[0.5, 0.75]], "Sigmoid.forward(x)",
                hint="out = 1 / (1 + np.exp(-x)) elementwise.")
check_close(call(layer.backward, np.array([[1.0, 1.0]]), name="Sigmoid.backward"), [[0.25, 0.1875]],
            "Sigmoid.backward([[1, 1]])", mistakes=[
                (x * (1 - x), "the derivative is out * (1 - out) with out = sigmoid(x), the OUTPUT kept in forward, not x."),
                ([[0.5, 0.75]], "multiply by (1 - out) too: sigma'(x) = out * (1 - out)."),
            ], hint="dx = dout * out * (1 - out), with out the output kept in forward.")
### BEGIN HIDDEN TESTS
### BEGIN REFERENCE
sig = lambda z: 1 / (1 + np.exp(-z))
### END REFERENCE
rng = np.random.default_rng(303)
for shape in ((4, 5), (1, 6), (2, 3, 3), (2, 1, 3, 3)):
    x_, dout_ = 2 * rng.normal(size=shape), rng.normal(size=shape)
    layer = Sigmoid()
    with unchanged("Sigmoid", x=x_, dout=dout_):
        check_close(call(layer.forward, x_, name="Sigmoid.forward"), sig(x_), f"Sigmoid.forward on {shape}",
                    hint="out = 1 / (1 + np.exp(-x)), the same shape as x.")
        dx = call(layer.backward, dout_, name="Sigmoid.backward")
    check_gradient(dx, numerical_gradient_array(sig, x_.copy(), dout_), f"Sigmoid.backward on {shape}",
                   hint="dx = dout * out * (1 - out) with the output out of the last forward.")
with np.errstate(over="ignore"):
    big = call(Sigmoid().forward, np.array([-800.0, 0.0, 800.0]), name="Sigmoid.forward")
check_close(big, [0.0, 0.5, 1.0], "Sigmoid.forward([-800, 0, 800])",
            hint="the result must be finite for large |x|: 1 / (1 + exp(800)) is 0, not NaN.")
# two forwards of different shapes, then backward twice with the same dout
layer = Sigmoid()
call(layer.forward, np.array([[0.0, 1.0, -2.0]]), name="Sigmoid.forward")
out = call(layer.forward, np.array([[2.0], [-1.0]]), name="Sigmoid.forward")
dout_ = np.array([[1.5], [-0.5]])
### BEGIN REFERENCE
y_ = sig(np.array([[2.0], [-1.0]]))
### END REFERENCE
check_close(call(layer.backward, dout_, name="Sigmoid.backward"), dout_ * y_ * (1 - y_),
            "Sigmoid.backward after forwards on [[0, 1, -2]] then [[2], [-1]]",
            hint="keep the output of the LATEST forward (set it on every call).")
# backward leaves the output it kept as forward returned it: sigmoid([[2], [-1]])
check_close(out, y_, "the array Sigmoid.forward returned, after backward",
            hint="backward must not write into the output it kept (the next layer holds that very array): "
                 "return dout * out * (1 - out) as a new array, without *= on out.")
check_close(call(layer.backward, dout_, name="Sigmoid.backward"), dout_ * y_ * (1 - y_),
            "Sigmoid.backward called a second time with the same dout",
            hint="backward must leave the kept output as it was: the same dout gives the same dx.")
### END HIDDEN TESTS

# %% [markdown]
# ### Leaky ReLU
#
# ReLU's gradient is exactly 0 for negative inputs, so a unit whose input stays negative never learns
# again ("dead ReLU"). Leaky ReLU keeps a small slope $\alpha$ there:
#
# $$ f(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}, \qquad
#    f'(x) = \begin{cases} 1 & x > 0 \\ \alpha & x \le 0 \end{cases} $$
#
# **Exercise 4 (2 points).** Complete `LeakyReLU`; use `self.alpha`, not a fixed number.

# %% answer="leaky_relu" export=true
class LeakyReLU:
    """out = x for x > 0, alpha * x otherwise."""

    def __init__(self, alpha=0.01):
        self.alpha = alpha
        self.params, self.grads = {}, {}
        self.mask = None

    def forward(self, x):
        """x: any shape -> out: same shape."""
        ### BEGIN SOLUTION
        self.mask = x > 0
        return np.where(self.mask, x, self.alpha * x)
        ### END SOLUTION

    def backward(self, dout):
        """dout: shape of x -> dx: shape of x."""
        ### BEGIN SOLUTION
        return np.where(self.mask, dout, self.alpha * dout)
        ### END SOLUTION


# %% tests="test_leaky_relu" points=2
x = np.array([[-2.0, 3.0]])
layer = LeakyReLU(alpha=0.1)
with unchanged("LeakyReLU.forward", x=x):
    out = call(layer.forward, x, name="LeakyReLU.forward")
check_close(out, [[-0.2, 3.0]], "LeakyReLU(alpha=0.1).forward([[-2, 3]])", mistakes=[
    ([[-2.0, 0.3]], "the slope alpha belongs to the NEGATIVE side: f(x) = x for x > 0, alpha * x otherwise."),
    ([[-0.02, 3.0]], "use self.alpha (here 0.1), not a fixed 0.01."),
], hint="out = x where x > 0, alpha * x elsewhere: np.where(x > 0, x, self.alpha * x).")
check_close(call(layer.backward, np.array([[1.0, 1.0]]), name="LeakyReLU.backward"), [[0.1, 1.0]],
            "LeakyReLU(alpha=0.1).backward([[1, 1]])", mistakes=[
                ([[1.0, 0.1]], "the slope alpha belongs to the NEGATIVE side."),
                ([[0.0, 1.0]], "for x <= 0 the gradient is alpha * dout, not 0 (that would be ReLU)."),
            ], hint="dx = dout where x > 0, alpha * dout elsewhere, with the x (or mask) kept in forward.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(304)
for shape, alpha in (((4, 5), 0.2), ((1, 6), 0.1), ((2, 3, 3), 0.01), ((2, 1, 3, 3), 0.3)):
    x_ = rng.normal(size=shape)
    x_[np.abs(x_) < 1e-3] = 0.5
    dout_ = rng.normal(size=shape)
    layer = LeakyReLU(alpha=alpha)
    ### BEGIN REFERENCE
    f = lambda z: np.where(z > 0, z, alpha * z)
    ### END REFERENCE
    with unchanged("LeakyReLU", x=x_, dout=dout_):
        check_close(call(layer.forward, x_, name="LeakyReLU.forward"), f(x_), f"LeakyReLU(alpha={alpha}).forward on {shape}",
                    hint="out = np.where(x > 0, x, self.alpha * x), the same shape as x.")
        dx = call(layer.backward, dout_, name="LeakyReLU.backward")
    check_gradient(dx, numerical_gradient_array(f, x_.copy(), dout_), f"LeakyReLU(alpha={alpha}).backward on {shape}",
                   hint="dx = dout where x > 0, alpha * dout elsewhere, with the x of the last forward.")
check_close(call(LeakyReLU().forward, np.array([-1.0, 2.0]), name="LeakyReLU.forward"), [-0.01, 2.0],
            "LeakyReLU().forward([-1, 2]) with the default alpha = 0.01", hint="keep the default alpha=0.01 of __init__.")
# two forwards of different shapes, then backward: the mask of the latest forward
layer = LeakyReLU(alpha=0.2)
call(layer.forward, np.array([[1.0, -1.0, 1.0]]), name="LeakyReLU.forward")
call(layer.forward, np.array([[-1.0], [1.0]]), name="LeakyReLU.forward")
for attempt in ("", " (called a second time)"):
    check_close(call(layer.backward, np.array([[5.0], [7.0]]), name="LeakyReLU.backward"), [[1.0], [7.0]],
                f"LeakyReLU(alpha=0.2).backward after forwards on [[1, -1, 1]] then [[-1], [1]]{attempt}",
                hint="keep the mask (or x) of the LATEST forward (set it on every call), and do not modify it in "
                     "backward.")
### END HIDDEN TESTS

# %% [markdown]
# ### ELU
#
# The exponential linear unit is smooth for negative inputs and saturates at $-\alpha$:
#
# $$ f(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}, \qquad
#    f'(x) = \begin{cases} 1 & x > 0 \\ \alpha\, e^{x} = f(x) + \alpha & x \le 0 \end{cases} $$
#
# **Exercise 5 (2 points).** Complete `ELU`. (Tip: `np.exp` of a large positive $x$ overflows even
# if `np.where` then picks $x$; `np.exp(np.minimum(x, 0))` avoids the warning.)

# %% answer="elu" export=true
class ELU:
    """out = x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha
        self.params, self.grads = {}, {}
        self.x = None

    def forward(self, x):
        """x: any shape -> out: same shape."""
        ### BEGIN SOLUTION
        self.x = x
        return np.where(x > 0, x, self.alpha * (np.exp(np.minimum(x, 0)) - 1.0))
        ### END SOLUTION

    def backward(self, dout):
        """dout: shape of x -> dx: shape of x."""
        ### BEGIN SOLUTION
        return dout * np.where(self.x > 0, 1.0, self.alpha * np.exp(np.minimum(self.x, 0)))
        ### END SOLUTION


# %% tests="test_elu" points=2
# With alpha = 2: f(-ln 2) = 2 * (1/2 - 1) = -1, slope 2 * 1/2 = 1; f(1.5) = 1.5, slope 1.
x = np.array([[-np.log(2.0), 1.5]])
layer = ELU(alpha=2.0)
with unchanged("ELU.forward", x=x):
    check_close(call(layer.forward, x, name="ELU.forward"), [[-1.0, 1.5]], "ELU(alpha=2).forward(x)", mistakes=[
        ([[-0.5, 1.5]], "multiply by self.alpha: f(x) = alpha * (exp(x) - 1) for x <= 0."),
    ], hint="out = x where x > 0, alpha * (exp(x) - 1) elsewhere.")
check_close(call(layer.backward, np.array([[3.0, 3.0]]), name="ELU.backward"), [[3.0, 3.0]],
            "ELU(alpha=2).backward([[3, 3]])", mistakes=[
                ([[1.5, 3.0]], "for x <= 0 the slope is alpha * exp(x): you left out alpha."),
                ([[-3.0, 3.0]], "the slope for x <= 0 is f(x) + alpha = alpha * exp(x), not f(x)."),
                ([[0.0, 3.0]], "for x <= 0 the slope is alpha * exp(x), not 0."),
            ], hint="dx = dout where x > 0, dout * alpha * exp(x) elsewhere, with the x kept in forward.")
# With alpha = 1: f(-ln 2) = 1/2 - 1 = -1/2, slope 1/2.
layer = ELU()
check_close(call(layer.forward, np.array([[-np.log(2.0), 2.0]]), name="ELU.forward"), [[-0.5, 2.0]],
            "ELU().forward([[-ln 2, 2]])", hint="out = x where x > 0, alpha * (exp(x) - 1) elsewhere (alpha = 1 by default).")
check_close(call(layer.backward, np.array([[4.0, 4.0]]), name="ELU.backward"), [[2.0, 4.0]],
            "ELU().backward([[4, 4]])", hint="dx = dout where x > 0, dout * alpha * exp(x) elsewhere (here 4 * 1/2).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(305)
for shape, alpha in (((4, 5), 1.0), ((1, 6), 2.0), ((2, 3, 3), 0.5), ((2, 1, 3, 3), 1.5)):
    x_ = 2 * rng.normal(size=shape)
    x_[np.abs(x_) < 1e-3] = 0.5
    dout_ = rng.normal(size=shape)
    layer = ELU(alpha=alpha)
    ### BEGIN REFERENCE
    f = lambda z: np.where(z > 0, z, alpha * (np.exp(np.minimum(z, 0)) - 1))
    ### END REFERENCE
    with unchanged("ELU", x=x_, dout=dout_):
        check_close(call(layer.forward, x_, name="ELU.forward"), f(x_), f"ELU(alpha={alpha}).forward on {shape}",
                    hint="out = np.where(x > 0, x, self.alpha * (np.exp(np.minimum(x, 0)) - 1)).")
        dx = call(layer.backward, dout_, name="ELU.backward")
    check_gradient(dx, numerical_gradient_array(f, x_.copy(), dout_), f"ELU(alpha={alpha}).backward on {shape}",
                   hint="dx = dout where x > 0, dout * alpha * exp(x) elsewhere.")
check_close(call(ELU().forward, np.array([-1.0, 2.0]), name="ELU.forward"), [np.exp(-1.0) - 1, 2.0],
            "ELU().forward([-1, 2]) with the default alpha = 1", hint="keep the default alpha=1.0 of __init__.")
# two forwards of different shapes, then backward twice: it belongs to the latest forward
layer = ELU(alpha=2.0)
call(layer.forward, np.array([[1.0, -1.0, 1.0]]), name="ELU.forward")
call(layer.forward, np.array([[-np.log(2.0)], [1.0]]), name="ELU.forward")
for attempt in ("", " (called a second time)"):
    check_close(call(layer.backward, np.array([[5.0], [7.0]]), name="ELU.backward"), [[5.0], [7.0]],
                f"ELU(alpha=2).backward after forwards on [[1, -1, 1]] then [[-ln 2], [1]]{attempt}",
                hint="keep x (or the output) of the LATEST forward, set on every call, and do not modify it in "
                     "backward.")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Flatten
#
# Convolutional layers (chapter 06) produce $(N, C, H, W)$ arrays ($C$ channels of $H \times W$ pixels); an affine layer after them wants
# rows. `Flatten` does only the reshape, as a layer of its own: forward $(N, \ldots) \to (N, D)$ with
# $D$ the product of the other axes, backward $(N, D) \to$ the shape it flattened. No number changes,
# so the gradient just takes the shape back.
#
# **Exercise 6 (1 point).** Complete `Flatten`.

# %% answer="flatten" export=true
class Flatten:
    """(N, ...) -> (N, D) and back."""

    def __init__(self):
        self.params, self.grads = {}, {}
        self.x_shape = None

    def forward(self, x):
        """x: (N, ...) -> (N, D)."""
        ### BEGIN SOLUTION
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)
        ### END SOLUTION

    def backward(self, dout):
        """dout: (N, D) -> dx: the shape of the last forward's input."""
        ### BEGIN SOLUTION
        return dout.reshape(self.x_shape)
        ### END SOLUTION


# %% tests="test_flatten" points=1
x = np.arange(12.0).reshape(2, 1, 2, 3)
layer = Flatten()
with unchanged("Flatten.forward", x=x):
    out = call(layer.forward, x, name="Flatten.forward")
check_close(out, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]], "Flatten.forward on (2, 1, 2, 3)",
            hint="return one row per example, shape (N, D): x.reshape(x.shape[0], -1), keeping the batch axis.")
dx = call(layer.backward, np.arange(12.0).reshape(2, 6), name="Flatten.backward",
          hint="reshape dout to the shape the latest forward saw (remember x.shape there); do not assume image sizes.")
check_close(dx, x, "Flatten.backward on (2, 6)", hint="reshape dout back to the shape forward saw.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(306)
for shape in ((3, 4, 5), (2, 3, 2, 2), (1, 2, 2), (4, 7)):
    x_ = rng.normal(size=shape)
    n = shape[0]
    dout_ = rng.normal(size=(n, x_.size // n))
    layer = Flatten()
    with unchanged("Flatten", x=x_, dout=dout_):
        check_close(call(layer.forward, x_, name="Flatten.forward"), x_.reshape(n, -1), f"Flatten.forward on {shape}",
                    hint="x.reshape(x.shape[0], -1): one row per example, in C order.")
        check_close(call(layer.backward, dout_, name="Flatten.backward"), dout_.reshape(shape),
                    f"Flatten.backward to {shape}", hint="remember x.shape in forward; do not assume image sizes.")
# two forwards of different shapes, then backward: the shape of the latest forward
layer = Flatten()
call(layer.forward, rng.normal(size=(2, 3, 4)), name="Flatten.forward")
call(layer.forward, rng.normal(size=(3, 2, 2)), name="Flatten.forward")
dout_ = rng.normal(size=(3, 4))
check_close(call(layer.backward, dout_, name="Flatten.backward",
                 hint="remember the shape of the LATEST forward (set it on every call)."), dout_.reshape(3, 2, 2),
            "Flatten.backward after forwards on (2, 3, 4) then (3, 2, 2)",
            hint="remember the shape of the LATEST forward (set it on every call).")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Softmax with cross-entropy loss
#
# The last layer turns scores $A$ $(N, C)$ into probabilities $\hat Y = \text{softmax}(A)$ and returns the
# mean cross-entropy with the labels $t$ — integer labels $(N,)$ or one-hot rows $(N, C)$:
#
# $$ L = -\frac1N \sum_{n} \log \hat y_{n, t_n}, \qquad
#    \frac{\partial L}{\partial A} = \frac{\hat Y - T}{N} \quad (N, C), $$
#
# with $T$ the one-hot matrix of the labels. This is chapter 02's result, and its functions are
# provided: `softmax`, `log_softmax` and `cross_entropy(scores, t)` (mean cross-entropy, computed
# with log-softmax so it stays finite for huge scores) are imported at the top of this notebook. As
# the last node of the graph, `backward` receives the scalar `dout` $= \partial L_\text{total}/\partial L$,
# 1 when $L$ is the final loss, and multiplies by it.
#
# **Exercise 7 (2 points).** Complete `SoftmaxWithLoss`; `forward` returns a Python float, and both
# label formats must work.

# %% answer="softmax_with_loss" export=true
class SoftmaxWithLoss:
    """Softmax of the scores followed by the mean cross-entropy with the labels."""

    def __init__(self):
        self.params, self.grads = {}, {}
        self.y = None  # softmax probabilities Y_hat (N, C), kept for backward
        self.t = None  # the labels, as given

    def forward(self, scores, t):
        """scores: (N, C); t: (N,) int labels or (N, C) one-hot -> the mean loss, a float."""
        ### BEGIN SOLUTION
        self.y = softmax(scores)
        self.t = np.asarray(t)
        return float(cross_entropy(scores, t))
        ### END SOLUTION

    def backward(self, dout=1.0):
        """dout: a scalar -> dscores: (N, C)."""
        ### BEGIN SOLUTION
        n, c = self.y.shape
        onehot = self.t if self.t.ndim == 2 else np.eye(c)[self.t]
        return dout * (self.y - onehot) / n
        ### END SOLUTION


# %% tests="test_softmax_with_loss" points=2
# Equal scores: every probability is 1/3, the loss is log 3, and dL/dscores = (1/3 - onehot) / 2.
scores = np.zeros((2, 3))
t_int, t_hot = np.array([0, 2]), np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
expected = np.array([[-2 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, -2 / 3]]) / 2
for labels, kind in ((t_int, "integer labels"), (t_hot, "one-hot labels")):
    layer = SoftmaxWithLoss()
    loss = check_scalar(call(layer.forward, scores, labels, name="SoftmaxWithLoss.forward"),
                        f"SoftmaxWithLoss.forward with {kind}")
    check_close(loss, np.log(3), f"SoftmaxWithLoss.forward with {kind}",
                hint="the mean cross-entropy of the softmax: cross_entropy(scores, t) is provided.")
    check_close(call(layer.backward, name="SoftmaxWithLoss.backward",
                     hint="integer labels (N,) and one-hot labels (N, C): tell them apart by t.ndim."), expected,
                f"SoftmaxWithLoss.backward() with {kind}", mistakes=[
                    (2 * expected, "divide by N: the loss is a mean over the batch."),
                    (-expected, "the gradient is (softmax(scores) - T) / N, not (T - softmax(scores)) / N."),
                    (np.full((2, 3), 1 / 6), "subtract the one-hot labels: (softmax(scores) - T) / N."),
                ], hint="dL/dscores = (softmax(scores) - onehot(t)) / N, shape (N, C); handle both label formats.")
    check_close(call(layer.backward, 3.0, name="SoftmaxWithLoss.backward"), 3 * expected,
                f"SoftmaxWithLoss.backward(3.0) with {kind}",
                hint="multiply by dout (the chain rule), and leave the probabilities kept in forward as they were: "
                     "backward may run more than once (subtract the labels from a copy).",
                mistakes=[(expected, "multiply by dout (the chain rule): backward(3.0) returned what backward() did.")])
### BEGIN HIDDEN TESTS
from dlfs.grading import check_float

rng = np.random.default_rng(307)
for n, c in ((5, 4), (1, 3), (8, 10)):
    s_ = rng.normal(size=(n, c))
    labels = rng.integers(0, c, size=n)
    hot = np.eye(c)[labels]
    ### BEGIN REFERENCE
    lse = np.log(np.exp(s_ - s_.max(1, keepdims=True)).sum(1)) + s_.max(1)
    ref_loss = float(np.mean(lse - s_[np.arange(n), labels]))
    ref_grad = (np.exp(s_ - lse[:, None]) - hot) / n
    ### END REFERENCE
    for t_, kind in ((labels, "int"), (hot, "one-hot"), (hot.astype(np.int64), "integer one-hot")):
        layer = SoftmaxWithLoss()
        with unchanged("SoftmaxWithLoss", scores=s_, t=t_):
            loss = call(layer.forward, s_, t_, name="SoftmaxWithLoss.forward")
            loss = check_float(loss, f"SoftmaxWithLoss.forward, {kind} labels, ({n}, {c})",
                               hint="return float(...) of the mean loss.")
            loss = check_scalar(loss, f"SoftmaxWithLoss.forward, {kind} labels, ({n}, {c})",
                                hint="tell the label forms apart by t.ndim (1: integers, 2: one-hot), not by the "
                                     "dtype: one-hot rows may hold integers.")
            check_close(loss, ref_loss, f"SoftmaxWithLoss.forward, {kind} labels, ({n}, {c})",
                        hint="the mean cross-entropy of softmax(scores): the provided cross_entropy(scores, t).")
            ds = call(layer.backward, name="SoftmaxWithLoss.backward")
        check_close(ds, ref_grad, f"SoftmaxWithLoss.backward(), {kind} labels, ({n}, {c})", mistakes=[
            (ref_grad * n, "divide by N: the loss is a mean over the batch."),
        ], hint="(softmax(scores) - onehot(t)) / N; tell the label forms apart by t.ndim, not by the dtype.")
        check_gradient(ds, numerical_gradient(lambda _: float(np.mean(
            np.log(np.exp(s_ - s_.max(1, keepdims=True)).sum(1)) + s_.max(1) - s_[np.arange(n), labels])), s_),
            f"SoftmaxWithLoss.backward(), {kind} labels, ({n}, {c})",
            hint="(softmax(scores) - onehot(t)) / N.")
        check_close(call(layer.backward, 2.5, name="SoftmaxWithLoss.backward"), 2.5 * np.asarray(ds),
                    f"SoftmaxWithLoss.backward(2.5), {kind} labels", hint="multiply by dout (the chain rule).")
huge = np.array([[1000.0, 0.0, -1000.0], [0.0, 3000.0, 0.0]])
layer = SoftmaxWithLoss()
loss = check_scalar(call(layer.forward, huge, np.array([1, 1]), name="SoftmaxWithLoss.forward"),
                    "SoftmaxWithLoss.forward with scores in the thousands",
                    hint="use log-softmax (or the provided cross_entropy), never log(softmax): log(0) = -inf.")
check_close(loss, 500.0, "SoftmaxWithLoss.forward with scores in the thousands",
            hint="use log-softmax (or the provided cross_entropy), never log(softmax) or log(softmax + epsilon).")
check_close(call(layer.backward, name="SoftmaxWithLoss.backward"), [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]],
            "SoftmaxWithLoss.backward() with scores in the thousands",
            hint="use the provided (stable) softmax for the probabilities kept in forward.")
# two forwards of different shapes, then backward: it belongs to the latest forward
layer = SoftmaxWithLoss()
call(layer.forward, rng.normal(size=(3, 4)), np.array([0, 1, 2]), name="SoftmaxWithLoss.forward")
s_ = np.array([[0.0, np.log(3.0)], [0.0, 0.0]])
call(layer.forward, s_, np.array([1, 0]), name="SoftmaxWithLoss.forward")
check_close(call(layer.backward, name="SoftmaxWithLoss.backward"), [[0.125, -0.125], [-0.25, 0.25]],
            "SoftmaxWithLoss.backward() after forwards on (3, 4) then (2, 2) scores",
            hint="keep the probabilities and labels of the LATEST forward (set them on every call).")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Checking every layer numerically
#
# A backward pass can be wrong in a hundred small ways; a numerical gradient finds all of them. For a
# layer with output $\text{out} = f(x)$, pick a random upstream gradient `dout` of the output's shape
# and look at the scalar $g(x) = \sum \text{out} \odot \text{dout}$: its gradient with respect to $x$ is
# exactly what `backward(dout)` must return, and its gradient with respect to a parameter $W$ is what
# `backward` must store in `grads["W"]`. `dlfs.gradcheck` provides
#
# - `numerical_gradient_array(f, x, dout)`: the gradient of $\sum f(x) \odot \text{dout}$ with respect
#   to `x` by central differences. It perturbs `x` **in place** (and restores it), so for a parameter
#   pass the layer's own array `layer.params[name]` and let `f` ignore its argument:
#   `lambda _: layer.forward(x)`;
# - `rel_error(a, b)`: the largest elementwise relative error. As in chapter 02: with float64 and
#   central differences, a correct backward pass gives **below $10^{-7}$** (typically $10^{-11}$ to
#   $10^{-9}$; gradients with many tiny entries, such as the softmax loss's, come closer to $10^{-7}$,
#   and the graders accept up to $10^{-6}$); **$10^{-2}$ or more means a bug**. In between, look
#   closer: an input near a kink (ReLU at 0), a layer that computes in float32 internally, or a small
#   mistake.
#
# A random `dout` matters: with `dout` = all ones, a backward that ignores `dout` would pass.
#
# **Exercise 8 (3 points).** Write `layer_gradient_errors(layer, x, seed=0)`: run `forward(x)`, draw
# `dout` with `np.random.default_rng(seed).normal(size=out.shape)`, run `backward(dout)`, and return a
# dict of relative errors between analytic and numerical gradients: key `"x"` for `dx`, and one key
# per parameter name (`"W"`, `"b"`, ...). `x` is a float64 array; leave it and the parameters as
# they were.

# %% answer="layer_gradient_errors" export=true
def layer_gradient_errors(layer, x, seed=0):
    """Relative errors of a layer's backward pass against numerical gradients.

    Args:
        layer: an object with forward(x), backward(dout), params and grads.
        x: float64 input array.
        seed: seed of the random upstream gradient dout.

    Returns:
        dict: {"x": rel. error of dx, <param name>: rel. error of grads[<param name>], ...}.
    """
    ### BEGIN SOLUTION
    out = layer.forward(x)
    dout = np.random.default_rng(seed).normal(size=np.shape(out))
    dx = np.array(layer.backward(dout), dtype=np.float64)
    analytic = {name: np.array(layer.grads[name], dtype=np.float64) for name in layer.params}
    errors = {"x": rel_error(dx, numerical_gradient_array(layer.forward, x, dout))}
    for name, param in layer.params.items():
        numerical = numerical_gradient_array(lambda _: layer.forward(x), param, dout)
        errors[name] = rel_error(analytic[name], numerical)
    return errors
    ### END SOLUTION


# %% tests="test_layer_gradient_errors" points=3
from dlfs.grading import check_keys, check_that


class StandInScaleBadW(StandInScale):
    """The same layer with a wrong weight gradient (half the batch mean instead of the sum)."""

    def backward(self, dout):
        self.grads["w"] = 0.5 * (dout * self.x).mean(axis=0)
        return dout * self.params["w"]


rng = np.random.default_rng(0)
x, w = rng.normal(size=(4, 3)), rng.normal(size=3)
x_before, w_before = x.copy(), w.copy()
errors = call(layer_gradient_errors, StandInScale(w), x, 1)
check_keys(errors, ["w", "x"], "layer_gradient_errors(correct layer)",
           hint="return a dict: one entry 'x' for dx, and one per name in layer.params.")
for key in ("x", "w"):
    value = check_scalar(errors[key], f"layer_gradient_errors(correct layer)[{key!r}]")
    check_that("below", (value,), f"the relative error layer_gradient_errors reports for {key!r} of a CORRECT layer",
               hint="the numerical gradient of a parameter must perturb the layer's own array (layer.params[name], "
                    "not a copy), with dout the same random array backward received.", bound=1e-7)
check_close(x, x_before, "x after layer_gradient_errors", hint="leave the input as it was.")
check_close(w, w_before, "the layer's weights after layer_gradient_errors", hint="leave the parameters as they were.")
errors = call(layer_gradient_errors, StandInScaleBadW(w.copy()), x, 1)
wrong_w = ("for a layer whose grads['w'] is wrong (and whose dx is right), the error of 'w' must be large, that of "
           "'x' tiny.")
for key, predicate, bound in (("w", "above", 1e-2), ("x", "below", 1e-7)):
    check_that(predicate, (check_scalar(errors[key], f"error of {key!r}"),),
               f"the error of {key!r} for a layer with a wrong grads['w']", hint=wrong_w, bound=bound)
### BEGIN HIDDEN TESTS
class _IgnoresDout(StandInScale):
    """dx and grads computed as if dout were all ones: wrong unless dout happens to be ones."""

    def backward(self, dout):
        ones = np.ones_like(dout)
        self.grads["w"] = (ones * self.x).sum(axis=0)
        return ones * self.params["w"]


class _TwoParams:
    """out = tanh(x @ A) + c: two parameters, one of them with a wrong gradient."""

    def __init__(self, A, c, bad_c=False):
        self.params = {"A": A, "c": c}
        self.grads = {"A": np.zeros_like(A), "c": np.zeros_like(c)}
        self.bad_c = bad_c

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.params["A"])
        return self.h + self.params["c"]

    def backward(self, dout):
        dz = dout * (1 - self.h ** 2)
        self.grads["A"] = self.x.T @ dz
        self.grads["c"] = dout.mean(axis=0) if self.bad_c else dout.sum(axis=0)
        return dz @ self.params["A"].T


class _NoParams:
    """out = x ** 2 on any shape."""
    params, grads = {}, {}

    def forward(self, x):
        self.x = x
        return x ** 2

    def backward(self, dout):
        return 2 * self.x * dout


def expect_errors(errors, large, tiny, where, hint=None):
    """The errors layer_gradient_errors reported for a stand-in layer: above 1e-2 for the keys in `large` (the
    gradients the stand-in gets wrong), below 1e-7 for those in `tiny`."""
    for key in large:
        check_that("above", (errors[key],), f"the error of {key!r} for {where}", hint=hint, bound=1e-2)
    for key in tiny:
        check_that("below", (errors[key],), f"the error of {key!r} for {where}", hint=hint, bound=1e-7)


rng = np.random.default_rng(308)
x_ = rng.normal(size=(5, 3))
errors = call(layer_gradient_errors, _IgnoresDout(rng.normal(size=3)), x_, 3)
expect_errors(errors, ("x", "w"), (), "a layer that ignores dout (it must show large errors)",
              hint="draw dout at random (np.random.default_rng(seed).normal(size=out.shape)); with dout = ones such "
                   "a bug goes unnoticed.")
A_, c_ = rng.normal(size=(3, 4)), rng.normal(size=4)
### BEGIN REFERENCE
A_before, c_before, x_before = A_.copy(), c_.copy(), x_.copy()
### END REFERENCE
for bad in (False, True):
    errors = call(layer_gradient_errors, _TwoParams(A_, c_, bad_c=bad), x_, 5)
    check_keys(errors, ["A", "c", "x"], "layer_gradient_errors for a layer with params A and c",
               hint="one entry 'x' for dx, and one per name in layer.params.")
    expect_errors(errors, ("c",) if bad else (), ("x", "A") if bad else ("x", "A", "c"),
                  f"a layer with two parameters and a {'wrong' if bad else 'correct'} grads['c']")
check_close(A_, A_before, "parameter A after layer_gradient_errors", hint="leave the parameters as they were.")
check_close(c_, c_before, "parameter c after layer_gradient_errors", hint="leave the parameters as they were.")
check_close(x_, x_before, "x after layer_gradient_errors", hint="leave the input as it was.")
x4 = rng.normal(size=(2, 2, 3))
errors = call(layer_gradient_errors, _NoParams(), x4, 0)
check_keys(errors, ["x"], "layer_gradient_errors for a parameter-free layer on a (2, 2, 3) input",
           hint="one entry 'x' for dx, and one per name in layer.params (here none).")
expect_errors(errors, (), ("x",), "a correct parameter-free layer on a (2, 2, 3) input")
# dout comes from the seed alone: the same seed, the same dout, the same errors (for a layer whose
# weight gradient is off by a constant, the relative error depends on dout)
class _WeightOffset(StandInScale):
    def backward(self, dout):
        self.grads["w"] = (dout * self.x).sum(axis=0) + 0.01
        return dout * self.params["w"]


w_ = rng.normal(size=3)
runs = [call(layer_gradient_errors, _WeightOffset(w_), x_, 7) for _ in range(2)]
check_that("agree", (runs[1]["w"], runs[0]["w"]), "the error of 'w' in two runs with seed=7",
           hint="draw dout from np.random.default_rng(seed), and nothing else at random.", what="the first run",
           rtol=1e-9, atol=0.0)
# a backward that is right only where dout > 0: a standard normal dout has negative entries that expose it
class _SignBlind(StandInScale):
    def backward(self, dout):
        self.grads["w"] = (np.abs(dout) * self.x).sum(axis=0)
        return np.abs(dout) * self.params["w"]


errors = call(layer_gradient_errors, _SignBlind(np.random.default_rng(312).normal(size=3)), x_, 4)
expect_errors(errors, ("x", "w"), (), "a layer whose backward uses |dout| instead of dout (it must show large errors)",
              hint="draw dout with np.random.default_rng(seed).normal(size=out.shape): standard normal numbers, "
                   "negative ones included (not uniform numbers in [0, 1)).")
### END HIDDEN TESTS

# %% [markdown]
# Now run your check on every layer you wrote. All errors should be below $10^{-7}$ (for ReLU
# and Leaky ReLU the inputs are kept away from the kink at 0, where no derivative exists). The softmax
# loss has two inputs, so it gets its check by hand below the table.

# %% demo=true
rng = np.random.default_rng(3)
away_from_zero = lambda a: np.where(np.abs(a) < 1e-2, 0.5, a)
cases = {
    "Affine, (5, 4) input": (Affine(rng.normal(size=(4, 3)), rng.normal(size=3)), rng.normal(size=(5, 4))),
    "Affine, (2, 3, 2, 2) input": (Affine(rng.normal(size=(12, 3)), rng.normal(size=3)), rng.normal(size=(2, 3, 2, 2))),
    "ReLU": (ReLU(), away_from_zero(rng.normal(size=(4, 5)))),
    "Sigmoid": (Sigmoid(), rng.normal(size=(4, 5))),
    "LeakyReLU(alpha=0.1)": (LeakyReLU(alpha=0.1), away_from_zero(rng.normal(size=(4, 5)))),
    "ELU": (ELU(), away_from_zero(rng.normal(size=(4, 5)))),
    "Flatten": (Flatten(), rng.normal(size=(3, 2, 2, 2))),
}
for name, (layer, x_in) in cases.items():
    errors = layer_gradient_errors(layer, x_in, seed=1)
    print(f"{name:28s}", "   ".join(f"d{key}: {value:.1e}" for key, value in errors.items()))

scores, labels = rng.normal(size=(6, 10)), rng.integers(0, 10, size=6)
loss_layer = SoftmaxWithLoss()
loss_layer.forward(scores, labels)
numerical = numerical_gradient(lambda s: loss_layer.forward(s, labels), scores)
print(f"{'SoftmaxWithLoss':28s} dscores: {rel_error(loss_layer.backward(), numerical):.1e}")

# %% [markdown]
# ## 7. A model: a stack of layers
#
# A `Model` holds a list of layers and a loss layer. Everything it does is a loop:
#
# ```
#  predict:   x ──► layers[0] ──► layers[1] ──► ... ──► layers[-1] ──► scores
#  loss:      scores, t ──► loss_layer.forward ──► L
#  gradient:  1 ──► loss_layer.backward ──► layers[-1].backward ──► ... ──► layers[0].backward
# ```
#
# Backpropagation is nothing more than calling `backward` in the **reverse** order of `forward`, each
# layer passing its `dx` on as the `dout` of the layer before it; each layer fills its own `grads`.
#
# The model exposes all parameters at once, for the optimizers of chapter 04, as a dict keyed
# `"<index of the layer>.<name>"` — for `[Affine, ReLU, Affine]` that is `"0.W"`, `"0.b"`, `"2.W"`,
# `"2.b"`. The values are the layers' **own arrays** (not copies): an optimizer that does
# `params[key] -= lr * grads[key]` changes the layers. `grads` has the same keys.
#
# Some layers of later chapters (dropout, batch normalization) behave differently in training and at
# test time: their `forward(x, train=True)` takes a `train` flag. The model passes its own `train`
# flag on to such layers and calls the others as `forward(x)`; the helper below does exactly that.

# %% export=true
def layer_forward(layer, x, train):
    """``layer.forward(x, train=train)`` if the layer's forward takes a ``train`` argument,
    else ``layer.forward(x)``."""
    try:
        takes_train = "train" in inspect.signature(layer.forward).parameters
    except (TypeError, ValueError):
        takes_train = False
    return layer.forward(x, train=train) if takes_train else layer.forward(x)


# %% [markdown]
# **Exercise 9 (4 points).** Complete `Model`: `add`, `predict`, `loss`, `gradient` and the two
# properties `params` and `grads`. Use `layer_forward`. `predict` defaults to `train=False` (a
# prediction), `loss` and `gradient` to training mode. The methods `accuracy`, `save` and `load` are
# given: they call the functions of Exercises 10 and 11.

# %% answer="model" export=true
class Model:
    """A stack of layers followed by a loss layer (SoftmaxWithLoss unless told otherwise)."""

    def __init__(self, layers=None, loss_layer=None):
        self.layers = list(layers) if layers is not None else []
        self.loss_layer = loss_layer if loss_layer is not None else SoftmaxWithLoss()

    def add(self, layer):
        """Append a layer; returns the model, so that calls chain: Model().add(a).add(b)."""
        ### BEGIN SOLUTION
        self.layers.append(layer)
        return self
        ### END SOLUTION

    def predict(self, x, train=False):
        """The scores: x passed through every layer in order (not through the loss layer)."""
        ### BEGIN SOLUTION
        for layer in self.layers:
            x = layer_forward(layer, x, train)
        return x
        ### END SOLUTION

    def loss(self, x, t, train=True):
        """The loss layer's value on the scores of x, a float."""
        ### BEGIN SOLUTION
        return self.loss_layer.forward(self.predict(x, train=train), t)
        ### END SOLUTION

    def gradient(self, x, t):
        """Forward in training mode, then backward through the loss and every layer; returns self.grads."""
        ### BEGIN SOLUTION
        self.loss(x, t, train=True)
        dout = self.loss_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return self.grads
        ### END SOLUTION

    @property
    def params(self):
        """{"<index>.<name>": the layer's own parameter array} over all layers."""
        ### BEGIN SOLUTION
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers)
                for name, value in getattr(layer, "params", {}).items()}
        ### END SOLUTION

    @property
    def grads(self):
        """{"<index>.<name>": the layer's gradient for that parameter}, the keys of params."""
        ### BEGIN SOLUTION
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers)
                for name, value in getattr(layer, "grads", {}).items()}
        ### END SOLUTION

    def accuracy(self, x, t, batch_size=1000):
        """Fraction of examples whose highest score is the label (Exercise 10)."""
        return model_accuracy(self, x, t, batch_size)

    def save(self, path):
        """Write every parameter to one .npz file (Exercise 11)."""
        save_params(self, path)

    def load(self, path):
        """Read parameters saved by save() back into this model's arrays (Exercise 11)."""
        load_params(self, path)


# %% tests="test_model" points=4
from dlfs.grading import check_keys, check_length, check_that


# Stand-in layers that you can follow by hand (your own layers are not used here):
class StandInShift:
    """Parameter-free stand-in: out = x + 1."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        return x + 1

    def backward(self, dout):
        return dout


class StandInLoss:
    """Stand-in loss: L = sum(scores * t), so dL/dscores = t."""

    def forward(self, scores, t):
        self.t = t
        return float(np.sum(scores * t))

    def backward(self, dout=1.0):
        return dout * self.t


# x = [[1, 2]] -> *[2, 3] -> [[2, 6]] -> +1 -> [[3, 7]] -> *[1, -1] -> [[3, -7]] = scores
# loss with t = [[1, 2]]: 3 - 14 = -11.   Backward from dscores = t = [[1, 2]]:
#   layer 2: grads w = dout * its input = [3, 14], dx = dout * w = [[1, -2]];  layer 1: passes it on
#   layer 0: grads w = [[1, -2]] * [[1, 2]] = [1, -4]
def stand_in_model():
    layers = [StandInScale(np.array([2.0, 3.0])), StandInShift(), StandInScale(np.array([1.0, -1.0]))]
    return Model(layers, loss_layer=StandInLoss()), layers


x, t = np.array([[1.0, 2.0]]), np.array([[1.0, 2.0]])
model, layers = stand_in_model()
check_close(call(model.predict, x, name="Model.predict"), [[3.0, -7.0]], "Model.predict(x)", mistakes=[
    ([[4.0, -3.0]], "apply the layers in order, layers[0] first."),
], hint="pass x through every layer in order: x = layer_forward(layer, x, train), then return x.")
check_close(check_scalar(call(model.loss, x, t, name="Model.loss"), "Model.loss(x, t)"), -11.0, "Model.loss(x, t)",
            hint="the loss layer's forward of predict(x) and t.")
grads = call(model.gradient, x, t, name="Model.gradient")
check_keys(grads, ["0.w", "2.w"], "Model.gradient(x, t)",
           hint="return a dict keyed by the index of the layer in model.layers, a dot, the parameter name.")
check_close(grads["2.w"], [3.0, 14.0], 'Model.gradient(x, t)["2.w"]',
            hint="start from dout = loss_layer.backward(1.0), then call backward on the layers in REVERSE order (the "
                 "last layer first), each receiving the dx of the layer after it.")
check_close(grads["0.w"], [1.0, -4.0], 'Model.gradient(x, t)["0.w"]', mistakes=[
    ([1.0, 4.0], "call backward in the REVERSE order of forward: the last layer first."),
], hint="pass each layer's dx on as the dout of the layer before it.")
params = call(lambda: model.params, name="Model.params")
check_keys(params, ["0.w", "2.w"], "Model.params",
           hint='one key per parameter: the index of its layer in model.layers, a dot, its name ("0.w").')
check_that("holds", (params["0.w"] is layers[0].params["w"], params["2.w"] is layers[2].params["w"]), "Model.params",
           hint="hold the layers' own arrays, not copies: an optimizer updates them in place.",
           problem="arrays that are not the layers' own (copies?)")
grads_property = call(lambda: model.grads, name="Model.grads")
check_keys(grads_property, ["0.w", "2.w"], "Model.grads", hint="the keys of Model.params.")
check_close(grads_property["0.w"], [1.0, -4.0], 'Model.grads["0.w"]',
            hint="collect each layer's grads after the backward pass, with the keys of Model.params.")
empty = Model(loss_layer=StandInLoss())
add_hint = "append the layer to model.layers and return the model itself (return self)."
check_that("holds", (call(empty.add, StandInShift(), name="Model.add") is empty,), "Model.add(layer)", hint=add_hint,
           problem="a return value other than the model itself")
check_length(empty.layers, 1, "model.layers after Model().add(layer)", hint=add_hint)
### BEGIN HIDDEN TESTS
class _RefAffine:
    def __init__(self, W, b):
        self.params = {"W": W, "b": b}
        self.grads = {}

    def forward(self, x):
        self.x_shape, self.x = x.shape, x.reshape(len(x), -1)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads = {"W": self.x.T @ dout, "b": dout.sum(axis=0)}
        return (dout @ self.params["W"].T).reshape(self.x_shape)


class _RefTanh:
    params, grads = {}, {}

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)


class _RefSoftmaxLoss:
    def forward(self, s, t):
        e = np.exp(s - s.max(axis=1, keepdims=True))
        self.y, self.t = e / e.sum(axis=1, keepdims=True), t
        return float(-np.log(self.y[np.arange(len(t)), t]).mean())

    def backward(self, dout=1.0):
        g = self.y.copy()
        g[np.arange(len(self.t)), self.t] -= 1
        return dout * g / len(self.t)


class _Spy:
    """Records the train flag it is called with; identity otherwise."""

    def __init__(self):
        self.params, self.grads, self.modes = {}, {}, []

    def forward(self, x, train=True):
        self.modes.append(train)
        return x

    def backward(self, dout):
        return dout


rng = np.random.default_rng(309)
spy = _Spy()
model = Model([_RefAffine(rng.normal(size=(6, 5)), rng.normal(size=5)), _RefTanh(), spy,
               _RefAffine(rng.normal(size=(5, 4)), rng.normal(size=4))], loss_layer=_RefSoftmaxLoss())
x_, t_ = rng.normal(size=(7, 2, 3)), rng.integers(0, 4, size=7)
### BEGIN REFERENCE
x_before = x_.copy()
### END REFERENCE
grads = call(model.gradient, x_, t_, name="Model.gradient")
check_keys(grads, ["0.W", "0.b", "3.W", "3.b"], "Model.gradient(x, t) for [Affine, Tanh, Spy, Affine]",
           hint="one key per parameter: the index of its layer in model.layers, a dot, its name.")
for key in ("0.W", "0.b", "3.W", "3.b"):
    ### BEGIN REFERENCE
    numerical = numerical_gradient(lambda _: model.loss(x_, t_), model.params[key])
    ### END REFERENCE
    check_gradient(grads[key], numerical, f"Model.gradient()[{key!r}] on a 2-hidden-layer network",
                   hint="loss_layer.backward(1.0), then layer.backward(dout) for the layers in reverse order.")
check_close(x_, x_before, "x after Model.gradient", hint="the model must not modify its input.")
for what, run, flag in (("predict(x)", lambda: model.predict(x_), False),
                        ("predict(x, True)", lambda: model.predict(x_, True), True),
                        ("loss(x, t)", lambda: model.loss(x_, t_), True),
                        ("loss(x, t, False)", lambda: model.loss(x_, t_, False), False),
                        ("gradient(x, t)", lambda: model.gradient(x_, t_), True)):
    spy.modes.clear()
    call(run, name=f"Model.{what}")
    check_that("train_flags", (spy.modes,), f"Model.{what}, for a layer whose forward takes `train`",
               hint="call layer_forward(layer, x, train) for every layer, passing the method's own flag.",
               expected=flag)
check_close(call(model.predict, x_, name="Model.predict"),
            np.tanh(x_.reshape(7, -1) @ model.layers[0].params["W"] + model.layers[0].params["b"])
            @ model.layers[3].params["W"] + model.layers[3].params["b"], "Model.predict on a (7, 2, 3) batch",
            hint="pass x through every layer in order, in prediction mode (train=False).")
chained = Model(loss_layer=_RefSoftmaxLoss())
first, second = _RefTanh(), _RefTanh()
check_that("holds", (call(chained.add, first, name="Model.add") is chained,), "Model().add(a)",
           hint="return self from add, so that calls chain: Model().add(a).add(b).",
           problem="a return value other than the model itself")
call(chained.add, second, name="Model.add")
check_length(chained.layers, 2, "model.layers after Model().add(a).add(b)")
check_that("holds", (chained.layers[0] is first, chained.layers[1] is second),
           "model.layers after Model().add(a).add(b)", hint="append each new layer at the end of self.layers.",
           problem="the two layers in another order than they were added, [a, b]")
# A model built with add after it was created (as make_mlp does), trained on two batches in a row:
# params and grads describe the layers as they are now, after the latest backward.
built = Model(loss_layer=_RefSoftmaxLoss())
check_keys(call(lambda: built.params, name="Model.params"), [], "Model.params of a model without layers",
           hint="a model without layers has no parameters: params should be {}.")
built.add(_RefAffine(rng.normal(size=(4, 3)), rng.normal(size=3))).add(_RefTanh()).add(
    _RefAffine(rng.normal(size=(3, 2)), rng.normal(size=2)))
params = call(lambda: built.params, name="Model.params")
check_keys(params, ["0.W", "0.b", "2.W", "2.b"], "Model.params after add(Affine).add(Tanh).add(Affine)",
           hint="build the dict from self.layers each time the property is read; do not keep a copy made before the "
                "layers were added.")
for batch in range(2):
    x_, t_ = rng.normal(size=(5, 4)), rng.integers(0, 2, size=5)
    grads = call(built.gradient, x_, t_, name="Model.gradient")
    grads_property = call(lambda: built.grads, name="Model.grads")
    for key in ("0.W", "0.b", "2.W", "2.b"):
        ### BEGIN REFERENCE
        numerical = numerical_gradient(lambda _: built.loss(x_, t_), built.params[key])
        ### END REFERENCE
        where = f"on the {'first' if batch == 0 else 'second'} batch in a row"
        hint = ("collect the layers' grads after the backward pass, each time (a layer may replace its grads "
                "arrays, or its whole grads dict, in every backward); do not keep them from an earlier call.")
        check_gradient(grads[key], numerical, f"Model.gradient()[{key!r}] {where}", hint=hint)
        check_gradient(grads_property[key], numerical, f"Model.grads[{key!r}] {where}", hint=hint)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Accuracy, in batches
#
# The accuracy is the fraction of examples whose highest score is the label: with integer labels,
# `mean(argmax(scores, axis=1) == t)`; one-hot labels are turned into integers with
# `argmax(t, axis=1)`. Predicting all 60 000 training images at once would build activations of
# shape $(60000, 100)$ in every layer — fine here, but a convolutional network keeps arrays many
# times the size of its input (chapter 06: im2col on 60 000 images needs gigabytes). So predict
# `batch_size` examples at a time and **count** the correct ones. The last batch may be shorter;
# averaging the per-batch accuracies would then weigh its examples more than the others.
#
# **Exercise 10 (2 points).** Write `model_accuracy(model, x, t, batch_size=1000)`; it may only call
# `model.predict` on at most `batch_size` examples at a time (prediction mode), and returns a float
# in $[0, 1]$.

# %% answer="model_accuracy" export=true
def model_accuracy(model, x, t, batch_size=1000):
    """Fraction of correct predictions of model on (x, t), predicted batch_size examples at a time.

    Args:
        model: has predict(x) -> scores (N, C).
        x: (N, ...) inputs.  t: (N,) int labels or (N, C) one-hot.  batch_size: examples per predict.

    Returns:
        a float in [0, 1].
    """
    ### BEGIN SOLUTION
    labels = np.argmax(t, axis=1) if np.ndim(t) == 2 else np.asarray(t)
    correct = 0
    for start in range(0, len(x), batch_size):
        scores = model.predict(x[start:start + batch_size], train=False)
        correct += int(np.sum(np.argmax(scores, axis=1) == labels[start:start + batch_size]))
    return correct / len(x)
    ### END SOLUTION


# %% tests="test_model_accuracy" points=2
from dlfs.grading import check_that


class StandInModel:
    """Predicts class (first feature mod 3) and records the size of every batch it is asked for."""

    def __init__(self):
        self.batch_sizes, self.modes = [], []

    def predict(self, x, train=False):
        self.batch_sizes.append(len(x))
        self.modes.append(train)
        scores = np.zeros((len(x), 3))
        scores[np.arange(len(x)), np.reshape(x, (len(x), -1))[:, 0].astype(int) % 3] = 1.0
        return scores


# predictions 0 1 2 0 1 2 0 against labels 0 1 2 0 0 0 0: 5 of 7 correct
x = np.arange(7.0).reshape(7, 1)
t = np.array([0, 1, 2, 0, 0, 0, 0])
spy = StandInModel()
got = check_scalar(call(model_accuracy, spy, x, t, 3), "model_accuracy(model, x, t, batch_size=3)",
                   hint="return one number: the fraction of correct predictions.")
check_close(got, 5 / 7, "model_accuracy(model, x, t, batch_size=3)", mistakes=[
    (5.0, "return the fraction of correct predictions, not their count."),
    (7 / 9, "do not average the accuracies of the batches: the last batch is shorter. Count the correct ones."),
    (4 / 6, "the last, shorter batch (here 1 example) counts too: a loop like range(N // batch_size) drops it."),
], hint="accuracy = (number of examples whose argmax(scores) is the label) / N, counted over every batch.")
check_that("batch_sizes", (spy.batch_sizes,), "the batches model_accuracy(model, x, t, batch_size=3) predicted",
           hint="predict x[start:start + batch_size] for start in range(0, N, batch_size).", largest=3, total=7,
           unit="examples", missing="no call of predict")
got = check_scalar(call(model_accuracy, StandInModel(), x, np.eye(3)[t], 3), "model_accuracy with one-hot labels")
check_close(got, 5 / 7, "model_accuracy with one-hot labels", hint="turn one-hot labels into integers: argmax(t, axis=1).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(310)
x_ = rng.integers(0, 50, size=(2500, 1, 2, 2)).astype(float)
pred = x_.reshape(2500, -1)[:, 0].astype(int) % 3
t_ = np.where(rng.random(2500) < 0.6, pred, (pred + 1) % 3)
spy = StandInModel()
with unchanged("model_accuracy", x=x_, t=t_):
    got = check_scalar(call(model_accuracy, spy, x_, t_), "model_accuracy on 2500 images (default batch_size)")
check_close(got, float(np.mean(pred == t_)), "model_accuracy on 2500 images (default batch_size)",
            hint="count the correct predictions over every batch (the last, shorter one too), then divide by N.")
check_that("batch_sizes", (spy.batch_sizes,), "the batches model_accuracy predicted on 2500 images (default "
           "batch_size=1000)", largest=1000, total=2500, unit="examples", missing="no call of predict",
           hint="loop over start in range(0, N, batch_size) and predict x[start:start + batch_size].")
check_that("train_flags", (spy.modes,), "the calls of predict by model_accuracy",
           hint="accuracy is measured in prediction mode: predict(x) or predict(x, train=False).", expected=False)
for size in (1, 7, 2500, 4000):
    spy = StandInModel()
    got = call(model_accuracy, spy, x_, np.eye(3)[t_], size)
    check_close(check_scalar(got, f"model_accuracy(batch_size={size}), one-hot"), float(np.mean(pred == t_)),
                f"model_accuracy(batch_size={size}), one-hot labels",
                hint="turn one-hot labels into integers (argmax(t, axis=1)), count the correct ones over every batch "
                     "(the last, shorter one too), then divide by N.")
    check_that("batch_sizes", (spy.batch_sizes,), f"the batches model_accuracy(batch_size={size}) predicted",
               hint="predict at most batch_size examples at a time.", largest=size, total=2500, unit="examples",
               missing="no call of predict")
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Saving and loading the weights
#
# A trained network is its parameters. `np.savez(path, **arrays)` writes several named arrays into a
# single `.npz` file, and `np.load(path)` reads it back as a mapping name $\to$ array. Use the keys of
# `model.params`. Loading has two traps:
# - `model.params` is a **new** dict each time; `model.params[key] = array` changes that dict, not
#   the layer. Write *into* the layer's array instead, `params[key][...] = stored`, which also keeps
#   every other reference to it valid;
# - `params[key][...] = stored` broadcasts: a stored $(1, M)$ array fills a $(D, M)$ one without a
#   complaint. Loading the weights of another architecture must fail loudly, with a `ValueError`
#   naming the parameter — and before anything is overwritten, so the model stays usable.
#
# **Exercise 11 (3 points).** Write `save_params(model, path)` and `load_params(model, path)`.
# `path` ends in `.npz`.

# %% answer="save_load" export=true
def save_params(model, path):
    """Write model.params to the single file ``path`` (.npz), one array per key."""
    ### BEGIN SOLUTION
    np.savez(path, **model.params)
    ### END SOLUTION


def load_params(model, path):
    """Copy the arrays saved by save_params into model.params, in place.

    Raises:
        ValueError: naming the parameter, if the file's keys or shapes differ from the model's.
    """
    ### BEGIN SOLUTION
    with np.load(path) as data:
        stored = {key: data[key] for key in data.files}
    params = model.params
    missing, unexpected = sorted(set(params) - set(stored)), sorted(set(stored) - set(params))
    if missing or unexpected:
        raise ValueError(f"{path} does not fit this model: parameters missing from the file {missing}, "
                         f"parameters the model does not have {unexpected}.")
    for key, value in params.items():
        if stored[key].shape != value.shape:
            raise ValueError(f"{path} does not fit this model: parameter {key!r} has shape {stored[key].shape} "
                             f"in the file but {value.shape} in the model.")
    for key, value in params.items():
        value[...] = stored[key]
    ### END SOLUTION


# %% tests="test_save_load" points=3
from dlfs.grading import check_keys, check_length, check_that


class StandInNet:
    """A stand-in model with the Model interface: layers, params (a new dict each time) and predict."""

    def __init__(self, *weights):
        self.layers = [StandInScale(np.array(w, dtype=float)) for w in weights]

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def predict(self, x, train=False):
        for layer in self.layers:
            x = layer.forward(x)
        return x


def expect_value_error(function, *args, what="", names=None, hint=None):
    """Run load_params, which must raise ValueError, with a message that names the parameter `names`."""
    message = None
    try:
        function(*args)
    except ValueError as error:
        message = str(error)
    except NotImplementedError:
        call(function, *args)  # reports "not implemented yet"
    check_that("holds", (message is not None,), f"load_params when {what}", problem="no ValueError",
               hint="compare the file's keys and shapes with model.params before copying anything.")
    if names is not None:
        check_that("holds", (names in (message or ""),), f"the ValueError of load_params when {what}",
                   problem=f"a message that does not name the parameter {names!r}", hint=hint)


with tempfile.TemporaryDirectory() as folder:
    path = str(Path(folder) / "weights.npz")
    net = StandInNet([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    x = np.array([[1.0, 1.0, 1.0], [1.0, -1.0, 0.5]])
    before = net.predict(x)
    arrays = [net.layers[0].params["w"], net.layers[1].params["w"]]
    call(save_params, net, path)
    check_keys(dict.fromkeys(p.name for p in Path(folder).iterdir()), ["weights.npz"],
               "the files save_params(model, '.../weights.npz') wrote", what="file",
               hint="np.savez writes one .npz holding one named array per keyword argument.")
    for array in arrays:
        array *= 0.0
    call(load_params, net, path)
    check_close(net.predict(x), before, "predictions after save, overwrite, load", hint=(
        "write the stored values into the model's own arrays: params = model.params; params[key][...] = stored[key]."),
        mistakes=[(np.zeros_like(before), "the model still holds the overwritten weights (zeros): load_params must "
                   "write the stored values INTO the layers' arrays, params[key][...] = stored[key]; assigning "
                   "model.params[key] = ... changes only a temporary dict.")])
    check_that("holds", (net.layers[0].params["w"] is arrays[0],), "load_params",
               problem="a new array in place of the layer's own weight array",
               hint="write into the layer's array instead of replacing it: params[key][...] = stored[key].")
    other = StandInNet([1.0, 2.0, 3.0], [4.0, 5.0])
    expect_value_error(load_params, other, path, what="the model has another shape")
### BEGIN HIDDEN TESTS
untouched = "load_params changed the model before raising ValueError; check every key and shape first, then copy."
with tempfile.TemporaryDirectory() as folder:
    rng = np.random.default_rng(311)
    path = str(Path(folder) / "net.npz")
    net = StandInNet(rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=3))
    x_ = rng.normal(size=(4, 2, 3))
    ### BEGIN REFERENCE
    before = net.predict(x_)
    ### END REFERENCE
    call(save_params, net, path)
    with np.load(path) as stored:
        check_length(stored.files, 3, "the arrays in the saved .npz", hint="one array per parameter.")
    fresh = StandInNet(np.zeros((2, 3)), np.zeros(3), np.zeros(3))
    keep = fresh.params
    call(load_params, fresh, path)
    check_close(fresh.predict(x_), before, "the predictions of a model loaded from a saved file", rtol=0, atol=0,
                hint="it must predict exactly like the saved one: copy every stored array into its parameter.")
    check_that("holds", (all(fresh.params[k] is keep[k] for k in keep),), "load_params",
               problem="new arrays in place of the parameter arrays", hint="write into them: params[key][...] = ...")
    # wrong shapes that broadcast silently: (1, 3) into (2, 3)
    wrong = StandInNet(rng.normal(size=(1, 3)), rng.normal(size=3), rng.normal(size=3))
    other_path = str(Path(folder) / "wrong.npz")
    np.savez(other_path, **wrong.params)
    ### BEGIN REFERENCE
    snapshot = {k: v.copy() for k, v in fresh.params.items()}
    ### END REFERENCE
    expect_value_error(load_params, fresh, other_path, what="a stored (1, 3) array meets a (2, 3) parameter (the "
                       "assignment would broadcast silently)", names="0.w")
    for key, value in fresh.params.items():
        check_close(value, snapshot[key], f"parameter {key!r} after load_params raised ValueError", hint=untouched,
                    rtol=0, atol=0)
    # a model with one layer more or less
    bigger = StandInNet(rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=3), rng.normal(size=3))
    expect_value_error(load_params, bigger, path, what="the model has a parameter the file lacks", names="3.w")
    smaller = StandInNet(rng.normal(size=(2, 3)), rng.normal(size=3))
    expect_value_error(load_params, smaller, path, what="the file has a parameter the model lacks", names="2.w")
    # the same number of values in another shape: a (3, 2) file array for a (2, 3) parameter (the second one)
    two = StandInNet(rng.normal(size=3), rng.normal(size=(2, 3)))
    np.savez(other_path, **{"0.w": rng.normal(size=3), "1.w": rng.normal(size=(3, 2))})
    ### BEGIN REFERENCE
    snapshot = {k: v.copy() for k, v in two.params.items()}
    ### END REFERENCE
    expect_value_error(load_params, two, other_path, what="a stored (3, 2) array meets a (2, 3) parameter (the same "
                       "number of values, in another shape)", names="1.w",
                       hint="compare the shapes (not the sizes) of every key yourself, before copying anything.")
    for key, value in two.params.items():
        check_close(value, snapshot[key], f"parameter {key!r} after load_params raised ValueError", hint=untouched,
                    rtol=0, atol=0)
### END HIDDEN TESTS

# %% [markdown]
# ## 10. A multilayer perceptron: two moons, then MNIST
#
# `make_mlp` (given) builds the usual stack: for sizes `[784, 100, 100, 10]` it is
# Affine(784→100), ReLU, Affine(100→100), ReLU, Affine(100→10), with the softmax loss. The weights are
# drawn as `weight_std` times standard normal numbers and the biases start at zero. With the default
# `weight_std=0.01` the signal shrinks by a factor of about ten per layer and a deep network barely
# starts learning; we use $0.05 \approx \sqrt{2/784}$, He's scale for the first layer (chapter 05
# derives it; for the layers with 100 inputs it would be $\sqrt{2/100} \approx 0.14$).

# %% export=true
def make_mlp(sizes, activation=ReLU, weight_std=0.01, seed=0):
    """A Model of Affine layers for consecutive sizes, with an activation between them (not after the last).

    Args:
        sizes: e.g. [784, 100, 100, 10].
        activation: the class of the activation layer (ReLU, Sigmoid, ...).
        weight_std: W ~ weight_std * N(0, 1); b = 0.
        seed: seed of np.random.default_rng.
    """
    rng = np.random.default_rng(seed)
    model = Model()
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        model.add(Affine(weight_std * rng.standard_normal((fan_in, fan_out)), np.zeros(fan_out)))
        if i < len(sizes) - 2:
            model.add(activation())
    return model


# %% [markdown]
# Training is plain mini-batch stochastic gradient descent, given here (chapter 04 is all about
# better optimizers): shuffle the training set every epoch, and for every batch of examples compute
# `model.gradient` and move each parameter **in place** against its gradient. If a monitor is given,
# every `every` steps it records the loss on a fixed sample of training images and the accuracy on
# validation images.

# %%
FULL_RUN = False  # True: the full training (about a minute)


# %%
def train_sgd(model, x, t, epochs, batch_size=100, lr=0.1, seed=0, monitor=None, probe=None, every=50):
    """Mini-batch SGD, updating model.params in place.

    Args:
        probe: (x_train_probe, t_train_probe, x_val, t_val) measured every `every` steps into `monitor`.
    """
    rng = np.random.default_rng(seed)
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            grads = model.gradient(x[batch], t[batch])
            for key, value in model.params.items():
                value -= lr * grads[key]
            step += 1
            if monitor is not None and step % every == 0:
                x_probe, t_probe, x_check, t_check = probe
                monitor.update(loss=model.loss(x_probe, t_probe, train=False),
                               val_accuracy=model.accuracy(x_check, t_check))
    return model


# %% [markdown]
# ### Why hidden layers: two moons
#
# Two interleaving half-moons of 200 points in the plane, which no straight line separates. Three
# models, trained alike with the SGD above: softmax regression (one `Affine` layer, chapter 02's
# model), a stack of three `Affine` layers with no activation between them, and the same stack with
# ReLUs — a multilayer perceptron. The figure shows the class each model predicts at every point of
# the plane.

# %% demo=true
class Identity:
    """A do-nothing activation: out = x, dx = dout. Stacks Affine layers with nothing in between."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout


x_moons, t_moons = make_moons(n_samples=200, noise=0.1, seed=0)
moons_models = {
    "softmax regression 2-2": make_mlp([2, 2], weight_std=0.5),
    "3 Affine layers 2-20-20-2, no activation": make_mlp([2, 20, 20, 2], activation=Identity, weight_std=0.5),
    "MLP 2-20-20-2 with ReLU": make_mlp([2, 20, 20, 2], weight_std=0.5),
}
for name, model in moons_models.items():
    train_sgd(model, x_moons, t_moons, epochs=300, batch_size=20, lr=0.1, seed=0)
    print(f"{name}: training accuracy {model.accuracy(x_moons, t_moons):.3f}")
decision_boundaries(moons_models, x_moons, t_moons, title="two moons: what each model predicts")

# %% [markdown]
# The linear stack ends where softmax regression ends — one straight boundary, whatever its depth —
# while the ReLU network bends its boundary around the moons and classifies every training point.
#
# ### The MLP on MNIST
#
# The graded run below trains a 784-100-100-10 MLP with exactly chapter 02's settings — the same
# 10 000 training images, learning rate 0.5, batches of 100, 5 epochs — so the two models can be
# compared directly. The monitor shows the loss on 1000 training images and the accuracy on 1000
# validation images; the test set is used only at the end, to report, never to choose. Set `FULL_RUN = True` to train on
# all 50 000 training images for 10 epochs (about a minute). Set it back to `False` before you
# submit — the grader gives each cell 60 seconds.


# %% demo=true
(x_train, t_train), (x_val, t_val), (x_test, t_test) = load_mnist(n_train=None if FULL_RUN else 10_000,
                                                                  n_validation=10_000)
epochs, every = (10, 100) if FULL_RUN else (5, 20)
print(f"train {x_train.shape}, validation {x_val.shape}, test {x_test.shape}, {epochs} epochs")

mlp = make_mlp([784, 100, 100, 10], weight_std=0.05, seed=0)
probe = (x_train[:1000], t_train[:1000], x_val[:1000], t_val[:1000])
steps_per_epoch = -(-len(x_train) // 100)
steps = epochs * steps_per_epoch
with TrainingMonitor(total=steps // every, title=f"MLP 784-100-100-10 on {len(x_train)} MNIST images, SGD lr 0.5",
                     every=1.0, steps_per_update=every, steps_per_epoch=steps_per_epoch,
                     xlabel="training step (one mini-batch of 100 images)",
                     labels={"loss": "loss (mean cross-entropy)\non 1000 training images",
                             "val_accuracy": "accuracy on 1000 validation images"}) as monitor:
    train_sgd(mlp, x_train, t_train, epochs, batch_size=100, lr=0.5, seed=0, monitor=monitor, probe=probe, every=every)
print(f"train accuracy {mlp.accuracy(x_train, t_train):.4f}, validation accuracy {mlp.accuracy(x_val, t_val):.4f}")
print(f"test accuracy, looked at once: {mlp.accuracy(x_test, t_test):.4f}")

# %% [markdown]
# Chapter 02's softmax regression, trained on the same images with the same settings, reached a test
# accuracy of 90.75 %; two hidden layers of 100 ReLUs take it to about 95 %. With `FULL_RUN` the MLP
# passes 97 %.

# %% [markdown]
# ### The digits it gets wrong
#
# Here are the first misclassified test digits, titled *predicted / true*. Many are digits a person
# would hesitate over too; others show what a network that sees pixels, not strokes, still misses.

# %% demo=true
predicted = np.concatenate([np.argmax(mlp.predict(x_test[i:i + 1000]), axis=1) for i in range(0, len(x_test), 1000)])
wrong = np.flatnonzero(predicted != t_test)
print(f"{len(wrong)} of {len(t_test)} test digits misclassified")
shown = wrong[:30]
image_grid(x_test[shown], titles=[f"{predicted[i]} / {t_test[i]}" for i in shown], ncols=10,
           suptitle="misclassified test digits: predicted / true")

# %% [markdown]
# ### Saving and loading the trained network
#
# Save the trained weights, load them into a new network of the same shape, and compare predictions;
# then try to load them into a network of another shape.

# %% demo=true
with tempfile.TemporaryDirectory() as folder:
    path = str(Path(folder) / "mlp.npz")
    mlp.save(path)
    loaded = make_mlp([784, 100, 100, 10], seed=1)
    loaded.load(path)
    same = np.array_equal(loaded.predict(x_test[:1000]), mlp.predict(x_test[:1000]))
    print(f"{Path(path).stat().st_size / 1e6:.2f} MB; the loaded copy predicts exactly the same: {same}")
    try:
        make_mlp([784, 50, 10]).load(path)
    except ValueError as error:
        print("loading into a 784-50-10 network fails:", error)

# %% [markdown]
# ## 11. Written question
#
# Suppose a learner writes ReLU's forward as `x[x < 0] = 0; return x` — it edits its input in
# place — while its backward is otherwise correct.
#
# **Written question (2 points, graded by a person).** What goes wrong with the gradients, and where?
# Name at least one concrete situation in a network or in the numerical gradient check where the
# in-place edit changes what another part of the computation sees, and explain why the bug is hard to
# notice. Answer in four to six sentences.

# %% [markdown] written="q_in_place" points=2
# ### BEGIN SOLUTION
# In the networks of this chapter nothing goes wrong: an `Affine` layer keeps its input, not its
# output, so zeroing the Affine output in place changes nothing anyone uses, and after a `Sigmoid`
# (outputs in $(0, 1)$) there is nothing to zero — training is identical. The bug bites when the
# array ReLU receives still belongs to someone who needs it. (1) The numerical gradient check
# perturbs $x$ in place, one entry at a time, and calls `forward`: the first call zeroes every
# negative entry of $x$, so the numerical derivatives are taken at a different point than intended
# (an entry that became 0 gets a numerical derivative of 1/2 against an analytic 0), the check
# reports large errors for a layer whose backward is right, and the caller's $x$ is corrupted
# afterwards. (2) A ReLU applied to data the caller keeps — inputs with negative values, such as
# standardized features, directly or through `Flatten`, which returns a view — silently rewrites the
# data set, so later epochs and evaluations see other data. Nothing raises and the usual stack still
# works, so the damage shows up far from the line that caused it; layers must build new arrays
# (`np.maximum(x, 0)`) and never write into their inputs.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - A layer's `backward` turns `dout` into `dx` and fills `grads`; Affine: $dW = X^\top\,\text{dout}$,
#   $db = \sum_n \text{dout}_n$, $dX = \text{dout}\,W^\top$ reshaped to the input's shape.
# - Activations multiply `dout` by $f'(x)$, computed from what forward kept — the input's mask
#   (ReLU), the output (Sigmoid), or the input (ELU) — and never write into their inputs.
# - Softmax with cross-entropy has the gradient $(\hat Y - T)/N$; the $\frac1N$ lives only there.
# - A numerical gradient check with a random `dout` verifies any layer, parameters included.
# - A model is a list of layers: forward in order, backward in reverse order; its parameters are the
#   layers' own arrays, updated in place, saved to and loaded from one `.npz`; accuracy is counted in
#   batches so memory stays bounded.
#
# Next, in **04 — optimizers**, the plain SGD loop above is replaced by Momentum, AdaGrad, RMSProp,
# Adam and friends, all working on `model.params` and `model.grads`.
