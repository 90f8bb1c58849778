# %% [markdown]
# # 04 — Optimizers: mini-batches, momentum and adaptive learning rates
#
# **Learning objectives.** After this notebook you can
# 1. cut a data set into shuffled mini-batches, the unit of work of *stochastic* gradient descent;
# 2. write the update rules that train almost every network — SGD, Momentum, Nesterov momentum,
#    AdaGrad, RMSProp, AdaDelta and Adam — as objects that keep their own state per parameter;
# 3. explain what each rule adds: a velocity that averages gradients over time, a per-coordinate
#    step size from the history of squared gradients, and Adam's *bias correction*;
# 4. read optimizer behaviour off trajectories on 2-D test functions, and off the training curves of
#    the same network trained with different rules.
#
# **How this notebook is graded.** Each exercise is a cell with `raise NotImplementedError()`: replace
# that line with your code. The cell after it holds tests: run it to check yourself. The tests you see
# are a part of the grade; hidden tests (random inputs, several steps of every rule, edge cases) run
# when your notebook is graded. A test that fails tells you what was expected, what you returned, and a
# hint. Every update rule is graded on its own, so a mistake in one costs only that rule's points. One
# question is read and graded by a person.
#
# **Notation.**
#
# | symbol | meaning |
# |---|---|
# | $N$, $B$ | examples in the data set; examples per mini-batch (`batch_size`) |
# | $p$, $g = \partial L/\partial p$ | one parameter array (`params[key]`, any shape) and its gradient (`grads[key]`, the same shape) |
# | $\eta$ | learning rate (`lr`) |
# | $\mu$, $v$ | Momentum's coefficient (`momentum`) and velocity |
# | $h$ | AdaGrad's sum, RMSProp's moving average, of $g \odot g$ |
# | $\rho$ | the decay of a moving average (`decay`, `rho`) |
# | $\beta_1$, $\beta_2$; $m$, $v$; $t$ | Adam's decays; its first and second moments; its update counter (not the labels) |
# | $\varepsilon$ | a guard against division by zero (`eps`) |
# | $\lambda_{\max}$ | the largest curvature (Hessian eigenvalue) of a test function |
# | $x$, $y$ | the two coordinates of a 2-D test function (Section 3), not inputs and targets |
# | $E[g^2]$, $E[\Delta^2]$, $\Delta$ | AdaDelta's moving averages and its update |
#
# Every operation below is **elementwise**: squares, square roots and divisions act on each
# coordinate of $p$ separately.

# %% export=true
import numpy as np

# %%
import matplotlib.pyplot as plt

from dlfs.grading import as_array, call, check_close, check_length, check_shape, check_that, unchanged
from dlfs.monitor import plot_curves
from dlfs.synthetic import make_moons
from provided.mlp import make_mlp

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Mini-batches
#
# Chapter 01 computed the gradient on the **whole** data set before every step; chapters 02 and 03
# already drew random mini-batches inside their training loops. Here the mini-batch becomes a reusable
# piece, and the reason for it comes first. With $N = 60\,000$ MNIST images a full gradient is a lot
# of work for one small step. *Stochastic* gradient descent estimates the
# gradient on a random **mini-batch** of $B$ examples instead (typically $B = 32 \ldots 256$): the
# estimate is noisy but unbiased, and costs $B/N$ of the full gradient, so we take many more steps for
# the same work.
#
# One **epoch** is one pass over the data. To make every epoch see every example exactly once, in a new
# random order:
#
# 1. draw **one** random permutation of the row numbers $0, \ldots, N-1$;
# 2. reorder `X` **and** `Y` (the labels, $t$ elsewhere) with that same permutation — the label of example $i$ must stay with
#    example $i$;
# 3. cut the reordered rows into consecutive batches of $B$; when $B$ does not divide $N$, the last
#    batch is shorter ($N \bmod B$ rows). Keep it: dropping it would leave some examples out of the
#    epoch.
#
# ```
#  rows        0  1  2  3  4        permutation [3 0 4 1 2],  B = 2
#  batches     [3 0]  [4 1]  [2]    <- full batches first, the short one last
# ```
#
# **Exercise 1 (3 points).** Write the generator `minibatches(X, Y, batch_size, seed=0)` that yields
# `(X_batch, Y_batch)` pairs. `X` has shape $(N, \ldots)$ (rows may be vectors or images), `Y` has shape
# $(N,)$ or $(N, C)$. Draw the permutation with `np.random.default_rng(seed)` so that the same seed
# gives the same batches. Do not modify `X` or `Y` (index them with the permutation instead of shuffling
# them in place). A generator function uses `yield` instead of `return`; `list(minibatches(...))`
# collects all its batches.

# %% answer="minibatches" export=true
def minibatches(X, Y, batch_size, seed=0):
    """Yield shuffled mini-batches that cover the data set exactly once.

    Args:
        X: (N, ...) inputs.  Y: (N,) or (N, C) targets, row i belonging to X[i].
        batch_size: B, the number of examples per batch.
        seed: seed of np.random.default_rng; the same seed gives the same batches.

    Yields:
        (X_batch, Y_batch): B rows of X and the matching B rows of Y; the last batch has
        N mod B rows when B does not divide N.
    """
    ### BEGIN SOLUTION
    n = len(X)
    order = np.random.default_rng(seed).permutation(n)
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], Y[rows]
    ### END SOLUTION


# %% tests="test_minibatches" points=3
def collect_batches(X, Y, batch_size, seed=0):
    """Run minibatches and return its batches as a list of (X_batch, Y_batch) pairs."""
    got = call(minibatches, X, Y, batch_size, seed=seed)
    check_that("holds", (got is not None,), "what minibatches returned", problem="None",
               hint="`yield X[rows], Y[rows]` once per batch (or return a list of (X_batch, Y_batch) pairs).")
    try:
        batches = list(got)
    except TypeError:
        batches = None
    check_that("holds", (batches is not None,), "what minibatches returned",
               problem="something that is not batches one can loop over",
               hint="yield one (X_batch, Y_batch) pair per batch.")
    pairs = []
    for batch in batches:
        try:
            X_batch, Y_batch = batch
        except (TypeError, ValueError):
            continue
        pairs.append((np.asarray(X_batch), np.asarray(Y_batch)))
    check_that("holds", (len(pairs) == len(batches),), "the batches of minibatches",
               problem="a batch that is not a pair (X_batch, Y_batch)", hint="`yield X[rows], Y[rows]`.")
    return pairs


def order_of(batches):
    """The example numbers (the first feature) of all batches, in the order the batches gave them."""
    return np.concatenate([np.asarray(xb).reshape(len(xb), -1)[:, 0] for xb, _ in batches])


# Five examples: X[i] = [i, -i] and Y[i] = 100 + i, so the pairs are easy to check.
X_small = np.array([[i, -i] for i in range(5)], dtype=float)
Y_small = 100 + np.arange(5)
batches = collect_batches(X_small, Y_small, 2)
for xb, yb in batches:
    print("X_batch rows:", xb[:, 0], "  Y_batch:", yb)
check_close(len(batches), 3, "the number of batches of minibatches(X, Y, 2) with N = 5",
            hint="one batch per start index 0, B, 2B, ... below N.", mistakes=[
                (2, "keep the last, short batch: N = 5 and B = 2 give batches of 2, 2 and 1 "
                    "(range(0, N, B) gives the start of every batch).")])
check_close([len(xb) for xb, _ in batches], [2, 2, 1], "the sizes of the X batches",
            hint="full batches first, then the short one.")
check_close([len(yb) for _, yb in batches], [2, 2, 1], "the sizes of the Y batches",
            hint="slice Y with the same rows as X: Y[rows].")
for k, (xb, yb) in enumerate(batches):
    check_that("agree", (yb - 100, xb[:, 0]), f"the example numbers of Y_batch {k} (must match those of X_batch {k})",
               hint="shuffle X and Y with ONE permutation: index both with the same array of row numbers.",
               what=f"those of X_batch {k}")
check_close(np.sort(order_of(batches)), np.arange(5), "the examples of all batches together, sorted",
            hint="every example exactly once per call: slice one permutation, do not draw rows at random.")
check_that("agree", (order_of(collect_batches(X_small, Y_small, 2)), order_of(batches)),
           "the order of a second call with the same seed", what="the first call",
           hint="use rng = np.random.default_rng(seed): the same seed must give the same batches.")
check_that("differ", (order_of(batches), np.arange(5.0)), "the order of the examples with seed=0",
           same="the original order 0, 1, 2, 3, 4: minibatches did not shuffle",
           hint="order = np.random.default_rng(seed).permutation(N), then slice it into batches.")
### BEGIN HIDDEN TESTS
# 23 "images" of shape (1, 2, 2) whose pixels hold their example number; Y one-hot-like (23, 2)
n = 23
X_img = np.arange(n, dtype=float).reshape(n, 1, 1, 1) * np.ones((1, 1, 2, 2))
Y_two = np.column_stack([np.arange(n), np.arange(n) % 3]).astype(float)
with unchanged("minibatches", X=X_img, Y=Y_two):
    batches = collect_batches(X_img, Y_two, 5, seed=7)
check_close(len(batches), 5, "the number of batches for N = 23, B = 5",
            hint="full batches of B, then one batch with the N mod B remaining rows.",
            mistakes=[(4, "keep the last, short batch (23 = 4 * 5 + 3).")])
check_close([len(xb) for xb, _ in batches], [5, 5, 5, 5, 3], "the batch sizes for N = 23, B = 5",
            hint="full batches first, the short one last.")
for k, (xb, yb) in enumerate(batches):
    check_shape(xb, (len(yb), 1, 2, 2), f"X_batch {k} of (23, 1, 2, 2) images",
                hint="index the rows (the first axis) of X; keep the shape of every example.")
    check_that("agree", (yb[:, 0], xb[:, 0, 0, 0]), f"the examples of Y_batch {k} vs X_batch {k}",
               hint="shuffle X and Y with ONE permutation: index both with the same array of row numbers.",
               what=f"those of X_batch {k}")
order = order_of(batches)
check_close(np.sort(order), np.arange(n), "the examples of all batches together, sorted",
            hint="every example exactly once per epoch: slice one permutation, never sample with replacement.")
check_that("differ", (order, np.arange(n)), "the order of the examples with seed=7",
           same="the original order 0, 1, 2, ...: minibatches did not shuffle",
           hint="order = np.random.default_rng(seed).permutation(N), then slice it.")
check_that("agree", (order_of(collect_batches(X_img, Y_two, 5, seed=7)), order),
           "the order of a second call with seed=7", what="the first call",
           hint="draw the permutation from np.random.default_rng(seed), created inside the call.")
check_that("differ", (order_of(collect_batches(X_img, Y_two, 5, seed=8)), order), "the order with seed=8",
           same="the same order as with seed=7", hint="pass the seed to np.random.default_rng(seed).")
# the batches come from their own generator: numpy's global random state is left as it was
global_state = lambda: np.concatenate([np.ravel(part).astype(float) for part in np.random.get_state()[1:]])
state_before = global_state()
collect_batches(X_img, Y_two, 5, seed=9)
check_that("agree", (global_state(), state_before), "numpy's global random state after minibatches",
           what="the state before (np.random.seed or np.random.permutation changed it)",
           hint="draw from your own generator, rng = np.random.default_rng(seed); reseeding the global one every "
                "epoch also resets the random numbers of every other part of the program.")
# B divides N: no empty batch at the end; B = N and B > N: one batch; B = 1: N batches of one
for size in (4, 24, 30, 1):
    X_, Y_ = np.arange(24.0).reshape(24, 1), np.arange(24)
    got = collect_batches(X_, Y_, size, seed=3)
    sizes = [len(xb) for xb, _ in got]
    ### BEGIN REFERENCE
    expected = {4: [4] * 6, 24: [24], 30: [24], 1: [1] * 24}[size]
    ### END REFERENCE
    check_close(len(sizes), len(expected), f"the number of batches for N = 24, B = {size}",
                hint="every example once; one batch holds everything when B >= N.",
                mistakes=[(len(expected) + 1, "do not yield an empty batch when B divides N.")])
    check_close(sizes, expected, f"the batch sizes for N = 24, B = {size}",
                hint="full batches of B first, then the N mod B remaining rows; no empty batch.")
    check_close(np.sort(order_of(got)), np.arange(24.0), f"the examples of all batches for N = 24, B = {size}",
                hint="every example exactly once per call: slice one permutation of range(N).")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Update rules as objects
#
# Every rule below has the same interface. Its constructor takes the hyperparameters; its method
# `update(params, grads)` receives two dictionaries with the same keys — `params["0.W"]` is an array of
# the model, `grads["0.W"]` its gradient — and changes **every array in `params` in place**:
#
# ```python
# params[key] -= step      # in place: the model's own array changes
# params[key] = new_array  # NOT in place: only the dictionary changes, the model never sees it
# ```
#
# (A model's `params` dictionary holds the layers' own arrays, and is built anew each time you ask for
# it; only an in-place change reaches the layer.) Do not modify the arrays in `grads`. Look every array
# up **by its key**: the two dictionaries have the same keys, not necessarily in the same order, so do
# not pair them by position (`zip(params.values(), grads.values())`).
#
# Rules with memory (a velocity, a running average) keep **one state array per key**, created as zeros
# of the parameter's shape the first time the key is seen, e.g.
#
# ```python
# if key not in self.v:
#     self.v[key] = np.zeros_like(params[key])
# ```
#
# A single state shared by all parameters would mix the history of the weights with that of the biases.
# Create the state dictionaries in `__init__` (as given), so that two optimizers never share them.
#
# The helpers below run an optimizer for a few steps and record the parameters after each one; the
# tests use them, and so can you.

# %%
def _checked_update(optimizer, params, grads, arrays, name, hint=None):
    """One call of optimizer.update(params, grads), checking that it changed the arrays `arrays` in place
    and left the gradients alone."""
    before = np.concatenate([np.ravel(g) for g in grads.values()])
    params_before = np.concatenate([np.ravel(np.array(params[key], dtype=np.float64)) for key in arrays])
    call(optimizer.update, params, grads, name=f"{name}.update", hint=hint)
    check_that("holds", tuple(params.get(key) is array for key, array in arrays.items()), f"{name}.update",
               problem="a new array in params in place of one it was given (not changed in place)",
               hint="write params[key] -= ... (or params[key][...] = ...): a model's params are the layers' own "
                    "arrays, and a new array put in the dictionary never reaches the layer.")
    check_that("agree", (np.concatenate([np.ravel(g) for g in grads.values()]), before),
               f"the gradients after {name}.update", what="before the call (update modified grads in place)",
               hint="compute with new arrays (step = self.lr * g), not g *= ...")
    check_that("differ", (np.concatenate([np.ravel(as_array(params[key], f"{name}: params[{key!r}]")) for key in arrays]),
                          params_before), f"the parameters after {name}.update",
               same="the parameters exactly as they were before the call: update did not move them",
               hint="change every params[key] in place (params[key] -= ... or +=): a result kept in a local variable "
                    "or in a new dictionary never reaches the caller's arrays.")


def run_optimizer(optimizer, params, gradient, n_steps, name="optimizer"):
    """Apply n_steps updates and record the parameters after each step.

    Args:
        optimizer: an object with update(params, grads).
        params: dict name -> float64 array; the arrays are updated in place.
        gradient: function (step, params) -> dict name -> gradient array, e.g. a fixed list of
            gradients (lambda step, p: grads_list[step]) or the gradient of a function at p.
        n_steps: the number of updates.
        name: how messages call the optimizer, e.g. "Adam(lr=0.1)".

    Returns:
        a list of n_steps dicts name -> a copy of each parameter after that step.
    """
    arrays = dict(params)
    trajectory = []
    for step in range(n_steps):
        grads = {key: np.array(g, dtype=np.float64) for key, g in gradient(step, params).items()}
        _checked_update(optimizer, params, grads, arrays, name)
        trajectory.append({key: as_array(value, f"{name}: params[{key!r}]") for key, value in params.items()})
    return trajectory


KEY_ORDER_HINT = ("look up grads[key] and your state by key (params and grads have the same keys, not always in "
                  "the same order), and create the state dicts in __init__ so that two optimizers never share them.")


def run_side_by_side(optimizers, start, gradient, n_steps, names):
    """Step several optimizers in turn (step 1 of each, then step 2 of each, ...), each on its own copy of
    the arrays in `start`, and record their parameters as run_optimizer does.

    Every call of update lists the keys of params in another order, and those of grads in yet another:
    an optimizer must find grads[key] and its state by key, and two instances must not share state.

    Returns:
        one trajectory (a list of n_steps dicts) per optimizer.
    """
    keys = list(start)
    runs = [({key: np.array(value, dtype=np.float64) for key, value in start.items()}, []) for _ in optimizers]
    for step in range(n_steps):
        order = keys[step % len(keys):] + keys[:step % len(keys)]
        for optimizer, name, (arrays, trajectory) in zip(optimizers, names, runs):
            grads = {key: np.array(g, dtype=np.float64) for key, g in gradient(step, arrays).items()}
            _checked_update(optimizer, {key: arrays[key] for key in order},
                            {key: grads[key] for key in reversed(order)}, arrays, name, hint=KEY_ORDER_HINT)
            trajectory.append({key: as_array(value, f"{name}: params[{key!r}]") for key, value in arrays.items()})
    return [trajectory for _, trajectory in runs]


def check_trajectory(got, expected, name, hint=None, mistakes=(), atol=1e-8):
    """Compare two lists of {key: array} step by step; mistakes: (wrong trajectory, explanation) pairs."""
    check_length(got, len(expected), f"{name}: the number of recorded steps")
    for step, (got_step, expected_step) in enumerate(zip(got, expected), start=1):
        for key, value in expected_step.items():
            check_close(got_step[key], value, f"{name}: params[{key!r}] after step {step}", hint=hint,
                        atol=atol, mistakes=[(wrong[step - 1][key], why) for wrong, why in mistakes])


# %% [markdown]
# ### 2.1 SGD
#
# The rule of chapter 01, now applied to one mini-batch gradient at a time:
#
# $$ p \leftarrow p - \eta\, g . $$
#
# **Exercise 2 (1 point).** Complete `SGD.update`.

# %% answer="sgd" export=true
class SGD:
    """Stochastic gradient descent: p <- p - lr * g."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        """Update every array in params in place, using grads (same keys)."""
        ### BEGIN SOLUTION
        for key in params:
            params[key] -= self.lr * grads[key]
        ### END SOLUTION


# %% tests="test_sgd" points=1
def check_steps(got, name, hint=None, atol=1e-8):
    """check_trajectory for the tests of this section: the expected trajectory and the classic mistakes are
    `steps_ref` = (expected, [(wrong trajectory, explanation), ...]), set by a REFERENCE block of the test just
    before (the learner's version of a test has neither: it only reports `got`)."""
    for step, got_step in enumerate(got, start=1):
        for key in got_step:
            check_close(got_step[key], steps_ref[0][step - 1][key], f"{name}: params[{key!r}] after step {step}",
                        hint=hint, atol=atol, mistakes=[(wrong[step - 1][key], why) for wrong, why in steps_ref[1]])


# By hand, lr = 0.1: w = [1, 1] and g = [1, -2]  ->  w = [1 - 0.1, 1 + 0.2] = [0.9, 1.2]
w = np.array([1.0, 1.0])
steps = run_optimizer(SGD(lr=0.1), {"w": w}, lambda step, p: {"w": np.array([1.0, -2.0])}, 2, "SGD(lr=0.1)")
check_close(steps[0]["w"], [0.9, 1.2], "SGD(lr=0.1): params['w'] after step 1", mistakes=[
    ([1.1, 0.8], "step against the gradient: p -= lr * g.")], hint="p -= lr * g for every key of params.")
check_close(steps[1]["w"], [0.8, 1.4], "SGD(lr=0.1): params['w'] after step 2",
            hint="each call of update takes one step p -= lr * g, from where the last one ended.")
check_close(w, [0.8, 1.4], "the array w itself after two steps", hint="update the arrays in place.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(41)
shapes = {"W": (3, 4), "b": (4,), "c": (4,)}
start = {k: rng.normal(size=s) for k, s in shapes.items()}
curvature = {k: rng.uniform(0.5, 2.0, size=s) for k, s in shapes.items()}
noise = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(5)]
gradient = lambda step, p: {k: curvature[k] * p[k] + noise[step][k] for k in p}

### BEGIN REFERENCE
def _reference(lr, n_steps):
    p = {k: v.copy() for k, v in start.items()}
    out = []
    for step in range(n_steps):
        g = gradient(step, p)
        p = {k: p[k] - lr * g[k] for k in p}
        out.append({k: v.copy() for k, v in p.items()})
    return out
### END REFERENCE

for lr in (0.3, 0.01):
    got = run_optimizer(SGD(lr=lr), {k: v.copy() for k, v in start.items()}, gradient, 5, f"SGD(lr={lr})")
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, 5), [(_reference(-lr, 5), "step against the gradient: p -= lr * g.")]
    ### END REFERENCE
    check_steps(got, f"SGD(lr={lr}) on three parameters", hint="p -= self.lr * g for every key, with the lr given.")
got = run_optimizer(SGD(), {k: v.copy() for k, v in start.items()}, gradient, 3, "SGD()")
### BEGIN REFERENCE
steps_ref = _reference(0.01, 3), []
### END REFERENCE
check_steps(got, "SGD() with the default lr=0.01", hint="keep the defaults of the given __init__ signature and read them from self (self.lr, ...), not from constants.")
# keys of params and grads in changing orders, two instances stepped in turn
runs = run_side_by_side([SGD(lr=0.3), SGD(lr=0.01)], start, gradient, 5, ["SGD(lr=0.3)", "SGD(lr=0.01)"])
for lr, got in zip((0.3, 0.01), runs):
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, 5), []
    ### END REFERENCE
    check_steps(got, f"SGD(lr={lr}) with the keys of params and grads in other orders", hint=KEY_ORDER_HINT)
### END HIDDEN TESTS

# %% [markdown]
# ### 2.2 Momentum
#
# On an elongated valley plain SGD zig-zags across the steep direction and crawls along the flat one.
# *Momentum* treats the parameters like a heavy ball: a **velocity** $v$ (zero at the start, one per
# parameter) accumulates the gradients with a decay factor $\mu$ (the *momentum*, typically $0.9$),
# and the parameters move by the velocity:
#
# $$ v \leftarrow \mu\, v - \eta\, g, \qquad p \leftarrow p + v . $$
#
# Along a direction where the gradient keeps its sign, the steps grow up to $\eta g / (1 - \mu)$ —
# ten times the SGD step for $\mu = 0.9$; where it alternates, successive contributions cancel.
#
# **Exercise 3 (2 points).** Complete `Momentum.update`, with one velocity per key in `self.v`.

# %% answer="momentum" export=true
class Momentum:
    """SGD with momentum: v <- momentum * v - lr * g;  p <- p + v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = {}  # key -> velocity, same shape as the parameter

    def update(self, params, grads):
        """Update every array in params in place, using grads (same keys)."""
        ### BEGIN SOLUTION
        for key in params:
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]
        ### END SOLUTION


# %% tests="test_momentum" points=2
# By hand, lr = 0.1, momentum = 0.9, a constant gradient g = 1 from w = 0:
#   step 1: v = 0.9 * 0     - 0.1 = -0.1    w = -0.1
#   step 2: v = 0.9 * -0.1  - 0.1 = -0.19   w = -0.29
#   step 3: v = 0.9 * -0.19 - 0.1 = -0.271  w = -0.561
w = np.array([0.0])
steps = run_optimizer(Momentum(lr=0.1, momentum=0.9), {"w": w}, lambda step, p: {"w": np.array([1.0])}, 3,
                      "Momentum(lr=0.1, momentum=0.9)")
check_close([s["w"][0] for s in steps], [-0.1, -0.29, -0.561], "w after steps 1, 2, 3", mistakes=[
    ([0.1, 0.29, 0.561], "the velocity moves against the gradient: v = momentum * v - lr * g."),
    ([-0.1, -0.2, -0.3], "the velocity must remember the previous steps: keep it in self.v[key]."),
    ([0.0, -0.1, -0.29], "add the NEW velocity: update v first, then p += v."),
    ([-0.01, -0.029, -0.0561], "no (1 - momentum) factor: v = momentum * v - lr * g."),
])
check_close(w, [-0.561], "the array w itself after three steps", hint="update params[key] in place (+=).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(42)
shapes = {"W": (3, 4), "b": (4,), "c": (4,)}
start = {k: rng.normal(size=s) for k, s in shapes.items()}
curvature = {k: rng.uniform(0.5, 2.0, size=s) for k, s in shapes.items()}
noise = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(6)]
gradient = lambda step, p: {k: curvature[k] * p[k] + noise[step][k] for k in p}

### BEGIN REFERENCE
def _reference(lr, mu, n_steps, dampening=0.0):
    p = {k: v.copy() for k, v in start.items()}
    v = {k: np.zeros(s) for k, s in shapes.items()}
    out = []
    for step in range(n_steps):
        g = gradient(step, p)
        for k in p:
            v[k] = mu * v[k] - (1 - dampening) * lr * g[k]
            p[k] = p[k] + v[k]
        out.append({k: a.copy() for k, a in p.items()})
    return out
### END REFERENCE

for lr, mu in ((0.1, 0.9), (0.05, 0.5)):
    name = f"Momentum(lr={lr}, momentum={mu})"
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, mu, 6), [
        (_reference(-lr, mu, 6), "the velocity moves against the gradient: v = momentum * v - lr * g."),
        (_reference(lr, mu, 6, dampening=mu), "no (1 - momentum) factor: v = momentum * v - lr * g."),
    ]
    ### END REFERENCE
    for _ in range(2):  # a second, fresh optimizer must start with zero velocity again
        got = run_optimizer(Momentum(lr=lr, momentum=mu), {k: v.copy() for k, v in start.items()}, gradient, 6, name)
        check_steps(got, f"{name} on three parameters",
                    hint="one velocity per key, zero at the first step; keep it in self.v between calls.")
got = run_optimizer(Momentum(), {k: v.copy() for k, v in start.items()}, gradient, 3, "Momentum()")
### BEGIN REFERENCE
steps_ref = _reference(0.01, 0.9, 3), []
### END REFERENCE
check_steps(got, "Momentum() with the defaults lr=0.01, momentum=0.9", hint="keep the defaults of the given __init__ signature and read them from self (self.lr, ...), not from constants.")
# two instances stepped in turn, the keys of params and grads in changing orders
pair = ((0.1, 0.9), (0.05, 0.5))
runs = run_side_by_side([Momentum(lr=lr, momentum=mu) for lr, mu in pair], start, gradient, 6,
                        [f"Momentum(lr={lr}, momentum={mu})" for lr, mu in pair])
for (lr, mu), got in zip(pair, runs):
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, mu, 6), []
    ### END REFERENCE
    check_steps(got, f"Momentum(lr={lr}, momentum={mu}) stepped in turn with a second "
                     "Momentum, keys in changing orders", hint=KEY_ORDER_HINT)
### END HIDDEN TESTS

# %% [markdown]
# ### 2.3 Nesterov momentum
#
# Momentum will move by $\mu v$ anyway, so Nesterov's accelerated gradient evaluates the gradient at
# the *look-ahead* point $\tilde p = p + \mu v$ instead of at $p$: $v \leftarrow \mu v - \eta \nabla
# L(p + \mu v)$, $p \leftarrow p + v$. That needs a gradient somewhere other than where the model is.
# The usual trick (Bengio et al., 2012) is to store the look-ahead point itself as the parameters:
# write $p$ for $\tilde p$, then the update needs only the gradient $g$ at the current parameters:
#
# $$ v_{\text{old}} = v, \qquad v \leftarrow \mu\, v - \eta\, g, \qquad
#    p \leftarrow p - \mu\, v_{\text{old}} + (1 + \mu)\, v . $$
#
# (Equivalently $p \leftarrow p + \mu\, v - \eta\, g$ with the new $v$: check that the two agree.)
# Compared with Momentum, the step looks one velocity ahead, which damps the overshoot.
#
# **Exercise 4 (2 points).** Complete `Nesterov.update`.

# %% answer="nesterov" export=true
class Nesterov:
    """Nesterov momentum with the look-ahead folded in:
    v_old = v;  v <- momentum * v - lr * g;  p <- p - momentum * v_old + (1 + momentum) * v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = {}  # key -> velocity, same shape as the parameter

    def update(self, params, grads):
        """Update every array in params in place, using grads (same keys)."""
        ### BEGIN SOLUTION
        for key in params:
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            v_old = self.v[key]
            self.v[key] = self.momentum * v_old - self.lr * grads[key]
            params[key] += -self.momentum * v_old + (1 + self.momentum) * self.v[key]
        ### END SOLUTION


# %% tests="test_nesterov" points=2
# By hand, lr = 0.1, momentum = 0.9, a constant gradient g = 1 from w = 0:
#   step 1: v_old = 0,    v = -0.1,   w += -0.9 * 0    + 1.9 * -0.1  = -0.19    -> w = -0.19
#   step 2: v_old = -0.1, v = -0.19,  w += -0.9 * -0.1 + 1.9 * -0.19 = -0.271   -> w = -0.461
w = np.array([0.0])
steps = run_optimizer(Nesterov(lr=0.1, momentum=0.9), {"w": w}, lambda step, p: {"w": np.array([1.0])}, 2,
                      "Nesterov(lr=0.1, momentum=0.9)")
check_close([s["w"][0] for s in steps], [-0.19, -0.461], "w after steps 1, 2", mistakes=[
    ([-0.1, -0.29], "that is plain Momentum: the step is -momentum * v_old + (1 + momentum) * v_new."),
    ([-0.271, -0.6149], "the momentum**2 term uses the velocity from BEFORE this step: "
                        "p += momentum**2 * v_old - (1 + momentum) * lr * g."),
    ([-0.19, -0.641], "the old velocity is subtracted: p += -momentum * v_old + (1 + momentum) * v."),
])
check_close(w, [-0.461], "the array w itself after two steps", hint="update params[key] in place (+=).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(43)
shapes = {"W": (3, 4), "b": (4,), "c": (4,)}
start = {k: rng.normal(size=s) for k, s in shapes.items()}
curvature = {k: rng.uniform(0.5, 2.0, size=s) for k, s in shapes.items()}
noise = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(6)]
gradient = lambda step, p: {k: curvature[k] * p[k] + noise[step][k] for k in p}

### BEGIN REFERENCE
def _reference(lr, mu, n_steps, plain=False):
    # the look-ahead form: p holds p_true + mu * v, g is evaluated there
    p = {k: v.copy() for k, v in start.items()}
    v = {k: np.zeros(s) for k, s in shapes.items()}
    out = []
    for step in range(n_steps):
        g = gradient(step, p)
        for k in p:
            v[k] = mu * v[k] - lr * g[k]
            p[k] = p[k] + (v[k] if plain else mu * v[k] - lr * g[k])
        out.append({k: a.copy() for k, a in p.items()})
    return out
### END REFERENCE

for lr, mu in ((0.1, 0.9), (0.05, 0.6)):
    name = f"Nesterov(lr={lr}, momentum={mu})"
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, mu, 6), [
        (_reference(lr, mu, 6, plain=True),
         "that is plain Momentum: the step is -momentum * v_old + (1 + momentum) * v_new."),
    ]
    ### END REFERENCE
    for _ in range(2):
        got = run_optimizer(Nesterov(lr=lr, momentum=mu), {k: v.copy() for k, v in start.items()}, gradient, 6, name)
        check_steps(got, f"{name} on three parameters",
                    hint="one velocity per key, zero at the first step; v_old is the velocity before this step.")
got = run_optimizer(Nesterov(), {k: v.copy() for k, v in start.items()}, gradient, 3, "Nesterov()")
### BEGIN REFERENCE
steps_ref = _reference(0.01, 0.9, 3), []
### END REFERENCE
check_steps(got, "Nesterov() with the defaults lr=0.01, momentum=0.9", hint="keep the defaults of the given __init__ signature and read them from self (self.lr, ...), not from constants.")
# two instances stepped in turn, the keys of params and grads in changing orders
pair = ((0.1, 0.9), (0.05, 0.6))
runs = run_side_by_side([Nesterov(lr=lr, momentum=mu) for lr, mu in pair], start, gradient, 6,
                        [f"Nesterov(lr={lr}, momentum={mu})" for lr, mu in pair])
for (lr, mu), got in zip(pair, runs):
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, mu, 6), []
    ### END REFERENCE
    check_steps(got, f"Nesterov(lr={lr}, momentum={mu}) stepped in turn with a second "
                     "Nesterov, keys in changing orders", hint=KEY_ORDER_HINT)
### END HIDDEN TESTS

# %% [markdown]
# ### 2.4 AdaGrad
#
# One learning rate for all parameters is a compromise: coordinates with large gradients would like a
# small step, coordinates with small gradients a large one. AdaGrad gives every coordinate its own step
# size, from the **sum of its squared gradients** so far:
#
# $$ h \leftarrow h + g \odot g, \qquad p \leftarrow p - \eta\, \frac{g}{\sqrt{h} + \varepsilon} . $$
#
# $h$ starts at zero; $\varepsilon$ (default $10^{-7}$) is added **after** the square root and only
# guards against a division by zero. At the first step $\sqrt h = |g|$, so every coordinate moves by
# $\eta$, whatever the size of its gradient.
#
# **Exercise 5 (2 points).** Complete `AdaGrad.update`, with one sum $h$ per key in `self.h`.

# %% answer="adagrad" export=true
class AdaGrad:
    """AdaGrad: h <- h + g**2;  p <- p - lr * g / (sqrt(h) + eps)."""

    def __init__(self, lr=0.01, eps=1e-7):
        self.lr = lr
        self.eps = eps
        self.h = {}  # key -> sum of squared gradients, same shape as the parameter

    def update(self, params, grads):
        """Update every array in params in place, using grads (same keys)."""
        ### BEGIN SOLUTION
        for key in params:
            if key not in self.h:
                self.h[key] = np.zeros_like(params[key])
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)
        ### END SOLUTION


# %% tests="test_adagrad" points=2
# By hand, lr = 0.1, a constant gradient g = [1, -2] from w = [1, 1]:
#   step 1: h = [1, 4],  w -= 0.1 * [1/1, -2/2]             -> w = [0.9, 1.1]  (both coordinates move by lr)
#   step 2: h = [2, 8],  w -= 0.1 * [1/sqrt(2), -2/sqrt(8)]  -> w = [0.829289, 1.170711]
w = np.array([1.0, 1.0])
steps = run_optimizer(AdaGrad(lr=0.1), {"w": w}, lambda step, p: {"w": np.array([1.0, -2.0])}, 2, "AdaGrad(lr=0.1)")
check_close(steps[0]["w"], [0.9, 1.1], "AdaGrad(lr=0.1): params['w'] after step 1", mistakes=[
    ([0.9, 1.2], "divide by sqrt(h) + eps: that is plain SGD."),
    ([-999999.0, 2000001.0], "add g * g to h BEFORE the step: at the first step h = g * g, not 0."),
], hint="h sums the SQUARED gradients (h += g * g, zero at the start); then p -= lr * g / (np.sqrt(h) + eps).")
check_close(steps[1]["w"], [0.8292893219, 1.1707106781], "AdaGrad(lr=0.1): params['w'] after step 2",
            hint="h accumulates over the steps (h += g * g), one h per key, kept in self.h.")
check_close(w, steps[1]["w"], "the array w itself after two steps", hint="update params[key] in place (-=).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(44)
shapes = {"W": (3, 4), "b": (4,), "c": (4,)}
start = {k: rng.normal(size=s) for k, s in shapes.items()}
curvature = {k: rng.uniform(0.5, 2.0, size=s) for k, s in shapes.items()}
noise = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(6)]
gradient = lambda step, p: {k: curvature[k] * p[k] + noise[step][k] for k in p}

### BEGIN REFERENCE
def _reference(lr, eps, n_steps, gradient=gradient, eps_inside=False):
    p = {k: v.copy() for k, v in start.items()}
    h = {k: np.zeros(s) for k, s in shapes.items()}
    out = []
    for step in range(n_steps):
        g = gradient(step, p)
        for k in p:
            h[k] = h[k] + g[k] ** 2
            denominator = np.sqrt(h[k] + eps) if eps_inside else np.sqrt(h[k]) + eps
            p[k] = p[k] - lr * g[k] / denominator
        out.append({k: a.copy() for k, a in p.items()})
    return out
### END REFERENCE

for lr, eps in ((0.1, 1e-7), (0.5, 1e-3)):
    name = f"AdaGrad(lr={lr}, eps={eps})"
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, eps, 6), [
        (_reference(lr, eps, 6, eps_inside=True), "the course adds eps after the square root, np.sqrt(h) + eps "
                                                  "(some texts put it inside, np.sqrt(h + eps))."),
    ]
    ### END REFERENCE
    for _ in range(2):
        got = run_optimizer(AdaGrad(lr=lr, eps=eps), {k: v.copy() for k, v in start.items()}, gradient, 6, name)
        check_steps(got, f"{name} on three parameters",
                    hint="one h per key, zero at the start, h += g * g before the step; p -= lr * g / (sqrt(h) + eps).")
# where eps matters: tiny gradients (1e-5) at the first steps, where sqrt(h) is close to eps
tiny = [{k: 1e-5 * rng.normal(size=s) for k, s in shapes.items()} for _ in range(3)]
tiny_gradient = lambda step, p: {k: a.copy() for k, a in tiny[step].items()}
got = run_optimizer(AdaGrad(lr=0.1), {k: v.copy() for k, v in start.items()}, tiny_gradient, 3, "AdaGrad(lr=0.1)")
### BEGIN REFERENCE
steps_ref = _reference(0.1, 1e-7, 3, gradient=tiny_gradient), [
    (_reference(0.1, 1e-7, 3, gradient=tiny_gradient, eps_inside=True),
     "the course adds eps after the square root: np.sqrt(h) + eps, not np.sqrt(h + eps) as some texts do."),
]
### END REFERENCE
check_steps(got, "AdaGrad(lr=0.1) with gradients of size 1e-5",
            hint="p -= lr * g / (np.sqrt(h) + eps) with eps = self.eps.")
got = run_optimizer(AdaGrad(), {k: v.copy() for k, v in start.items()}, gradient, 3, "AdaGrad()")
### BEGIN REFERENCE
steps_ref = _reference(0.01, 1e-7, 3), []
### END REFERENCE
check_steps(got, "AdaGrad() with the defaults lr=0.01, eps=1e-7", hint="keep the defaults of the given __init__ signature and read them from self (self.lr, ...), not from constants.")
# two instances stepped in turn, the keys of params and grads in changing orders
pair = ((0.1, 1e-7), (0.5, 1e-3))
runs = run_side_by_side([AdaGrad(lr=lr, eps=eps) for lr, eps in pair], start, gradient, 6,
                        [f"AdaGrad(lr={lr}, eps={eps})" for lr, eps in pair])
for (lr, eps), got in zip(pair, runs):
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, eps, 6), []
    ### END REFERENCE
    check_steps(got, f"AdaGrad(lr={lr}, eps={eps}) stepped in turn with a second "
                     "AdaGrad, keys in changing orders", hint=KEY_ORDER_HINT)
### END HIDDEN TESTS

# %% [markdown]
# ### 2.5 RMSProp
#
# RMSProp keeps AdaGrad's per-coordinate scaling but replaces the sum by an **exponential moving
# average** of the squared gradients, with a decay $\rho$ (`decay`, default $0.99$):
#
# $$ h \leftarrow \rho\, h + (1 - \rho)\, g \odot g, \qquad
#    p \leftarrow p - \eta\, \frac{g}{\sqrt{h} + \varepsilon} . $$
#
# $h$ starts at zero, so the first steps are large: with $\rho = 0.99$, $h = 0.01\, g^2$ after one
# step and the step is $10\,\eta$ (Adam's bias correction, below, removes that start-up effect).
#
# **Exercise 6 (2 points).** Complete `RMSProp.update`.

# %% answer="rmsprop" export=true
class RMSProp:
    """RMSProp: h <- decay * h + (1 - decay) * g**2;  p <- p - lr * g / (sqrt(h) + eps)."""

    def __init__(self, lr=0.01, decay=0.99, eps=1e-7):
        self.lr = lr
        self.decay = decay
        self.eps = eps
        self.h = {}  # key -> moving average of squared gradients, same shape as the parameter

    def update(self, params, grads):
        """Update every array in params in place, using grads (same keys)."""
        ### BEGIN SOLUTION
        for key in params:
            if key not in self.h:
                self.h[key] = np.zeros_like(params[key])
            self.h[key] = self.decay * self.h[key] + (1 - self.decay) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)
        ### END SOLUTION


# %% tests="test_rmsprop" points=2
# By hand, lr = 0.01, decay = 0.99, a constant gradient g = [1, -2] from w = [1, 1]:
#   step 1: h = 0.01 * [1, 4] = [0.01, 0.04],  sqrt(h) = [0.1, 0.2],  w -= 0.01 * [10, -10] -> w = [0.9, 1.1]
#   step 2: h = 0.99 * h + 0.01 * [1, 4] = [0.0199, 0.0796]                                 -> w = [0.829112, 1.170888]
w = np.array([1.0, 1.0])
steps = run_optimizer(RMSProp(lr=0.01, decay=0.99), {"w": w}, lambda step, p: {"w": np.array([1.0, -2.0])}, 2,
                      "RMSProp(lr=0.01, decay=0.99)")
check_close(steps[0]["w"], [0.9000001, 1.09999995], "RMSProp(lr=0.01, decay=0.99): params['w'] after step 1",
            mistakes=[([0.99, 1.01], "h starts at 0, so after one step h = (1 - decay) * g * g: the first step is "
                                     "10 * lr, not lr. Use h = decay * h + (1 - decay) * g * g at every step."),
                      ([0.98994962, 1.01005038], "the weights are swapped: h = decay * h + (1 - decay) * g * g.")],
            hint="h = decay * h + (1 - decay) * g * g (h starts at 0), then p -= lr * g / (np.sqrt(h) + eps).")
check_close(steps[1]["w"], [0.8291120298, 1.1708880454], "RMSProp(lr=0.01, decay=0.99): params['w'] after step 2",
            hint="keep one h per key in self.h and decay it at every step.")
check_close(w, steps[1]["w"], "the array w itself after two steps", hint="update params[key] in place (-=).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(45)
shapes = {"W": (3, 4), "b": (4,), "c": (4,)}
start = {k: rng.normal(size=s) for k, s in shapes.items()}
curvature = {k: rng.uniform(0.5, 2.0, size=s) for k, s in shapes.items()}
noise = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(6)]
gradient = lambda step, p: {k: curvature[k] * p[k] + noise[step][k] for k in p}

### BEGIN REFERENCE
def _reference(lr, rho, eps, n_steps, gradient=gradient, eps_inside=False, adagrad=False):
    p = {k: v.copy() for k, v in start.items()}
    h = {k: np.zeros(s) for k, s in shapes.items()}
    out = []
    for step in range(n_steps):
        g = gradient(step, p)
        for k in p:
            h[k] = h[k] + g[k] ** 2 if adagrad else rho * h[k] + (1 - rho) * g[k] ** 2
            denominator = np.sqrt(h[k] + eps) if eps_inside else np.sqrt(h[k]) + eps
            p[k] = p[k] - lr * g[k] / denominator
        out.append({k: a.copy() for k, a in p.items()})
    return out
### END REFERENCE

for lr, rho, eps in ((0.01, 0.99, 1e-7), (0.05, 0.9, 1e-3)):
    name = f"RMSProp(lr={lr}, decay={rho}, eps={eps})"
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, rho, eps, 6), [
        (_reference(lr, rho, eps, 6, eps_inside=True), "add eps after the square root: np.sqrt(h) + eps."),
        (_reference(lr, rho, eps, 6, adagrad=True), "that is AdaGrad's sum: h = decay * h + (1 - decay) * g * g."),
    ]
    ### END REFERENCE
    for _ in range(2):
        got = run_optimizer(RMSProp(lr=lr, decay=rho, eps=eps), {k: v.copy() for k, v in start.items()}, gradient, 6, name)
        check_steps(got, f"{name} on three parameters",
                    hint="one h per key, zero at the start, h = decay * h + (1 - decay) * g * g before the step.")
tiny = [{k: 1e-5 * rng.normal(size=s) for k, s in shapes.items()} for _ in range(3)]
tiny_gradient = lambda step, p: {k: a.copy() for k, a in tiny[step].items()}
got = run_optimizer(RMSProp(lr=0.01), {k: v.copy() for k, v in start.items()}, tiny_gradient, 3, "RMSProp(lr=0.01)")
### BEGIN REFERENCE
steps_ref = _reference(0.01, 0.99, 1e-7, 3, gradient=tiny_gradient), [
    (_reference(0.01, 0.99, 1e-7, 3, gradient=tiny_gradient, eps_inside=True),
     "add eps after the square root: np.sqrt(h) + eps, not np.sqrt(h + eps)."),
]
### END REFERENCE
check_steps(got, "RMSProp(lr=0.01) with gradients of size 1e-5",
            hint="p -= lr * g / (np.sqrt(h) + eps) with eps = self.eps.")
got = run_optimizer(RMSProp(), {k: v.copy() for k, v in start.items()}, gradient, 3, "RMSProp()")
### BEGIN REFERENCE
steps_ref = _reference(0.01, 0.99, 1e-7, 3), []
### END REFERENCE
check_steps(got, "RMSProp() with the defaults lr=0.01, decay=0.99, eps=1e-7", hint="keep the defaults of the given __init__ signature and read them from self (self.lr, ...), not from constants.")
# two instances stepped in turn, the keys of params and grads in changing orders
pair = ((0.01, 0.99, 1e-7), (0.05, 0.9, 1e-3))
runs = run_side_by_side([RMSProp(lr=lr, decay=rho, eps=eps) for lr, rho, eps in pair], start, gradient, 6,
                        [f"RMSProp(lr={lr}, decay={rho}, eps={eps})" for lr, rho, eps in pair])
for (lr, rho, eps), got in zip(pair, runs):
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, rho, eps, 6), []
    ### END REFERENCE
    check_steps(got, f"RMSProp(lr={lr}, decay={rho}, eps={eps}) stepped in turn "
                     "with a second RMSProp, keys in changing orders", hint=KEY_ORDER_HINT)
### END HIDDEN TESTS

# %% [markdown]
# **Written question (2 points, graded by a person).** Run AdaGrad and RMSProp on a long training run
# in your head (or in a scratch cell): why can AdaGrad's effective learning rate
# $\eta / (\sqrt{h} + \varepsilon)$ for a coordinate only shrink as training goes on, and why is that a
# problem for training a neural network for many epochs? What exactly does RMSProp change, and what
# does its effective learning rate do instead when the gradients of a coordinate become smaller
# (or larger) for a while? Answer in three to six sentences.

# %% [markdown] written="q_adagrad_rmsprop" points=2
# ### BEGIN SOLUTION
# AdaGrad's $h$ is a sum of squares, $h_t = \sum_{s \le t} g_s^2$: every term is non-negative, so $h$
# can only grow (or stay) and $\eta/(\sqrt{h_t}+\varepsilon)$ can only shrink. With gradients of a
# roughly constant size $G$, $h_t \approx t G^2$ and the step falls like $\eta/\sqrt t$; after many
# epochs the steps are so small that learning stalls long before a minimum is reached, and a phase of
# large early gradients (common at the start of training) keeps the rate small forever. RMSProp
# replaces the sum by an exponential moving average $h \leftarrow \rho h + (1-\rho) g^2$, which forgets
# old gradients with a memory of about $1/(1-\rho)$ steps (100 steps for $\rho = 0.99$). Its $h$ tracks
# the *recent* size of the gradient, so the effective rate $\eta/\sqrt h$ grows again when a
# coordinate's gradients become smaller, shrinks when they become larger, and stays near
# $\eta / \mathrm{RMS}(g)$: a step of about $\eta$ per coordinate throughout training.
# ### END SOLUTION

# %% [markdown]
# ### 2.6 AdaDelta
#
# AdaDelta (Zeiler, 2012) goes one step further and removes the learning rate. It keeps two moving
# averages with decay $\rho$ (default $0.95$), both starting at zero: $E[g^2]$ of the squared gradients
# and $E[\Delta^2]$ of the squared **updates**. The step is the gradient rescaled by the ratio of their
# root-mean-squares, so it has the units of $p$:
#
# $$ E[g^2] \leftarrow \rho\, E[g^2] + (1 - \rho)\, g \odot g $$
# $$ \Delta = -\frac{\sqrt{E[\Delta^2] + \varepsilon}}{\sqrt{E[g^2] + \varepsilon}} \odot g $$
# $$ E[\Delta^2] \leftarrow \rho\, E[\Delta^2] + (1 - \rho)\, \Delta \odot \Delta, \qquad p \leftarrow p + \Delta $$
#
# Mind the order: $E[g^2]$ is updated **before** the step (it includes the current gradient),
# $E[\Delta^2]$ **after** it (the numerator uses the updates of previous steps). Here $\varepsilon$
# (default $10^{-6}$) sits **inside** both square roots, and it matters: at the first step
# $E[\Delta^2] = 0$, so the numerator is $\sqrt{\varepsilon} = 10^{-3}$ — that is what gets AdaDelta
# moving at all.
#
# **Exercise 7 (3 points).** Complete `AdaDelta.update`, with the two averages per key in
# `self.avg_sq_grad` and `self.avg_sq_delta`.

# %% answer="adadelta" export=true
class AdaDelta:
    """AdaDelta (no learning rate):
    Eg2 <- rho * Eg2 + (1 - rho) * g**2;  delta = -sqrt(Edx2 + eps) / sqrt(Eg2 + eps) * g;
    Edx2 <- rho * Edx2 + (1 - rho) * delta**2;  p <- p + delta."""

    def __init__(self, rho=0.95, eps=1e-6):
        self.rho = rho
        self.eps = eps
        self.avg_sq_grad = {}   # key -> E[g^2]
        self.avg_sq_delta = {}  # key -> E[delta^2]

    def update(self, params, grads):
        """Update every array in params in place, using grads (same keys)."""
        ### BEGIN SOLUTION
        for key in params:
            if key not in self.avg_sq_grad:
                self.avg_sq_grad[key] = np.zeros_like(params[key])
                self.avg_sq_delta[key] = np.zeros_like(params[key])
            g = grads[key]
            self.avg_sq_grad[key] = self.rho * self.avg_sq_grad[key] + (1 - self.rho) * g * g
            delta = -np.sqrt(self.avg_sq_delta[key] + self.eps) / np.sqrt(self.avg_sq_grad[key] + self.eps) * g
            self.avg_sq_delta[key] = self.rho * self.avg_sq_delta[key] + (1 - self.rho) * delta * delta
            params[key] += delta
        ### END SOLUTION


# %% tests="test_adadelta" points=3
# By hand, rho = 0.95, eps = 1e-6, a constant gradient g = [1, -2] from w = [1, 1]:
#   step 1: E[g^2] = 0.05 * [1, 4] = [0.05, 0.2]
#           delta = -sqrt(0 + 1e-6) / sqrt([0.05, 0.2] + 1e-6) * [1, -2] = [-0.0044721, 0.0044721]
#           E[delta^2] = 0.05 * delta**2 = [1e-6, 1e-6] (almost exactly)      -> w = [0.9955279, 1.0044721]
#   step 2: E[g^2] = [0.0975, 0.39], the numerator is sqrt(2e-6)              -> w = [0.9909989, 1.0090012]
w = np.array([1.0, 1.0])
steps = run_optimizer(AdaDelta(rho=0.95, eps=1e-6), {"w": w}, lambda step, p: {"w": np.array([1.0, -2.0])}, 2,
                      "AdaDelta(rho=0.95, eps=1e-6)")
check_close(steps[0]["w"], [0.9955279088, 1.0044721248], "AdaDelta: params['w'] after step 1", mistakes=[
    ([0.9999955279, 1.0000044721], "eps goes INSIDE the square root of the numerator: np.sqrt(E[delta^2] + eps)."),
    ([0.0, 3.0], "update E[g^2] with the current gradient BEFORE computing the step."),
], hint="E[g^2] = rho * E[g^2] + (1 - rho) * g * g first; delta = -sqrt(E[delta^2] + eps) / sqrt(E[g^2] + eps) * g.")
check_close(steps[1]["w"], [0.9909988465, 1.0090012214], "AdaDelta: params['w'] after step 2",
            hint="update E[delta^2] AFTER the step, with the step you just took, and keep both averages per key.")
check_close(w, steps[1]["w"], "the array w itself after two steps", hint="update params[key] in place (+=).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(46)
shapes = {"W": (3, 4), "b": (4,), "c": (4,)}
start = {k: rng.normal(size=s) for k, s in shapes.items()}
curvature = {k: rng.uniform(0.5, 2.0, size=s) for k, s in shapes.items()}
noise = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(8)]
gradient = lambda step, p: {k: curvature[k] * p[k] + noise[step][k] for k in p}

### BEGIN REFERENCE
def _reference(rho, eps, n_steps, eps_outside=False, delta_first=False):
    p = {k: v.copy() for k, v in start.items()}
    eg = {k: np.zeros(s) for k, s in shapes.items()}
    ed = {k: np.zeros(s) for k, s in shapes.items()}
    out = []
    for step in range(n_steps):
        g = gradient(step, p)
        for k in p:
            eg[k] = rho * eg[k] + (1 - rho) * g[k] ** 2
            if eps_outside:
                rms_delta, rms_grad = np.sqrt(ed[k]) + eps, np.sqrt(eg[k]) + eps
            else:
                rms_delta, rms_grad = np.sqrt(ed[k] + eps), np.sqrt(eg[k] + eps)
            delta = -rms_delta / rms_grad * g[k]
            ed[k] = rho * ed[k] + (1 - rho) * delta ** 2
            p[k] = p[k] + delta
        out.append({k: a.copy() for k, a in p.items()})
    return out
### END REFERENCE

for rho, eps in ((0.95, 1e-6), (0.9, 1e-4)):
    name = f"AdaDelta(rho={rho}, eps={eps})"
    ### BEGIN REFERENCE
    steps_ref = _reference(rho, eps, 8), [
        (_reference(rho, eps, 8, eps_outside=True),
         "eps goes INSIDE both square roots: sqrt(E[delta^2] + eps) / sqrt(E[g^2] + eps)."),
    ]
    ### END REFERENCE
    for _ in range(2):
        got = run_optimizer(AdaDelta(rho=rho, eps=eps), {k: v.copy() for k, v in start.items()}, gradient, 8, name)
        check_steps(got, f"{name} on three parameters",
                    hint="E[g^2] before the step, E[delta^2] after it, both per key and zero at the start.")
got = run_optimizer(AdaDelta(), {k: v.copy() for k, v in start.items()}, gradient, 3, "AdaDelta()")
### BEGIN REFERENCE
steps_ref = _reference(0.95, 1e-6, 3), []
### END REFERENCE
check_steps(got, "AdaDelta() with the defaults rho=0.95, eps=1e-6", hint="keep the defaults of the given __init__ signature and read them from self (self.lr, ...), not from constants.")
# two instances stepped in turn, the keys of params and grads in changing orders
pair = ((0.95, 1e-6), (0.9, 1e-4))
runs = run_side_by_side([AdaDelta(rho=rho, eps=eps) for rho, eps in pair], start, gradient, 8,
                        [f"AdaDelta(rho={rho}, eps={eps})" for rho, eps in pair])
for (rho, eps), got in zip(pair, runs):
    ### BEGIN REFERENCE
    steps_ref = _reference(rho, eps, 8), []
    ### END REFERENCE
    check_steps(got, f"AdaDelta(rho={rho}, eps={eps}) stepped in turn with a second "
                     "AdaDelta, keys in changing orders", hint=KEY_ORDER_HINT)
### END HIDDEN TESTS

# %% [markdown]
# ### 2.7 Adam
#
# Adam (Kingma & Ba, 2015) combines the two ideas: a momentum-like moving average $m$ of the gradients
# (decay $\beta_1 = 0.9$) and an RMSProp-like moving average $v$ of their squares
# (decay $\beta_2 = 0.999$), both starting at zero, and a step counter $t$:
#
# $$ t \leftarrow t + 1, \qquad m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
#    v \leftarrow \beta_2 v + (1 - \beta_2)\, g \odot g $$
# $$ \hat m = \frac{m}{1 - \beta_1^{\,t}}, \qquad \hat v = \frac{v}{1 - \beta_2^{\,t}}, \qquad
#    p \leftarrow p - \eta\, \frac{\hat m}{\sqrt{\hat v} + \varepsilon} . $$
#
# **Why the bias correction.** Because $m$ and $v$ start at zero, they are too small at first: after
# one step $m = (1-\beta_1) g = 0.1\, g$ and $v = 0.001\, g^2$. Since
# $\sum_{s=1}^{t} (1-\beta)\beta^{t-s} = 1 - \beta^t$ (with $\beta$ standing for $\beta_1$ or $\beta_2$),
# dividing by $1 - \beta^t$ turns the averages back
# into unbiased estimates: $\hat m = g$ and $\hat v = g^2$ at $t = 1$, so the first step is exactly
# $\eta$ per coordinate. Without it the first step would be $\eta \cdot 0.1 / \sqrt{0.001} \approx 3.2\,\eta$.
# The correction fades as $\beta^t \to 0$ — after a few thousand steps for $\beta_2 = 0.999$.
#
# $t$ counts **updates** (calls of `update`), starts at $0$ and is incremented *before* it is used, so
# the first update uses $t = 1$. All parameters of one update share the same $t$. Keep $\hat m$ and
# $\hat v$ as temporary values: the stored $m$ and $v$ stay uncorrected.
#
# **Exercise 8 (3 points).** Complete `Adam.update`.

# %% answer="adam" export=true
class Adam:
    """Adam with bias-corrected moments:
    t <- t + 1;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g**2;
    p <- p - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.t = 0   # the number of updates so far
        self.m = {}  # key -> first moment (moving average of g)
        self.v = {}  # key -> second moment (moving average of g**2)

    def update(self, params, grads):
        """Update every array in params in place, using grads (same keys)."""
        ### BEGIN SOLUTION
        self.t += 1
        for key in params:
            if key not in self.m:
                self.m[key] = np.zeros_like(params[key])
                self.v[key] = np.zeros_like(params[key])
            g = grads[key]
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g * g
            m_hat = self.m[key] / (1 - self.beta1 ** self.t)
            v_hat = self.v[key] / (1 - self.beta2 ** self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        ### END SOLUTION


# %% tests="test_adam" points=3
# By hand, lr = 0.1, a constant gradient g = [1, -2] from w = [1, 1]: at every step the bias-corrected
# moments are exactly m_hat = g and v_hat = g**2, so each step is lr * g / |g| = lr * sign(g):
#   step 1: w = [0.9, 1.1]      step 2: w = [0.8, 1.2]      step 3: w = [0.7, 1.3]
w = np.array([1.0, 1.0])
steps = run_optimizer(Adam(lr=0.1), {"w": w}, lambda step, p: {"w": np.array([1.0, -2.0])}, 3, "Adam(lr=0.1)")
check_close(steps[0]["w"], [0.9, 1.1], "Adam(lr=0.1): params['w'] after step 1", mistakes=[
    ([1 - 0.1 * 0.1 / np.sqrt(0.001), 1 + 0.1 * 0.1 / np.sqrt(0.001)],
     "without bias correction the first step is 3.16 * lr: the course's Adam (the paper's) divides m by "
     "(1 - beta1**t) and v by (1 - beta2**t)."),
    ([0.0, 2.0], "m = beta1 * m + (1 - beta1) * g: Adam's moments are averages; without the factor (1 - beta1) "
                 "the first step is 10 * lr."),
], hint="increment t first (the first update uses t = 1), then bias-correct both moments with it.")
check_close(steps[1]["w"], [0.8, 1.2], "Adam(lr=0.1): params['w'] after step 2",
            hint="t counts the calls of update; keep m and v uncorrected in self.m and self.v.")
check_close(steps[2]["w"], [0.7, 1.3], "Adam(lr=0.1): params['w'] after step 3",
            hint="with a constant gradient every bias-corrected step has the size lr.")
check_close(w, [0.7, 1.3], "the array w itself after three steps", hint="update params[key] in place (-=).")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(47)
shapes = {"W": (3, 4), "b": (4,), "c": (4,)}
start = {k: rng.normal(size=s) for k, s in shapes.items()}
curvature = {k: rng.uniform(0.5, 2.0, size=s) for k, s in shapes.items()}
noise = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(8)]
gradient = lambda step, p: {k: curvature[k] * p[k] + noise[step][k] for k in p}

### BEGIN REFERENCE
def _reference(lr, b1, b2, eps, n_steps, correct=True, t_shift=0, per_key_t=False):
    p = {k: v.copy() for k, v in start.items()}
    m = {k: np.zeros(s) for k, s in shapes.items()}
    v = {k: np.zeros(s) for k, s in shapes.items()}
    out, counter = [], 0
    for step in range(n_steps):
        g = gradient(step, p)
        for k in p:
            counter += 1
            t = (counter if per_key_t else step + 1) + t_shift
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            m_hat = m[k] / (1 - b1 ** t) if correct else m[k]
            v_hat = v[k] / (1 - b2 ** t) if correct else v[k]
            p[k] = p[k] - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append({k: a.copy() for k, a in p.items()})
    return out
### END REFERENCE

# atol=1e-6 also accepts the paper's "efficient" form lr_t = lr * sqrt(1 - b2**t) / (1 - b1**t), which
# differs only in where eps enters; every mistake below moves the parameters by far more.
for lr, b1, b2 in ((0.1, 0.9, 0.999), (0.05, 0.8, 0.99)):
    name = f"Adam(lr={lr}, beta1={b1}, beta2={b2})"
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, b1, b2, 1e-8, 8), [
        (_reference(lr, b1, b2, 1e-8, 8, correct=False),
         "bias-correct the moments: m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t)."),
        (_reference(lr, b1, b2, 1e-8, 8, per_key_t=True),
         "t counts updates, not parameters: increment it once per call of update, outside the loop over keys."),
        (_reference(lr, b1, b2, 1e-8, 8, t_shift=1),
         "the first update uses t = 1: start with self.t = 0 and increment it once at the start of update."),
    ]
    ### END REFERENCE
    for _ in range(2):
        got = run_optimizer(Adam(lr=lr, beta1=b1, beta2=b2), {k: v.copy() for k, v in start.items()}, gradient, 8, name)
        check_steps(got, f"{name} on three parameters",
                    hint="t += 1 once per update; m and v per key (stored uncorrected); "
                         "p -= lr * m_hat / (sqrt(v_hat) + eps).", atol=1e-6)
got = run_optimizer(Adam(), {k: v.copy() for k, v in start.items()}, gradient, 3, "Adam()")
### BEGIN REFERENCE
steps_ref = _reference(0.001, 0.9, 0.999, 1e-8, 3), []
### END REFERENCE
check_steps(got, "Adam() with the defaults lr=0.001, beta1=0.9, beta2=0.999", atol=1e-6, hint="keep the defaults of the given __init__ signature and read them from self (self.lr, ...), not from constants.")
# two instances stepped in turn, the keys of params and grads in changing orders
pair = ((0.1, 0.9, 0.999), (0.05, 0.8, 0.99))
runs = run_side_by_side([Adam(lr=lr, beta1=b1, beta2=b2) for lr, b1, b2 in pair], start, gradient, 8,
                        [f"Adam(lr={lr}, beta1={b1}, beta2={b2})" for lr, b1, b2 in pair])
for (lr, b1, b2), got in zip(pair, runs):
    ### BEGIN REFERENCE
    steps_ref = _reference(lr, b1, b2, 1e-8, 8), []
    ### END REFERENCE
    check_steps(got, f"Adam(lr={lr}, beta1={b1}, beta2={b2}) stepped in turn "
                     "with a second Adam, keys in changing orders", hint=KEY_ORDER_HINT, atol=1e-6)

# where eps matters: eps = 0.1 and fixed gradients from 1e-3 to 1 in size, one coordinate always 0. With
# beta2 = 0.5 the bias correction of v has faded after 20 steps, so steps 21 to 25 are compared one by one
# (the efficient form, whose eps differs by the factor 1 / sqrt(1 - beta2**t), agrees there too).
sizes = np.array([0.0, 1e-3, 1e-2, 0.1, 1.0])
fixed = [sizes * rng.choice([-1.0, 1.0], size=5) * rng.uniform(0.5, 1.5, size=5) for _ in range(25)]

### BEGIN REFERENCE
def _steps(lr, b1, b2, eps, eps_inside=False, eps_added=False):
    m, v, out = np.zeros(5), np.zeros(5), []
    for t, g in enumerate(fixed, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        if eps_inside:
            out.append(-lr * m_hat / np.sqrt(v_hat + eps))
        elif eps_added:
            out.append(-lr * (m_hat / np.where(v_hat > 0, np.sqrt(v_hat), 1.0) + eps))
        else:
            out.append(-lr * m_hat / (np.sqrt(v_hat) + eps))
    return out
### END REFERENCE

name = "Adam(lr=0.1, beta1=0.9, beta2=0.5, eps=0.1)"
got = run_optimizer(Adam(lr=0.1, beta1=0.9, beta2=0.5, eps=0.1), {"w": np.ones(5)},
                    lambda step, p: {"w": fixed[step]}, 25, name)
check_close([s["w"][0] for s in got], np.ones(25), f"{name}: the coordinate whose gradient is always 0",
            hint="with g = 0 the moments stay 0 and the step must be 0: lr * m_hat / (np.sqrt(v_hat) + eps).")
### BEGIN REFERENCE
expected = _steps(0.1, 0.9, 0.5, 0.1)
### END REFERENCE
for t in range(21, 26):
    check_close(got[t - 1]["w"] - got[t - 2]["w"], expected[t - 1], f"{name}: the step number {t}",
                hint="use self.eps, added after the square root: lr * m_hat / (np.sqrt(v_hat) + eps).", mistakes=[
                    (_steps(0.1, 0.9, 0.5, 0.1, eps_inside=True)[t - 1],
                     "the course (like the Adam paper) adds eps after the square root: np.sqrt(v_hat) + eps, not "
                     "np.sqrt(v_hat + eps) as some libraries do."),
                    (_steps(0.1, 0.9, 0.5, 0.1, eps_added=True)[t - 1],
                     "eps belongs to the denominator: m_hat / (np.sqrt(v_hat) + eps)."),
                ])
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The optimizer playground
#
# Now let the seven rules race on three classic 2-D functions. Each panel shows the path of one rule
# from the same start (black dot) towards the minimum (gold star); the last panel shows
# $f(x_t) - f_{\min}$ against the step for all of them.
#
# - **elongated quadratic** $f = x^2/20 + y^2$: curvature 20 times larger in $y$ than in $x$. Each SGD
#   step multiplies $y$ by $1 - 2\eta$ and $x$ by $1 - \eta/10$: at the default $\eta = 0.1$ it closes in
#   on the valley floor smoothly (×0.8 per step) but crawls along it (×0.99); above $\eta = 0.5$ the
#   factor for $y$ turns negative and SGD oscillates across the valley, above $\eta = 1$ it diverges.
#   Momentum builds up speed along the valley.
# - **Rosenbrock** $f = (1-x)^2 + 100(y - x^2)^2$: a narrow curved valley; easy to find, slow to follow.
# - **saddle** $f = x^2 + y^4/4 - y^2/2$: the start lies almost exactly on the ridge of a saddle point
#   at the origin; the gradient in $y$ is tiny there. Which rules escape to one of the two minima
#   $(0, \pm 1)$, and how fast? (Think about what dividing by $\sqrt h$ does to a tiny gradient.)
#
# Move the sliders: `lr` is used by every rule except AdaDelta, `momentum/β₁` is the momentum of
# Momentum and Nesterov and Adam's $\beta_1$. Things to try:
# - on the quadratic, raise the learning rate: SGD diverges above $\eta = 2/\lambda_{\max} = 1$ (the
#   curvature in $y$ is $\lambda_{\max} = 2$); with $\mu = 0.9$ Momentum only above
#   $2(1+\mu)/\lambda_{\max} = 1.9$, Nesterov already above about $0.68$; Adam does not blow up at
#   all, since its steps stay of the size of $\eta$;
# - set the momentum to 0: Momentum and Nesterov become SGD;
# - on Rosenbrock, compare Adam with learning rates 0.002 and 0.05;
# - on the saddle, count the steps SGD needs to leave the ridge, and compare with the adaptive rules.
#
# Without a live kernel (a saved notebook, the feedback page) you see the figure of the default settings.

# %% demo=true
from dlfs.playground import OptimizerPlayground

OPTIMIZERS = {"SGD": SGD, "Momentum": Momentum, "Nesterov": Nesterov, "AdaGrad": AdaGrad,
              "RMSProp": RMSProp, "AdaDelta": AdaDelta, "Adam": Adam}
playground = OptimizerPlayground(OPTIMIZERS, function="elongated quadratic")
playground

# %% [markdown]
# ## 4. Training a network with each rule
#
# The training loop below (given) ties everything together: for every epoch, `minibatches` deals out
# the shuffled batches (with a new seed per epoch, so the order changes), the model computes the loss
# and its gradients, and the optimizer updates `model.params` in place. It records the loss of every
# step and the accuracy after every epoch. Chapters 05 and 06 write variants of this loop: 05 adds
# weight decay to the gradients; 06 calls `net.gradient`, reads the loss and the batch accuracy from the
# probabilities the loss layer kept, and keeps snapshots of the first-layer filters.
#
# Each step runs **one** forward pass, in training mode, and backpropagates from it — what
# `model.gradient` does, with the loss kept. Calling `model.loss` and then `model.gradient` would run
# two forward passes: with dropout (chapter 05) the logged loss would belong to another random mask
# than the gradient the optimizer follows, batch normalization (chapter 05) would update its running
# statistics twice per step, and the extra pass costs about a third more work.

# %% export=true
def train(model, optimizer, X, t, epochs, batch_size, seed=0, monitor=None, X_val=None, t_val=None):
    """Mini-batch training of `model` with `optimizer`.

    Args:
        model: a Model (loss, gradient, params, accuracy).
        optimizer: an object with update(params, grads).
        X, t: training inputs and labels (integer or one-hot).
        epochs: passes over the data.  batch_size: examples per step.
        seed: the batches of epoch e are drawn with seed + e.
        monitor: a dlfs.monitor.TrainingMonitor to show the loss live, or None.
        X_val, t_val: validation data for the per-epoch validation accuracy, or None.

    Returns:
        history: {"loss": [loss of every step], "train_acc": [per epoch], "val_acc": [per epoch,
        empty without validation data]}.
    """
    history = {"loss": [], "train_acc": [], "val_acc": []}
    for epoch in range(epochs):
        for X_batch, t_batch in minibatches(X, t, batch_size, seed=seed + epoch):
            loss = model.loss(X_batch, t_batch, train=True)   # the step's only forward pass
            dout = model.loss_layer.backward(1.0)
            for layer in reversed(model.layers):
                dout = layer.backward(dout)
            optimizer.update(model.params, model.grads)
            history["loss"].append(float(loss))
            if monitor is not None:
                monitor.update(loss=loss)
        history["train_acc"].append(model.accuracy(X, t))
        if X_val is not None:
            history["val_acc"].append(model.accuracy(X_val, t_val))
    return history


def epoch_means(losses, steps_per_epoch):
    """The mean loss of each epoch, from the per-step losses of `train`."""
    losses = np.asarray(losses, dtype=np.float64)
    n = len(losses) // steps_per_epoch * steps_per_epoch
    return losses[:n].reshape(-1, steps_per_epoch).mean(axis=1)


# %% [markdown]
# Short runs by default (seconds); set `FULL_RUN = True` for the long runs quoted in the text.

# %%
FULL_RUN = False  # True: the full training (minutes)

# %% [markdown]
# ### 4.1 Two moons: SGD vs Momentum vs Adam
#
# 300 points of two interleaving half-moons, a small network $2 \to 5 \to 2 \to 2$ with ReLU, the
# **same** initial weights and the **same** small learning rate for three rules, mini-batches of 64.
# The decision regions show what each network has learned; the cost curves (mean loss per epoch) show
# how fast.

# %% demo=true
from dlfs.monitor import announce_full_run
from dlfs.playground import decision_boundaries

announce_full_run(FULL_RUN, 2.6, "the full runs of section 4 together (5000 epochs of two moons here, then MNIST "
                                 "below)")
X_moons, t_moons = make_moons(n_samples=300, noise=0.2, seed=3)
moons_epochs = 5000 if FULL_RUN else 300
moons_lr = 0.0007 if FULL_RUN else 0.002
moons_models, moons_costs, moons_accuracy = {}, {}, {}
for name, optimizer in (("SGD", SGD(lr=moons_lr)), ("Momentum", Momentum(lr=moons_lr, momentum=0.9)),
                        ("Adam", Adam(lr=moons_lr))):
    model = make_mlp([2, 5, 2, 2], weight_std=1.0, seed=1)
    history = train(model, optimizer, X_moons, t_moons, epochs=moons_epochs, batch_size=64, seed=0)
    moons_models[name] = model
    moons_costs[name] = epoch_means(history["loss"], steps_per_epoch=int(np.ceil(len(X_moons) / 64)))
    moons_accuracy[name] = history["train_acc"][-1]
print(f"{moons_epochs} epochs, lr = {moons_lr}: "
      + ", ".join(f"{name} accuracy {acc:.3f}" for name, acc in moons_accuracy.items()))
decision_boundaries(moons_models, X_moons, t_moons, curves=moons_costs,
                    title=f"two moons: {moons_epochs} epochs, lr = {moons_lr}, batches of 64")

# %% [markdown]
# With the same learning rate and the same number of epochs, SGD has hardly bent its boundary,
# Momentum — whose steps grow up to $1/(1-\mu) = 10$ times the SGD step along a consistent gradient —
# gets much further, and Adam wraps the boundary around the moons. Adam's step is about $\eta$ per
# coordinate *whatever the size of the gradient*, and the gradients of this small network are small;
# SGD's and Momentum's steps shrink with them. `FULL_RUN = True` trains for 5000 epochs with
# $\eta = 0.0007$ and batches of 64, the setting of the current version of a well-known course
# assignment on a similar data set. (Its first version ran 10 000 epochs and published about 79.7 %
# accuracy for mini-batch GD and for Momentum, and 94 % for Adam.) Given that many epochs, Momentum
# catches up with Adam here, while SGD still lags behind.
#
# ### 4.2 MNIST: loss curves of the seven rules
#
# A network $784 \to 50 \to 50 \to 10$ on a subset of MNIST, the same initial weights for every rule,
# mini-batches of 100, each rule with a usual learning rate (AdaDelta has none). The short run shows the
# first 80 steps (4 epochs of 2000 images), where the rules differ most. The accuracy after the last
# epoch is measured on validation images held out from the training set (chapter 02); nothing here is
# chosen by it, and the test set is not needed.

# %% demo=true
from dlfs.data import load_mnist

announce_full_run(FULL_RUN, 2.6, "the full runs of section 4 together (two moons above, then MNIST here)")
(x_train, t_train), (x_val, t_val), _ = load_mnist(n_train=50000 if FULL_RUN else 2000, n_validation=10_000)
if not FULL_RUN:
    x_val, t_val = x_val[:1000], t_val[:1000]
mnist_epochs = 5 if FULL_RUN else 4
mnist_rules = {"SGD": SGD(lr=0.1), "Momentum": Momentum(lr=0.01), "Nesterov": Nesterov(lr=0.01),
               "AdaGrad": AdaGrad(lr=0.01), "RMSProp": RMSProp(lr=0.001), "AdaDelta": AdaDelta(),
               "Adam": Adam(lr=0.001)}
mnist_losses, mnist_accuracy = {}, {}
for name, optimizer in mnist_rules.items():
    model = make_mlp([784, 50, 50, 10], weight_std=0.07, seed=0)
    history = train(model, optimizer, x_train, t_train, epochs=mnist_epochs, batch_size=100, seed=0,
                    X_val=x_val, t_val=t_val)
    mnist_losses[name] = np.convolve(history["loss"], np.ones(5) / 5, mode="valid")  # smoothed
    mnist_accuracy[name] = history["val_acc"][-1]
print(f"validation accuracy ({len(x_val)} images) after {mnist_epochs} epochs on {len(x_train)} training images:")
for name, accuracy in mnist_accuracy.items():
    print(f"  {name:9s} {accuracy:.3f}")
plot_curves(mnist_losses, title=f"MNIST ({len(x_train)} images): loss, 5-step average", xlabel="step", log=True)

# %% [markdown]
# The adaptive rules (AdaGrad, RMSProp, AdaDelta, Adam) bring the loss down fastest in the first
# steps: every weight moves at about the same speed from the start. Momentum and Nesterov run with
# a tenth of SGD's learning rate (0.01 against 0.1): with $\mu = 0.9$ their step reaches SGD's size,
# $\eta/(1-\mu) = 0.1$, only once the velocity has built up over some ten steps of consistent
# gradients, and the noisy mini-batch gradients of so short a run never let it build up fully — so
# they finish these 80 steps behind SGD. With longer training (`FULL_RUN = True`, 5 epochs on 50 000
# images) the differences shrink to about one point of validation accuracy, with these untuned
# learning rates still leaving Momentum and Nesterov just behind SGD. In the literature, well-tuned SGD
# with momentum often generalizes as well as the adaptive rules, or better (Wilson et al., 2017).
# There is no single best optimizer; Adam is the
# usual first choice because its default learning rate works on most problems.

# %% [markdown]
# ## Summary
#
# - An epoch is one shuffled pass in mini-batches: **one** permutation for `X` and `Y`, and the last,
#   short batch is kept.
# - Optimizers are objects with `update(params, grads)` that change the arrays in place and keep one
#   state array per parameter.
# - **Momentum** and **Nesterov** average the gradients over time (a velocity); Nesterov looks one
#   velocity ahead. **AdaGrad**, **RMSProp** and **AdaDelta** scale each coordinate by the history of
#   its squared gradients — AdaGrad's sum only grows, RMSProp's moving average forgets, AdaDelta also
#   drops the learning rate. **Adam** combines a velocity and RMSProp's scaling, and corrects the bias
#   of their zero start with $1 - \beta_1^t$ and $1 - \beta_2^t$.
#
# Next, in **05 — initialization and regularization**, we look at where the weights start and at how to
# keep a network from memorising its training set.
