# %% [markdown]
# # 05 — Initialization and regularization
#
# **Learning objectives.** After this notebook you can
# 1. compute the *fan-in* and *fan-out* of affine and convolution weights and derive the Xavier and
#    He initializations from the variance of a layer's output;
# 2. see, layer by layer, how a bad initialization makes activations vanish or saturate and
#    gradients shrink, and how Xavier (for sigmoid/tanh) and He (for ReLU) keep them alive;
# 3. add L2 weight decay to a loss and to its gradient — to the weights, not to the biases;
# 4. write inverted dropout as a layer with a train/test switch, and explain where its scaling goes;
# 5. write a batch-normalization layer, forward and backward — the backward pass by walking back
#    through its computational graph — with running statistics for test time, and see it train a
#    badly initialized network;
# 6. read an overfitting experiment: train and validation accuracy on 300 MNIST images, with and
#    without regularization; choose the setting on the validation set and look at the test set once.
#
# **How this notebook is graded.** Each exercise is a cell with `raise NotImplementedError()`: replace
# that line with your code and run the cell, then run the test cell below it. The tests you see are a
# part of the grade; hidden tests (random inputs, edge cases, gradient checks, statistics of large
# samples) run when your notebook is graded. A failed test says what was expected, what you returned,
# and a hint. One question near the end is read and graded by a person.
#
# **Building blocks.** The layers of chapter 03 (`Affine`, `ReLU`, `Sigmoid`, `Model`, …) and the
# optimizers of chapter 04 (`SGD`, `minibatches`) are provided, working, in the package `provided`.
# Every layer has `forward`, `backward`, and the dictionaries `params` and `grads`; a `Model` names
# its parameters `"<layer index>.<name>"`, e.g. `"0.W"`, `"0.b"`, `"2.W"`.
#
# **Notation.**
#
# | symbol | meaning |
# |---|---|
# | $N$; $W$ $(D, M)$ | batch size; an affine weight ($D$ inputs, $M$ outputs) |
# | $(F_N, C, F_H, F_W)$ | a convolution weight: $F_N$ filters over $C$ input channels, each $F_H \times F_W$ pixels (`FN, C, FH, FW`; chapter 06 builds the convolution itself) |
# | $n_\text{in}$, $n_\text{out}$ | fan-in, fan-out |
# | $\sigma$ | a standard deviation: the initial weights' scale, or batch normalization's $\sigma^2$ (the sigmoid is written $\operatorname{sigmoid}$ in this chapter) |
# | $L$, $\tilde L$, $\lambda$ | data loss, loss with the penalty, weight decay (`lam`) |
# | $p$, $q = 1 - p$ | drop rate (`p`), keep rate |
# | $\mu$, $\sigma^2$, $\hat x$, $\gamma$, $\beta$, $\varepsilon$ | batch normalization: batch mean and variance, normalized input, scale, shift, guard |
# | $\rho$ | the decay of batch normalization's running statistics (`momentum`, chapter 04's $\rho$) |
# | out, `dout` | a layer's output and $\partial L/\partial\,\text{out}$ |
# | $n, n'$ | indices of examples in the batch |
# | $\eta$ | learning rate (`lr`) |

# %% export=true
import numpy as np

# %%
from dlfs.data import load_mnist
from dlfs.diagnostics import (InitExplorer, RegularizationExplorer, activation_histograms,
                              gradient_norms_figure, overfitting_figure)
from dlfs.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from dlfs.grading import (GradingError, call, check_close, check_finite, check_gradient, check_length,
                          check_scalar, check_shape, replaced, unchanged)
from dlfs.monitor import plot_curves
from provided.mlp import Affine, Model, ReLU, Sigmoid, SoftmaxWithLoss
from provided.optimizers import SGD, minibatches

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Why the scale of the initial weights matters
#
# Take a stack of five layers of 100 units, feed it 1000 random inputs, and look at the distribution
# of each layer's output. The only thing we choose is the standard deviation $\sigma$ of the initial
# weights, $W \sim \sigma \cdot \mathcal N(0, 1)$. Two natural-looking choices, with the sigmoid:

# %% demo=true
def five_layer_activations(init, activation, n_layers=5, width=100, n_samples=1000, seed=0):
    """Outputs of each layer of a stack of `n_layers` (affine without bias -> activation) layers.

    init: function (shape, rng) -> weight array.  activation: a layer class (Sigmoid, ReLU).
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, width))
    outputs = []
    for _ in range(n_layers):
        W = init((width, width), rng)
        x = activation().forward(x @ W)
        outputs.append(x)
    return outputs


def gaussian(std):
    return lambda shape, rng: std * rng.standard_normal(shape)


activation_histograms({
    "σ = 0.01": five_layer_activations(gaussian(0.01), Sigmoid),
    "σ = 1": five_layer_activations(gaussian(1.0), Sigmoid),
}, value_range=(0, 1), title="sigmoid activations per layer")

# %% [markdown]
# With $\sigma = 1$ the activations pile up at 0 and 1: the sigmoid is **saturated**, its derivative
# $s(1-s)$ is almost 0 there, and the gradients flowing back through it vanish. With $\sigma = 0.01$
# every unit outputs nearly the same value 0.5: the layers have lost the differences between the
# inputs (the units are interchangeable, as if the network had a single unit per layer), and with ReLU
# the activations would shrink towards 0 layer after layer.
#
# ### The variance of a layer's output
#
# One output unit of an affine layer computes $z = \sum_{i=1}^{n_\text{in}} w_i x_i$. If the weights
# and the inputs are independent with mean 0, the variances multiply and add up:
#
# $$ \operatorname{Var}(z) = n_\text{in} \, \operatorname{Var}(w) \, \operatorname{Var}(x). $$
#
# To keep the variance the same from layer to layer we need $\operatorname{Var}(w) = 1/n_\text{in}$.
# The backward pass multiplies by $W^\top$, so the same argument for the gradients asks for
# $\operatorname{Var}(w) = 1/n_\text{out}$. **Xavier (Glorot) initialization** takes the compromise
#
# $$ \operatorname{Var}(w) = \frac{2}{n_\text{in} + n_\text{out}} . $$
#
# It assumes inputs of mean 0 and an activation that behaves like the identity around 0, as tanh
# does. The sigmoid is neither: near 0 it is $\operatorname{sigmoid}(x) \approx \frac12 + \frac x4$,
# and its outputs have mean $\frac12$. That offset dominates the next layer's input
# ($\operatorname{Var}(z) = n_\text{in}\operatorname{Var}(w)\,E[x^2]$ with $E[x^2] \ge \frac14$), so
# after the first layer the spread settles at a level set by the weights' scale, as the standard
# deviations over the histograms show: what the units pass on is mostly the same offset for every
# input.
# A ReLU sets half of its inputs to 0, which halves the second moment of its output; **He (Kaiming)
# initialization** compensates with a factor 2, counting the inputs only:
#
# $$ \operatorname{Var}(w) = \frac{2}{n_\text{in}} . $$
#
# Both come in two flavours with the same variance: a normal distribution with that variance, or a
# uniform distribution on $[-a, a]$, whose variance is $a^2/3$ — so $a = \sqrt{6/(n_\text{in} + n_\text{out})}$
# for Xavier and $a = \sqrt{6/n_\text{in}}$ for He.
#
# ### Fan-in and fan-out
#
# $n_\text{in}$ (the *fan-in*) is the number of inputs one output unit sums over; $n_\text{out}$ (the
# *fan-out*) the number of outputs one input unit feeds.
#
# | weight | shape | fan-in | fan-out |
# |---|---|---|---|
# | affine | $(D, M)$ | $D$ | $M$ |
# | convolution | $(F_N, C, F_H, F_W)$ | $C \cdot F_H \cdot F_W$ | $F_N \cdot F_H \cdot F_W$ |
#
# A convolution output pixel of one filter sums over a $F_H \times F_W$ window in each of the $C$ input
# channels; an input pixel is seen by each of the $F_N$ filters at $F_H F_W$ kernel positions.
#
# **Exercise 1 (2 points).** Write `fans(shape)` returning the pair `(fan_in, fan_out)` for a
# 2-dimensional (affine) or a 4-dimensional (convolution) weight shape.

# %% answer="fans" export=true
def fans(shape):
    """Fan-in and fan-out of a weight array's shape.

    Args:
        shape: a tuple, (D, M) for an affine weight or (FN, C, FH, FW) for a convolution weight.

    Returns:
        (fan_in, fan_out): a pair of ints.
    """
    ### BEGIN SOLUTION
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        n_filters, channels, kh, kw = shape
        return channels * kh * kw, n_filters * kh * kw
    raise ValueError(f"fans: expected a 2-D (D, M) or 4-D (FN, C, FH, FW) shape, got {shape}")
    ### END SOLUTION


# %% tests="test_fans" points=2
# Affine (784, 100): each of the 100 outputs sums 784 inputs; each input feeds 100 outputs.
got = call(fans, (784, 100))
check_length(got, 2, "fans((784, 100))", hint="return the pair (fan_in, fan_out).")
check_close(got, [784, 100], "fans((784, 100))", mistakes=[
    ([100, 784], "fan_in and fan_out are swapped: an Affine weight W (D, M) has D inputs per output unit.")])
# Convolution with 30 filters of 5x5 over 1 channel: fan_in = 1*5*5 = 25, fan_out = 30*5*5 = 750.
got = call(fans, (30, 1, 5, 5))
check_length(got, 2, "fans((30, 1, 5, 5))", hint="return the pair (fan_in, fan_out).")
check_close(got, [25, 750], "fans((30, 1, 5, 5))", mistakes=[
    ([1, 30], "a convolution output sums over a FH x FW window in every channel: multiply C and FN by FH * FW."),
    ([750, 25], "fan_in and fan_out are swapped: a filter of shape (C, FH, FW) has C*FH*FW inputs."),
    ([30, 1], "for (FN, C, FH, FW) the fan-in counts the C input channels times the kernel area, not FN."),
])
### BEGIN HIDDEN TESTS
### BEGIN REFERENCE
cases = {(100, 10): (100, 10), (10, 100): (10, 100), (1, 1): (1, 1), (3, 7): (3, 7),
         (16, 3, 3, 3): (27, 144), (64, 32, 3, 5): (480, 960), (8, 4, 1, 1): (4, 8), (5, 2, 7, 1): (14, 35)}
### END REFERENCE
for shape in ((100, 10), (10, 100), (1, 1), (3, 7), (16, 3, 3, 3), (64, 32, 3, 5), (8, 4, 1, 1), (5, 2, 7, 1)):
    got = call(fans, shape)
    check_length(got, 2, f"fans({shape})", hint="return the pair (fan_in, fan_out).")
    ### BEGIN REFERENCE
    expected = cases[shape]
    mistakes = [(expected[::-1], "fan_in and fan_out are swapped.")]
    if len(shape) == 4:
        area = shape[2] * shape[3]
        mistakes += [((shape[1], shape[0]), "multiply by the kernel area FH * FW."),
                     ((shape[1] * shape[2] ** 2, shape[0] * shape[2] ** 2), "the kernel area is FH * FW (not FH**2)."),
                     ((shape[1] * area, shape[0] * shape[1] * area), "fan_out is FN * FH * FW, without C.")]
    ### END REFERENCE
    check_close(got, expected, f"fans({shape})", mistakes=mistakes)
check_close(call(fans, np.zeros((6, 2, 3, 3)).shape), (18, 54), "fans of an array's .shape",
            hint="a shape is a tuple of ints whatever it comes from: (FN, C, FH, FW) gives (C*FH*FW, FN*FH*FW).")
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 2 (3 points).** Write the two Xavier initializers. Use your `fans`, and draw every random
# number from the generator `rng` (a `np.random.Generator`; the given first line also accepts an int
# seed or `None`), so that a fixed seed gives fixed weights:
#
# - `xavier_uniform(shape, rng)`: uniform on $[-a, a]$ with $a = \sqrt{6 / (n_\text{in} + n_\text{out})}$
#   — `rng.uniform(low, high, size=shape)`;
# - `xavier_normal(shape, rng)`: normal with mean 0 and standard deviation
#   $\sqrt{2 / (n_\text{in} + n_\text{out})}$ — `rng.normal(0, std, size=shape)`.
#
# The tests judge the distribution of a large sample (its spread, its range, its shape), not
# particular numbers, so any correct way of drawing passes.

# %% answer="xavier" export=true
def xavier_uniform(shape, rng=None):
    """Weights of `shape` drawn uniformly from [-a, a], a = sqrt(6 / (fan_in + fan_out))."""
    rng = np.random.default_rng(rng)
    ### BEGIN SOLUTION
    fan_in, fan_out = fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)
    ### END SOLUTION


def xavier_normal(shape, rng=None):
    """Weights of `shape` drawn from N(0, 2 / (fan_in + fan_out))."""
    rng = np.random.default_rng(rng)
    ### BEGIN SOLUTION
    fan_in, fan_out = fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)
    ### END SOLUTION


# %% tests="test_xavier" points=3
from dlfs.grading import check_that


def check_init(w, shape, kind, scale, name, mistakes=()):
    """Statistics of a large sample of weights: kind "uniform" means U(-scale, scale), "normal" N(0, scale**2).
    mistakes: pairs (wrong standard deviation, explanation). The predicate initializer_statistics (dlfs.grading)
    judges the spread, the mean, and the range or the shape of the distribution (check_that rejects NaN and inf)."""
    w = check_shape(w, shape, name, hint="return an array of exactly the requested shape (size=shape).")
    check_that("holds", (float(np.ptp(w)) > 0,), name, problem="weights that are all equal (all zeros?)",
               hint="draw random values from rng (rng.normal(0, std, size=shape) or rng.uniform(-a, a, size=shape)): "
                    "with equal weights every unit of a layer computes the same thing and they never differ.")
    check_that("initializer_statistics", (w,), name, kind=kind, scale=float(scale),
               mistakes=[(float(std), explanation) for std, explanation in mistakes])


def check_seeds(init):
    """The same seed gives the same weights, another seed other weights, and an int seed works too."""
    name = init.__name__
    first = check_shape(call(init, (20, 30), np.random.default_rng(5), name=name), (20, 30), name,
                        hint="return an array of exactly the requested shape (size=shape).")
    check_that("agree", (call(init, (20, 30), np.random.default_rng(5), name=name), first),
               f"{name} twice with the same seed", what="the first draw with that seed", rtol=1e-6, atol=1e-8,
               hint="draw every random number from the generator rng you are given (not np.random).")
    check_that("differ", (call(init, (20, 30), np.random.default_rng(6), name=name), first),
               f"{name} with the seeds 5 and 6", same="the same weights for both seeds", rtol=1e-6, atol=1e-8,
               hint="draw from rng.")
    check_that("agree", (call(init, (20, 30), 5, name=name), first), f"{name} with the int seed 5",
               what="the draw with np.random.default_rng(5)", rtol=1e-6, atol=1e-8,
               hint="keep the given first line rng = np.random.default_rng(rng).")


# This test swaps in a stand-in for your `fans` that answers (2, 6) whatever the shape, so it checks the
# formulas alone. With fan_in + fan_out = 8: xavier_uniform has a = sqrt(6/8) = 0.866 (standard deviation
# a / sqrt(3) = 0.5) and xavier_normal has standard deviation sqrt(2/8) = 0.5.
def stand_in_fans(shape):
    return 2, 6

uses_fans = "call fans(shape) inside your initializers, as the exercise asks."
with replaced(globals(), fans=stand_in_fans):
    w_u = call(xavier_uniform, (300, 200), np.random.default_rng(0))
    w_n = call(xavier_normal, (300, 200), np.random.default_rng(0))
check_init(w_u, (300, 200), "uniform", np.sqrt(6 / 8), "xavier_uniform((300, 200)) with fans (2, 6)", mistakes=[
    (1.0, "a = sqrt(6 / (fan_in + fan_out)) uses both fans, not fan_in alone."),
    (0.5 / np.sqrt(3), "sqrt(2 / (fan_in + fan_out)) is the standard deviation; the uniform limit is sqrt(6 / (fan_in + fan_out))."),
    (0.75 / np.sqrt(3), "take the square root: a = sqrt(6 / (fan_in + fan_out))."),
    (np.sqrt(6 / 8), "a is the limit of the interval [-a, a], not the standard deviation: rng.uniform(-a, a, size=shape)."),
])
check_init(w_n, (300, 200), "normal", 0.5, "xavier_normal((300, 200)) with fans (2, 6)", mistakes=[
    (np.sqrt(1 / 2), "Xavier uses both fans: std = sqrt(2 / (fan_in + fan_out)), not sqrt(1 / fan_in)."),
    (1.0, "sqrt(2 / fan_in) is He's initialization; Xavier divides by fan_in + fan_out."),
    (np.sqrt(6 / 8), "sqrt(6 / (fan_in + fan_out)) is the uniform limit; the normal's std is sqrt(2 / (fan_in + fan_out))."),
    (0.25, "2 / (fan_in + fan_out) is the variance; the standard deviation is its square root."),
])
### BEGIN HIDDEN TESTS
def _ref_fans(shape):
    if len(shape) == 2:
        return shape[0], shape[1]
    return shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]

with replaced(globals(), fans=_ref_fans):
    for shape in ((400, 300), (64, 32, 3, 3), (50, 2000)):
        fan_in, fan_out = _ref_fans(shape)
        s = fan_in + fan_out
        w_u = call(xavier_uniform, shape, np.random.default_rng(11))
        check_init(w_u, shape, "uniform", np.sqrt(6 / s), f"xavier_uniform({shape})", mistakes=[
            (np.sqrt(2 / fan_in), "a = sqrt(6 / (fan_in + fan_out)) uses both fans."),
            (np.sqrt(2 / s) / np.sqrt(3), "the uniform limit is sqrt(6 / (fan_in + fan_out))."),
            (np.sqrt(2 / (shape[0] + shape[1])), "for a convolution shape use fans(shape): the kernel area counts."),
        ])
        w_n = call(xavier_normal, shape, np.random.default_rng(12))
        check_init(w_n, shape, "normal", np.sqrt(2 / s), f"xavier_normal({shape})", mistakes=[
            (np.sqrt(1 / fan_in), "Xavier uses both fans."),
            (np.sqrt(2 / fan_in), "sqrt(2 / fan_in) is He's initialization."),
            (np.sqrt(2 / (shape[0] + shape[1])), "for a convolution shape use fans(shape): the kernel area counts."),
        ])
    for init in (xavier_uniform, xavier_normal):
        check_seeds(init)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 3 (2 points).** Write the two He initializers, for layers followed by a ReLU. Again use
# `fans` and draw from `rng`:
#
# - `he_normal(shape, rng)`: normal, mean 0, standard deviation $\sqrt{2 / n_\text{in}}$;
# - `he_uniform(shape, rng)`: uniform on $[-a, a]$ with $a = \sqrt{6 / n_\text{in}}$.

# %% answer="he" export=true
def he_normal(shape, rng=None):
    """Weights of `shape` drawn from N(0, 2 / fan_in)."""
    rng = np.random.default_rng(rng)
    ### BEGIN SOLUTION
    fan_in, _ = fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    ### END SOLUTION


def he_uniform(shape, rng=None):
    """Weights of `shape` drawn uniformly from [-a, a], a = sqrt(6 / fan_in)."""
    rng = np.random.default_rng(rng)
    ### BEGIN SOLUTION
    fan_in, _ = fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)
    ### END SOLUTION


# %% tests="test_he" points=2
# A stand-in `fans` answering (8, 2): he_normal has std sqrt(2/8) = 0.5; he_uniform has a = sqrt(6/8),
# so its standard deviation is also a / sqrt(3) = 0.5. (check_init and check_seeds are defined in test_xavier
# above.)
def stand_in_fans(shape):
    return 8, 2

with replaced(globals(), fans=stand_in_fans):
    w_n = call(he_normal, (300, 200), np.random.default_rng(1))
    w_u = call(he_uniform, (300, 200), np.random.default_rng(1))
he_mistakes = [
    (1.0, "He counts the inputs: std = sqrt(2 / fan_in), not sqrt(2 / fan_out)."),
    (np.sqrt(2 / 10), "sqrt(2 / (fan_in + fan_out)) is Xavier's; He uses fan_in alone with a factor 2."),
    (np.sqrt(1 / 8), "He's variance is 2 / fan_in: the factor 2 makes up for the half of the inputs ReLU zeroes."),
    (0.25, "2 / fan_in is the variance; the standard deviation is its square root."),
]
check_init(w_n, (300, 200), "normal", 0.5, "he_normal((300, 200)) with fans (8, 2)", mistakes=he_mistakes)
check_init(w_u, (300, 200), "uniform", np.sqrt(6 / 8), "he_uniform((300, 200)) with fans (8, 2)", mistakes=he_mistakes + [
    (0.5 / np.sqrt(3), "sqrt(2 / fan_in) is the standard deviation; the uniform limit is sqrt(6 / fan_in)."),
])
### BEGIN HIDDEN TESTS
def _ref_fans(shape):
    if len(shape) == 2:
        return shape[0], shape[1]
    return shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]

with replaced(globals(), fans=_ref_fans):
    for shape in ((784, 100), (100, 784), (64, 32, 3, 3), (16, 64, 5, 5)):
        fan_in, fan_out = _ref_fans(shape)
        mistakes = [(np.sqrt(2 / fan_out), "He uses fan_in (the inputs of a unit), not fan_out."),
                    (np.sqrt(2 / (fan_in + fan_out)), "that is Xavier's scale; He's is sqrt(2 / fan_in)."),
                    (np.sqrt(1 / fan_in), "He's variance is 2 / fan_in (keep the factor 2)."),
                    (np.sqrt(2 / shape[0]), "use fan_in from fans(shape), which counts the kernel area for convolutions.")]
        if len(shape) == 4:
            mistakes.append((np.sqrt(2 / shape[1]), "a convolution's fan_in is C * FH * FW."))
        check_init(call(he_normal, shape, np.random.default_rng(21)), shape, "normal", np.sqrt(2 / fan_in),
                   f"he_normal({shape})", mistakes=mistakes)
        check_init(call(he_uniform, shape, np.random.default_rng(22)), shape, "uniform", np.sqrt(6 / fan_in),
                   f"he_uniform({shape})", mistakes=mistakes)
    for init in (he_normal, he_uniform):
        check_seeds(init)
### END HIDDEN TESTS

# %% [markdown]
# ### Activations per layer, for four initializations
#
# The same five-layer experiment, now with your initializers, with the sigmoid and with ReLU. Look at
# the standard deviation printed over each histogram. With ReLU it should stay roughly constant from
# layer 1 to layer 5. With the sigmoid it settles after the first layer whatever the initialization
# (the offset $\frac12$ takes over, see above), so judge the sigmoid by where the values lie: piled up
# at 0 and 1, squeezed around 0.5, or spread out. Then use the explorer below to look at one setting
# at a time.

# %% demo=true
INITS = {"σ = 0.01": gaussian(0.01), "σ = 1": gaussian(1.0), "Xavier": xavier_normal, "He": he_normal}
ACTIVATIONS = {"sigmoid": Sigmoid, "ReLU": ReLU}

activation_histograms({label: five_layer_activations(init, Sigmoid) for label, init in INITS.items()},
                      value_range=(0, 1), title="sigmoid: activations of layers 1-5")

# %% demo=true
activation_histograms({label: five_layer_activations(init, ReLU) for label, init in INITS.items()},
                      value_range="panel", skip_zeros=True,
                      title="ReLU: activations of layers 1-5 (each panel has its own scale: read the std)")

# %% [markdown]
# With ReLU, $\sigma = 0.01$ makes the activations shrink by a factor of about 14 per layer
# ($0.01 \cdot \sqrt{100/2} \approx 1/14$) and $\sigma = 1$ makes them grow by a factor of about 7;
# Xavier still shrinks them slowly (by $\sqrt 2$ per layer, since ReLU halves the second moment), and
# He keeps them at the same scale.
#
# The explorer recomputes the histograms for the setting you choose (the figure under it is a
# static copy of its first view, for saved copies of the notebook).

# %% demo=true
InitExplorer(lambda init, activation: five_layer_activations(INITS[init], ACTIVATIONS[activation]),
             inits=list(INITS), activations=list(ACTIVATIONS),
             histogram_options={"sigmoid": {"value_range": (0, 1)},
                                "ReLU": {"value_range": "panel", "skip_zeros": True}}).show()

# %% [markdown]
# ### Gradients per layer
#
# The backward pass has the same problem in reverse. Here is the norm of the gradient
# $\lVert \partial L / \partial W_\ell \rVert$ of each of the six weight matrices of a
# 784–100–100–100–100–100–10 network, for one batch of 300 MNIST images. Where the curve
# drops towards layer 1, the first layers barely learn.

# %% demo=true
# Three disjoint splits: 300 training images; a validation split (the last 10 000 of MNIST's 60 000
# training images, of which we use the first 1000) to compare settings; the 10 000 test images, which
# this notebook looks at once, at the very end of section 2.
(x_train, t_train), (x_val, t_val), (x_test, t_test) = load_mnist(n_train=300, n_validation=10_000, dtype=np.float64)
x_val, t_val = x_val[:1000], t_val[:1000]


def deep_network(init, activation, sizes=(784, 100, 100, 100, 100, 100, 10), drop_rate=0.0, seed=0):
    """A Model of Affine -> activation [-> Dropout] blocks with weights from `init`, biases 0."""
    rng = np.random.default_rng(seed)
    model = Model()
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        model.add(Affine(init((d_in, d_out), rng), np.zeros(d_out)))
        if i < len(sizes) - 2:
            model.add(activation())
            if drop_rate > 0:
                model.add(Dropout(drop_rate, seed=seed + i + 1))
    return model


def weight_gradient_norms(model, x, t):
    grads = model.gradient(x, t)
    return [float(np.linalg.norm(grads[key])) for key in model.params if key.endswith(".W")]


with np.errstate(over="ignore"):
    norms = {activation: {label: weight_gradient_norms(deep_network(init, layer), x_train, t_train)
                          for label, init in INITS.items()}
             for activation, layer in ACTIVATIONS.items()}
for activation, by_init in norms.items():
    for label, values in by_init.items():
        print(f"{activation:7s} {label:8s} ‖dL/dW‖ of layers 1-6: " + "  ".join(f"{v:8.1e}" for v in values)
              + f"   layer 6 / layer 1: {values[-1] / values[0]:8.1e}")
gradient_norms_figure(norms, title="‖dL/dW‖ per layer at initialization (300 MNIST images)")

# %% [markdown]
# With the sigmoid the gradient shrinks towards the input for *every* initialization: with Xavier or
# He, layer 1's gradient is 180 to 600 times smaller than layer 6's (the last column), because each
# sigmoid multiplies the gradient by its derivative, which is at most $1/4$; with
# $\sigma = 0.01$ it all but disappears (about $10^{-8}$ at layer 1). With ReLU, whose derivative is
# 1 where it is active, He keeps the norms level from layer to layer (between about 0.4 and 1);
# $\sigma = 0.01$ gives norms of about $10^{-6}$, some $10^5$ to $10^6$ times smaller, and $\sigma = 1$
# norms of several $10^4$, so that a single SGD step would throw the weights far away. This is one
# reason why deep networks use ReLU with He initialization.

# %% [markdown]
# ## 2. Overfitting, and two remedies
#
# A network with about 45 000 weights trained on 300 images can memorise them: its training accuracy
# reaches 100 % while its accuracy on new images stalls far below. Two classic remedies make
# memorising harder.
#
# ### L2 weight decay
#
# Add to the data loss $L$ a penalty on the size of the weights,
#
# $$ \tilde L = L + \frac{\lambda}{2} \sum_{W} \lVert W \rVert^2, \qquad
#    \frac{\partial \tilde L}{\partial W} = \frac{\partial L}{\partial W} + \lambda W , $$
#
# where the sum runs over the weight matrices and $\lVert W \rVert^2$ is the sum of the squares of
# all entries. The factor $\frac12$ makes the gradient exactly $\lambda W$: every SGD step now also
# shrinks each weight by the factor $(1 - \eta\lambda)$ — hence "weight decay". The **biases are not
# decayed**: they only shift a unit's output, do not make the function more wiggly, and shrinking them
# only costs accuracy (the same goes for batch normalization's $\gamma$ and $\beta$ below).
#
# **Which parameters are weights?** In this course a parameter is decayed when its name — the part
# after the last `.` of a model's key — starts with `W`: `"W"`, `"0.W"`, `"W1"` are weights; `"b"`,
# `"0.b"`, `"3.gamma"`, `"3.beta"` are not. The function below (given) says exactly that; use it.

# %% export=true
def is_weight(name):
    """True when weight decay applies to the parameter called `name` (e.g. "0.W", "W1"; not "0.b", "3.gamma")."""
    return name.rsplit(".", 1)[-1].startswith("W")


# %% [markdown]
# **Exercise 4 (3 points).** Write
#
# - `l2_penalty(params, lam)`: $\frac{\lambda}{2} \sum \lVert W \rVert^2$ over the weights in the
#   dictionary `params` (name → array), as a number;
# - `l2_gradients(params, grads, lam)`: a **new** dictionary with the same keys as `grads`, holding
#   `grads[name] + lam * params[name]` for weights and `grads[name]` for every other parameter. Do not
#   modify `grads` or its arrays (the model still owns them).

# %% answer="weight_decay" export=true
def l2_penalty(params, lam):
    """(lam / 2) * sum over the weights W in params of sum(W ** 2), a float."""
    ### BEGIN SOLUTION
    return 0.5 * lam * sum(float(np.sum(value ** 2)) for name, value in params.items() if is_weight(name))
    ### END SOLUTION


def l2_gradients(params, grads, lam):
    """A new dict: grads[name] + lam * params[name] for weights, grads[name] for the others."""
    ### BEGIN SOLUTION
    return {name: grad + lam * params[name] if is_weight(name) else grad for name, grad in grads.items()}
    ### END SOLUTION


# %% tests="test_weight_decay" points=3
from dlfs.grading import check_that


def check_new_dict(new, grads, entries, name):
    """``new`` is a dict with the keys of ``grads``, and ``grads`` still holds the arrays ``entries`` it held:
    two facts about the learner's objects that the judge sees as names and flags."""
    check_that("holds", ([grads.get(key) is g for key, g in entries.items()] + [set(grads) == set(entries)],),
               name, hint="build a new dict ({name: ... for name, grad in grads.items()}) and return it; leave grads "
                          "as it was.", problem="that it changed the dictionary grads: it now holds other arrays")
    keys = sorted(map(str, new)) if isinstance(new, dict) else [f"(not a dict but a {type(new).__name__})"]
    check_that("names_are", (np.frombuffer("\n".join(keys).encode(), dtype=np.uint8),), name, what="keys",
               expected=sorted(entries), hint="return a new dict with one entry per key of grads.")


# By hand with lam = 0.1: the weights are 0.W = [[1, -2]] and 2.W = [[2]], so the sum of squares is
# 1 + 4 + 4 = 9 and the penalty is 0.1 / 2 * 9 = 0.45. The biases 0.b and 2.b do not count.
params = {"0.W": np.array([[1.0, -2.0]]), "0.b": np.array([3.0]), "2.W": np.array([[2.0]]), "2.b": np.array([-1.0])}
penalty = check_scalar(call(l2_penalty, params, 0.1), "l2_penalty(params, 0.1)",
                       hint="return one number: sum np.sum(W ** 2) over the weights, times lam / 2.")
check_close(penalty, 0.45, "l2_penalty(params, 0.1)", hint="lam / 2 times the sum of W ** 2 over the weights.", mistakes=[
    (0.95, "biases are not decayed: sum over the parameters for which is_weight(name) is true."),
    (0.9, "the penalty is (lam / 2) * sum(W ** 2): keep the factor 1/2."),
    (1.9, "the penalty is (lam / 2) * sum(W ** 2), over the weights only."),
])
# Gradients of ones: each weight gradient becomes 1 + 0.1 * W; the bias gradients stay 1.
grads = {name: np.ones_like(value) for name, value in params.items()}
entries = dict(grads)
with unchanged("l2_gradients", **{f"grads['{name}']": g for name, g in grads.items()},
               **{f"params['{name}']": p for name, p in params.items()}):
    new = call(l2_gradients, params, grads, 0.1)
check_new_dict(new, grads, entries, "l2_gradients(params, grads, 0.1)")
check_close(new["0.W"], [[1.1, 0.8]], "l2_gradients(...)['0.W']", mistakes=[
    ([[1.2, 0.6]], "the derivative of (lam / 2) * W**2 is lam * W, not 2 * lam * W."),
    ([[1.05, 0.9]], "the derivative of (lam / 2) * W**2 is lam * W, not lam / 2 * W."),
    ([[1.0, 1.0]], "add lam * W to the gradient of every weight: the penalty is part of the loss, so its "
                   "derivative is part of the gradient."),
])
check_close(new["2.W"], [[1.2]], "l2_gradients(...)['2.W']", hint="every weight's gradient gets lam * W added.",
            mistakes=[([[1.0]], "add lam * W to the gradient of every weight (is_weight(name)), not only the first.")])
check_close(new["0.b"], [1.0], "l2_gradients(...)['0.b']", mistakes=[
    ([1.3], "biases are not decayed: leave the gradient of a non-weight unchanged.")])
check_close(new["2.b"], [1.0], "l2_gradients(...)['2.b']", mistakes=[
    ([0.9], "biases are not decayed: leave the gradient of a non-weight unchanged.")])
### BEGIN HIDDEN TESTS
### BEGIN REFERENCE
def _ref_is_weight(name):
    return name.rsplit(".", 1)[-1].startswith("W")
### END REFERENCE

rng = np.random.default_rng(404)
params = {"0.W": rng.normal(size=(5, 4)), "0.b": rng.normal(size=4), "1.gamma": 1 + rng.normal(size=4),
          "1.beta": rng.normal(size=4), "3.W": rng.normal(size=(3, 2, 3, 3)), "3.b": rng.normal(size=3),
          "W1": rng.normal(size=(4, 2)), "b1": rng.normal(size=2)}
grads = {name: rng.normal(size=value.shape) for name, value in params.items()}
for lam in (0.03, 0.5):
    with unchanged("l2_penalty", **params):
        penalty = check_scalar(call(l2_penalty, params, lam), f"l2_penalty(params, {lam})",
                               hint="return one number: sum np.sum(W ** 2) over every axis of every weight.")
    ### BEGIN REFERENCE
    squares = sum(np.sum(v ** 2) for k, v in params.items() if _ref_is_weight(k))
    ### END REFERENCE
    check_close(penalty, lam / 2 * squares, f"l2_penalty with lam={lam} on weights, biases, gamma and beta",
                hint="sum (lam / 2) * W**2 over the weights only (is_weight(name)), every axis of each array.",
                mistakes=[(lam / 2 * sum(np.sum(v ** 2) for v in params.values()),
                           "only weights are decayed: not biases, not BatchNorm's gamma and beta.")])
    entries = dict(grads)
    with unchanged("l2_gradients", **{f"grads['{k}']": g for k, g in grads.items()},
                   **{f"params['{k}']": p for k, p in params.items()}):
        new = call(l2_gradients, params, grads, lam)
    check_new_dict(new, grads, entries, f"l2_gradients(params, grads, {lam})")
    for name in grads:
        ### BEGIN REFERENCE
        expected = grads[name] + lam * params[name] if _ref_is_weight(name) else grads[name]
        ### END REFERENCE
        check_close(new[name], expected, f"l2_gradients(...)['{name}'] with lam={lam}",
                    hint="weights get lam * W added, every other parameter keeps its gradient.")
# the gradient is the derivative of the penalty: they must agree numerically
zeros = {name: np.zeros_like(value) for name, value in params.items()}
decay = call(l2_gradients, params, zeros, 0.2)
for name in ("0.W", "3.W", "0.b"):
    check_gradient(decay[name], numerical_gradient(lambda _: l2_penalty(params, 0.2), params[name]),
                   f"l2_gradients vs the derivative of l2_penalty for '{name}'",
                   hint="the gradient of (lam / 2) * sum(W ** 2) is lam * W for weights, 0 for anything else.")
check_close(check_scalar(call(l2_penalty, {"0.b": np.ones(3)}, 1.0), "l2_penalty without weights",
                         hint="with no weight in params the sum is 0: return 0.0, not an empty array."), 0.0,
            "l2_penalty of a model without weights", hint="biases are not decayed: no weight, no penalty.")
new = call(l2_gradients, params, grads, 0.0)
for name in grads:
    check_close(new[name], grads[name], f"l2_gradients with lam=0, '{name}'",
                hint="with lam = 0 every gradient stays as it was.")
### END HIDDEN TESTS

# %% [markdown]
# ### Dropout
#
# During training, dropout sets each unit's output to 0 with probability $p$ (the *drop rate*), a new
# random choice for every example and every step. A unit can then no longer rely on one particular
# partner; the network learns redundant features, like an average over many thinned networks.
#
# At test time we want the whole network, deterministic. **Inverted dropout** keeps each unit with
# probability $q = 1 - p$ and divides the kept units by $q$ during training,
#
# $$ \text{out} = x \odot m / q, \qquad m_{ij} \sim \text{Bernoulli}(q), \qquad
#    \mathbb E[\text{out}] = x , $$
#
# and at test time the layer is simply the identity. (Why the division is needed at all, and why it
# happens during training, is the written question after the experiment below.) The backward pass
# multiplies `dout` by the **same** $m/q$ that the forward pass used: the mask is part of the
# function being differentiated.
#
# **Exercise 5 (4 points).** Complete the `Dropout` layer. `forward(x, train=True)` draws a new mask
# from `self.rng` (seeded in the constructor; e.g. `self.rng.random(x.shape) >= self.p`), keeps what
# `backward` needs, and returns the scaled output; `forward(x, train=False)` returns `x` unchanged.
# `backward(dout)` uses the mask of the last training forward pass. The layer has no parameters
# (`params` and `grads` stay empty). `Model.predict(x, train=...)` passes `train` to it.

# %% answer="dropout" export=true
class Dropout:
    """Inverted dropout: drops each unit with probability p during training; the identity at test time."""

    def __init__(self, p=0.5, seed=0):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: the drop rate p must be in [0, 1), got {p}")
        self.p = p
        self.rng = np.random.default_rng(seed)
        self.mask = None
        self.params, self.grads = {}, {}

    def forward(self, x, train=True):
        """x: any shape -> same shape. train=True: drop and rescale by 1 / (1 - p); train=False: identity."""
        ### BEGIN SOLUTION
        if not train:
            return x
        self.mask = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
        return x * self.mask
        ### END SOLUTION

    def backward(self, dout):
        """dout: the shape of the last training forward's output -> dx, same shape."""
        ### BEGIN SOLUTION
        return dout * self.mask
        ### END SOLUTION


# %% tests="test_dropout" points=4
# The masks are random: any correct way of drawing them passes. What the mask must be (one draw per entry,
# the share p dropped, the same mask in backward) is judged by the predicates dropout_mask and
# dropout_backward (dlfs.grading).
from dlfs.grading import check_that

backward_hint = ("dx = dout * mask / (1 - p) with the mask of the forward pass: keep it in self.mask, do not draw "
                 "a new one in backward.")
# 100 000 ones through Dropout(p=0.5): about half become 0, the others 1 / (1 - 0.5) = 2, mean about 1.
layer = Dropout(p=0.5, seed=0)
x = np.ones((200, 500))
with unchanged("Dropout.forward", x=x):
    out = check_shape(call(layer.forward, x, name="Dropout.forward"), x.shape, "Dropout.forward(x)",
                      hint="the output has the shape of x: draw one mask value per entry, self.rng.random(x.shape).")
check_that("differ", (out, x), "Dropout(p=0.5).forward(x) in training mode", same="x itself, unchanged",
           hint="in training mode (train=True, the default) return x * mask / (1 - p); only train=False returns x.")
check_that("dropout_mask", (out,), "Dropout(p=0.5).forward(x)", p=0.5, tolerance=0.02)
check_close(np.unique(out[out != 0]), [2.0], "the values Dropout(p=0.5) keeps from x = 1", mistakes=[
    ([1.0], "the course uses inverted dropout: divide the kept units by 1 - p during training, so the mean stays "
            "the same (classic dropout instead scales by 1 - p at test time).")],
            hint="a kept unit is x / (1 - p); a dropped one is exactly 0.")
dx = call(layer.backward, np.ones_like(x), name="Dropout.backward")
check_that("differ", (dx, np.ones_like(x)), "Dropout.backward(ones)",
           same="dout itself, unchanged", hint="backward multiplies dout by the mask / (1 - p) of the forward pass: a "
                                               "dropped unit passes no gradient back.")
check_that("dropout_backward", (dx, out), "Dropout.backward(ones)", hint=backward_hint)
check_close(call(layer.forward, x, train=False, name="Dropout.forward"), x, "Dropout.forward(x, train=False)",
            mistakes=[(0.5 * x, "the course uses inverted dropout, which scales during training only: at test time "
                                "it is the identity (scaling by 1 - p at test time is classic dropout).")],
            hint="forward(x, train=False) returns x unchanged.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(505)
for p in (0.2, 0.7):
    layer = Dropout(p=p, seed=3)
    x = np.abs(rng.normal(size=(300, 400))) + 0.5      # positive, so a dropped unit is exactly 0
    with unchanged("Dropout.forward", x=x):
        out = check_shape(call(layer.forward, x, train=True, name="Dropout.forward"), x.shape, "Dropout.forward",
                          hint="the output has the shape of x.")
    check_that("dropout_mask", (out,), f"Dropout(p={p}).forward(x)", p=p, tolerance=0.01)
    check_that("dropout_scaling", (out, x), f"the kept units of Dropout(p={p})", p=p, mean_tolerance=0.02, mistakes=[
        (1.0, "divide the kept units by 1 - p (inverted dropout)."),
        (1 - p, "divide by the keep probability 1 - p, do not multiply.")])
    dout = rng.normal(size=x.shape)
    dx = check_shape(call(layer.backward, dout, name="Dropout.backward"), x.shape, "Dropout.backward",
                     hint="dx has the shape of dout: dout * mask / (1 - p).")
    check_that("dropout_backward", (dx, dout * out / x), f"Dropout(p={p}).backward(dout)", hint=backward_hint)
    out_test = call(layer.forward, x, train=False, name="Dropout.forward")
    check_close(out_test, x, f"Dropout(p={p}).forward(x, train=False)", mistakes=[
        (x * (1 - p), "do not scale at test time: the course's inverted dropout already scaled during training.")],
        hint="forward(x, train=False) returns x unchanged.")
    second = check_shape(call(layer.forward, x, name="Dropout.forward"), x.shape, "Dropout.forward",
                         hint="the output has the shape of x.")
    check_that("differ", (second, out), "Dropout.forward twice in training mode",
               same="that two training passes dropped the same units", rtol=1e-6, atol=1e-8,
               hint="draw a new mask at every training forward pass.")
    check_that("dropout_backward", (call(layer.backward, dout, name="Dropout.backward"), dout * second / x),
               "Dropout.backward after a second forward", hint="backward uses the mask of the LAST forward pass.")
# seeded: two layers with the same seed drop the same units; another seed drops others
x = rng.normal(size=(50, 60))
a = call(Dropout(0.3, seed=7).forward, x, name="Dropout.forward")
b = call(Dropout(0.3, seed=7).forward, x, name="Dropout.forward")
c = call(Dropout(0.3, seed=8).forward, x, name="Dropout.forward")
check_that("agree", (b, a), "two Dropout(0.3, seed=7) layers", what="the first layer's output", rtol=1e-6, atol=1e-8,
           hint="draw the mask from self.rng (seeded), not from np.random.")
check_that("differ", (c, a), "Dropout with the seeds 7 and 8", same="that both seeds dropped the same units",
           rtol=1e-6, atol=1e-8, hint="draw from self.rng.")
# p = 0 keeps everything; the default is train=True; 4-D inputs keep their shape
x4 = rng.normal(size=(2, 3, 4, 5))
keep_all = Dropout(0.0)
check_close(call(keep_all.forward, x4, name="Dropout.forward"), x4, "Dropout(p=0).forward",
            hint="with p = 0 nothing is dropped and 1 / (1 - p) = 1: the output equals x.")
dout4 = rng.normal(size=x4.shape)
p0_hint = "with p = 0 the training forward pass still keeps a mask (all ones) for backward."
check_close(call(keep_all.backward, dout4, name="Dropout.backward", hint=p0_hint), dout4,
            "Dropout(p=0).backward(dout) after a training pass", hint=p0_hint)
out4 = check_shape(call(Dropout(0.5, seed=1).forward, x4, name="Dropout.forward"), x4.shape, "Dropout.forward on (2, 3, 4, 5)",
                   hint="any input shape: draw the mask with self.rng.random(x.shape), no reshape to 2-D.")
check_that("dropout_mask", (out4,), "Dropout(0.5).forward(x) on (2, 3, 4, 5)", p=0.5, tolerance=0.5,
           rate_hint="train=True is the default: forward(x) drops units.")
### END HIDDEN TESTS

# %% [markdown]
# ### The overfitting experiment
#
# **Validation, not test.** To compare settings we measure them on images the network was not
# trained on. If we chose $\lambda$ and the drop rate by looking at the *test* images, the test
# accuracy of the chosen setting would no longer estimate the accuracy on new images: the setting
# would have been fitted to the test set. So we compare settings on a **validation** split (1000 of
# the images `load_mnist` held out of the training set), choose one, and evaluate that one on the test
# set once, at the end of this section.
#
# **Wrong labels.** MNIST's labels are almost all right; the labels of real data sets often are not.
# Memorising does the most harm when what is memorised is wrong, so we make that happen: the labels
# of 60 of the 300 training images (20 %) are replaced by another digit drawn at random. The
# validation and test labels stay right. A network that memorises its training set learns these 60
# wrong answers too; a network that cannot memorise everything has to follow what most images agree
# on.
#
# The set-up: a 784–50–50–50–10 ReLU network with He initialization, plain SGD (learning rate 0.1)
# on mini-batches of 100, 100 epochs. The training loop below (given) adds your weight decay to the
# gradients; dropout is a `Dropout` layer after each ReLU. After every epoch we measure, in test mode,
# the accuracy and the cross-entropy on the 300 training images (with the labels it is trained on)
# and on the 1000 validation images. Each line printed below also counts how many of the 60 wrong
# labels the trained network reproduces.
#
# The default path trains four runs: no regularization, L2 only ($\lambda = 0.03$), dropout only
# ($p = 0.3$), both; and, for the sliders further down, two runs with a much stronger weight decay,
# $\lambda = 0.1$ (with and without dropout). Set `FULL_RUN = True` to train a grid of 25 settings
# (about a minute) and explore it with the sliders.

# %% demo=true
from dlfs.monitor import announce_full_run

FULL_RUN = False  # True: a grid of 25 settings of (λ, drop rate), 100 epochs each (about a minute)

LAMBDA, DROP_RATE, EPOCHS = 0.03, 0.3, 100    # the regularized runs of the default path
announce_full_run(FULL_RUN, 1.2, "the grid of 25 settings")
if FULL_RUN:
    LAMBDAS, DROP_RATES = (0.0, 0.003, 0.01, 0.03, 0.1), (0.0, 0.1, 0.2, 0.3, 0.5)
else:
    LAMBDAS, DROP_RATES = (0.0, LAMBDA, 0.1), (0.0, DROP_RATE)    # 0.1: too much, to explore with the sliders

# 60 of the 300 training labels replaced by another digit, drawn at random (t_train keeps the right ones)
rng = np.random.default_rng(0)
relabelled = rng.choice(len(t_train), size=60, replace=False)
t_noisy = t_train.copy()
t_noisy[relabelled] = (t_train[relabelled] + rng.integers(1, 10, size=60)) % 10

cross_entropy = SoftmaxWithLoss()   # only to measure the loss of given scores


def evaluate(model, x, t):
    """Accuracy and mean cross-entropy of the model on (x, t), in test mode, from one forward pass."""
    scores = model.predict(x, train=False)
    return float(np.mean(scores.argmax(axis=1) == t)), float(cross_entropy.forward(scores, t))


def fit(model, lam, labels, epochs=EPOCHS, lr=0.1, batch_size=100, seed=0):
    """SGD with L2 weight decay on (x_train, labels); the train and validation accuracy and loss per epoch."""
    optimizer = SGD(lr=lr)
    history = {"train_acc": [], "val_acc": [], "train_loss": [], "val_loss": []}
    for epoch in range(epochs):
        for x_batch, t_batch in minibatches(x_train, labels, batch_size, seed=seed + epoch):
            grads = l2_gradients(model.params, model.gradient(x_batch, t_batch), lam)
            optimizer.update(model.params, grads)
        for split, x, t in (("train", x_train, labels), ("val", x_val, t_val)):
            accuracy, loss = evaluate(model, x, t)
            history[f"{split}_acc"].append(accuracy)
            history[f"{split}_loss"].append(loss)
    return history


def report(key, history):
    """One line: the final train accuracy; the final, best and lowest validation accuracy and loss."""
    best, lowest = int(np.argmax(history["val_acc"])), int(np.argmin(history["val_loss"]))
    return (f"λ = {key[0]:<5g} p = {key[1]:<4g} train acc {history['train_acc'][-1]:.3f} | "
            f"val acc {history['val_acc'][-1]:.3f}, best {history['val_acc'][best]:.3f} (epoch {best + 1:3d}) | "
            f"val loss {history['val_loss'][-1]:.2f}, lowest {history['val_loss'][lowest]:.2f} (epoch {lowest + 1:3d})")


histories, networks = {}, {}
for lam in LAMBDAS:
    for drop_rate in DROP_RATES:
        model = networks[(lam, drop_rate)] = deep_network(he_normal, ReLU, sizes=(784, 50, 50, 50, 10), drop_rate=drop_rate)
        history = histories[(lam, drop_rate)] = fit(model, lam, t_noisy)
        learned = int(np.sum(model.predict(x_train[relabelled]).argmax(axis=1) == t_noisy[relabelled]))
        print(report((lam, drop_rate), history) + f" | wrong labels learned {learned}/60")
runs = histories   # {(λ, drop rate): history}, defined only once every run has finished

# %% demo=true
overfitting_figure(runs, keys=[(0.0, 0.0), (LAMBDA, 0.0), (0.0, DROP_RATE), (LAMBDA, DROP_RATE)],
                   title="300 MNIST training images, 60 of them mislabelled: train vs validation")

# %% [markdown]
# Without regularization the network fits its training labels almost perfectly (train accuracy
# 0.997), the wrong ones included: it has learned 59 of the 60 wrong labels. Its validation accuracy
# is best early (0.686 at epoch 19) and then falls to 0.631, and its validation loss, lowest at epoch
# 31 (1.09), climbs to 1.62: the network grows ever more confident of answers it memorised. Weight
# decay and dropout each make memorising harder. Their training accuracy stays lower (0.947 with
# $\lambda = 0.03$, 0.940 with $p = 0.3$), they learn fewer of the wrong labels (45 and 43 of 60),
# and both end with a higher validation accuracy (0.658 and 0.696) and a much lower validation loss
# (1.13 and 1.10). Both together learn only 24 of the wrong labels and end at 0.694.
#
# The curves also show a third remedy. The unregularized network was at its best on the validation
# images around epoch 19; stopping the training there — **early stopping**: keep the weights of the
# epoch with the best validation score — would have kept 0.686, about what the regularized runs
# reach after 100 epochs. The stopping epoch is one more setting chosen on the validation set.
#
# Is regularization always better? The cell below trains the first and the last of these settings
# again, on the *right* labels.

# %% demo=true
clean = {key: fit(deep_network(he_normal, ReLU, sizes=(784, 50, 50, 50, 10), drop_rate=key[1]), key[0], t_train)
         for key in [(0.0, 0.0), (LAMBDA, DROP_RATE)]}
for key, history in clean.items():
    print("right labels: " + report(key, history))

# %% [markdown]
# With the right labels the unregularized network again fits its 300 images (train accuracy 1.000),
# but memorising right labels costs little: it ends at a validation accuracy of 0.775, and
# $\lambda = 0.03$ with $p = 0.3$ ends *lower*, at 0.717, although its validation loss is lower (0.80
# against 0.89). On clean labels this much regularization costs more fit than it saves. How much to
# regularize depends on the data and the network — that is why $\lambda$ and $p$ are tuned, and
# tuned on a validation split.
#
# What the full grid shows (`FULL_RUN = True`; the cell above then prints one line per setting; as
# measured on this network and recorded in `benchmarks/full_runs/05_regularization.txt`): on the wrong
# labels, every setting with $\lambda \le 0.03$ and $p \le 0.3$ ends with a lower validation loss
# than no regularization, and all of them but the two mildest (no dropout with $\lambda = 0.003$ or
# $0.01$: 0.629 and 0.633, against 0.631 — about the same) with a validation accuracy at least two
# points higher. Stronger settings underfit: with $p = 0.5$ or $\lambda = 0.1$ the training
# accuracy stays at 0.8 or below, and $\lambda = 0.1$ with $p \ge 0.3$ hardly learns at all. The
# highest final validation accuracy of the grid, 0.696, is the default path's dropout run
# ($\lambda = 0$, $p = 0.3$).
#
# Explore the runs with the sliders (the faded curves are the run without regularization). The explorer
# opens on $\lambda = 0.03$ without dropout, the middle of the $\lambda$ slider: the training accuracy
# no longer climbs to 1 and the gap to the validation accuracy is narrower than without regularization.
# Move $\lambda$ left to see the gap widen, right to see too much weight decay pull the training
# accuracy down with the validation accuracy; then add dropout.

# %% demo=true
RegularizationExplorer(runs, initial=(LAMBDA, 0.0)).show()

# %% [markdown]
# ### Choosing on validation, testing once
#
# Now we choose: the run with the highest validation accuracy at the end of training. Then, and only
# then, we evaluate that one network on the 10 000 test images — the first and only time this
# notebook looks at them.

# %% demo=true
chosen = max(runs, key=lambda key: runs[key]["val_acc"][-1])
test_accuracy, test_loss = evaluate(networks[chosen], x_test, t_test)
print(f"chosen on validation: λ = {chosen[0]:g}, drop rate = {chosen[1]:g} "
      f"(validation accuracy {runs[chosen]['val_acc'][-1]:.3f})")
print(f"its accuracy on the {len(x_test)} test images: {test_accuracy:.3f} (loss {test_loss:.2f})")

# %% [markdown]
# The test accuracy agrees with the chosen run's validation accuracy (0.697 and 0.696): the
# validation images were never trained on and the test images were used for nothing, so both estimate
# the accuracy on new images. Only the test figure is free of the choice, though: the chosen run won a
# comparison *on the validation images*, so its validation accuracy tends to be optimistic, and the
# more settings are compared, the more so. That is why the number to report comes from a test set
# looked at once.

# %% [markdown]
# **Written question (3 points, graded by a person).** Our `Dropout` divides the kept activations by
# $1 - p$ during training and does nothing at test time. Explain why the scaling is needed at all, and
# what would go wrong at test time if a network were trained with dropout that does *not* rescale
# (plain masking) and then evaluated with all units on. How would you have to fix the test-time
# forward pass in that case, and why is the inverted form more convenient? Answer in four to six
# sentences.

# %% [markdown] written="q_inverted_dropout" points=3
# ### BEGIN SOLUTION
# A unit in the next layer sums its inputs; during training only a fraction $q = 1 - p$ of them are
# on, so without rescaling it learns weights for an input whose expected size is $q\,x$. At test time
# all units are on, so the same unit would receive about $1/q$ times as much input as it ever saw in
# training: its pre-activations are shifted and scaled, ReLUs and sigmoids operate in a different
# regime, and the softmax outputs become overconfident or simply wrong — the accuracy drops although
# the weights are fine. With plain masking one must therefore multiply the activations by $q$ at test
# time (or the weights) to match the training expectation. Inverted dropout divides by $q$ during
# training instead, so that $\mathbb E[\text{out}] = x$ already holds there; the test-time network is
# then the plain network with no special case, the saved weights can be used as they are, and the
# drop rate need not be known at inference.
# ### END SOLUTION

# %% [markdown]
# ## 3. Batch normalization
#
# Instead of hoping that the initialization keeps each layer's inputs well scaled, batch
# normalization *forces* them to be: for a batch $x$ of shape $(N, D)$ it normalizes each of the $D$
# features over the batch, then lets the network choose a scale $\gamma$ and a shift $\beta$ (both of
# shape $(D,)$, learned):
#
# $$ \mu = \frac1N \sum_n x_n, \quad \sigma^2 = \frac1N \sum_n (x_n - \mu)^2, \quad
#    \hat x_n = \frac{x_n - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \quad \text{out}_n = \gamma \odot \hat x_n + \beta . $$
#
# The variance is the **biased** one ($\frac1N$, `x.var(axis=0)`), everywhere in this layer, and the
# statistics are taken over the batch axis 0, one per feature.
#
# **Train and test modes.** A test image must not depend on the other images of its batch, so at test
# time the layer uses *running* averages collected during training instead of the batch statistics.
# After each training forward pass, with decay $\rho$ (the argument `momentum`, 0.9 by default; chapter
# 04's $\rho$):
#
# $$ \mu_\text{run} \leftarrow \rho\,\mu_\text{run} + (1 - \rho)\,\mu, \qquad
#    \sigma^2_\text{run} \leftarrow \rho\,\sigma^2_\text{run} + (1 - \rho)\,\sigma^2 , $$
#
# and a test forward pass computes $\text{out} = \gamma \odot (x - \mu_\text{run}) / \sqrt{\sigma^2_\text{run} + \varepsilon} + \beta$
# without changing them. The running statistics are *not* parameters: no gradient, no optimizer, so
# they are plain attributes, not entries of `params`.
#
# **Backward (train mode), on a computational graph.** The output $\text{out}_n$ depends on $x_n$ directly,
# but also on every other example of the batch, through $\mu$ and $\sigma^2$. Rather than
# differentiating the whole formula at once, split the forward pass into elementary steps — the
# nodes of a computational graph, like the `Mul` and `Add` layers of chapter 01 — and walk back
# through them one at a time. Every operation acts on each feature (column) separately; "mean" is
# over the batch axis 0:
#
# ```
#   x ──┬─────────────────► (2) xc = x - mu ──┬──► (3) q = xc**2 ──► (4) var = mean(q) ──► (5) v = var + eps
#       │                         ▲           │                                                  │
#       └──► (1) mu = mean(x) ────┘           │                                                  ▼
#                                             └─────► (7) x_hat = xc / s ◄─────────── (6) s = sqrt(v)
#                                                              │
#                                                              ▼
#                                                     (8) out = gamma * x_hat + beta
# ```
#
# Three rules cover every node whose local derivative is not a plain product:
#
# - **A vector shared by the batch collects a sum.** A $(D,)$ vector used by all $N$ rows — $\mu$ in
#   step 2, $s$ in step 7, $\gamma$ and $\beta$ in step 8 — receives the sum over the batch (axis 0)
#   of the gradients that come back from the rows.
# - **A mean spreads its gradient.** A mean over the batch (steps 1 and 4) sends $\frac1N$ of the
#   gradient of its output back to every row.
# - **A fork adds.** A value that feeds two nodes gets the sum of the two gradients that come back:
#   `xc` feeds steps 3 and 7, and `x` feeds steps 1 and 2.
#
# Step 8, worked: given `dout` $= \partial L/\partial\,\text{out}$ $(N, D)$,
# $\partial L/\partial\beta = \sum_n \text{dout}_n$, $\partial L/\partial\gamma = \sum_n \text{dout}_n \odot \hat x_n$
# (shared vectors), and `dx_hat` $= \partial L/\partial\hat x = \text{dout} \odot \gamma$ $(N, D)$.
# Continue backwards with the local derivatives of the elementary steps ($\frac{\partial}{\partial s}\frac{x_c}{s} = -\frac{x_c}{s^2}$,
# $\frac{d}{dv}\sqrt v = \frac{1}{2\sqrt v}$, $\frac{d}{dx_c} x_c^2 = 2x_c$):
# step 7 gives a first gradient for `xc` and one for `s`; step 6 gives `dv`; step 5 passes it on
# to `var`; step 4 gives `dq`; step 3 gives the second gradient for `xc` — add the two; step 2 gives
# a first gradient for `x` and one for `mu`; step 1 gives the second gradient for `x` — add them.
# The steps that are forgotten most often are the paths through `mu` and through `var`: without them
# the layer's backward pass treats the batch statistics as constants, and its gradient is wrong.
#
# **Exercise 6 (6 points).** Complete `BatchNorm.forward(x, train=True)` and `BatchNorm.backward(dout)`
# for inputs of shape $(N, D)$. Read $\gamma$ and $\beta$ from `self.params` (an optimizer updates them
# in place), store the gradients in `self.grads["gamma"]` and `self.grads["beta"]`, update
# `self.running_mean` and `self.running_var` in training mode only, and keep in `forward` the values
# of the graph that `backward` needs (such as `xc`, `s` and `x_hat`). Write `backward` as the walk
# back through the graph, one step per line. `backward` follows a training forward pass.

# %% answer="batchnorm" export=true
class BatchNorm:
    """Batch normalization over the batch axis of (N, D) inputs, with running statistics for test time."""

    def __init__(self, num_features, momentum=0.9, eps=1e-5):
        self.params = {"gamma": np.ones(num_features), "beta": np.zeros(num_features)}
        self.grads = {}
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.momentum = momentum
        self.eps = eps
        self.cache = None

    def forward(self, x, train=True):
        """x: (N, D) -> (N, D). train=True: batch statistics (and update the running ones); False: running ones."""
        gamma, beta = self.params["gamma"], self.params["beta"]
        ### BEGIN SOLUTION
        if train:
            mu = x.mean(axis=0)                  # (1)
            xc = x - mu                          # (2)
            var = (xc ** 2).mean(axis=0)         # (3), (4): the biased variance
            s = np.sqrt(var + self.eps)          # (5), (6)
            x_hat = xc / s                       # (7)
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
            self.cache = (xc, s, x_hat)
        else:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
        return gamma * x_hat + beta              # (8)
        ### END SOLUTION

    def backward(self, dout):
        """dout: (N, D) -> dx: (N, D); sets self.grads["gamma"] and self.grads["beta"], each (D,).

        Walk back through the graph of the forward pass, from step (8) to step (1)."""
        ### BEGIN SOLUTION
        xc, s, x_hat = self.cache
        n = dout.shape[0]
        self.grads["beta"] = dout.sum(axis=0)                  # (8) beta is shared by the batch
        self.grads["gamma"] = (dout * x_hat).sum(axis=0)       # (8) so is gamma
        dx_hat = dout * self.params["gamma"]                   # (8)
        dxc = dx_hat / s                                       # (7) first path to xc
        ds = -(dx_hat * xc).sum(axis=0) / s ** 2               # (7) s is shared by the batch
        dv = ds / (2 * s)                                      # (6)
        dvar = dv                                              # (5)
        dq = np.ones_like(xc) * dvar / n                       # (4) the mean spreads dvar / N
        dxc = dxc + 2 * xc * dq                                # (3) second path to xc: the fork adds
        dmu = -dxc.sum(axis=0)                                 # (2) mu is shared by the batch
        dx = dxc                                               # (2) first path to x
        return dx + dmu / n                                    # (1) second path to x, through the mean
        ### END SOLUTION


# %% tests="test_batchnorm" points=6
# By hand, eps = 0: x = [[1, 2], [3, 6]] has the column means [2, 4] and (biased) variances [1, 4],
# so x_hat = [[-1, -1], [1, 1]]; with gamma = [2, 1], beta = [0, 10] the output is [[-2, 9], [2, 11]].
bn = BatchNorm(2, momentum=0.9, eps=0.0)
bn.params["gamma"][:] = [2.0, 1.0]
bn.params["beta"][:] = [0.0, 10.0]
x = np.array([[1.0, 2.0], [3.0, 6.0]])
with unchanged("BatchNorm.forward", x=x):
    out = call(bn.forward, x, name="BatchNorm.forward")
check_close(out, [[-2.0, 9.0], [2.0, 11.0]], "BatchNorm.forward(x) in training mode", mistakes=[
    ([[-2 / np.sqrt(2), 10 - 1 / np.sqrt(2)], [2 / np.sqrt(2), 10 + 1 / np.sqrt(2)]],
     "the course (like the batch-norm paper in training) uses the biased variance, divided by N: x.var(axis=0), "
     "not ddof=1."),
    ([[-2.0, 11.0], [-2.0, 11.0]], "normalize each feature (column) over the batch: the statistics are over axis 0, "
                                   "not over the features of each example (that would be layer normalization)."),
])
# running statistics after one training pass: 0.9 * [0, 0] + 0.1 * [2, 4] and 0.9 * [1, 1] + 0.1 * [1, 4]
check_close(bn.running_mean, [0.2, 0.4], "running_mean after one training pass", mistakes=[
    ([0.0, 0.0], "update the running statistics in every training forward pass."),
    ([1.8, 3.6], "running = momentum * running + (1 - momentum) * batch statistic.")])
check_close(bn.running_var, [1.0, 1.3], "running_var after one training pass", mistakes=[
    ([1.0, 1.0], "update the running statistics in every training forward pass."),
    ([1.1, 1.7], "use the biased batch variance (divide by N) for the running variance too."),
    ([0.9 + 0.1 * np.sqrt(1.0), 0.9 + 0.1 * 2.0], "average the variance, not the standard deviation.")])
# test mode: the running statistics, and they stay as they are
out_test = call(bn.forward, x, train=False, name="BatchNorm.forward")
expected_test = np.array([2.0, 1.0]) * (x - [0.2, 0.4]) / np.sqrt([1.0, 1.3]) + [0.0, 10.0]
check_close(out_test, expected_test, "BatchNorm.forward(x, train=False)", mistakes=[
    ([[-2.0, 9.0], [2.0, 11.0]], "at test time normalize with the running statistics, not the batch's."),
    (np.array([2.0, 1.0]) * (x - [0.38, 0.76]) / np.sqrt([1.0, 1.57]) + [0.0, 10.0],
     "do not update the running statistics at test time: only a training pass changes them.")])
check_close(bn.running_mean, [0.2, 0.4], "running_mean after a test pass",
            hint="do not update the running statistics when train=False.")
# backward after a training pass. With two examples x_hat is always +-1 whatever x is, so the output does
# not depend on x at all and dx must be 0; dbeta = sum(dout), dgamma = sum(dout * x_hat).
# Here s = [1, 2] and dx_hat = dout * gamma = [[2, 0], [0, 3]].
call(bn.forward, x, name="BatchNorm.forward")
dout = np.array([[1.0, 0.0], [0.0, 3.0]])
dx = call(bn.backward, dout, name="BatchNorm.backward")
check_close(bn.grads.get("beta"), [1.0, 3.0], "BatchNorm.grads['beta']", hint="step (8): dbeta = dout.sum(axis=0).",
            mistakes=[([0.5, 1.5], "beta is shared by the batch: sum dout over axis 0, do not average.")])
check_close(bn.grads.get("gamma"), [-1.0, 3.0], "BatchNorm.grads['gamma']", hint="step (8): dgamma = (dout * x_hat).sum(axis=0).")
check_close(dx, np.zeros((2, 2)), "BatchNorm.backward(dout) with N = 2", mistakes=[
    ([[2.0, 0.0], [0.0, 1.5]], "dx = dx_hat / s is only the first path to xc, and to x: mu and var depend on x "
                               "too. Walk back through steps (7) to (1) and add the gradients at each fork."),
    ([[1.0, -0.75], [-1.0, 0.75]], "the path through var is missing: ds from step (7), then steps (6), (5), (4), (3) "
                                   "give a second gradient for xc, to add to dx_hat / s."),
    ([[1.0, 0.75], [1.0, 0.75]], "the path through mu is missing: step (2) gives dmu = -dxc.sum(axis=0), and the "
                                 "mean of step (1) sends dmu / N back to every x_n, to add to dxc."),
    ([[-2.0, 0.0], [0.0, -1.5]], "a mean over the batch sends 1/N of its gradient to each row: divide by N in "
                                 "steps (4) and (1)."),
    ([[2.0, -1.5], [-2.0, 1.5]], "step (7): the derivative of xc / s with respect to s is -xc / s**2 (keep the minus)."),
    ([[0.5, -0.375], [-0.5, 0.375]], "step (7): s is shared by the whole batch, so its gradient is a sum over axis 0, "
                                     "shape (D,)."),
    ([[-1.0, 0.75], [1.0, -0.75]], "check step (6), d sqrt(v) / dv = 1 / (2 sqrt(v)), and step (3): the second "
                                   "gradient for xc is added to the first one, not written over it."),
], hint="walk back through the graph from step (8) to step (1): sum over axis 0 for mu, s, gamma and beta, "
        "divide by N at each mean, and add the two gradients that reach xc, and the two that reach x.")
### BEGIN HIDDEN TESTS
from dlfs.grading import check_that


def check_names(names, expected, name, what):
    check_that("names_are", (np.frombuffer("\n".join(sorted(map(str, names))).encode(), dtype=np.uint8),), name,
               what=what, expected=sorted(expected), hint="keep the running statistics as attributes: only gamma and "
                                                         "beta are parameters, with their gradients in grads.")


### BEGIN REFERENCE
def _graph_dx(x, dout, gamma, eps, var_path=True, mu_path=True, mean_scale=None, ds_sign=-1.0, sqrt_half=0.5,
              sum_s=True, fork_adds=True):
    """dx by the graph of the forward pass; the keywords switch on the classic mistakes."""
    n = x.shape[0]
    scale = 1.0 / n if mean_scale is None else mean_scale
    xc = x - x.mean(axis=0)
    s = np.sqrt((xc ** 2).mean(axis=0) + eps)
    g = dout * gamma
    dxc = g / s
    if var_path:
        ds = ds_sign * ((g * xc).sum(axis=0) if sum_s else g * xc) / s ** 2
        second = 2 * xc * ds * sqrt_half / s * scale
        dxc = dxc + second if fork_adds else second
    return dxc - dxc.sum(axis=0) * scale if mu_path else dxc
### END REFERENCE

rng = np.random.default_rng(606)
for n, d, eps, momentum in ((6, 4, 1e-5, 0.9), (9, 3, 1e-3, 0.8)):
    bn = BatchNorm(d, momentum=momentum, eps=eps)
    gamma0, beta0 = 1 + 0.5 * rng.normal(size=d), rng.normal(size=d)
    check_names(bn.params, ("gamma", "beta"), "BatchNorm.params", "keys")
    bn.params["gamma"][:], bn.params["beta"][:] = gamma0, beta0
    xs = [rng.normal(loc=2.0, scale=3.0, size=(n, d)) for _ in range(3)]
    ### BEGIN REFERENCE
    run_mean, run_var, run_var_unbiased = np.zeros(d), np.ones(d), np.ones(d)
    ### END REFERENCE
    for k, x in enumerate(xs):
        with unchanged("BatchNorm.forward", x=x):
            out = call(bn.forward, x, name="BatchNorm.forward")
        ### BEGIN REFERENCE
        mu, var = x.mean(axis=0), x.var(axis=0)
        ### END REFERENCE
        check_close(out, gamma0 * (x - mu) / np.sqrt(var + eps) + beta0, f"BatchNorm.forward on ({n}, {d}), pass {k + 1}",
                    mistakes=[(gamma0 * (x - mu) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta0,
                               "the course uses the biased variance x.var(axis=0) (divide by N), not ddof=1.")],
                    hint="normalize each column with its batch mean and variance, then gamma * x_hat + beta.")
        ### BEGIN REFERENCE
        run_mean = momentum * run_mean + (1 - momentum) * mu
        run_var = momentum * run_var + (1 - momentum) * var
        run_var_unbiased = momentum * run_var_unbiased + (1 - momentum) * x.var(axis=0, ddof=1)
        ### END REFERENCE
        check_close(bn.running_mean, run_mean, f"running_mean after {k + 1} training passes (momentum {momentum})",
                    hint="running_mean = momentum * running_mean + (1 - momentum) * batch mean.")
        check_close(bn.running_var, run_var, f"running_var after {k + 1} training passes (momentum {momentum})",
                    hint="running_var = momentum * running_var + (1 - momentum) * biased batch variance.",
                    mistakes=[(run_var_unbiased, "use the biased batch variance (divide by N) here too.")])
    x_new = rng.normal(size=(5, d))
    with unchanged("BatchNorm.forward", x=x_new):
        out = call(bn.forward, x_new, train=False, name="BatchNorm.forward")
    check_close(out, gamma0 * (x_new - run_mean) / np.sqrt(run_var + eps) + beta0, "BatchNorm.forward(x, train=False)",
                hint="test mode: (x - running_mean) / sqrt(running_var + eps), then gamma and beta.")
    check_close(bn.running_mean, run_mean, "running_mean after a test pass", hint="train=False must not update them.")
    check_close(bn.running_var, run_var, "running_var after a test pass", hint="train=False must not update them.")
    one = call(bn.forward, x_new[:1], train=False, name="BatchNorm.forward")
    check_close(one, out[:1], "BatchNorm.forward of a single example in test mode",
                hint="in test mode an example's output must not depend on the rest of its batch.")
    # numerical gradient checks in training mode
    x = rng.normal(loc=1.0, scale=2.0, size=(n, d))
    dout = rng.normal(size=(n, d))
    call(bn.forward, x, name="BatchNorm.forward")
    with unchanged("BatchNorm.backward", dout=dout):
        dx = call(bn.backward, dout, name="BatchNorm.backward")
    check_close(dx, _graph_dx(x, dout, gamma0, eps), f"BatchNorm.backward(dout) on ({n}, {d})", mistakes=[
        (_graph_dx(x, dout, gamma0, eps, var_path=False, mu_path=False),
         "dx_hat / s is only the first path to xc, and to x: add the paths through var and through mu."),
        (_graph_dx(x, dout, gamma0, eps, var_path=False), "the path through var is missing (steps (7) to (3))."),
        (_graph_dx(x, dout, gamma0, eps, mu_path=False), "the path through mu is missing (steps (2) and (1))."),
        (_graph_dx(x, dout, gamma0, eps, mean_scale=1.0), "a mean over the batch sends 1/N of its gradient to each "
                                                           "row: divide by N in steps (4) and (1)."),
        (_graph_dx(x, dout, gamma0, eps, ds_sign=1.0), "the derivative of xc / s with respect to s is -xc / s**2."),
        (_graph_dx(x, dout, gamma0, eps, sqrt_half=1.0), "the derivative of sqrt(v) is 1 / (2 sqrt(v)): keep the 1/2."),
        (_graph_dx(x, dout, gamma0, eps, sum_s=False), "s is shared by the batch: its gradient sums over axis 0."),
        (_graph_dx(x, dout, gamma0, eps, fork_adds=False), "xc feeds steps (3) and (7): add the two gradients."),
    ], hint="walk back through the graph from step (8) to step (1) and add the gradients at the two forks.")
    ### BEGIN REFERENCE
    forward = lambda _: np.sum(bn.forward(x, train=True) * dout)
    ### END REFERENCE
    check_gradient(dx, numerical_gradient(forward, x), f"BatchNorm dx on ({n}, {d})", tol=1e-5,
                   hint="mu and var depend on every x_n: walk back through every step of the graph.")
    check_gradient(bn.grads.get("gamma"), numerical_gradient(forward, bn.params["gamma"]), "BatchNorm dgamma", tol=1e-5,
                   hint="step (8): dgamma = (dout * x_hat).sum(axis=0).")
    check_gradient(bn.grads.get("beta"), numerical_gradient(forward, bn.params["beta"]), "BatchNorm dbeta", tol=1e-5,
                   hint="step (8): dbeta = dout.sum(axis=0).")
    check_names(bn.grads, ("gamma", "beta"), "BatchNorm.grads", "keys")
### END HIDDEN TESTS

# %% [markdown]
# ### What your graph gradient simplifies to
#
# Write $g = \partial L/\partial\hat x = \text{dout} \odot \gamma$ and follow the steps for one feature
# (sums over the batch). Step 7 gives $\partial L/\partial x_c = g/s$ and
# $\partial L/\partial s = -\sum_{n'} g_{n'} x_{c,n'} / s^2$; steps 6 to 3 add
# $2 x_c \cdot \frac1N \cdot \frac{1}{2s} \, \partial L/\partial s$ to it, so that, with $\hat x = x_c / s$,
#
# $$ \frac{\partial L}{\partial x_{c,n}} = \frac1s \Big( g_n - \hat x_n \odot \frac1N \sum_{n'} g_{n'} \odot \hat x_{n'} \Big). $$
#
# Step 2 sums this over the batch with a minus sign; since $\sum_n \hat x_n = 0$, the second term
# drops out and $\partial L/\partial\mu = -\frac1s \sum_{n'} g_{n'}$. Step 1 adds $\frac1N$ of it to every row:
#
# $$ \frac{\partial L}{\partial x_n} = \frac{1}{\sqrt{\sigma^2 + \varepsilon}}
#    \Big( g_n - \frac1N \sum_{n'} g_{n'} - \hat x_n \odot \frac1N \sum_{n'} g_{n'} \odot \hat x_{n'} \Big). $$
#
# The two subtracted terms are the paths through $\mu$ and through $\sigma^2$. The compact form needs
# no intermediate arrays besides $\hat x$ and $s$, and it is a second check of your graph: the cell
# below compares your `backward` with a numerical gradient of $\sum y \odot \text{dout}$ (as the hidden
# tests do) and with this formula. Below about $10^{-7}$, they agree.

# %% demo=true
rng = np.random.default_rng(0)
bn_check, x_check, dout_check = BatchNorm(4), rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
bn_check.forward(x_check, train=True)
dx_check = bn_check.backward(dout_check)
dx_numerical = numerical_gradient_array(lambda z: bn_check.forward(z, train=True), x_check.copy(), dout_check)
s_check = np.sqrt(x_check.var(axis=0) + bn_check.eps)
x_hat_check = (x_check - x_check.mean(axis=0)) / s_check
g_check = dout_check * bn_check.params["gamma"]
dx_compact = (g_check - g_check.mean(axis=0) - x_hat_check * (g_check * x_hat_check).mean(axis=0)) / s_check
print(f"relative error of your dx against the numerical gradient: {rel_error(dx_check, dx_numerical):.2e}")
print(f"relative error of your dx against the compact formula:    {rel_error(dx_check, dx_compact):.2e}")

# %% [markdown]
# ### Batch normalization rescues a bad initialization
#
# Back to the five-layer stack with the worst initialization for ReLU, $\sigma = 0.01$, whose
# activations died out. With a `BatchNorm` before every activation, each layer's input is
# re-standardized, and the activations keep their scale whatever the weights' scale.

# %% demo=true
def five_layer_activations_bn(init, activation, n_layers=5, width=100, n_samples=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, width))
    outputs = []
    for _ in range(n_layers):
        x = activation().forward(BatchNorm(width).forward(x @ init((width, width), rng), train=True))
        outputs.append(x)
    return outputs


activation_histograms({
    "σ = 0.01": five_layer_activations(gaussian(0.01), ReLU),
    "σ = 0.01 + BN": five_layer_activations_bn(gaussian(0.01), ReLU),
    "σ = 1 + BN": five_layer_activations_bn(gaussian(1.0), ReLU),
}, value_range="panel", skip_zeros=True, title="ReLU activations per layer, without and with batch normalization")

# %% [markdown]
# ### Training with and without batch normalization
#
# The histograms show one forward pass at initialization. Does batch normalization also make a
# network *train* better? As the book *Deep Learning from Scratch* does: a 784–100–100–100–100–100–10
# ReLU network on 1000 MNIST training images, plain SGD (learning rate 0.01, batches of 100), 20
# epochs — once as a stack of Affine → ReLU blocks, once with your `BatchNorm` in every block
# (Affine → BatchNorm → ReLU), from the same initial weights; for two weight scales, $\sigma = 0.01$
# and He. Before training and after every epoch we measure the accuracy and the loss on the 1000
# training images, in test mode.
#
# Inside a `Model` a `BatchNorm` is a layer like the others: its parameters appear as `"1.gamma"`,
# `"1.beta"`, …, so the optimizer updates them (and `is_weight` keeps them out of weight decay), and
# `Model.predict(x, train=...)` passes the mode on — batch statistics in training, running statistics
# when predicting.

# %% demo=true
# Stop here with a clear message while Exercise 6 is not done.
probe = BatchNorm(2)
call(probe.forward, np.array([[0.0, 1.0], [2.0, 5.0]]), name="BatchNorm.forward")
call(probe.backward, np.ones((2, 2)), name="BatchNorm.backward")

x_bn, t_bn = load_mnist(n_train=1000, n_validation=10_000, dtype=np.float64)[0]


def bn_network(init, batch_norm, sizes=(784, 100, 100, 100, 100, 100, 10), seed=0):
    """Affine -> [BatchNorm ->] ReLU blocks, then an Affine; the same weights with and without BatchNorm."""
    rng = np.random.default_rng(seed)
    model = Model()
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        model.add(Affine(init((d_in, d_out), rng), np.zeros(d_out)))
        if i < len(sizes) - 2:
            if batch_norm:
                model.add(BatchNorm(d_out))
            model.add(ReLU())
    return model


def training_curve(model, x, t, epochs=20, lr=0.01, batch_size=100):
    """Plain SGD; the accuracy and loss on (x, t), in test mode, before training and after every epoch."""
    optimizer = SGD(lr=lr)
    curve = [evaluate(model, x, t)]
    for epoch in range(epochs):
        for x_batch, t_batch in minibatches(x, t, batch_size, seed=epoch):
            optimizer.update(model.params, model.gradient(x_batch, t_batch))
        curve.append(evaluate(model, x, t))
    return curve


bn_curves = {}
for scale, init in {"σ = 0.01": gaussian(0.01), "He": he_normal}.items():
    for batch_norm in (False, True):
        label = f"{scale}, {'with' if batch_norm else 'without'} BatchNorm"
        curve = bn_curves[label] = training_curve(bn_network(init, batch_norm), x_bn, t_bn)
        print(f"{label:26s} training accuracy after 5 epochs {curve[5][0]:.3f}, after 20 {curve[20][0]:.3f}; "
              f"loss after 20 {curve[20][1]:.3f}")
plot_curves({label: [accuracy for accuracy, _ in curve] for label, curve in bn_curves.items()},
            title="1000 MNIST images, plain SGD (lr 0.01)", xlabel="epoch", ylabel="training accuracy")

# %% [markdown]
# Without batch normalization, $\sigma = 0.01$ does not train at all: the training accuracy is
# 0.117 after 5 epochs and after 20, and the loss after 20 epochs is 2.301 — about
# $\ln 10 \approx 2.303$, the loss of a uniform guess over ten classes — because the signal and its
# gradients vanish in the deep stack (section 1). With `BatchNorm`, the same initial weights train:
# 0.852 after 5 epochs, 1.000 after 20. With He initialization both networks train, and the one with
# batch normalization is still faster: 0.745 against 0.502 after 5 epochs, 0.967 against 0.851 after
# 20. Batch normalization makes training much less sensitive to the scale of the initial weights.

# %% [markdown]
# ## Summary
#
# - The variance of a layer's output is $n_\text{in} \operatorname{Var}(w) \operatorname{Var}(x)$:
#   Xavier ($\operatorname{Var}(w) = 2/(n_\text{in} + n_\text{out})$) suits sigmoid/tanh, He
#   ($2/n_\text{in}$) suits ReLU. A convolution's fans include the kernel area.
# - Too small weights make activations and gradients vanish; too large ones saturate sigmoids or
#   explode ReLUs.
# - L2 weight decay adds $\frac\lambda2\sum\lVert W\rVert^2$ to the loss and $\lambda W$ to each
#   weight gradient; biases (and $\gamma$, $\beta$) are not decayed.
# - Inverted dropout masks and divides by $1-p$ in training, reuses the mask in backward, and is the
#   identity at test time.
# - Batch normalization standardizes each feature over the batch, learns $\gamma$ and $\beta$, keeps
#   running statistics for test time; its backward pass, walked back through the graph of its forward
#   pass, carries the paths through the batch mean and variance. It lets a badly initialized deep
#   network train.
# - On 300 images of which 60 are mislabelled, weight decay and dropout keep the network from
#   memorising the wrong labels and raise its validation accuracy; on the right labels the same amount
#   costs accuracy. Choose $\lambda$, $p$ and the stopping epoch on a validation split, and look at
#   the test set once, at the end.
#
# Next, in **06 — convolutional networks with im2col**, the weights become filters of shape
# $(F_N, C, F_H, F_W)$, initialized with the He scale you computed here.
