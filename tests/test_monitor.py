"""dlfs.monitor and dlfs.plots without a browser."""

import base64

import numpy as np
import pytest

from dlfs import monitor as monitor_module
from dlfs.monitor import TrainingMonitor, plot_curves
from dlfs.plots import image_grid


class FakeHandle:
    def __init__(self, log):
        self.log = log

    def update(self, bundle, raw=False):
        self.log.append(("update", bundle))


def test_records_history_and_builds_a_figure_without_ipython():
    monitor = TrainingMonitor(total=3, title="t", display=False)
    for loss, acc in [(3.0, 0.1), (2.0, 0.5), (1.0, 0.9)]:
        monitor.update(loss=loss, accuracy=acc)
    assert monitor.close() == {"loss": [3.0, 2.0, 1.0], "accuracy": [0.1, 0.5, 0.9]}
    fig = monitor.figure()
    assert [list(ax.lines[0].get_ydata()) for ax in fig.axes] == [[3.0, 2.0, 1.0], [0.1, 0.5, 0.9]]
    assert "step 3/3" in monitor.progress_text() and "loss 1" in monitor.progress_text()


def test_the_progress_line_says_how_long_is_left(monkeypatch):
    clock = iter([100.0, 110.0, 0.0, 0.0])  # started at 100 s; 10 s later, 2 of 10 steps are done
    monkeypatch.setattr("dlfs.monitor.time.perf_counter", lambda: next(clock))
    monitor = TrainingMonitor(total=10, title="t", display=False)
    monitor.update(loss=2.0)
    monitor.update(loss=1.0)
    assert monitor.progress_text() == "t: step 2/10 (10.0 s, about 40.0 s left) loss 1"
    assert TrainingMonitor(total=None, display=False).progress_text().endswith("s)")


def test_live_display_updates_in_place_and_ends_with_the_final_figure(monkeypatch):
    log = []

    def fake_display(bundle, raw=False, display_id=False):
        log.append(("display", bundle))
        return FakeHandle(log)

    import IPython.display
    monkeypatch.setattr(IPython.display, "display", fake_display)
    with TrainingMonitor(total=4, title="live", every=0.0, display=True) as monitor:
        for loss in [4.0, 3.0, 2.0, 1.0]:
            monitor.update(loss=loss)
    kinds = [kind for kind, _ in log]
    assert kinds[:2] == ["display", "display"] and set(kinds[2:]) == {"update"}
    last_text = [b for _, b in log if "text/html" in b][-1]
    assert "step 4/4" in last_text["text/plain"] and 'value="4" max="4"' in last_text["text/html"]
    last_png = [b for _, b in log if "image/png" in b][-1]["image/png"]
    assert base64.b64decode(last_png)[:8] == b"\x89PNG\r\n\x1a\n"


def test_redraws_are_throttled(monkeypatch):
    draws = []
    monitor = TrainingMonitor(total=100, every=3600.0, display=True)
    monkeypatch.setattr(monitor, "_draw", lambda: draws.append(monitor.steps) or setattr(monitor, "_last_draw", 1e18))
    for _ in range(100):
        monitor.update(loss=1.0)
    monitor.close()
    assert draws == [1, 100]  # the first update, and the final state on close


def test_plot_curves_and_image_grid():
    fig = plot_curves({"a": [3, 2, 1], "b": [1, 2, 3]}, log=True)
    assert [line.get_label() for line in fig.axes[0].lines] == ["a", "b"]
    fig = image_grid(np.random.default_rng(0).random((12, 784)), titles=list("abcdefghijkl"), ncols=5)
    assert len(fig.axes) == 15 and fig.axes[11].get_title() == "l"
    assert len(image_grid(np.zeros((2, 3, 32, 32))).axes) == 2
    with pytest.raises(ValueError):
        image_grid(np.zeros((2, 10)))


def test_a_full_run_longer_than_a_graded_cell_says_so_before_it_starts(capsys):
    from dlfs.monitor import announce_full_run
    assert announce_full_run(False, 4.1) is None and announce_full_run(True, 0.5) is None
    message = announce_full_run(True, 4.1, "training on all 50 000 images")
    assert "about 4 min 06 s" in message and "60 s" in message and capsys.readouterr().out.strip() == message


def test_the_figure_counts_training_steps_and_names_its_axes():
    monitor = TrainingMonitor(total=4, display=False, steps_per_update=20, steps_per_epoch=40,
                              xlabel="training step (one mini-batch)", labels={"loss": "loss on 1000 images"})
    for loss in (3.0, 2.0):
        monitor.update(loss=loss, val_accuracy=0.5)
    left, right = monitor.figure().axes[:2]
    assert list(left.lines[0].get_xdata()) == [20, 40] and left.get_xlim() == (0, 80)
    assert left.get_xlabel() == "training step (one mini-batch)" and left.get_ylabel() == "loss on 1000 images"
    assert right.get_ylabel() == "val_accuracy"
    assert "step 40/80" in monitor.progress_text()
    assert any(getattr(child, "get_xlabel", lambda: "")() == "epoch" for child in left.get_children())
