"""dlfs.diagnostics: the figures, and the explorers' widget callbacks driven without a browser."""

import numpy as np
import pytest

from dlfs.diagnostics import (InitExplorer, RegularizationExplorer, _smoothed, activation_histograms,
                              gradient_norms_figure, overfitting_figure, setup_comparison_figure)


def _bar_heights(ax):
    return np.array([patch.get_height() for patch in ax.patches])


def test_activation_histograms_draws_each_layer_of_each_setting():
    rng = np.random.default_rng(0)
    layers = [rng.normal(size=(50, 10)) * s for s in (1.0, 0.5, 0.25)]
    fig = activation_histograms({"a": layers, "b": layers[:2]}, bins=7, value_range=(-3, 3))
    assert len(fig.axes) == 6
    for col, layer in enumerate(layers):
        counts, _ = np.histogram(layer.ravel(), bins=7, range=(-3, 3))
        np.testing.assert_array_equal(_bar_heights(fig.axes[col]), counts)
    assert not fig.axes[5].axison          # row "b" has two layers only
    assert "std" in fig.axes[0].get_title()


def test_figures_show_themselves_as_png_in_ipython():
    fig = gradient_norms_figure({"Xavier": [1.0, 2.0]})
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"


def test_activation_histograms_ignores_non_finite_values():
    fig = activation_histograms({"x": [np.array([0.0, 1.0, np.inf, np.nan])]}, bins=2)
    assert _bar_heights(fig.axes[0]).sum() == 2


def test_gradient_norms_figure_one_panel_per_activation_one_line_per_setting():
    norms = {"sigmoid": {"Xavier": [1.0, 0.5, 0.1], "He": [2.0, 1.0, 0.5]}, "ReLU": {"He": [1.0, 1.0, 0.0]}}
    fig = gradient_norms_figure(norms)
    assert [ax.get_title() for ax in fig.axes] == ["sigmoid", "ReLU"]
    assert len(fig.axes[0].lines) == 2
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), [2.0, 1.0, 0.5])
    assert np.isnan(fig.axes[1].lines[0].get_ydata()[2])      # a zero norm cannot sit on a log axis
    single = gradient_norms_figure({"Xavier": [1.0, 2.0]})
    assert len(single.axes) == 1


def _history(train_end, val_end, epochs=5, loss=False):
    history = {"train_acc": list(np.linspace(0.1, train_end, epochs)),
               "val_acc": list(np.linspace(0.1, val_end, epochs))}
    if loss:
        history["train_loss"] = list(np.linspace(2.0, 1.0 - train_end, epochs))
        history["val_loss"] = list(np.linspace(2.0, 1.5 - val_end, epochs))
    return history


RUNS = {(0.0, 0.0): _history(1.0, 0.7), (0.1, 0.0): _history(0.9, 0.72),
        (0.0, 0.5): _history(0.8, 0.71), (0.1, 0.5): _history(0.6, 0.55)}


def test_overfitting_figure_has_a_panel_per_run():
    fig = overfitting_figure(RUNS, keys=[(0.0, 0.0), (0.0, 0.5)])
    assert len(fig.axes) == 2
    train, val = fig.axes[1].lines
    np.testing.assert_allclose(train.get_ydata(), RUNS[(0.0, 0.5)]["train_acc"])
    np.testing.assert_allclose(val.get_ydata(), RUNS[(0.0, 0.5)]["val_acc"])
    assert [line.get_label() for line in fig.axes[1].lines] == ["train", "validation"]
    assert "drop rate 0.5" in fig.axes[1].get_title()
    assert "final accuracy gap 0.09" in fig.axes[1].get_title()      # 0.8 train - 0.71 validation


def test_init_explorer_redraws_with_the_chosen_setting():
    calls = []

    def compute(init, activation):
        calls.append((init, activation))
        scale = {"small": 0.01, "large": 10.0}[init]
        offset = {"sigmoid": 0.0, "ReLU": 5.0}[activation]
        return [np.full((4, 3), scale * (layer + 1) + offset) for layer in range(3)]

    explorer = InitExplorer(compute, inits=["small", "large"], activations=["sigmoid", "ReLU"])
    assert calls == [("small", "sigmoid")]
    first_png = explorer.image.value
    assert first_png[:8] == b"\x89PNG\r\n\x1a\n"

    explorer.init.value = "large"
    assert calls[-1] == ("large", "sigmoid")
    assert explorer.drawn["init"] == "large"
    np.testing.assert_allclose(explorer.drawn["activations"][2], 30.0)
    assert "large with sigmoid" in explorer.figure.get_suptitle()
    assert explorer.image.value != first_png

    explorer.activation.value = "ReLU"
    assert calls[-1] == ("large", "ReLU")
    np.testing.assert_allclose(explorer.drawn["activations"][0], 15.0)
    # the histogram of layer 1 holds all 12 values of the redrawn data
    assert _bar_heights(explorer.figure.axes[0]).sum() == 12
    assert explorer.redraws == 3


def test_init_explorer_uses_the_histogram_options_of_the_activation():
    explorer = InitExplorer(lambda init, act: [np.array([0.0, 0.0, 0.2, 0.4])], inits=["x"],
                            activations=["sigmoid", "ReLU"],
                            histogram_options={"sigmoid": {"value_range": (0, 1)}, "ReLU": {"skip_zeros": True}})
    assert explorer.figure.axes[0].get_xlim()[0] <= 0 and explorer.figure.axes[0].get_xlim()[1] >= 1
    assert _bar_heights(explorer.figure.axes[0]).sum() == 4
    explorer.activation.value = "ReLU"
    assert _bar_heights(explorer.figure.axes[0]).sum() == 2
    assert "50% zeros not shown" in explorer.figure.axes[0].get_title()


def test_activation_histograms_panel_ranges():
    fig = activation_histograms({"r": [np.array([0.0, 1.0]), np.array([0.0, 100.0])]}, value_range="panel", bins=4)
    assert fig.axes[0].get_xlim()[1] < 2 and fig.axes[1].get_xlim()[1] > 50
    shared = activation_histograms({"r": [np.array([0.0, 1.0]), np.array([0.0, 100.0])]}, bins=4)
    assert shared.axes[0].get_xlim()[1] > 50


def test_regularization_explorer_sliders_redraw_the_chosen_run():
    explorer = RegularizationExplorer(RUNS)
    assert explorer.drawn["key"] == (0.0, 0.0)
    assert [value for _, value in explorer.lam.options] == [0.0, 0.1]
    assert [value for _, value in explorer.rate.options] == [0.0, 0.5]

    explorer.lam.value = 0.1
    assert explorer.drawn["key"] == (0.1, 0.0)
    assert explorer.drawn["history"] is RUNS[(0.1, 0.0)]
    lines = explorer.figure.axes[0].lines
    # faded baseline (train, test) first, then the chosen run's train and test curves
    assert len(lines) == 4
    np.testing.assert_allclose(lines[2].get_ydata(), RUNS[(0.1, 0.0)]["train_acc"])
    np.testing.assert_allclose(lines[3].get_ydata(), RUNS[(0.1, 0.0)]["val_acc"])
    np.testing.assert_allclose(lines[0].get_ydata(), RUNS[(0.0, 0.0)]["train_acc"])

    explorer.rate.value = 0.5
    assert explorer.drawn["key"] == (0.1, 0.5)
    np.testing.assert_allclose(explorer.figure.axes[0].lines[3].get_ydata(), RUNS[(0.1, 0.5)]["val_acc"])
    assert "drop rate 0.5" in explorer.figure.get_suptitle()
    assert "validation 0.55" in explorer.figure.get_suptitle()
    assert [line.get_label() for line in explorer.figure.axes[0].lines] == [
        "no regularization train", "no regularization validation", "this run train", "this run validation"]

    explorer.lam.value = 0.0
    explorer.rate.value = 0.0
    assert len(explorer.figure.axes[0].lines) == 2      # the baseline is not drawn twice
    assert explorer.redraws == 5


def test_regularization_explorer_says_when_a_run_is_missing():
    runs = {(0.0, 0.0): RUNS[(0.0, 0.0)], (0.1, 0.5): RUNS[(0.1, 0.5)]}
    explorer = RegularizationExplorer(runs)
    explorer.lam.value = 0.1                       # (0.1, 0.0) was not computed
    assert explorer.drawn == {"key": (0.1, 0.0), "history": None}
    assert "no run computed" in explorer.figure.axes[0].texts[0].get_text()


def test_regularization_explorer_shows_the_loss_when_recorded():
    runs = {(0.0, 0.0): _history(1.0, 0.7, loss=True), (0.01, 0.0): _history(0.95, 0.72, loss=True)}
    explorer = RegularizationExplorer(runs)
    assert len(explorer.figure.axes) == 2
    explorer.lam.value = 0.01
    loss_lines = explorer.figure.axes[1].lines
    np.testing.assert_allclose(loss_lines[2].get_ydata(), runs[(0.01, 0.0)]["train_loss"])
    np.testing.assert_allclose(loss_lines[3].get_ydata(), runs[(0.01, 0.0)]["val_loss"])
    assert explorer.figure.axes[1].get_ylabel() == "loss"
    fig = overfitting_figure(runs)
    assert len(fig.axes) == 4
    np.testing.assert_allclose(fig.axes[3].lines[1].get_ydata(), runs[(0.01, 0.0)]["val_loss"])


def test_regularization_explorer_initial_setting():
    explorer = RegularizationExplorer(RUNS, initial=(0.1, 0))
    assert explorer.drawn["key"] == (0.1, 0.0)
    assert len(explorer.figure.axes[0].lines) == 4      # with the faded baseline
    with pytest.raises(ValueError):
        RegularizationExplorer(RUNS, initial=(0.2, 0.0))


def test_regularization_explorer_opens_in_the_middle_of_the_lambda_slider():
    """By default the first view is a moderate λ, not an end of the slider: room to explore both ways."""
    runs = {(lam, rate): _history(1.0, 0.7) for lam in (0.0, 0.01, 0.03, 0.1, 0.3) for rate in (0.0, 0.5)}
    explorer = RegularizationExplorer(runs)
    assert explorer.drawn["key"] == (0.03, 0.0)
    three = {(lam, 0.0): _history(1.0, 0.7) for lam in (0.0, 0.03, 0.1)}
    assert RegularizationExplorer(three).drawn["key"] == (0.03, 0.0)


def test_regularization_explorer_needs_runs():
    with pytest.raises(ValueError):
        RegularizationExplorer({})


def test_show_outside_ipython_displays_nothing_and_keeps_the_png(capsys):
    explorer = RegularizationExplorer(RUNS)
    assert explorer.show() is None
    assert capsys.readouterr().out == ""
    assert explorer.png[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_in_ipython_sends_the_widget_and_a_static_png(monkeypatch):
    sent = []
    import IPython
    import IPython.display

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: sent.append((obj, raw)))
    explorer = RegularizationExplorer(RUNS)
    explorer.show()
    (bundle, raw), = sent
    assert raw
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    import base64
    assert base64.b64decode(bundle["image/png"]) == explorer.png
    assert "λ = 0" in bundle["text/plain"]


def test_activation_histograms_names_the_columns():
    fig = activation_histograms({"a": [np.ones(5), np.arange(5.0)]}, layer_names=["ReLU outputs", "scores"])
    assert [ax.get_title().split("  ")[0] for ax in fig.axes] == ["ReLU outputs", "scores"]


def _run(losses, norms, val_acc, steps_per_epoch):
    return {"loss": losses, "grad_norms": norms, "val_acc": val_acc, "steps_per_epoch": steps_per_epoch}


def test_setup_comparison_figure_puts_runs_of_different_batch_sizes_on_one_epoch_axis():
    fine = _run(np.linspace(2.3, 0.5, 10), np.full((10, 2), 0.5), [0.8], steps_per_epoch=10)
    slow = _run(np.linspace(2.3, 1.5, 100), np.full((100, 2), 2.0), [0.4], steps_per_epoch=100)
    fig = setup_comparison_figure({"batch 32": fine, "batch 1": slow})
    loss_ax, grad_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["batch 32", "batch 1"]
    for line in loss_ax.get_lines():
        assert line.get_xdata()[-1] == pytest.approx(1.0)          # both end after one epoch
    assert len(grad_ax.get_lines()) == 4                            # two layers per run
    assert [round(bar.get_width(), 2) for bar in acc_ax.patches] == [0.8, 0.4]
    assert [t.get_text() for t in acc_ax.get_yticklabels()] == ["batch 32", "batch 1"]


def test_setup_comparison_figure_marks_where_the_loss_became_nan():
    losses = np.array([2.3, 5.0, np.nan, np.nan])
    broken = _run(losses, np.array([[1.0, 1.0], [1e9, 1e9], [np.nan, np.nan], [np.nan, np.nan]]), [0.1], 4)
    loss_ax = setup_comparison_figure({"broken": broken}).axes[0]
    curve, cross = loss_ax.get_lines()
    assert np.isnan(curve.get_ydata()[2:]).all() and np.isfinite(curve.get_ydata()[:2]).all()
    assert cross.get_marker() == "x" and cross.get_xdata()[0] == pytest.approx(0.75)


def test_smoothed_averages_the_finite_values_of_the_window_and_keeps_nan_where_a_value_is_not_finite():
    got = _smoothed([1.0, 3.0, np.nan, 5.0, 7.0], window=2)
    assert np.allclose(got, [1.0, 2.0, np.nan, 5.0, 6.0], equal_nan=True)
