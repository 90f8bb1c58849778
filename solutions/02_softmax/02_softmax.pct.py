# %% [markdown]
# # 02 — Softmax classification on MNIST
#
# **Learning objectives.** After this notebook you can
# 1. turn a vector of scores into a probability distribution with the softmax, and compute it so that
#    it neither overflows nor returns `nan` for scores in the thousands;
# 2. compute the log-softmax directly, without ever taking `log(0)`;
# 3. say why classifiers minimize the cross-entropy (maximum likelihood), and write it for integer
#    labels and for one-hot labels, averaged over a batch;
# 4. derive the famous gradient of softmax + cross-entropy with respect to the scores, $(\hat Y - T)/N$;
# 5. check a gradient numerically, with central differences and the relative error;
# 6. train a softmax regression (a one-layer network) on MNIST with mini-batch gradient descent,
#    choose its learning rate on a validation set, report the test accuracy, and look at what its ten
#    weight vectors have learned.
#
# **How this notebook is graded.** As in chapter 01: replace each `raise NotImplementedError()` with
# your code, run the cell, then run the test cell below it. Hidden tests (random inputs, extreme
# values, gradient checks, a short training run on real digits) run when your notebook is graded, and
# a failing test tells you what was expected, what you returned, and a hint. One written question is
# graded by a person.
#
# **Notation and shapes.** The model gives each example one *score* (also called a *logit*) per class.
#
# | symbol | meaning |
# |---|---|
# | $N$, $D = 784$, $C = 10$ | examples in a batch, pixels per image, classes |
# | $X$ $(N, D)$; $W$ $(D, C)$, $b$ $(C,)$ | inputs; parameters |
# | $A = XW + b$ $(N, C)$, a row $a$ | scores (logits), `scores` |
# | $\hat Y = \operatorname{softmax}(A)$ $(N, C)$, entries $\hat y_{nk}$ | predicted probabilities: the prediction, written $\hat y$ as in chapter 01 |
# | $t$ $(N,)$ with values $0, \dots, C-1$; $T$ $(N, C)$ | integer labels; the same labels one-hot (chapter 01's target $y$ is now $t$, as in the code) |
# | $n$; $k, j = 0, \dots, C-1$ | example index; class indices, counted from 0 like the labels and NumPy |
# | $L$; $\ell$ | the mean cross-entropy of a batch; the loss of one example |
# | $dA = \partial L/\partial A$ $(N, C)$ | the gradient of the scores, $(\hat Y - T)/N$ |
# | $\eta$ | learning rate (`lr`) |

# %% export=true
import numpy as np

# %%
import math

import matplotlib.pyplot as plt

from dlfs.data import load_mnist
from dlfs.gradcheck import numerical_gradient, rel_error
from dlfs.grading import (call, check_close, check_float, check_gradient, check_length,
                          check_scalar, check_shape, check_that, replaced, unchanged)
from dlfs.monitor import TrainingMonitor
from dlfs.plots import image_grid

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. From scores to probabilities: the softmax
#
# A classifier should say how *likely* each class is. The softmax turns a row of $C$ arbitrary real
# scores $a = (a_0, \dots, a_{C-1})$ into $C$ positive numbers that sum to one:
#
# $$ \hat y_k = \operatorname{softmax}(a)_k = \frac{e^{a_k}}{\sum_{j=0}^{C-1} e^{a_j}}, \qquad k = 0, \dots, C-1. $$
#
# The largest score gets the largest probability, and the order of the scores is kept.
#
# **The overflow problem.** In float64, `np.exp(710)` is already `inf`, and `inf / inf` is `nan`.
# Scores of a few hundred or thousand are not exotic: an untrained network with large weights, or an
# unnormalized image, produces them easily. The cure is a one-line identity: for any constant $c$,
#
# $$ \frac{e^{a_k - c}}{\sum_j e^{a_j - c}} = \frac{e^{-c}\, e^{a_k}}{e^{-c} \sum_j e^{a_j}} = \frac{e^{a_k}}{\sum_j e^{a_j}} , $$
#
# so we may subtract $c = \max_j a_j$ first. Then every exponent is $\le 0$ (no overflow) and the
# largest one is exactly $e^0 = 1$ (the sum is at least 1, never $0/0$).
#
# **Batches.** For a batch $A$ of shape $(N, C)$ every *row* is one example and gets its own softmax:
# the max and the sum are taken along the last axis, separately for each row. Keep the reduced axis
# (`keepdims=True`) so that the $(N, 1)$ maxima and sums broadcast back against the $(N, C)$ scores.
# Your function must also accept a single example, a 1-D array of shape $(C,)$ — `axis=-1` covers
# both cases.
#
# **Exercise 1 (3 points).** Write `softmax(x)` for `x` of shape $(N, C)$ or $(C,)$, returning an
# array of the same shape. Do not modify `x`.

# %% answer="softmax" export=true
def softmax(x):
    """Row-wise softmax, stable for large scores.

    Args:
        x: (N, C) or (C,) scores.

    Returns:
        probabilities: same shape as x; each row (the last axis) is positive and sums to 1.
    """
    ### BEGIN SOLUTION
    z = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)
    ### END SOLUTION


# %% tests="test_softmax" points=3
last_axis = ("work along the last axis with keepdims=True (np.max(x, axis=-1, keepdims=True), the same for the sum), "
             "so that a single row (C,) and a batch (N, C) both work and the maxima and sums broadcast back.")
# By hand: exp(0) = 1 and exp(ln 3) = 3, so softmax([0, ln 3]) = [1/4, 3/4]
check_close(call(softmax, np.array([0.0, np.log(3.0)]), hint=last_axis), [0.25, 0.75], "softmax([0, ln 3])",
            hint="softmax(a)_k = exp(a_k) / sum_j exp(a_j).")
# A batch: one distribution per row. The exponentials of the rows are proportional to [1, 3, 1] and [1, 1, 2]
x = np.array([[0.0, np.log(3.0), 0.0],
              [10.0, 10.0, 10.0 + np.log(2.0)]])
with unchanged("softmax", x=x):
    p = check_shape(call(softmax, x, hint=last_axis), (2, 3), "softmax of a (2, 3) batch",
                    hint="return one probability per score: the same shape as x.")
check_close(p.sum(axis=1), [1.0, 1.0], "the row sums of softmax(x)",
            hint="normalize each row by its own sum: np.sum(..., axis=-1, keepdims=True), not over axis 0 (the "
                 "examples) or the whole array.")
check_close(p, [[0.2, 0.6, 0.2], [0.25, 0.25, 0.5]], "softmax of the rows [0, ln 3, 0] and [10, 10, 10 + ln 2]",
            hint="each row is one example: take its own max and sum along the last axis (axis=-1), never along axis 0.")
# Large scores: the answer does not change when a constant is added, and must not overflow
check_close(call(softmax, np.array([1000.0, 1000.0 + np.log(3.0)]), hint=last_axis), [0.25, 0.75],
            "softmax([1000, 1000 + ln 3])",
            hint="np.exp(1000) overflows to inf and inf / inf is nan: subtract the maximum score first.")
### BEGIN HIDDEN TESTS
### BEGIN REFERENCE
def _ref_softmax(x_):
    z_ = x_ - x_.max(axis=-1, keepdims=True)
    e_ = np.exp(z_)
    return e_ / e_.sum(axis=-1, keepdims=True)
### END REFERENCE

per_row = ("take the max and the sum of each row along the last axis (axis=-1) with keepdims=True, "
           "so they broadcast against their own row.")
rng = np.random.default_rng(2002)
for shape in ((5, 7), (1, 10), (8,), (3, 1)):
    x_ = rng.normal(scale=3.0, size=shape)
    with unchanged("softmax", x=x_):
        got = call(softmax, x_)
    check_close(got, _ref_softmax(x_), f"softmax on random scores of shape {shape}", hint=per_row)
# a square batch whose rows live on different scales: a max or sum over the wrong axis shows up here
x_ = rng.normal(size=(4, 4)) + np.array([[0.0], [7.0], [-5.0], [20.0]])
with unchanged("softmax", x=x_):
    got = call(softmax, x_)
check_close(got, _ref_softmax(x_), "softmax on a (4, 4) batch", hint=per_row)
# huge and tiny scores in one row
for row in ([1000.0, 1001.0, 1002.0], [-1000.0, -999.0, -998.0], [1e4, 1e4], [3.0, -800.0],
            [-1000.0, 0.0, 1000.0]):
    x_ = np.array(row)
    check_close(call(softmax, x_), _ref_softmax(x_), f"softmax({row})",
                hint="subtract the maximum score (not the mean or the minimum) before np.exp: exp overflows "
                     "to inf above ~709 and underflows to 0 below ~-745, and inf/inf or 0/0 is nan.")
# rows on wildly different scales: the maximum must be each row's own
x_ = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -999.0, -998.0], [0.0, 1.0, 2.0]])
check_close(call(softmax, x_), np.tile(_ref_softmax(np.array([0.0, 1.0, 2.0])), (3, 1)),
            "softmax of rows [1000, 1001, 1002], [-1000, -999, -998], [0, 1, 2]",
            hint="subtract each row's OWN maximum (axis=-1, keepdims=True), not the maximum of the whole "
                 "array: exp(-1000 - 1002) underflows to 0 and that row becomes 0/0 = nan.")
### END HIDDEN TESTS

# %% [markdown]
# Adding a constant to every score changes nothing, but scaling them does: multiplying every score
# by 3 makes the distribution much sharper, multiplying by 0.3 makes it flatter. A network expresses
# its confidence through the size of the gaps between its scores.

# %% demo=true
scores = np.array([2.0, 1.0, 0.1, -1.0])
fig, axes = plt.subplots(1, 4, figsize=(11, 2.6), layout="constrained")
axes[0].bar(range(4), scores, color="C7")
axes[0].set(title="scores a", xticks=range(4))
for ax, scale in zip(axes[1:], (0.3, 1.0, 3.0)):
    ax.bar(range(4), softmax(scale * scores))
    ax.set(title=f"softmax({scale:g} a)", ylim=(0, 1), xticks=range(4))
plt.show()

# %% [markdown]
# ## 2. Working in log space: the log-softmax
#
# The loss we are about to use needs $\log \hat y_k$, not $\hat y_k$. Taking `np.log(softmax(a))` is a trap:
# when one score is far below the maximum its probability underflows to exactly 0 (for instance
# $e^{-1000} = 0$ in float64), and $\log 0 = -\infty$. Instead take the logarithm of the formula by
# hand. With $m = \max_j a_j$:
#
# $$ \log \hat y_k = a_k - \log \sum_j e^{a_j}
#              = a_k - m - \log \sum_j e^{a_j - m} . $$
#
# The second form is what to compute: the sum has a term equal to 1, so the logarithm is of a
# number between 1 and $C$, and $a_k - m$ is an ordinary finite number, however negative. The
# quantity $m + \log\sum_j e^{a_j - m}$ is called *log-sum-exp*.
#
# **Exercise 2 (2 points).** Write `log_softmax(x)`, same shapes as `softmax`, computed from this
# formula (not from `softmax`). Do not modify `x`.

# %% answer="log_softmax" export=true
def log_softmax(x):
    """Row-wise log of the softmax, without ever computing log(0).

    Args:
        x: (N, C) or (C,) scores.

    Returns:
        same shape as x: x - max - log(sum(exp(x - max))) along the last axis.
    """
    ### BEGIN SOLUTION
    m = np.max(x, axis=-1, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
    ### END SOLUTION


# %% tests="test_log_softmax" points=2
last_axis = ("work along the last axis with keepdims=True (np.max(x, axis=-1, keepdims=True), the same for the sum), "
             "so that a single row (C,) and a batch (N, C) both work.")
forgot_max = "you forgot to subtract the max itself: x - max - log(sum(exp(x - max)))."
check_close(call(log_softmax, np.array([0.0, np.log(3.0)]), hint=last_axis), np.log([0.25, 0.75]),
            "log_softmax([0, ln 3])", hint="log_softmax(x) = x - max - log(sum(exp(x - max))).",
            mistakes=[(np.log([0.25, 0.75]) + np.log(3.0), forgot_max)])
x = np.array([[0.0, np.log(3.0), 0.0],
              [10.0, 10.0, 10.0 + np.log(2.0)]])
with unchanged("log_softmax", x=x):
    lp = check_shape(call(log_softmax, x, hint=last_axis), (2, 3), "log_softmax of a (2, 3) batch",
                     hint="return one log-probability per score: the same shape as x.")
check_close(np.exp(lp).sum(axis=1), [1.0, 1.0], "the row sums of exp(log_softmax(x))",
            hint="log-sum-exp is taken per row: axis=-1, keepdims=True, not over axis 0 or the whole array.")
check_close(lp, np.log([[0.2, 0.6, 0.2], [0.25, 0.25, 0.5]]), "log_softmax of the rows [0, ln 3, 0] and [10, 10, 10 + ln 2]",
            hint="each row is one example: its own max and log-sum-exp along the last axis (axis=-1).",
            mistakes=[(np.log([[0.2, 0.6, 0.2], [0.25, 0.25, 0.5]]) + x.max(axis=1, keepdims=True), forgot_max)])
# exp(1000) overflows to inf: the max must be subtracted before np.exp
check_close(call(log_softmax, np.array([1000.0, 1000.0 + np.log(3.0)]), hint=last_axis), np.log([0.25, 0.75]),
            "log_softmax([1000, 1000 + ln 3])",
            hint="np.exp(1000) overflows to inf: subtract the maximum before np.exp, x - m - log(sum(exp(x - m))).",
            mistakes=[(np.log([0.25, 0.75]) + 1000 + np.log(3.0), forgot_max)])
# e^-1000 underflows to 0, but its logarithm is a perfectly ordinary number: -1000
check_close(call(log_softmax, np.array([0.0, -1000.0])), [0.0, -1000.0], "log_softmax([0, -1000])",
            hint="np.log(softmax(x)) takes log(0) = -inf here; use x - max - log(sum(exp(x - max))).")
### BEGIN HIDDEN TESTS
### BEGIN REFERENCE
def _ref_log_softmax(x_):
    m_ = x_.max(axis=-1, keepdims=True)
    return x_ - m_ - np.log(np.exp(x_ - m_).sum(axis=-1, keepdims=True))
### END REFERENCE

per_row = "compute the max and the log-sum-exp of each row (axis=-1, keepdims=True)."
rng = np.random.default_rng(2003)
for shape in ((5, 7), (1, 10), (8,), (3, 1)):
    x_ = rng.normal(scale=3.0, size=shape)
    with unchanged("log_softmax", x=x_):
        got = call(log_softmax, x_)
    check_close(got, _ref_log_softmax(x_), f"log_softmax on random scores of shape {shape}", hint=per_row)
x_ = rng.normal(size=(4, 4)) + np.array([[0.0], [7.0], [-5.0], [20.0]])
with unchanged("log_softmax", x=x_):
    got = call(log_softmax, x_)
check_close(got, _ref_log_softmax(x_), "log_softmax on a (4, 4) batch", hint=per_row, mistakes=[
    (x_ - np.log(np.exp(x_ - x_.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)),
     "you subtracted log(sum(exp(x - max))) but forgot to subtract the max itself."),
])
for row in ([1000.0, 1001.0, 1002.0], [-1000.0, -999.0, -998.0], [1e4, 1e4], [3.0, -800.0],
            [-1000.0, 0.0, 1000.0]):
    x_ = np.array(row)
    check_close(call(log_softmax, x_), _ref_log_softmax(x_), f"log_softmax({row})",
                hint="compute x - max - log(sum(exp(x - max))) with the row's maximum (not its mean): never exp "
                     "of a large number, never log(0).")
x_ = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -999.0, -998.0], [0.0, -1000.0, 5.0]])
check_close(call(log_softmax, x_), _ref_log_softmax(x_),
            "log_softmax of rows [1000, 1001, 1002], [-1000, -999, -998], [0, -1000, 5]",
            hint="use each row's OWN maximum (axis=-1, keepdims=True), not the maximum of the whole array.")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The cross-entropy loss
#
# The label of example $n$ comes in one of two forms: an integer class $t_n \in \{0, \dots, C-1\}$
# (a vector $t$ of shape $(N,)$, as `load_mnist` returns by default), or a *one-hot* row
# $T_{n\cdot}$ with a 1 at the true class and 0 elsewhere (row $n$ of a matrix $T$ of shape $(N, C)$). The
# cross-entropy is the average negative log-probability the model gives to the true class:
#
# $$ L = -\frac{1}{N} \sum_{n} \sum_{k=0}^{C-1} T_{nk} \log \hat y_{nk}
#      = -\frac{1}{N} \sum_{n} \log \hat y_{n, t_n} . $$
#
# Both forms give the same number: in the one-hot sum only the true class survives. A perfect,
# confident prediction costs $-\log 1 = 0$; a uniform guess over 10 classes costs
# $\log 10 \approx 2.30$; a confident wrong answer costs a lot.
#
# **Why this loss: maximum likelihood.** The model gives probability $\hat y_{n, t_n}$ to the label that
# was actually observed for example $n$. Taking the examples as independent, the probability it gives
# to all the observed labels together — the *likelihood* of the parameters — is the product
# $\prod_n \hat y_{n, t_n}$, and a good model makes what was observed probable: we maximize the likelihood.
# A product of thousands of numbers below 1 underflows to 0, while its logarithm is a sum with the
# same maximizer; so we *minimize* the mean negative log-likelihood $-\frac1N \sum_n \log \hat y_{n, t_n}$,
# which is the formula above. (Its name: for one example it is the cross-entropy
# $-\sum_k p_k \log q_k$ between the label's distribution $p$, the one-hot row, and the model's
# $q = \hat y$.)
#
# Why not chapter 01's squared error between $\hat y$ and the one-hot row? Its gradient reaches the
# scores through the softmax, whose derivatives $\partial \hat y_k / \partial a_j = \hat y_k([k = j] - \hat y_j)$ are
# all close to 0 as soon as one probability is close to 1 — also when the model is confidently
# *wrong*, exactly when it should learn fastest. The cross-entropy's gradient (Section 4) is, for one
# example, simply $\hat Y_{n\cdot} - T_{n\cdot}$: large when the model is wrong, whatever its confidence.
#
# With integer labels, NumPy picks the entries $\log \hat y_{n, t_n}$ in one step:
# `logp[np.arange(N), t]` has shape $(N,)$. You can tell the two label forms apart by `t.ndim`.
#
# **Exercise 3 (3 points).** Write `cross_entropy(scores, t)` for scores of shape $(N, C)$ and labels
# $t$ of shape $(N,)$ (integers) or $(N, C)$ (one-hot). Compute it **from your `log_softmax`** (call
# it), never as `np.log(softmax(...))`, and return the batch mean as a Python float.

# %% answer="cross_entropy" export=true
def cross_entropy(scores, t):
    """Mean cross-entropy of softmax(scores) against the labels t.

    Args:
        scores: (N, C) scores (logits).
        t: (N,) integer labels in 0..C-1, or (N, C) one-hot labels.

    Returns:
        L: a Python float, the mean over the batch of -log softmax(scores)[n, t_n].
    """
    ### BEGIN SOLUTION
    logp = log_softmax(scores)
    n = scores.shape[0]
    t = np.asarray(t)
    if t.ndim == 1:
        return float(-np.sum(logp[np.arange(n), t]) / n)
    return float(-np.sum(t * logp) / n)
    ### END SOLUTION


# %% tests="test_cross_entropy" points=3
# The stand-in below pretends the scores are already log-probabilities, so this test checks only how
# you pick and average the log-probabilities, whatever the state of Exercise 2:
# -(log 0.5 + log 0.8) / 2 = (0.6931 + 0.2231) / 2 = 0.4581
def stand_in_log_softmax(scores):
    return np.array(scores, dtype=float, copy=True)

logp = np.log(np.array([[0.5, 0.25, 0.25],
                        [0.1, 0.8, 0.1]]))
expected = -(np.log(0.5) + np.log(0.8)) / 2
uses_it = "compute the loss from log_softmax(scores) (call it), as the exercise asks."
ce_mistakes = [
    (2 * expected, "you summed over the batch; the loss is the mean: divide by N."),
    (-expected, "the cross-entropy is MINUS the mean log-probability of the true class."),
    (expected / 3, "divide by N (the number of examples), not by N * C (np.mean over every entry)."),
]
forms = ("integer labels t (N,) pick logp[np.arange(N), t]; one-hot labels t (N, C) give -sum(t * logp) / N; tell "
         "the two forms apart by t.ndim.")
with replaced(globals(), log_softmax=stand_in_log_softmax):
    got = check_scalar(check_float(call(cross_entropy, logp, np.array([0, 1]), hint=forms),
                                   "cross_entropy with integer labels [0, 1]"),
                       "cross_entropy with integer labels [0, 1]")
    check_close(got, expected, "cross_entropy with integer labels [0, 1]", hint=uses_it, mistakes=ce_mistakes)
    got = check_scalar(call(cross_entropy, logp, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), hint=forms),
                       "cross_entropy with one-hot labels")
    check_close(got, expected, "cross_entropy with one-hot labels [[1, 0, 0], [0, 1, 0]]",
                hint="one-hot labels: -sum(t * logp) / N. " + uses_it, mistakes=ce_mistakes)
### BEGIN HIDDEN TESTS
# Your cross_entropy alone is graded here: softmax and log_softmax are swapped for reference versions.
def _ref_softmax(x_):
    z_ = x_ - x_.max(axis=-1, keepdims=True)
    e_ = np.exp(z_)
    return e_ / e_.sum(axis=-1, keepdims=True)

def _ref_log_softmax(x_):
    m_ = x_.max(axis=-1, keepdims=True)
    return x_ - m_ - np.log(np.exp(x_ - m_).sum(axis=-1, keepdims=True))

### BEGIN REFERENCE
def _ref_ce(s_, labels_):
    return -_ref_log_softmax(s_)[np.arange(len(s_)), labels_].mean()
### END REFERENCE

### BEGIN REFERENCE
saito = ("you computed -log(softmax + 1e-7), the epsilon convention of some textbooks (e.g. Saito's Deep Learning from "
         "Scratch): it is off for small probabilities and caps the loss at -log(1e-7) = 16.1. This course computes "
         "the loss exactly from log_softmax(scores), without an epsilon.")
### END REFERENCE
rng = np.random.default_rng(2004)
with replaced(globals(), softmax=_ref_softmax, log_softmax=_ref_log_softmax):
    for n, c in ((6, 5), (1, 3), (4, 4), (50, 10)):
        s_ = rng.normal(scale=2.0, size=(n, c))
        labels_ = rng.integers(0, c, size=n)
        hot_ = np.eye(c, dtype=np.float32)[labels_]
        for form, t_ in (("integer", labels_), ("int32", labels_.astype(np.int32)), ("one-hot", hot_),
                         ("integer one-hot", np.eye(c, dtype=np.int64)[labels_])):
            name = f"cross_entropy on ({n}, {c}) scores with {form} labels"
            with unchanged("cross_entropy", scores=s_, t=t_):
                got = check_scalar(check_float(call(cross_entropy, s_, t_), name), name,
                                   hint="tell the label forms apart by t.ndim (1 for integers, 2 for one-hot), "
                                        "not by the dtype: one-hot rows may hold integers.")
            check_close(got, _ref_ce(s_, labels_), name, mistakes=[
                (n * _ref_ce(s_, labels_), "average over the batch (divide by N), do not sum."),
                (_ref_ce(s_, labels_) / c, "divide by N, not by N * C."),
                (-np.log(_ref_softmax(s_)[np.arange(n), labels_] + 1e-7).mean(), saito),
            ], hint="integer labels pick logp[np.arange(N), t]; one-hot labels give -sum(t * logp) / N.")
    # a confident wrong answer: the true class is 1000 below the best score
    s_ = np.array([[0.0, 1000.0], [-1000.0, 0.0]])
    for form, t_ in (("integer", np.array([0, 0])), ("one-hot", np.array([[1.0, 0.0], [1.0, 0.0]]))):
        got = check_scalar(call(cross_entropy, s_, t_), f"cross_entropy([[0, 1000], [-1000, 0]]) with {form} labels [0, 0]",
                           hint="log(softmax) gives log(0) = -inf here; use log_softmax, which is finite (-1000).")
        check_close(got, 1000.0, f"cross_entropy([[0, 1000], [-1000, 0]]) with {form} labels [0, 0]",
                    hint="the true class is 1000 below the best score: log_softmax gives exactly -1000 there.",
                    mistakes=[(-np.log(1e-7), saito)])
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The gradient with respect to the scores
#
# For one example with scores $a$ and true class $c$, the loss is
# $\ell = -\log \hat y_c = -a_c + \log \sum_j e^{a_j}$. Differentiate with respect to each score $a_k$:
#
# $$ \frac{\partial \ell}{\partial a_k} = -[k = c] + \frac{e^{a_k}}{\sum_j e^{a_j}} = \hat y_k - [k = c] , $$
#
# where $[k = c]$ is 1 for the true class and 0 elsewhere: the one-hot row of the label. The batch loss is the mean of $N$ such terms, so
#
# $$ \frac{\partial L}{\partial A} = \frac{1}{N}\,\bigl(\operatorname{softmax}(A) - T\bigr) \qquad (N, C), $$
#
# with $T$ the $(N, C)$ one-hot labels. Prediction minus target: the same shape of gradient as the
# MSE's residual in chapter 01, which is why this pair (softmax + cross-entropy) is the standard
# output of a classifier. From here the chain rule of chapter 01 gives the parameters' gradients:
# with $A = XW + b$, $\partial L/\partial W = X^\top \frac{\partial L}{\partial A}$ $(D, C)$ and
# $\partial L/\partial b = \sum_n \frac{\partial L}{\partial A_{n\cdot}}$ $(C,)$.
#
# **Exercise 4 (2 points).** Write `cross_entropy_grad(scores, t)` returning
# $\partial L/\partial\,\text{scores}$, shape $(N, C)$, for integer or one-hot labels. **Call your
# `softmax`** for the probabilities. Do not modify `scores` or `t`.

# %% answer="cross_entropy_grad" export=true
def cross_entropy_grad(scores, t):
    """Gradient of cross_entropy(scores, t) with respect to the scores.

    Args:
        scores: (N, C) scores.
        t: (N,) integer labels, or (N, C) one-hot labels.

    Returns:
        dscores: (N, C), (softmax(scores) - onehot(t)) / N.
    """
    ### BEGIN SOLUTION
    n = scores.shape[0]
    probabilities = softmax(scores)
    t = np.asarray(t)
    if t.ndim == 1:
        onehot = np.zeros_like(probabilities)
        onehot[np.arange(n), t] = 1.0
    else:
        onehot = t
    return (probabilities - onehot) / n
    ### END SOLUTION


# %% tests="test_cross_entropy_grad" points=2
# The stand-in softmax returns (a copy of) its input, so the "scores" below are already probabilities:
# (softmax(scores) - T) / N = ([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]] - [[1, 0, 0], [0, 1, 0]]) / 2
def stand_in_softmax(scores):
    return np.array(scores, dtype=float, copy=True)

probs = np.array([[0.5, 0.25, 0.25],
                  [0.1, 0.8, 0.1]])
expected = np.array([[-0.25, 0.125, 0.125],
                     [0.05, -0.1, 0.05]])
uses_it = "call softmax(scores) for the probabilities, as the exercise asks."
grad_mistakes = [
    (2 * expected, "divide by N: the loss is a mean over the batch."),
    (-expected, "the gradient is softmax(scores) - t, not t - softmax(scores)."),
    (expected / 3, "divide by N, not by N * C."),
]
forms = ("integer labels t (N,): subtract 1 at [np.arange(N), t]; one-hot labels t (N, C): subtract t itself; tell "
         "the two forms apart by t.ndim.")
grad_mistakes += [(probs / 2, "subtract the one-hot labels: (softmax(scores) - T) / N.")]
with replaced(globals(), softmax=stand_in_softmax):
    got = call(cross_entropy_grad, probs, np.array([0, 1]), hint=forms)
    check_close(got, expected, "cross_entropy_grad with integer labels [0, 1]", hint=uses_it, mistakes=grad_mistakes)
    got = call(cross_entropy_grad, probs, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), hint=forms)
    check_close(got, expected, "cross_entropy_grad with one-hot labels", hint=uses_it, mistakes=grad_mistakes)
### BEGIN HIDDEN TESTS
# Your cross_entropy_grad alone is graded here: softmax is swapped for a reference version.
def _ref_softmax(x_):
    z_ = x_ - x_.max(axis=-1, keepdims=True)
    e_ = np.exp(z_)
    return e_ / e_.sum(axis=-1, keepdims=True)

### BEGIN REFERENCE
def _ref_ce(s_, labels_):
    z_ = s_ - s_.max(axis=-1, keepdims=True)
    logp_ = z_ - np.log(np.exp(z_).sum(axis=-1, keepdims=True))
    return -logp_[np.arange(len(s_)), labels_].mean()
### END REFERENCE

rng = np.random.default_rng(2005)
with replaced(globals(), softmax=_ref_softmax):
    hint = ("(softmax(scores) - onehot(t)) / N; integer labels: subtract 1 at [np.arange(N), t]. Tell the label "
            "forms apart by t.ndim, not by the dtype: one-hot rows may hold integers.")
    for n, c in ((5, 4), (1, 3), (3, 3), (20, 10)):
        s_ = rng.normal(size=(n, c))
        labels_ = rng.integers(0, c, size=n)
        ### BEGIN REFERENCE
        if n * c <= 20:
            numerical = numerical_gradient(lambda _: _ref_ce(s_, labels_), s_)
        ### END REFERENCE
        for form, t_ in (("integer", labels_), ("one-hot", np.eye(c, dtype=np.float32)[labels_]),
                         ("integer one-hot", np.eye(c, dtype=np.int64)[labels_])):
            name = f"cross_entropy_grad on ({n}, {c}) scores with {form} labels"
            with unchanged("cross_entropy_grad", scores=s_, t=t_):
                got = call(cross_entropy_grad, s_, t_)
            if n * c <= 20:
                check_gradient(got, numerical, name, hint=hint, tol=1e-5)
            else:
                check_close(got, (_ref_softmax(s_) - np.eye(c)[labels_]) / n, name, hint=hint, mistakes=[
                    ((_ref_softmax(s_) - np.eye(c)[labels_]), "divide by N: the loss is a mean over the batch.")])
    got = call(cross_entropy_grad, np.array([[0.0, 1000.0], [-1000.0, 0.0]]), np.array([0, 0]))
    check_close(got, [[-0.5, 0.5], [-0.5, 0.5]], "cross_entropy_grad([[0, 1000], [-1000, 0]], [0, 0])", atol=1e-12,
                hint="compute the probabilities with softmax; the result must stay finite for scores in the thousands.")
### END HIDDEN TESTS

# %% [markdown]
# ### Checking a gradient numerically
#
# Before training anything, convince yourself that the formula is right, without trusting the
# derivation: compare it with a gradient computed from the loss alone. For a scalar function $f$ of an
# array $x$, the derivative along entry $i$ is approximately the **central difference**
#
# $$ \frac{\partial f}{\partial x_i} \approx \frac{f(x + h\,e_i) - f(x - h\,e_i)}{2h}, $$
#
# where $e_i$ is 1 at entry $i$ and 0 elsewhere. Its error shrinks like $h^2$ (the one-sided
# $(f(x + h\,e_i) - f(x))/h$ only like $h$). `numerical_gradient(f, x)` from `dlfs.gradcheck` does
# this for every entry of a float64 array with $h = 10^{-5}$. It nudges the entries of `x` **in place**
# (and restores them) and calls `f(x)` each time, so `f` may ignore its argument and read `x` through
# a closure: that is why the cell below passes `lambda _: cross_entropy(scores_check, labels_check)`.
# A much smaller $h$ drowns the difference $f(x + h e_i) - f(x - h e_i)$ in rounding error, a much
# larger one in the $h^2$ term; in float32 even the best $h$ (about $10^{-2}$) leaves a relative error
# near $10^{-4}$, and $h = 10^{-4}$ makes a correct gradient look like a bug, so checks run in float64.
# It costs two evaluations of $f$ per entry: far too slow to train with, fine to check on a small
# input. Compare the two gradients with
# `rel_error(a, b)` $= \max_i |a_i - b_i| / \max(10^{-8}, |a_i| + |b_i|)$ (the floor makes two zeros
# agree), which does not depend on the gradient's scale: **below $10^{-7}$ they agree**; $10^{-2}$ or more means a bug. Every later chapter checks
# its backward passes this way (chapter 03 extends it to whole layers).

# %% demo=true
rng = np.random.default_rng(0)
scores_check = rng.normal(size=(4, 5))
labels_check = np.array([0, 3, 4, 1])
analytic = cross_entropy_grad(scores_check, labels_check)
numerical = numerical_gradient(lambda _: cross_entropy(scores_check, labels_check), scores_check)
print("relative error, analytic vs numerical gradient:", rel_error(analytic, numerical))

# %% [markdown]
# ## 5. Softmax regression on MNIST
#
# MNIST: 70 000 grey-scale handwritten digits of $28 \times 28$ pixels (60 000 for training, 10 000
# for testing), each flattened into a row of $D = 784$ values in $[0, 1]$. The labels are integers
# 0–9. By default this notebook trains on the first 10 000 training images (a few seconds); set
# `FULL_RUN = True` to use all 50 000 that are not held out for validation.
#
# **Three splits.** We will choose settings (here the learning rate) by how well the model does on
# images it was not trained on. If those were the test images, the test accuracy would be the
# best of several tries on that very set — an optimistic figure, no longer an estimate of how the
# model does on new images. So the last 10 000 training images are held out as a **validation set**:
# we watch and tune on it, and use the test set only at the very end, to report, never to choose.

# %%
FULL_RUN = False  # True: all 50 000 training images and 10 epochs (about 10 s more)

# %% demo=true
(x_train, t_train), (x_val, t_val), (x_test, t_test) = load_mnist(n_train=None if FULL_RUN else 10_000,
                                                                  n_validation=10_000)
print("x_train:", x_train.shape, x_train.dtype, " t_train:", t_train.shape, t_train.dtype,
      " x_val:", x_val.shape, " x_test:", x_test.shape)
image_grid(x_train[:20], titles=[f"label {k}" for k in t_train[:20]], ncols=10, size=1.0)

# %% [markdown]
# ### The model and mini-batch gradient descent
#
# Softmax regression is the linear model of chapter 01 with a softmax on top: scores
# $A = XW + b$ $(N, C)$, probabilities $\operatorname{softmax}(A)$, loss `cross_entropy(A, t)`, and
# from Section 4, with $dA$ = `cross_entropy_grad(A, t)` of shape $(N, C)$,
#
# $$ \frac{\partial L}{\partial W} = X^\top dA \;\; (D, C), \qquad
#    \frac{\partial L}{\partial b} = \sum_n dA_{n\cdot} \;\; (C,). $$
#
# ($dA$ already carries the $\frac1N$: do not average again.) Computing the gradient on all 50 000 training
# images for every step is slow and unnecessary; *mini-batch* gradient descent estimates it from a
# small random batch instead, and makes one update per batch. One pass over the whole training set
# is an *epoch*. Precisely — the hidden test replays exactly this procedure:
#
# - start from $W = 0$ $(D, C)$, $b = 0$ $(C,)$, and one random generator
#   `rng = np.random.default_rng(seed)` (these three lines are given);
# - for each epoch, draw a fresh order of the examples `order = rng.permutation(N)`, then walk through
#   it in batches `order[i : i + batch_size]` for `i = 0, batch_size, 2 * batch_size, ...` (the last
#   batch is shorter when `batch_size` does not divide $N$; keep it);
# - for each batch (rows $\mathcal B$ of the data): the scores $A = X_{\mathcal B} W + b$; the loss `cross_entropy(A, t_B)` and the accuracy
#   (the fraction of the batch whose largest score is at the true label), both *before* the update;
#   then the gradients via `cross_entropy_grad(A, t_B)`; then
#   $W \leftarrow W - \eta\, \partial L/\partial W$ and $b \leftarrow b - \eta\, \partial L/\partial b$;
# - append the loss and the accuracy (Python floats) to `history["loss"]` and
#   `history["accuracy"]`, and, if a `monitor` was given, call `monitor.update(loss=..., accuracy=...)`
#   so you can watch it train.
#
# Shuffling matters: MNIST files are not sorted by label, but many datasets are, and a model that
# sees the same batches in the same order every epoch learns the order as well as the data. Shuffle
# the inputs and the labels with the *same* permutation, or they no longer belong together.
#
# **Exercise 5 (4 points).** Complete `train_softmax_regression`. Use your `cross_entropy` and
# `cross_entropy_grad`, and do not modify `X` or `t`.

# %% answer="train_softmax_regression"
def train_softmax_regression(X, t, lr, epochs, batch_size, seed=0, n_classes=10, monitor=None):
    """Softmax regression trained with mini-batch gradient descent.

    Args:
        X: (N, D) inputs.  t: (N,) integer labels in 0..n_classes-1.
        lr: learning rate.  epochs: passes over the data.  batch_size: examples per update.
        seed: seed of the generator that shuffles the examples.
        n_classes: C.  monitor: None, or an object with update(loss=..., accuracy=...).

    Returns:
        W: (D, C).  b: (C,).
        history: {"loss": [...], "accuracy": [...]}, one float per update (on its batch, before the update).
    """
    rng = np.random.default_rng(seed)
    W = np.zeros((X.shape[1], n_classes))
    b = np.zeros(n_classes)
    history = {"loss": [], "accuracy": []}
    ### BEGIN SOLUTION
    n = X.shape[0]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            x_batch, t_batch = X[batch], t[batch]
            scores = x_batch @ W + b
            loss = cross_entropy(scores, t_batch)
            accuracy = float(np.mean(np.argmax(scores, axis=1) == t_batch))
            dscores = cross_entropy_grad(scores, t_batch)
            W = W - lr * (x_batch.T @ dscores)
            b = b - lr * dscores.sum(axis=0)
            history["loss"].append(loss)
            history["accuracy"].append(accuracy)
            if monitor is not None:
                monitor.update(loss=loss, accuracy=accuracy)
    ### END SOLUTION
    return W, b, history


# %% tests="test_train_softmax_regression" points=4
# This test swaps in stand-ins for your loss and gradient, so it checks only the training loop,
# whatever the state of Exercises 1-4. The stand-in "loss" adds up the scores and the stand-in
# gradient is 1/N in column 0 and 0 elsewhere. With 4 examples, batch_size=4 (one batch, so the
# shuffle cannot matter) and lr=1, by hand:
#   step 0: W = 0, b = 0 -> scores all 0: loss 0, argmax 0 for all, accuracy 1/4 (one label is 0)
#           dW = X.T @ grad = [[0.5, 0], [0.5, 0]], db = [1, 0]  ->  W = [[-0.5, 0], [-0.5, 0]], b = [-1, 0]
#   step 1: scores rows [-1.5, 0], [-1.5, 0], [-2, 0], [-1, 0]: loss -6, argmax 1 for all, accuracy 3/4
#           ->  W = [[-1, 0], [-1, 0]], b = [-2, 0]
def stand_in_cross_entropy(scores, t):
    return float(np.sum(scores))

def stand_in_cross_entropy_grad(scores, t):
    grad = np.zeros(np.shape(scores))
    grad[:, 0] = 1.0 / len(grad)
    return grad

def stand_in_softmax(scores):  # keeps the largest score largest, in case you use it for the accuracy
    return np.array(scores, dtype=float, copy=True)

stand_ins = dict(cross_entropy=stand_in_cross_entropy, cross_entropy_grad=stand_in_cross_entropy_grad,
                 softmax=stand_in_softmax, log_softmax=stand_in_softmax)
uses_them = "call cross_entropy and cross_entropy_grad inside the loop, as the exercise asks."
X_4 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
t_4 = np.array([0, 1, 1, 1])
with replaced(globals(), **stand_ins), unchanged("train_softmax_regression", X=X_4, t=t_4):
    W_2, b_2, history_2 = call(train_softmax_regression, X_4, t_4, lr=1.0, epochs=2, batch_size=4, n_classes=2)
check_shape(W_2, (2, 2), "W", hint="W has shape (D, n_classes).")
check_shape(b_2, (2,), "b", hint="b has shape (n_classes,).")
check_length(history_2["loss"], 2, 'history["loss"] after 2 epochs of one batch',
             hint="append one loss per update (per batch).")
check_close(W_2, [[-1.0, 0.0], [-1.0, 0.0]], "W after 2 steps", hint="dW = X_batch.T @ dscores; " + uses_them,
            mistakes=[([[1.0, 0.0], [1.0, 0.0]], "step against the gradient: W = W - lr * dW."),
                      ([[0.0, 0.0], [0.0, 0.0]], "W never changes: assign the update inside the loop, "
                                                 "W = W - lr * X_batch.T @ dscores."),
                      ([[-0.25, 0.0], [-0.25, 0.0]], "cross_entropy_grad already divides by N: do not average again.")])
check_close(b_2, [-2.0, 0.0], "b after 2 steps", hint="db = dscores.sum(axis=0); " + uses_them,
            mistakes=[([0.0, 0.0], "update b as well as W: b = b - lr * dscores.sum(axis=0)."),
                      ([2.0, 0.0], "step against the gradient: b = b - lr * db."),
                      ([-0.5, 0.0], "db is the SUM of dscores over the batch (it already carries the 1/N).")])
check_close(history_2["loss"], [0.0, -6.0], 'history["loss"]', hint="record the loss before each update; " + uses_them)
check_close(history_2["accuracy"], [0.25, 0.75], 'history["accuracy"]',
            hint="accuracy = mean(argmax(scores, axis=1) == t_batch), computed before the update.")
# batch_size 3 on 4 examples: batches of 3 and 1 in every epoch
with replaced(globals(), **stand_ins):
    _, _, history_3 = call(train_softmax_regression, X_4, t_4, lr=1.0, epochs=3, batch_size=3, n_classes=2)
check_length(history_3["loss"], 6, 'history["loss"] of 3 epochs with batches of 3 out of 4 examples',
             hint="keep the last, shorter batch: range(0, N, batch_size).")
### BEGIN HIDDEN TESTS
# The loop alone is graded here: every function it may call is swapped for a reference version.
def _ref_softmax(x_):
    z_ = x_ - x_.max(axis=-1, keepdims=True)
    e_ = np.exp(z_)
    return e_ / e_.sum(axis=-1, keepdims=True)

def _ref_log_softmax(x_):
    m_ = x_.max(axis=-1, keepdims=True)
    return x_ - m_ - np.log(np.exp(x_ - m_).sum(axis=-1, keepdims=True))

def _ref_onehot(s_, t_):
    t_ = np.asarray(t_)
    if t_.ndim == 2:
        return t_
    hot_ = np.zeros(s_.shape)
    hot_[np.arange(len(s_)), t_] = 1.0
    return hot_

def _ref_ce(s_, t_):
    return float(-np.sum(_ref_onehot(s_, t_) * _ref_log_softmax(s_)) / len(s_))

def _ref_ce_grad(s_, t_):
    return (_ref_softmax(s_) - _ref_onehot(s_, t_)) / len(s_)

references = dict(softmax=_ref_softmax, log_softmax=_ref_log_softmax, cross_entropy=_ref_ce,
                  cross_entropy_grad=_ref_ce_grad)

### BEGIN REFERENCE
def _ref_train(X_, t_, lr_, epochs_, batch_size_, seed_, n_classes_):
    rng_ = np.random.default_rng(seed_)
    W_, b_ = np.zeros((X_.shape[1], n_classes_)), np.zeros(n_classes_)
    losses_, accuracies_ = [], []
    for _ in range(epochs_):
        order_ = rng_.permutation(len(X_))
        for i_ in range(0, len(X_), batch_size_):
            xb_, tb_ = X_[order_[i_:i_ + batch_size_]], t_[order_[i_:i_ + batch_size_]]
            s_ = xb_ @ W_ + b_
            losses_.append(_ref_ce(s_, tb_))
            accuracies_.append(float(np.mean(s_.argmax(axis=1) == tb_)))
            g_ = _ref_ce_grad(s_, tb_)
            W_, b_ = W_ - lr_ * xb_.T @ g_, b_ - lr_ * g_.sum(axis=0)
    return W_, b_, losses_, accuracies_
### END REFERENCE

rng = np.random.default_rng(2006)
X_ = rng.normal(size=(23, 4))
t_ = rng.integers(0, 3, size=23)
### BEGIN REFERENCE
W_ref, b_ref, losses_ref, acc_ref = _ref_train(X_, t_, 0.3, 3, 5, 7, 3)
### END REFERENCE
with replaced(globals(), **references), unchanged("train_softmax_regression", X=X_, t=t_):
    W_got, b_got, history_got = call(train_softmax_regression, X_, t_, lr=0.3, epochs=3, batch_size=5, seed=7,
                                     n_classes=3)
hint = ("shuffle once per epoch with order = rng.permutation(N) (the rng given at the top), index X AND t "
        "with the same order[i:i + batch_size], keep the last short batch, record loss and accuracy before "
        "the update, then W -= lr * X_batch.T @ dA and b -= lr * dA.sum(axis=0).")
check_shape(W_got, (4, 3), "W for D=4, 3 classes", hint="W has shape (D, n_classes).")
check_shape(b_got, (3,), "b for 3 classes", hint="b has shape (n_classes,).")
check_length(history_got["loss"], 15, 'history["loss"] for N=23, batch_size=5, 3 epochs',
             hint="5 batches per epoch (4 of 5 examples and 1 of 3), one loss per batch.")
check_length(history_got["accuracy"], 15, 'history["accuracy"] for N=23, batch_size=5, 3 epochs',
             hint="5 batches per epoch (4 of 5 examples and 1 of 3), one accuracy per batch.")
check_close(history_got["loss"], losses_ref, 'history["loss"] (N=23, batch_size=5, seed=7)', hint=hint)
check_close(history_got["accuracy"], acc_ref, 'history["accuracy"] (N=23, batch_size=5, seed=7)', hint=hint)
check_close(W_got, W_ref, "W after 3 epochs (N=23, batch_size=5, seed=7)", hint=hint)
check_close(b_got, b_ref, "b after 3 epochs (N=23, batch_size=5, seed=7)", hint=hint)
# a sane result on real digits: 2000 MNIST images, 2 epochs, well above 80 % on 1000 test images
(x_small, t_small), _ = load_mnist(n_train=2000, n_test=1)
with replaced(globals(), **references):
    W_got, b_got, history_got = call(train_softmax_regression, x_small, t_small, lr=0.5, epochs=2, batch_size=50)
W_got = check_shape(W_got, (784, 10), "W trained on MNIST", hint="W has shape (D, n_classes) = (784, 10).")
b_got = check_shape(b_got, (10,), "b trained on MNIST", hint="b has shape (n_classes,) = (10,).")
check_that("mnist_accuracy_at_least", (W_got, b_got), "softmax regression trained on 2000 MNIST images "
           "(lr=0.5, 2 epochs, batches of 50)", hint=hint, threshold=0.8, n_test=1000)
### END HIDDEN TESTS

# %% [markdown]
# ### Training on MNIST
#
# Now the real thing: learning rate $0.5$, batches of 100, 5 epochs on 10 000 images (10 on all 50 000
# with `FULL_RUN`). The monitor draws the loss and the batch accuracy while it trains. Expect the loss
# to start at $\log 10 \approx 2.30$ (all-zero weights give a uniform guess) and the accuracy to pass
# 85 % within the first epoch.

# %% demo=true
epochs = 10 if FULL_RUN else 5
batch_size = 100
with TrainingMonitor(total=epochs * math.ceil(len(x_train) / batch_size), every=0.3,
                     title=f"softmax regression on {len(x_train)} MNIST images") as monitor:
    W, b, history = train_softmax_regression(x_train, t_train, lr=0.5, epochs=epochs, batch_size=batch_size,
                                             seed=0, monitor=monitor)
    if monitor.steps == 0:  # your function did not report to the monitor: draw its history afterwards
        for loss, accuracy in zip(history["loss"], history["accuracy"]):
            monitor.update(loss=loss, accuracy=accuracy)



def accuracy(W, b, x, t):
    """Fraction of the rows of x whose highest score x @ W + b is the label t."""
    return float(np.mean(np.argmax(x @ W + b, axis=1) == t))


print(f"first batch loss {history['loss'][0]:.3f} (log 10 = {np.log(10):.3f}), "
      f"last batch loss {history['loss'][-1]:.3f}")
above_85 = [step for step, value in enumerate(history["accuracy"], start=1) if value > 0.85]
print(f"the batch accuracy first passes 85 % at step {above_85[0] if above_85 else 'never'} "
      f"(one epoch is {math.ceil(len(x_train) / batch_size)} steps)")
print(f"validation loss {cross_entropy(x_val @ W + b, t_val):.3f}, "
      f"validation accuracy on {len(x_val)} images: {accuracy(W, b, x_val, t_val):.2%}")

# %% [markdown]
# ### Choosing the learning rate on the validation set
#
# Was $0.5$ a good choice? Train once per candidate, ten times smaller and ten times larger too, and
# compare them on the validation set. The test images stay untouched.

# %% demo=true
trained = {0.5: (W, b)}
for lr in (0.05, 5.0):
    W_lr, b_lr, _ = train_softmax_regression(x_train, t_train, lr=lr, epochs=epochs, batch_size=batch_size, seed=0)
    trained[lr] = (W_lr, b_lr)
val_accuracy = {lr: accuracy(W_lr, b_lr, x_val, t_val) for lr, (W_lr, b_lr) in sorted(trained.items())}
for lr, value in val_accuracy.items():
    print(f"learning rate {lr:<4}: validation accuracy {value:.2%}")
best_lr = max(val_accuracy, key=val_accuracy.get)
W, b = trained[best_lr]
test_scores = x_test @ W + b
test_accuracy = accuracy(W, b, x_test, t_test)
print(f"chosen: learning rate {best_lr}. Its test accuracy, looked at once: {test_accuracy:.2%} "
      f"on {len(x_test)} test images")

# %% [markdown]
# With $0.05$ the model is still behind after 5 epochs, its steps ten times smaller; with $5$ the steps are so large
# that each batch undoes part of what the previous ones learned; $0.5$ wins on validation. Its test
# accuracy, printed last, is close to its validation accuracy, as it should be: neither set was used to
# fit the weights, and the test set was not used to choose either. (The winner's validation figure is
# itself a little optimistic, the best of three tries; that is why the test figure is the one to
# quote.) Not bad for a model that only draws one straight boundary per class. (With `FULL_RUN` the
# same choice wins and the figures rise by one to two points; the multilayer perceptron of chapter 03 does
# better on the same 10 000 images.)
#
# ### What the model has learned
#
# Each class $k$ has a weight vector $W_{\cdot k}$ of 784 numbers, one per pixel: the score of class
# $k$ is a weighted sum of the pixels, $a_k = x \cdot W_{\cdot k} + b_k$. Shown as $28 \times 28$
# images (red: positive weight, ink there raises the score; blue: negative weight, ink there lowers
# it), they are *templates*: blurry pictures of each digit, with blue where other digits put their ink
# (the hole in the middle of the 0, the gap on the left of the 3).

# %% demo=true
image_grid(W.T, titles=[f"class {k}" for k in range(10)], ncols=10, cmap="RdBu_r", symmetric=True, size=1.3,
           suptitle="the ten learned weight vectors W[:, k] as 28 x 28 images")

# %% [markdown]
# And what it predicts for a few test images, with the probability it gives its answer. The mistakes
# are often digits a person would hesitate over too.

# %% demo=true
probabilities = softmax(test_scores[:20])
predicted = np.argmax(probabilities, axis=1)
image_grid(x_test[:20], ncols=10, size=1.1,
           titles=[f"{p} ({probabilities[i, p]:.0%})" + ("" if p == t_test[i] else f" ≠{t_test[i]}")
                   for i, p in enumerate(predicted)],
           suptitle="predicted class (probability); ≠ marks a mistake and the true label")

# %% [markdown]
# ## 6. Why the numerics matter
#
# Run this to see what the naive formulas do with the kind of scores a badly scaled network produces.
# (The cell silences NumPy's warnings — an overflow in `exp`, an invalid `inf / inf` and a division by
# zero in `log(0)` — with `np.errstate(all="ignore")`; change `"ignore"` to `"warn"` to see them.) The naive softmax returns `nan`, which would flow through the gradient
# $(\operatorname{softmax} - T)/N$ into every weight of the next update; the naive log-softmax returns
# `-inf`, which makes the logged loss infinite.

# %% demo=true
big = np.array([[1000.0, 1001.0, 1002.0],
                [-1000.0, -999.0, -998.0]])
with np.errstate(all="ignore"):
    naive_softmax = np.exp(big) / np.exp(big).sum(axis=1, keepdims=True)
    naive_log_softmax = np.log(softmax(np.array([[0.0, -1000.0]])))
print("naive softmax:\n", naive_softmax)
print("your softmax:\n", softmax(big))
print("np.log(softmax([0, -1000])):", naive_log_softmax, "   your log_softmax:", log_softmax(np.array([[0.0, -1000.0]])))

# %% [markdown]
# **Written question (2 points, graded by a person).** (a) Why does subtracting the row maximum leave
# the softmax unchanged, and what exactly goes wrong without it for scores like $[1000, 1001, 1002]$
# and for $[-1000, -999, -998]$? (b) Why is computing the cross-entropy from `log_softmax` better than
# from `np.log(softmax(x))`: give a concrete input for which the second gives an infinite loss, and
# say what happens to the gradient descent update after that. Answer in four to six sentences.

# %% [markdown] written="q_stability" points=2
# ### BEGIN SOLUTION
# (a) Multiplying the numerator and the denominator by the same $e^{-m}$ changes nothing, so
# $\operatorname{softmax}(a - m) = \operatorname{softmax}(a)$ for any constant $m$ per row. Without
# it, $e^{1000}$ overflows to `inf` (float64 overflows above about 709), and `inf / inf` is `nan`;
# for $[-1000, -999, -998]$ every $e^{a_j}$ underflows to 0 and the result is $0/0$ = `nan`. With
# $m = \max_j a_j$ every exponent is $\le 0$ and the largest term is exactly 1, so the sum lies in
# $[1, C]$: no overflow and no division by zero. (b) A probability can be a perfectly valid tiny
# number that float64 rounds to 0: for the scores $[0, 1000]$ with true class 0, softmax gives
# $[0, 1]$ (the true $e^{-1000}$ underflows), $\log 0 = -\infty$ and the loss is infinite, although
# its true value is simply 1000. `log_softmax` computes $a_k - m - \log\sum_j e^{a_j - m}$ directly,
# which is $-1000$ here, finite. An infinite loss does not corrupt this course's training step by
# itself — the gradient $(\text{softmax} - T)/N$ never uses the log and stays finite — but the
# logged loss and its mean over an epoch become `inf`, so the curve no longer shows whether training
# works, and any quantity built from the log-probabilities (a `0 * inf` term of a one-hot sum gives
# `nan`, and so would a gradient computed through them) is lost.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - $\operatorname{softmax}(a)_k = e^{a_k} / \sum_j e^{a_j}$, computed after subtracting each row's
#   maximum; $\log\operatorname{softmax}(a) = a - m - \log\sum_j e^{a_j - m}$, computed directly.
# - The cross-entropy $-\frac1N\sum_n \log \hat y_{n, t_n}$ works for integer and one-hot labels; with the
#   softmax its gradient is simply $(\operatorname{softmax}(A) - T)/N$.
# - Softmax regression $A = XW + b$ trained with mini-batch gradient descent reaches about 91 % on
#   MNIST from 10 000 training images, and its weights are one template per digit.
# - Settings are chosen on a validation set held out from the training images; the test set is
#   used only at the end, to report.
#
# These functions are provided to later chapters as `provided.softmax`. Next, in **03 — multilayer
# perceptron and backpropagation**, hidden layers between the pixels and the softmax, trained on the
# same images with the same settings, do clearly better.
