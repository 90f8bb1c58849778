"""Variants for 01_linear_regression."""

from variants import VISIBLE

TESTS = {
    "mse_loss": "test_mse_loss",
    "mse_gradients": "test_mse_gradients",
    "gradient_descent": "test_gradient_descent",
    "closed_form": "test_closed_form",
    "mul_layer": "test_mul_layer",
    "add_layer": "test_add_layer",
    "mse_layer": "test_mse_layer",
}

_MSE = '''
def mse_loss(y_pred, y):
    {body}
'''

_GRADS = '''
def mse_gradients(X, y, W, b):
    n = X.shape[0]
    r = X @ W + b - y
    {body}
'''

_GD = '''
def gradient_descent(X, y, lr, n_steps):
    W = np.zeros((X.shape[1], 1))
    b = np.zeros(1)
    losses = []
    for _ in range(n_steps):
        {body}
    return W, b, losses
'''

_CLOSED = '''
def closed_form(X, y):
    {body}
'''

_MUL = '''
class MulLayer:
    def __init__(self, W):
        self.W = W
    def forward(self, X):
        self.X = X
        return {forward}
    def backward(self, dout):
        {backward}
'''

_ADD = '''
class AddLayer:
    def __init__(self, b):
        self.b = b
    def forward(self, z):
        {forward}
    def backward(self, dout):
        {backward}
'''

_MSE_LAYER = '''
class MSELayer:
    def forward(self, y_pred, y):
        self.y_pred, self.y = y_pred, y
        {forward}
    def backward(self, dout=1.0):
        {backward}
'''

# The pipeline test's submission with exactly one wrong answer (only its exercise may lose points).
SINGLE_MISTAKE = ("mse_gradients", '''
def mse_gradients(X, y, W, b):
    r = X @ W + b - y
    return X.T @ r / len(X), r.sum(axis=0) / len(X)   # forgot the factor 2
''')

VARIANTS = [
    # mse_loss
    ("mse_loss", "loop over the batch", _MSE.format(body="""total = 0.0
    for p, t in zip(y_pred.ravel(), y.ravel()):
        total += (p - t) ** 2
    return total / len(y)"""), True),
    ("mse_loss", "einsum", _MSE.format(body="r = y_pred - y\n    return np.einsum('ij,ij->', r, r) / r.shape[0]"), True),
    ("mse_loss", "sum instead of mean", _MSE.format(body="return np.sum((y_pred - y) ** 2)"), VISIBLE),
    ("mse_loss", "half MSE", _MSE.format(body="return 0.5 * np.mean((y_pred - y) ** 2)"), VISIBLE),
    ("mse_loss", "mean absolute error", _MSE.format(body="return np.mean(np.abs(y_pred - y))"), VISIBLE),
    ("mse_loss", "returns the vector of squares", _MSE.format(body="return (y_pred - y) ** 2"), VISIBLE),
    ("mse_loss", "no return", _MSE.format(body="np.mean((y_pred - y) ** 2)"), VISIBLE),
    ("mse_loss", "flattens only one side: broadcasts to (N, N)", _MSE.format(body="return np.mean((y_pred - y.ravel()) ** 2)"), VISIBLE),
    # mse_gradients
    ("mse_gradients", "einsum and keepdims", _GRADS.format(
        body="return 2 / n * np.einsum('nd,nk->dk', X, r), 2 / n * r.sum(axis=0)"), True),
    ("mse_gradients", "mean instead of sum / n", _GRADS.format(
        body="return 2 * X.T @ r / len(X), 2 * np.mean(r, axis=0)"), True),
    ("mse_gradients", "missing factor 2", _GRADS.format(body="return X.T @ r / n, r.sum(axis=0) / n"), VISIBLE),
    ("mse_gradients", "missing 1/N", _GRADS.format(body="return 2 * X.T @ r, 2 * r.sum(axis=0)"), VISIBLE),
    ("mse_gradients", "db not summed", _GRADS.format(body="return 2 / n * X.T @ r, 2 / n * r"), VISIBLE),
    ("mse_gradients", "db as a scalar", _GRADS.format(body="return 2 / n * X.T @ r, 2 / n * r.sum()"), VISIBLE),
    ("mse_gradients", "sign flipped", _GRADS.format(body="return -2 / n * X.T @ r, -2 / n * r.sum(axis=0)"), VISIBLE),
    # gradient_descent
    ("gradient_descent", "in-place updates", _GD.format(body="""losses.append(mse_loss(X @ W + b, y))
        dW, db = mse_gradients(X, y, W, b)
        W -= lr * dW
        b -= lr * db"""), True),
    ("gradient_descent", "ascent", _GD.format(body="""losses.append(mse_loss(X @ W + b, y))
        dW, db = mse_gradients(X, y, W, b)
        W = W + lr * dW
        b = b + lr * db"""), VISIBLE),
    ("gradient_descent", "db computed after W moved", _GD.format(body="""losses.append(mse_loss(X @ W + b, y))
        W = W - lr * mse_gradients(X, y, W, b)[0]
        b = b - lr * mse_gradients(X, y, W, b)[1]"""), False),
    ("gradient_descent", "loss recorded after the update", _GD.format(body="""dW, db = mse_gradients(X, y, W, b)
        W = W - lr * dW
        b = b - lr * db
        losses.append(mse_loss(X @ W + b, y))"""), VISIBLE),
    ("gradient_descent", "bias never updated", _GD.format(body="""losses.append(mse_loss(X @ W + b, y))
        dW, db = mse_gradients(X, y, W, b)
        W = W - lr * dW"""), VISIBLE),
    # closed_form
    ("closed_form", "lstsq", _CLOSED.format(body="""A = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return theta[:-1], theta[-1]"""), True),
    ("closed_form", "explicit inverse, bias first", _CLOSED.format(body="""A = np.column_stack([np.ones(len(X)), X])
    theta = np.linalg.inv(A.T @ A) @ A.T @ y
    return theta[1:], theta[:1].ravel()"""), True),
    ("closed_form", "no bias column", _CLOSED.format(body="""W = np.linalg.solve(X.T @ X, X.T @ y)
    return W, np.zeros(1)"""), VISIBLE),
    ("closed_form", "bias and weight swapped", _CLOSED.format(body="""A = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.solve(A.T @ A, A.T @ y)
    return theta[1:], theta[0]"""), VISIBLE),
    ("closed_form", "returns zeros", _CLOSED.format(body="return np.zeros((X.shape[1], 1)), np.zeros(1)"), VISIBLE),
    ("closed_form", "pseudo-inverse", _CLOSED.format(body="""A = np.hstack([X, np.ones_like(X[:, :1])])
    theta = np.linalg.pinv(A) @ y
    return theta[:-1], theta[-1:].reshape(1)"""), True),
    # MulLayer
    ("mul_layer", "einsum", _MUL.format(forward="np.einsum('nd,dk->nk', X, self.W)",
                                        backward="self.dW = np.einsum('nd,nk->dk', self.X, dout)\n        return np.einsum('nk,dk->nd', dout, self.W)"), True),
    ("mul_layer", "dW computed but not stored on the layer", _MUL.format(forward="X @ self.W",
                                                                        backward="dW = self.X.T @ dout\n        return dout @ self.W.T"), VISIBLE),
    ("mul_layer", "dW averaged again", _MUL.format(forward="X @ self.W",
                                                   backward="self.dW = self.X.T @ dout / len(dout)\n        return dout @ self.W.T"), VISIBLE),
    ("mul_layer", "dX without the transpose", _MUL.format(forward="X @ self.W",
                                                          backward="self.dW = self.X.T @ dout\n        return dout @ self.W"), VISIBLE),
    ("mul_layer", "dX not returned", _MUL.format(forward="X @ self.W",
                                                 backward="self.dW = self.X.T @ dout"), VISIBLE),
    # AddLayer
    ("add_layer", "loop over rows", _ADD.format(forward="return z + self.b",
                                                backward="""self.db = np.zeros_like(self.b)
        for row in dout:
            self.db = self.db + row
        return dout"""), True),
    ("add_layer", "db averaged twice", _ADD.format(forward="return z + self.b",
                                                   backward="self.db = dout.mean(axis=0)\n        return dout"), VISIBLE),
    ("add_layer", "db over the wrong axis", _ADD.format(forward="return z + self.b",
                                                        backward="self.db = dout.sum(axis=1)\n        return dout"), VISIBLE),
    ("add_layer", "forward edits its input", _ADD.format(forward="z += self.b\n        return z",
                                                         backward="self.db = dout.sum(axis=0)\n        return dout"), VISIBLE),
    # MSELayer
    ("mse_layer", "uses y.shape[0]", _MSE_LAYER.format(forward="return np.mean((y_pred - y) ** 2)",
                                                       backward="return dout * 2 * (self.y_pred - self.y) / self.y.shape[0]"), True),
    ("mse_layer", "ignores dout", _MSE_LAYER.format(forward="return np.mean((y_pred - y) ** 2)",
                                                    backward="return 2 * (self.y_pred - self.y) / self.y.size"), VISIBLE),
    ("mse_layer", "missing factor 2", _MSE_LAYER.format(forward="return np.mean((y_pred - y) ** 2)",
                                                        backward="return dout * (self.y_pred - self.y) / self.y.size"), VISIBLE),
    ("mse_layer", "gradient sign flipped", _MSE_LAYER.format(forward="return np.mean((y_pred - y) ** 2)",
                                                             backward="return dout * 2 * (self.y - self.y_pred) / self.y.size"), VISIBLE),

    # Obvious wrong answers the visible tests catch, and other textbooks' conventions.
    ("mse_loss", "returns 0", _MSE.format(body="return 0.0"), VISIBLE),
    ("mse_loss", "1/2 * sum, as in Saito's textbook", _MSE.format(body="return 0.5 * np.sum((y_pred - y) ** 2)"), VISIBLE),
    ("mse_gradients", "returns zeros", _GRADS.format(body="return np.zeros_like(W), np.zeros_like(b)"), VISIBLE),
    ("mse_gradients", "dW transposed", _GRADS.format(body="return 2 / n * r.T @ X, 2 / n * r.sum(axis=0)"), VISIBLE),
    ("mse_gradients", "elementwise product instead of a matrix product", _GRADS.format(
        body="return 2 / n * X * r, 2 / n * r.sum(axis=0)"), VISIBLE),
    ("mse_gradients", "db summed over the wrong axis", _GRADS.format(
        body="return 2 / n * X.T @ r, 2 / n * r.sum(axis=1)"), VISIBLE),
    ("mse_gradients", "gradient of 1/2 * sum (Saito's convention)", _GRADS.format(
        body="return X.T @ r, r.sum(axis=0)"), VISIBLE),
    ("gradient_descent", "never updates", _GD.format(body="""losses.append(mse_loss(X @ W + b, y))
        dW, db = mse_gradients(X, y, W, b)"""), VISIBLE),
    ("gradient_descent", "no loss recorded", _GD.format(body="""dW, db = mse_gradients(X, y, W, b)
        W = W - lr * dW
        b = b - lr * db"""), VISIBLE),
    ("closed_form", "W as a row", _CLOSED.format(body="""A = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.solve(A.T @ A, A.T @ y)
    return theta[:-1].T, theta[-1]"""), VISIBLE),
    ("closed_form", "b as a (1, 1) array", _CLOSED.format(body="""A = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.solve(A.T @ A, A.T @ y)
    return theta[:-1], theta[-1:]"""), VISIBLE),
    ("mul_layer", "forward returns zeros", _MUL.format(forward="np.zeros((X.shape[0], self.W.shape[1]))",
                                                       backward="self.dW = self.X.T @ dout\n        return dout @ self.W.T"), VISIBLE),
    ("mul_layer", "elementwise product", _MUL.format(forward="X * self.W",
                                                     backward="self.dW = self.X.T @ dout\n        return dout @ self.W.T"), VISIBLE),
    ("mul_layer", "backward returns dout unchanged", _MUL.format(forward="X @ self.W",
                                                                 backward="self.dW = self.X.T @ dout\n        return dout"), VISIBLE),
    ("mul_layer", "dW transposed", _MUL.format(forward="X @ self.W",
                                               backward="self.dW = dout.T @ self.X\n        return dout @ self.W.T"), VISIBLE),
    ("add_layer", "forward forgets b", _ADD.format(forward="return z",
                                                   backward="self.db = dout.sum(axis=0)\n        return dout"), VISIBLE),
    ("add_layer", "backward returns zeros", _ADD.format(forward="return z + self.b",
                                                        backward="self.db = dout.sum(axis=0)\n        return np.zeros_like(dout)"), VISIBLE),
    ("add_layer", "db not summed", _ADD.format(forward="return z + self.b",
                                               backward="self.db = dout\n        return dout"), VISIBLE),
    ("mse_layer", "backward returns dout unchanged", _MSE_LAYER.format(forward="return np.mean((y_pred - y) ** 2)",
                                                                       backward="return dout"), VISIBLE),
    ("mse_layer", "1/2 * sum, as in Saito's textbook", _MSE_LAYER.format(
        forward="return 0.5 * np.sum((y_pred - y) ** 2)", backward="return dout * (self.y_pred - self.y)"), VISIBLE),
    ("mse_layer", "forward sums", _MSE_LAYER.format(forward="return np.sum((y_pred - y) ** 2)",
                                                    backward="return dout * 2 * (self.y_pred - self.y) / self.y.size"), VISIBLE),
]
