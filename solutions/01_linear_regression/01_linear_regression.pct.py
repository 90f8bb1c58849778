# %% [markdown]
# # 01 — Linear regression, from the loss to a computational graph
#
# **Learning objectives.** After this notebook you can
# 1. write the mean squared error (MSE) of a linear model and derive its gradient by hand;
# 2. train the model with batch gradient descent and compare it with the closed-form solution;
# 3. rebuild the same model as a *computational graph* of `Mul`, `Add` and `MSE` layers, each with a
#    `forward` and a `backward` pass — the pattern every later chapter uses;
# 4. explain what the learning rate does: too small, good, divergent.
#
# **How this notebook is graded.** Each exercise is a cell with `raise NotImplementedError()`: replace
# that line with your code. The cell after it holds tests: run it to check yourself. The tests you see
# are a part of the grade; hidden tests (edge cases, random inputs, gradient checks) run when your
# notebook is graded. A test that fails tells you what was expected, what you returned, and a hint.
# One question at the end is read and graded by a person.
#
# Shapes matter more than anything else in this course, so every formula comes with them.
#
# **Notation.** The same symbols in every chapter, except where a card says otherwise; each chapter's
# card lists the ones it uses.
#
# | symbol | meaning |
# |---|---|
# | $N$, $D$, $M$ | examples (the *batch*), input features, outputs ($M = 1$ here; the layers of Section 6 allow any $M$) |
# | $X$ $(N, D)$, $x_n$ | inputs, one row per example; $x_n$ is row $n$ |
# | $y$ $(N, M)$ | targets (`y`); from chapter 02 on, class labels are called $t$ |
# | $\hat y = XW + b$ $(N, M)$ | predictions (`y_pred`) |
# | $W$ $(D, M)$, $b$ $(M,)$, $\theta = [W; b]$ | parameters |
# | $L$ | the loss, a mean over the batch |
# | $\eta$ | learning rate (`lr`) |
# | `dout`, $dZ$ | $\partial L/\partial$ a layer's output; $dZ = \partial L/\partial Z$, same shape as $Z$ |
# | $A = [X\;\mathbf 1]$, $H$, $\lambda_{\max}$ | only in this chapter: the inputs with a column of ones, the Hessian, its largest eigenvalue |

# %% export=true
import numpy as np

# %%
import matplotlib.pyplot as plt

from dlfs.synthetic import make_regression
from dlfs.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from dlfs.grading import (call, check_close, check_gradient, check_length, check_scalar, check_shape,
                          replaced, unchanged)
from dlfs.monitor import TrainingMonitor, plot_curves

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. The data: $y = xW + b + \text{noise}$
#
# We generate $N = 100$ points on a line with slope $W = 2$ and intercept $b = 1$, and add Gaussian
# noise. The inputs are stored as a matrix `X` of shape $(N, D)$ with one example per row, and the
# targets as a column `y` of shape $(N, 1)$ — a column, not a flat vector, so that `X @ W` and `y`
# have the same shape and subtracting them cannot broadcast into an $(N, N)$ matrix by accident.

# %%
X, y = make_regression(n_samples=100, weights=[2.0], bias=1.0, noise=0.5, seed=0)
print("X:", X.shape, " y:", y.shape)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(X[:, 0], y[:, 0], s=12, alpha=0.7)
ax.set(xlabel="x", ylabel="y", title="100 noisy points around y = 2x + 1")
plt.show()

# %% [markdown]
# ## 2. The loss: mean squared error
#
# The model predicts $\hat y = XW + b$ with $W$ of shape $(D, 1)$ and $b$ of shape $(1,)$, so
# $\hat y$ has shape $(N, 1)$. Its error on the batch is the mean of the squared residuals:
#
# $$ L = \frac{1}{N} \sum_{n} \left(\hat y_n - y_n\right)^2 . $$
#
# **Exercise 1 (2 points).** Write `mse_loss(y_pred, y)`: both arguments have shape $(N, 1)$;
# return $L$ as a single number (a Python `float` or a 0-d NumPy value).

# %% answer="mse_loss" export=true
def mse_loss(y_pred, y):
    """Mean squared error.

    Args:
        y_pred: (N, 1) predictions.
        y: (N, 1) targets.

    Returns:
        L: a scalar, the mean of (y_pred - y)**2 over the batch.
    """
    ### BEGIN SOLUTION
    return float(np.mean((y_pred - y) ** 2))
    ### END SOLUTION


# %% tests="test_mse_loss" points=2
# A tiny example you can check by hand: residuals 1, -2, 0, 3 -> squares 1, 4, 0, 9 -> mean 3.5
y_hat = np.array([[2.0], [-1.0], [0.5], [4.0]])
y_true = np.array([[1.0], [1.0], [0.5], [1.0]])
got = check_scalar(call(mse_loss, y_hat, y_true), "mse_loss(y_hat, y_true)",
                   hint="return one number: the mean over the batch, e.g. np.mean((y_pred - y) ** 2).")
check_close(got, 3.5, "mse_loss(y_hat, y_true)", mistakes=[
    (14.0, "you summed the squared errors; the MSE averages them (divide by N)."),
    (1.75, "the course's MSE has no factor 1/2: L = mean((y_pred - y)**2)."),
    (7.0, "you computed 1/2 * sum((y_pred - y)**2), the convention of some textbooks (e.g. Saito's Deep Learning "
          "from Scratch); this course's MSE is the mean, without the 1/2: L = mean((y_pred - y)**2)."),
    (1.5, "square the residuals instead of taking their absolute value."),
    (np.mean((y_hat - y_true.ravel()) ** 2), "y_pred - y broadcast to an (N, N) matrix: a (N, 1) column minus a "
     "flat (N,) vector. Keep both as (N, 1) columns."),
], hint="L = mean((y_pred - y)**2) over the N examples.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(101)
for n in (1, 7, 64):
    a, b = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    with unchanged("mse_loss", y_pred=a, y=b):
        got = check_scalar(call(mse_loss, a, b), f"mse_loss on random ({n}, 1) inputs")
    ### BEGIN REFERENCE
    residual = a - b
    ### END REFERENCE
    check_close(got, (residual ** 2).sum() / n, f"mse_loss on random ({n}, 1) inputs", mistakes=[
        ((residual ** 2).sum(), "you summed the squared errors; divide by N to average them."),
        ((residual ** 2).sum() / 2, "1/2 * sum is another textbook's convention; the course's MSE is the mean, "
                                    "without the 1/2."),
    ], hint="L = mean((y_pred - y)**2), averaged over the N examples.")
check_close(check_scalar(call(mse_loss, a, a), "mse_loss(y, y)"), 0.0, "mse_loss(y, y)",
            hint="a perfect prediction has zero error: L = mean((y_pred - y)**2) and nothing else.")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The gradient of the loss
#
# Write the residual $r = \hat y - y$, shape $(N, 1)$. Since $L = \frac1N \sum_n r_n^2$ and
# $\partial r_n / \partial W = x_n^\top$, $\partial r_n / \partial b = 1$:
#
# $$ \frac{\partial L}{\partial W} = \frac{2}{N} X^\top r \quad (D, 1), \qquad
#    \frac{\partial L}{\partial b} = \frac{2}{N} \sum_{n} r_n \quad (1,). $$
#
# Check the shapes: $X^\top$ is $(D, N)$ and $r$ is $(N, 1)$, so $X^\top r$ is $(D, 1)$, the shape
# of $W$ — a gradient always has the shape of the thing it is the gradient *with respect to*.
#
# **Exercise 2 (3 points).** Write `mse_gradients(X, y, W, b)` returning the pair `(dW, db)` with
# shapes $(D, 1)$ and $(1,)$.

# %% answer="mse_gradients"
def mse_gradients(X, y, W, b):
    """Gradient of the MSE of the linear model y_pred = X @ W + b.

    Args:
        X: (N, D) inputs.  y: (N, 1) targets.  W: (D, 1) weights.  b: (1,) bias.

    Returns:
        dW: (D, 1), dL/dW.
        db: (1,), dL/db.
    """
    ### BEGIN SOLUTION
    n = X.shape[0]
    residual = X @ W + b - y
    dW = 2.0 / n * X.T @ residual
    db = 2.0 / n * residual.sum(axis=0)
    return dW, db
    ### END SOLUTION


# %% tests="test_mse_gradients" points=3
# By hand: X = [[1], [2]], y = [[1], [1]], W = [[1]], b = [0] -> residual [[0], [1]]
# dW = 2/2 * (1*0 + 2*1) = 2,  db = 2/2 * (0 + 1) = 1
dW, db = call(mse_gradients, np.array([[1.0], [2.0]]), np.array([[1.0], [1.0]]), np.array([[1.0]]), np.array([0.0]))
dW_hint = "dW = 2/N * X.T @ r with r = X @ W + b - y: a matrix product (@), shape (D, 1) like W."
db_hint = "db = 2/N * r.sum(axis=0): the residuals summed over the batch axis (axis 0), shape (1,) like b."
check_close(dW, [[2.0]], "dW", hint=dW_hint, mistakes=[
    ([[1.0]], "you lost the factor 2 from the derivative of the square."),
    ([[4.0]], "divide by N: the loss is a mean over the batch.")])
check_close(db, [1.0], "db", hint=db_hint)
# Three features and four examples, so that dW has a shape of its own: X = [[1, 0, 2], [0, 1, 1], [1, 1, 0],
# [0, 0, 1]] (N=4, D=3), W = [[1], [0], [0]], b = [1], y = [[0], [1], [2], [1]]
# -> X @ W + b = [[2], [1], [2], [1]], r = [[2], [0], [0], [0]];  dW = 2/4 * X.T @ r = [[1], [0], [2]],  db = [1]
dW, db = call(mse_gradients, np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
              np.array([[0.0], [1.0], [2.0], [1.0]]), np.array([[1.0], [0.0], [0.0]]), np.array([1.0]), hint=dW_hint)
half_sum = ("this is the gradient of 1/2 * sum(r**2), another textbook's loss; the course's loss is the mean without "
            "the 1/2, whose gradient carries 2/N.")
check_close(dW, [[1.0], [0.0], [2.0]], "dW for N=4, D=3", hint=dW_hint, mistakes=[
    ([[0.5], [0.0], [1.0]], "you lost the factor 2 from the derivative of the square."),
    ([[2.0], [0.0], [4.0]], half_sum),
    ([[4.0], [0.0], [8.0]], "divide by N: the loss is a mean over the batch.")])
check_close(db, [1.0], "db for N=4, D=3", hint=db_hint, mistakes=[
    ([0.5], "you lost the factor 2 from the derivative of the square."),
    ([2.0], half_sum),
    ([4.0], "divide by N: the loss is a mean over the batch.")])
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(202)
for n, d in ((5, 1), (9, 3), (40, 4)):
    X_, y_ = rng.normal(size=(n, d)), rng.normal(size=(n, 1))
    W_, b_ = rng.normal(size=(d, 1)), rng.normal(size=(1,))
    with unchanged("mse_gradients", X=X_, y=y_, W=W_, b=b_):
        dW, db = call(mse_gradients, X_, y_, W_, b_)
    ### BEGIN REFERENCE
    loss = lambda: np.mean((X_ @ W_ + b_ - y_) ** 2)
    ### END REFERENCE
    check_gradient(dW, numerical_gradient(lambda _: loss(), W_), f"dW for N={n}, D={d}",
                   hint="dW = 2/N * X.T @ (X @ W + b - y), a matrix product, shape (D, 1).")
    check_gradient(db, numerical_gradient(lambda _: loss(), b_), f"db for N={n}, D={d}",
                   hint="db = 2/N * sum of the residuals over the batch, shape (1,).")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Batch gradient descent
#
# Start from $W = 0$, $b = 0$ and repeat `n_steps` times, with learning rate $\eta$:
#
# $$ W \leftarrow W - \eta \frac{\partial L}{\partial W}, \qquad b \leftarrow b - \eta \frac{\partial L}{\partial b}. $$
#
# Both gradients are computed at the *same* point $(W, b)$, before either is updated.
#
# **Exercise 3 (3 points).** Write `gradient_descent(X, y, lr, n_steps)` returning `(W, b, losses)`:
# the final parameters and a list of `n_steps` losses, where `losses[s]` is the loss at the start of
# step $s$ (so `losses[0]` is the loss of $W = 0, b = 0$). Use your `mse_loss` and `mse_gradients`,
# and do not modify `X` or `y`.

# %% answer="gradient_descent"
def gradient_descent(X, y, lr, n_steps):
    """Fit y ~ X @ W + b by batch gradient descent from W = 0, b = 0.

    Args:
        X: (N, D) inputs.  y: (N, 1) targets.  lr: learning rate.  n_steps: number of updates.

    Returns:
        W: (D, 1).  b: (1,).  losses: list of n_steps floats, the loss before each update.
    """
    ### BEGIN SOLUTION
    W = np.zeros((X.shape[1], 1))
    b = np.zeros(1)
    losses = []
    for _ in range(n_steps):
        losses.append(mse_loss(X @ W + b, y))
        dW, db = mse_gradients(X, y, W, b)
        W = W - lr * dW
        b = b - lr * db
    return W, b, losses
    ### END SOLUTION


# %% tests="test_gradient_descent" points=3
# This test runs your gradient_descent with stand-in loss and gradient functions (a constant gradient
# dW = 1, db = 2, and a "loss" that just adds up its inputs), so it checks only the update rule,
# whatever the state of Exercises 1 and 2. Work it out by hand with lr = 0.5:
#   step 0: W = 0, b = 0       -> loss = sum(X @ W + b) = 0,    then W = -0.5, b = -1
#   step 1: W = -0.5, b = -1   -> loss = (-1.5) + (-2) = -3.5,  then W = -1,   b = -2
def stand_in_loss(y_pred, y):
    return float(np.sum(y_pred) + np.sum(y))

def stand_in_gradients(X, y, W, b):
    return np.ones_like(W), 2 * np.ones_like(b)

uses_them = "call mse_loss and mse_gradients inside gradient_descent, as the exercise asks."
with replaced(globals(), mse_loss=stand_in_loss, mse_gradients=stand_in_gradients):
    W_2, b_2, losses_2 = call(gradient_descent, np.array([[1.0], [2.0]]), np.zeros((2, 1)), 0.5, 2)
check_shape(W_2, (1, 1), "W")
check_shape(b_2, (1,), "b")
check_length(losses_2, 2, "losses after 2 steps", hint="append one loss per step, before the update.")
check_close(losses_2, [0.0, -3.5], "losses after 2 steps", hint="record the loss before each update; " + uses_them,
            mistakes=[
    ([0.0, 0.0], "the loss never changes: W and b are never updated. Assign the step inside the loop: "
                 "W = W - lr * dW, b = b - lr * db."),
    ([-3.5, -7.0], "you recorded the loss after the update; record it at the start of each step, before updating."),
    ([0.0, -1.5], "only W moved: update the bias too, b = b - lr * db."),
    ([0.0, -2.0], "only b moved: update the weights too, W = W - lr * dW."),
])
check_close(W_2, [[-1.0]], "W after 2 steps", hint=uses_them, mistakes=[
    ([[1.0]], "step against the gradient: W = W - lr * dW."),
    ([[0.0]], "W never changes: assign the update inside the loop, W = W - lr * dW.")])
check_close(b_2, [-2.0], "b after 2 steps", hint=uses_them, mistakes=[
    ([2.0], "step against the gradient: b = b - lr * db."),
    ([0.0], "b never changes: update the bias too, b = b - lr * db.")])
### BEGIN HIDDEN TESTS
# The rule alone is graded here: your loss and gradient functions are swapped for reference ones.
def _ref_loss(y_pred, y_):
    return float(np.mean((y_pred - y_) ** 2))

def _ref_gradients(X_, y_, W_, b_):
    r = X_ @ W_ + b_ - y_
    return 2 / len(X_) * X_.T @ r, 2 / len(X_) * r.sum(axis=0)

rng = np.random.default_rng(303)
X_, y_ = rng.normal(size=(12, 3)), rng.normal(size=(12, 1))
### BEGIN REFERENCE
W_ref, b_ref, trajectory = np.zeros((3, 1)), np.zeros(1), []
for _ in range(4):
    trajectory.append(_ref_loss(X_ @ W_ref + b_ref, y_))
    dW_ref, db_ref = _ref_gradients(X_, y_, W_ref, b_ref)
    W_ref, b_ref = W_ref - 0.05 * dW_ref, b_ref - 0.05 * db_ref
### END REFERENCE
with replaced(globals(), mse_loss=_ref_loss, mse_gradients=_ref_gradients), unchanged("gradient_descent", X=X_, y=y_):
    W_got, b_got, losses_got = call(gradient_descent, X_, y_, 0.05, 4)
hint = "compute both gradients at the same (W, b), then update; record the loss before the update."
check_length(losses_got, 4, "losses of 4 steps", hint=hint)
check_close(losses_got, trajectory, "losses of 4 steps with lr=0.05", hint=hint)
check_close(W_got, W_ref, "W after 4 steps with lr=0.05", hint=hint)
check_close(b_got, b_ref, "b after 4 steps with lr=0.05", hint=hint)
with replaced(globals(), mse_loss=_ref_loss, mse_gradients=_ref_gradients):
    W_got, b_got, _ = call(gradient_descent, X_, y_, 0.1, 0)
check_close(W_got, np.zeros((3, 1)), "W after 0 steps", hint="with n_steps = 0 the loop never runs: return W = 0, b = 0.")
check_close(b_got, np.zeros(1), "b after 0 steps", hint="with n_steps = 0 the loop never runs: return W = 0, b = 0.")
### END HIDDEN TESTS

# %% [markdown]
# Now 200 steps with $\eta = 0.1$ on our data; the loss should fall to the noise level (about $0.5^2 = 0.25$).

# %% demo=true
W_gd, b_gd, losses_gd = gradient_descent(X, y, lr=0.1, n_steps=200)
print(f"gradient descent, 200 steps: W = {W_gd.ravel()}, b = {b_gd}, loss {losses_gd[0]:.3f} -> {losses_gd[-1]:.4f}")

# %% [markdown]
# ## 5. The closed-form solution
#
# The MSE is a quadratic bowl, so its minimum can also be found in one step. Append a column of ones
# to $X$ so the bias becomes an ordinary weight: $A = [X \;\; \mathbf 1]$ of shape $(N, D+1)$ and
# $\theta = [W; b]$ of shape $(D+1, 1)$. Setting the gradient $\frac2N A^\top (A\theta - y)$ to zero
# gives the *normal equations*
#
# $$ A^\top A \, \theta = A^\top y . $$
#
# **Exercise 4 (2 points).** Write `closed_form(X, y)` returning `(W, b)` with shapes $(D, 1)$ and
# $(1,)$. Solve the linear system (`np.linalg.solve` or `np.linalg.lstsq`) rather than inverting
# $A^\top A$: it is faster and more accurate.

# %% answer="closed_form"
def closed_form(X, y):
    """Least-squares W and b from the normal equations.

    Args:
        X: (N, D) inputs.  y: (N, 1) targets.

    Returns:
        W: (D, 1).  b: (1,).
    """
    ### BEGIN SOLUTION
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    theta = np.linalg.solve(A.T @ A, A.T @ y)
    return theta[:-1], theta[-1]
    ### END SOLUTION


# %% tests="test_closed_form" points=2
W_cf, b_cf = call(closed_form, X, y)
check_shape(W_cf, (1, 1), "W")
check_shape(b_cf, (1,), "b")
# Three points exactly on y = 2x + 1: the best line is that line.
X_line = np.array([[0.0], [1.0], [2.0]])
W_line, b_line = call(closed_form, X_line, 2 * X_line + 1)
swapped = "W and b swapped: with A = [X 1] (ones last), theta[:-1] is W and theta[-1] is b."
no_ones = "without a column of ones the line must pass through 0: append a column of ones to X to fit b too."
check_close(W_line, [[2.0]], "W for the points (0, 1), (1, 3), (2, 5)", hint="solve the normal equations for [W; b].",
            mistakes=[([[1.0]], swapped), ([[2.6]], no_ones)])
check_close(b_line, [1.0], "b for the points (0, 1), (1, 3), (2, 5)",
            hint="append a column of ones to X so that the bias is fitted too.", mistakes=[([2.0], swapped)])
# Two features, noise-free: y = 2 x1 - x2 + 3 at four points. W has shape (D, 1) = (2, 1), a column.
X_plane = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
W_plane, b_plane = call(closed_form, X_plane, X_plane @ np.array([[2.0], [-1.0]]) + 3.0)
check_close(W_plane, [[2.0], [-1.0]], "W for y = 2 x1 - x2 + 3", hint="W is the column theta[:-1], shape (D, 1).")
check_close(b_plane, [3.0], "b for y = 2 x1 - x2 + 3", hint="b is theta[-1], shape (1,).")
# At the minimum the residual is orthogonal to every column of [X 1]: the normal equations hold.
residual_cf = X @ W_cf + b_cf - y
check_close(np.hstack([X, np.ones((len(X), 1))]).T @ residual_cf, np.zeros((2, 1)),
            "[X 1]^T (X W + b - y) on the noisy data", atol=1e-8 * len(X),
            hint="(W, b) must minimize the MSE: solve (A^T A) theta = A^T y with A = [X 1].")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(404)
X_ = rng.normal(size=(30, 3))
W_true, b_true = np.array([[1.5], [-2.0], [0.5]]), np.array([3.0])
W_got, b_got = call(closed_form, X_, X_ @ W_true + b_true)
check_close(W_got, W_true, "W on noise-free data", hint="append a column of ones so the bias is fitted too; W is "
            "theta[:-1], shape (D, 1).")
check_close(b_got, b_true, "b on noise-free data", hint="the bias is the last entry of theta.")
y_ = rng.normal(size=(30, 1))
with unchanged("closed_form", X=X_, y=y_):
    W_got, b_got = call(closed_form, X_, y_)
### BEGIN REFERENCE
A_ = np.hstack([X_, np.ones((30, 1))])
theta_ref = np.linalg.lstsq(A_, y_, rcond=None)[0]
### END REFERENCE
check_close(W_got, theta_ref[:3], "W on random data", hint="solve (A^T A) theta = A^T y with A = [X 1]; W = theta[:-1].")
check_close(b_got, theta_ref[3], "b on random data", hint="solve (A^T A) theta = A^T y with A = [X 1]; b = theta[-1].")
### END HIDDEN TESTS

# %% demo=true
print(f"closed form:                 W = {np.ravel(W_cf)}, b = {np.ravel(b_cf)}   (true: W = 2, b = 1)")
print(f"gradient descent, 200 steps: W = {W_gd.ravel()}, b = {b_gd}")

# %% [markdown]
# ## 6. The same model as a computational graph
#
# Deep learning frameworks do not derive a formula for each model. They chain small *layers*; each
# layer computes its output in `forward` (and remembers what it needs), and in `backward` turns the
# gradient of the loss with respect to its output, `dout`, into the gradient with respect to its
# input (and to its parameters) — the chain rule, one node at a time:
#
# ```
#   forward:   X ──► Mul(W) ──► z = XW ──► Add(b) ──► ŷ = z + b ──► MSE(·, y) ──► L
#   backward:  dX ◄── Mul ◄──── dz ◄────── Add ◄────── dŷ ◄──────── MSE ◄──────── 1
#                      └─► dW (kept)        └─► db (kept)
# ```
#
# | layer | forward | backward (given `dout` = ∂L/∂output) |
# |---|---|---|
# | `MulLayer(W)`, W $(D, M)$ | $z = XW$, $(N, M)$ | `dW` $= X^\top \,$`dout` $(D, M)$; returns $dX$ = `dout` $W^\top$ $(N, D)$ |
# | `AddLayer(b)`, b $(M,)$ | $\hat y = z + b$ | `db` $= \sum_n \text{dout}_n$ $(M,)$, the rows of `dout` added up; returns $dz$ = `dout` |
# | `MSELayer()` | $L = \text{mean}((\hat y - y)^2)$ | returns $d\hat y = $ `dout` $\cdot \frac{2}{NM}(\hat y - y)$ |
#
# The mean runs over all $N M$ entries of $\hat y$ (`y_pred.size`), so the MSE layer divides by $N M$ —
# by $N$ for this chapter's single output, $M = 1$. That $\frac1{NM}$ lives **only** in the MSE layer. The bias was added to every example, so
# its gradient is the **sum** of `dout` over the batch: averaging it again would divide by $N$ twice.
#
# **Exercises 5–7 (2 points each).** Complete the three layers. Store parameter gradients in
# `self.dW` / `self.db`; do not modify the inputs.

# %% answer="mul_layer" export=true
class MulLayer:
    """z = X @ W. Holds the weights W (D, M) and, after backward, their gradient dW (D, M)."""

    def __init__(self, W):
        self.W = W
        self.dW = None
        self.X = None

    def forward(self, X):
        """X: (N, D) -> z: (N, M)."""
        ### BEGIN SOLUTION
        self.X = X
        return X @ self.W
        ### END SOLUTION

    def backward(self, dout):
        """dout: (N, M) = dL/dz -> dX: (N, D); also sets self.dW."""
        ### BEGIN SOLUTION
        self.dW = self.X.T @ dout
        return dout @ self.W.T
        ### END SOLUTION


# %% tests="test_mul_layer" points=2
# By hand, with N=2 examples, D=2 inputs and M=3 outputs: z = X @ W (2, 3); dX = dout @ W.T (2, 2); dW = X.T @ dout (2, 3)
layer = MulLayer(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
X_small = np.array([[1.0, 1.0], [2.0, 0.0]])
with unchanged("MulLayer.forward", X=X_small):
    z = call(layer.forward, X_small, name="MulLayer.forward", hint="z = X @ W, a matrix product: (N, D) @ (D, M).")
check_close(z, [[5.0, 7.0, 9.0], [2.0, 4.0, 6.0]], "MulLayer.forward([[1, 1], [2, 0]])",
            hint="z = X @ W, a matrix product (not X * W), shape (N, M).")
dout_small = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
dX = call(layer.backward, dout_small, name="MulLayer.backward",
          hint="dX = dout @ W.T: (N, M) @ (M, D), shape (N, D) like X.")
check_close(dX, [[7.0, 16.0], [2.0, 5.0]], "MulLayer.backward: dX", hint="dX = dout @ W.T, shape (N, D) like X.")
check_close(getattr(layer, "dW", None), [[1.0, 2.0, 2.0], [1.0, 0.0, 2.0]], "MulLayer.dW",
            hint="store dW = X.T @ dout on the layer (self.dW = ...), with the X kept in forward; shape (D, M) like W.",
            mistakes=[([[0.5, 1.0, 1.0], [0.5, 0.0, 1.0]],
                       "do not divide dW by N: the 1/N of the mean lives only in the MSE layer.")])
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(505)
X_, W_, dout_ = rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=(6, 3))
layer = MulLayer(W_)
with unchanged("MulLayer", X=X_, W=W_, dout=dout_):
    check_close(call(layer.forward, X_, name="MulLayer.forward"), X_ @ W_, "MulLayer.forward on (6, 4) @ (4, 3)",
                hint="z = X @ W, a matrix product.")
    dX = call(layer.backward, dout_, name="MulLayer.backward")
check_gradient(dX, numerical_gradient_array(lambda x: x @ W_, X_.copy(), dout_), "MulLayer dX",
               hint="dX = dout @ W.T, shape (N, D).")
check_gradient(layer.dW, numerical_gradient_array(lambda w: X_ @ w, W_.copy(), dout_), "MulLayer dW",
               hint="dW = X.T @ dout with the X saved in forward; do not divide by N (the MSE layer did).")
### END HIDDEN TESTS

# %% answer="add_layer" export=true
class AddLayer:
    """y_pred = z + b, with b (M,) broadcast over the batch; after backward, db (M,)."""

    def __init__(self, b):
        self.b = b
        self.db = None

    def forward(self, z):
        """z: (N, M) -> z + b: (N, M)."""
        ### BEGIN SOLUTION
        return z + self.b
        ### END SOLUTION

    def backward(self, dout):
        """dout: (N, M) -> dz: (N, M); also sets self.db (M,)."""
        ### BEGIN SOLUTION
        self.db = dout.sum(axis=0)
        return dout
        ### END SOLUTION


# %% tests="test_add_layer" points=2
# N=3 examples, M=2 outputs: b (2,) is added to every row; db = dout summed over the rows (axis 0), shape (2,)
layer = AddLayer(np.array([10.0, 20.0]))
z_small = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
with unchanged("AddLayer.forward", z=z_small):
    out = call(layer.forward, z_small, name="AddLayer.forward")
check_close(out, [[11.0, 22.0], [13.0, 24.0], [15.0, 26.0]], "AddLayer.forward",
            hint="return z + self.b as a new array (b broadcasts over the rows).")
dz = call(layer.backward, np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), name="AddLayer.backward")
check_close(dz, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "AddLayer.backward: dz",
            hint="adding b does not change dL/dz: dz = dout.")
check_close(layer.db, [9.0, 12.0], "AddLayer.db", mistakes=[
    ([3.0, 4.0], "b was added to every example, so db is the SUM of dout over the batch, not the mean "
                 "(the MSE layer already divided by N)."),
], hint="store db = dout.sum(axis=0) on the layer: a sum over the batch axis (axis 0, the rows), shape (M,) like b.")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(606)
z_, b_, dout_ = rng.normal(size=(7, 3)), rng.normal(size=(3,)), rng.normal(size=(7, 3))
layer = AddLayer(b_)
with unchanged("AddLayer", z=z_, b=b_, dout=dout_):
    out = call(layer.forward, z_, name="AddLayer.forward")
    dz = call(layer.backward, dout_, name="AddLayer.backward")
check_close(out, z_ + b_, "AddLayer.forward on (7, 3)", hint="return z + self.b.")
check_gradient(dz, numerical_gradient_array(lambda v: v + b_, z_.copy(), dout_), "AddLayer dz",
               hint="dz = dout: adding b does not change the gradient.")
check_gradient(layer.db, numerical_gradient_array(lambda v: z_ + v, b_.copy(), dout_), "AddLayer db",
               hint="db = dout.sum(axis=0), shape (M,).")
### END HIDDEN TESTS

# %% answer="mse_layer" export=true
class MSELayer:
    """L = mean((y_pred - y)**2): the last node of the graph."""

    def __init__(self):
        self.y_pred = None
        self.y = None

    def forward(self, y_pred, y):
        """y_pred, y: (N, M) -> L, a scalar. Keep what backward needs."""
        ### BEGIN SOLUTION
        self.y_pred, self.y = y_pred, y
        return float(np.mean((y_pred - y) ** 2))
        ### END SOLUTION

    def backward(self, dout=1.0):
        """dout: scalar dL_total/dL (1 when L is the final loss) -> dy_pred: (N, M)."""
        ### BEGIN SOLUTION
        return dout * 2.0 * (self.y_pred - self.y) / self.y_pred.size
        ### END SOLUTION


# %% tests="test_mse_layer" points=2
layer = MSELayer()
y_hat = np.array([[2.0], [-1.0], [0.5], [4.0]])
y_true = np.array([[1.0], [1.0], [0.5], [1.0]])
check_close(check_scalar(call(layer.forward, y_hat, y_true, name="MSELayer.forward"), "MSELayer.forward",
                         hint="return one number, the mean: float(np.mean((y_pred - y) ** 2))."), 3.5,
            "MSELayer.forward", hint="the same value as mse_loss.", mistakes=[
                (14.0, "you summed the squared errors; the MSE averages them (divide by N)."),
                (7.0, "1/2 * sum((y_pred - y)**2) is another textbook's convention (e.g. Saito's); this course's MSE "
                      "is the mean, without the 1/2."),
            ])
backward_hint = "dy_pred = dout * 2 * (y_pred - y) / N, an array of the shape of y_pred, (N, M)."
check_close(call(layer.backward, name="MSELayer.backward"), [[0.5], [-1.0], [0.0], [1.5]],
            "MSELayer.backward()", hint=backward_hint, mistakes=[
                ([[0.25], [-0.5], [0.0], [0.75]], "the derivative of r**2 is 2r: keep the factor 2."),
                ([[2.0], [-4.0], [0.0], [6.0]], "divide by N: the loss is a mean."),
                ([[1.0], [-2.0], [0.0], [3.0]], "the gradient of 1/2 * sum(r**2) is r; the course's loss is the mean "
                                                "without the 1/2, whose gradient is 2r / N."),
            ])
# dout is the gradient arriving from above: the chain rule multiplies by it.
check_close(call(layer.backward, 2.0, name="MSELayer.backward"), [[1.0], [-2.0], [0.0], [3.0]],
            "MSELayer.backward(dout=2.0)", hint=backward_hint, mistakes=[
                ([[0.5], [-1.0], [0.0], [1.5]], "multiply by dout (the chain rule): you returned the same for "
                                                "dout=2 as for dout=1."),
            ])
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(707)
yp_, yt_ = rng.normal(size=(9, 1)), rng.normal(size=(9, 1))
layer = MSELayer()
with unchanged("MSELayer", y_pred=yp_, y=yt_):
    loss = check_scalar(call(layer.forward, yp_, yt_, name="MSELayer.forward"), "MSELayer.forward")
    check_close(loss, np.mean((yp_ - yt_) ** 2), "MSELayer.forward on (9, 1)", hint="L = mean((y_pred - y)**2).")
    check_gradient(call(layer.backward, name="MSELayer.backward"),
                   numerical_gradient(lambda _: np.mean((yp_ - yt_) ** 2), yp_), "MSELayer.backward()",
                   hint="dy_pred = dout * 2 * (y_pred - y) / y_pred.size.")
    check_close(call(layer.backward, 3.0, name="MSELayer.backward"), 3.0 * 2 * (yp_ - yt_) / 9,
                "MSELayer.backward(dout=3.0)", hint="multiply by dout (the chain rule).")
### END HIDDEN TESTS

# %% [markdown]
# ### Training the graph, and watching it learn
#
# The layers compose into the model below (given). One training step is a forward pass through the
# three nodes, a backward pass in reverse order, and an update of the parameters **in place**
# (`W -= ...`), so the layers keep seeing the same arrays. The gradients must match Exercise 2's
# formulas exactly — that is the point of the chain rule.
#
# The `TrainingMonitor` draws the loss live while the loop runs, and leaves a static figure behind.

# %% demo=true
class LinearRegressionGraph:
    """y_pred = X @ W + b with an MSE loss, as three layers."""

    def __init__(self, n_features):
        self.mul = MulLayer(np.zeros((n_features, 1)))
        self.add = AddLayer(np.zeros(1))
        self.mse = MSELayer()

    def loss(self, X, y):
        return self.mse.forward(self.add.forward(self.mul.forward(X)), y)

    def backward(self):
        self.mul.backward(self.add.backward(self.mse.backward(1.0)))
        return self.mul.dW, self.add.db

    def step(self, X, y, lr):
        loss = self.loss(X, y)
        dW, db = self.backward()
        self.mul.W -= lr * dW
        self.add.b -= lr * db
        return loss


graph = LinearRegressionGraph(n_features=1)
graph.loss(X, y)
dW_graph, db_graph = graph.backward()
dW_formula, db_formula = mse_gradients(X, y, np.zeros((1, 1)), np.zeros(1))
print("relative error graph vs formula:", rel_error(dW_graph, dW_formula), rel_error(db_graph, db_formula))

n_steps = 150
with TrainingMonitor(total=n_steps, title="linear regression as a graph (lr = 0.05)", every=0.2) as monitor:
    for step in range(n_steps):
        monitor.update(loss=graph.step(X, y, lr=0.05))
print(f"W = {graph.mul.W.ravel()}, b = {graph.add.b}")

# %% [markdown]
# ### The fitted line

# %% demo=true
grid = np.linspace(X.min(), X.max(), 50).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(X[:, 0], y[:, 0], s=12, alpha=0.6, label="data")
ax.plot(grid[:, 0], (grid @ W_cf + b_cf)[:, 0], "k-", lw=3, alpha=0.4, label="closed form")
ax.plot(grid[:, 0], (grid @ graph.mul.W + graph.add.b)[:, 0], "C3--", label="graph, 150 GD steps")
ax.set(xlabel="x", ylabel="y")
ax.legend()
plt.show()

# %% [markdown]
# ## 7. The learning rate: too small, good, divergent
#
# For this loss a gradient-descent step multiplies the error $\theta - \theta^*$ of $\theta = [W; b]$
# ($\theta^*$ the minimum, the closed-form solution)
# by $I - \eta H$, with the matrix $H = \frac2N A^\top A$ (the Hessian of $L$). Along the eigenvector of $H$ with the largest
# eigenvalue $\lambda_{\max}$ the error is multiplied by $(1 - \eta\lambda_{\max})$ at every step, so
# gradient descent converges only when $\eta < 2/\lambda_{\max}$. Let's measure it.

# %% demo=true
A = np.hstack([X, np.ones((len(X), 1))])
lambda_max = np.linalg.eigvalsh(2 / len(X) * A.T @ A).max()
print(f"lambda_max = {lambda_max:.3f}  ->  GD diverges for lr > 2 / lambda_max = {2 / lambda_max:.4f}")

rates = {"too small (0.002)": 0.002, "good (0.1)": 0.1, f"divergent ({1.05 * 2 / lambda_max:.3f})": 1.05 * 2 / lambda_max}
curves = {label: gradient_descent(X, y, lr, 60)[2] for label, lr in rates.items()}
plot_curves(curves, title="loss per step for three learning rates", log=True)

# %% [markdown]
# **Written question (2 points, graded by a person).** Looking at the three curves: why does the
# loss with the largest learning rate grow instead of shrink, and why does the smallest one take so
# long? If you could change the data, what property of $X$ would let you use a larger learning rate?
# Answer in three to five sentences.

# %% [markdown] written="q_learning_rate" points=2
# ### BEGIN SOLUTION
# Each step multiplies the error along an eigenvector of the Hessian $H = \frac2N A^\top A$ by
# $(1 - \eta\lambda)$. With $\eta > 2/\lambda_{\max}$ that factor is below $-1$ in the steepest
# direction, so the parameters overshoot the minimum by more each step and the loss grows
# geometrically. With a tiny $\eta$ the factor is close to $1$ in every direction (especially along
# the flattest one, $\lambda_{\min}$), so each step removes only a small fraction of the error.
# The usable rate is set by $\lambda_{\max}$ and the speed by $\lambda_{\min}/\lambda_{\max}$:
# standardizing the features (zero mean, unit variance) makes the eigenvalues similar, which allows a
# larger rate and faster convergence.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - The MSE $\frac1N\sum(\hat y - y)^2$ has gradients $\frac2N X^\top r$ and $\frac2N \sum r$.
# - Gradient descent and the normal equations reach the same minimum; GD is the method that scales.
# - A layer's `backward` turns `dout` into gradients for its input and its parameters; the batch
#   average is taken once, in the loss, so the bias gradient is a sum.
# - The learning rate must stay below $2/\lambda_{\max}$ of the loss's curvature.
#
# Next, in **02 — softmax classification**, the output becomes a probability distribution over ten
# digit classes, and the loss becomes the cross-entropy.
