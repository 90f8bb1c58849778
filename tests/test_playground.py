"""dlfs.playground: the test functions, trajectories, and the widget callbacks (no browser needed:
setting a widget's .value runs the same callback as dragging the slider)."""

import base64

import numpy as np
import pytest

from dlfs import playground
from dlfs.gradcheck import numerical_gradient
from dlfs.playground import TEST_FUNCTIONS, OptimizerPlayground, decision_boundaries, make_optimizer, trajectory


class PlainSGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class HeavyBall:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            self.v[key] = self.momentum * self.v.get(key, 0.0) - self.lr * grads[key]
            params[key] += self.v[key]


class NoLearningRate:
    def __init__(self, rho=0.95):
        self.rho = rho

    def update(self, params, grads):
        for key in params:
            params[key] -= 0.01 * np.sign(grads[key])


class Unanswered:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        raise NotImplementedError()


class Broken:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        params["xy"] = params["xy"] + grads["nope"]


def _sgd_path(function, lr, n_steps):
    point = np.array(function.start, dtype=float)
    path = [point.copy()]
    for _ in range(n_steps):
        point = point - lr * function.grad(point)
        path.append(point.copy())
    return np.array(path)


def _momentum_path(function, lr, momentum, n_steps):
    point, velocity = np.array(function.start, dtype=float), np.zeros(2)
    path = [point.copy()]
    for _ in range(n_steps):
        velocity = momentum * velocity - lr * function.grad(point)
        point = point + velocity
        path.append(point.copy())
    return np.array(path)


@pytest.mark.parametrize("name", list(TEST_FUNCTIONS))
def test_gradients_of_the_test_functions_match_numerical_ones(name):
    function = TEST_FUNCTIONS[name]
    rng = np.random.default_rng(0)
    for point in [np.array(function.start, dtype=float), *rng.uniform(-1.5, 1.5, size=(3, 2))]:
        numerical = numerical_gradient(lambda p: function.f(p[0], p[1]), point.copy())
        np.testing.assert_allclose(function.grad(point), numerical, rtol=1e-5, atol=1e-6)
    for minimum in function.minima:
        assert function.f(*minimum) == pytest.approx(function.f_min)
        np.testing.assert_allclose(function.grad(np.array(minimum)), 0.0, atol=1e-12)


def test_trajectory_follows_the_optimizer_and_reports_how_it_ended():
    quadratic = TEST_FUNCTIONS["elongated quadratic"]
    run = trajectory(PlainSGD(lr=0.1), quadratic, 20)
    assert run.status == "ok"
    np.testing.assert_allclose(run.points, _sgd_path(quadratic, 0.1, 20))
    diverged = trajectory(PlainSGD(lr=1.5), "elongated quadratic", 500)  # 1.5 > 2 / 2: y blows up
    assert diverged.status == "diverged" and len(diverged.points) < 501 and np.all(np.isfinite(diverged.points))
    assert trajectory(Unanswered(), quadratic, 5).status == "not implemented"
    broken = trajectory(Broken(), quadratic, 5)
    assert broken.status.startswith("error: KeyError") and len(broken.points) == 1


def test_make_optimizer_passes_only_the_settings_a_rule_accepts():
    assert make_optimizer(PlainSGD, lr=0.5, beta=0.3).lr == 0.5
    heavy = make_optimizer(HeavyBall, lr=0.2, beta=0.7)
    assert (heavy.lr, heavy.momentum) == (0.2, 0.7)
    assert make_optimizer(NoLearningRate, lr=0.2, beta=0.7).rho == 0.95


def _path(ax):
    """The trajectory drawn in a panel: its only labelled line."""
    (line,) = [line for line in ax.lines if not line.get_label().startswith("_")]
    return line.get_xydata()


def _first_line(figure):
    return _path(figure.axes[0])


def test_the_playground_draws_every_rule_and_has_a_static_fallback():
    pg = OptimizerPlayground({"SGD": PlainSGD, "Momentum": HeavyBall, "todo": Unanswered})
    quadratic = TEST_FUNCTIONS["elongated quadratic"]
    assert set(pg.runs) == {"SGD", "Momentum", "todo"} and pg.redraws == 1
    assert pg.lr.value == pytest.approx(quadratic.lr) and pg.steps.value == quadratic.steps
    np.testing.assert_allclose(_first_line(pg.figure), _sgd_path(quadratic, quadratic.lr, quadratic.steps))
    assert "not implemented" in pg.figure.axes[2].get_title()
    bundle = pg._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    (shown,) = pg.output.outputs
    assert shown["data"]["image/png"] == bundle["image/png"]


def test_the_legend_names_every_curve_and_covers_no_panel():
    """The legend of the f(x_t) - f_min curves sits outside every panel (inside the small last panel it hid the
    curves), one entry per rule that ran, and a redraw does not stack a second legend."""
    rules = {"SGD": PlainSGD, "Momentum": HeavyBall, "todo": Unanswered}
    pg = OptimizerPlayground(rules)
    pg.lr.value = 0.05
    (legend,) = pg.figure.legends
    assert [text.get_text() for text in legend.get_texts()] == ["SGD", "Momentum"]
    renderer = pg.figure.canvas.get_renderer()
    pg.figure.canvas.draw()
    box = legend.get_window_extent(renderer)
    for ax in pg.figure.axes:
        assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()


def test_moving_the_learning_rate_slider_redraws_with_the_new_rate():
    pg = OptimizerPlayground({"SGD": PlainSGD, "Momentum": HeavyBall})
    quadratic = TEST_FUNCTIONS["elongated quadratic"]
    before_png = pg.output.outputs[0]["data"]["image/png"]
    pg.lr.value = 0.5
    assert pg.redraws == 2
    expected = _sgd_path(quadratic, 0.5, pg.steps.value)
    np.testing.assert_allclose(pg.runs["SGD"].points, expected)
    np.testing.assert_allclose(_first_line(pg.figure), expected)
    np.testing.assert_allclose(pg.runs["Momentum"].points, _momentum_path(quadratic, 0.5, 0.9, pg.steps.value))
    assert pg.output.outputs[0]["data"]["image/png"] != before_png
    assert "lr = 0.5" in pg.figure._suptitle.get_text()


def test_moving_the_momentum_slider_changes_only_the_rules_with_momentum():
    pg = OptimizerPlayground({"SGD": PlainSGD, "Momentum": HeavyBall}, lr=0.05, steps=30)
    quadratic = TEST_FUNCTIONS["elongated quadratic"]
    sgd_before = pg.runs["SGD"].points.copy()
    pg.beta.value = 0.3
    np.testing.assert_allclose(pg.runs["Momentum"].points, _momentum_path(quadratic, 0.05, 0.3, 30))
    np.testing.assert_allclose(_path(pg.figure.axes[1]), _momentum_path(quadratic, 0.05, 0.3, 30))
    np.testing.assert_allclose(pg.runs["SGD"].points, sgd_before)


def test_moving_the_steps_slider_redraws_longer_paths():
    pg = OptimizerPlayground({"SGD": PlainSGD}, lr=0.05, steps=10)
    assert len(_first_line(pg.figure)) == 11
    pg.steps.value = 40
    assert len(pg.runs["SGD"].points) == 41 and len(_first_line(pg.figure)) == 41
    loss_panel = pg.figure.axes[1]
    assert len(loss_panel.lines[0].get_xdata()) == 41


def test_choosing_another_function_resets_its_settings_and_redraws_once():
    pg = OptimizerPlayground({"SGD": PlainSGD})
    redraws = pg.redraws
    pg.function.value = "Rosenbrock"
    rosenbrock = TEST_FUNCTIONS["Rosenbrock"]
    assert pg.redraws == redraws + 1
    assert pg.lr.value == pytest.approx(rosenbrock.lr) and pg.steps.value == rosenbrock.steps
    np.testing.assert_allclose(pg.runs["SGD"].points[0], rosenbrock.start)
    np.testing.assert_allclose(_first_line(pg.figure), _sgd_path(rosenbrock, pg.lr.value, rosenbrock.steps))
    assert pg.figure.axes[0].get_xlim() == pytest.approx(rosenbrock.xlim)
    assert "Rosenbrock" in pg.figure._suptitle.get_text()


class _Stump:
    """A 'model' whose class is 1 right of x = 0.5."""

    def predict(self, x, train=False):
        x = np.asarray(x)
        return np.column_stack([0.5 - x[:, 0], x[:, 0] - 0.5])


def test_decision_boundaries_shows_curves_and_one_panel_per_model():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 1])
    figure = decision_boundaries({"a": _Stump(), "b": _Stump()}, X, y, curves={"a": [1.0, 0.5], "b": [1.0, 0.8]})
    assert len(figure.axes) == 3
    assert figure.axes[1].get_title() == "a: accuracy 0.750"
    np.testing.assert_allclose(figure.axes[0].lines[1].get_ydata(), [1.0, 0.8])
    assert len(decision_boundaries({"a": _Stump()}, X, y).axes) == 1
