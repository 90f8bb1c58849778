"""dlfs.convviz: the figures, the widgets driven without a browser (setting a control's .value runs
the same callback as moving it), their static PNG fallback, and the widgets in a real kernel."""

import base64
import os
from pathlib import Path

import numpy as np
import pytest

from dlfs.convviz import (CLASSIC_KERNELS, ConvolutionExplorer, FeatureMaps, FilterViewer, filter_grid,
                          speed_figure)

REPO = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def _block(mosaic, k, cols, h, w):
    """Map k of a mosaic of (h, w) maps, ``cols`` per row, one pixel apart."""
    top, left = (k // cols) * (h + 1), (k % cols) * (w + 1)
    return np.asarray(mosaic)[top:top + h, left:left + w]


def _shown(ax):
    return np.ma.getdata(ax.images[0].get_array())


def _texts(figure):
    return " ".join(t.get_text() for ax in figure.axes for t in ax.texts)


# --- filters ---------------------------------------------------------------------------------------

def test_filter_grid_draws_every_filter_on_one_symmetric_scale():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(7, 1, 3, 4))
    W[5] *= 10                                      # one strong filter sets the shared scale
    fig = filter_grid(W, ncols=3)
    mosaic = _shown(fig.axes[0])
    assert mosaic.shape == (3 * 4 - 1, 3 * 5 - 1)
    for k in range(7):
        np.testing.assert_allclose(_block(mosaic, k, 3, 3, 4), W[k, 0])
    limit = np.abs(W).max()
    assert fig.axes[0].images[0].get_clim() == pytest.approx((-limit, limit))
    assert f"±{limit:.3g}" in fig.axes[0].get_title()
    assert filter_grid(W, limit=2.5).axes[0].images[0].get_clim() == pytest.approx((-2.5, 2.5))
    with pytest.raises(ValueError, match="FN, C, FH, FW"):
        filter_grid(np.zeros((4, 2, 3, 3)))


def test_filter_grid_shows_rgb_filters_with_grey_at_zero():
    W = np.zeros((2, 3, 2, 2))
    W[0, 0] = 1.0                                   # filter 0: red channel at the limit
    W[1, 2] = -0.5                                  # filter 1: half-negative blue
    mosaic = _shown(filter_grid(W).axes[0])
    np.testing.assert_allclose(_block(mosaic, 0, 2, 2, 2), np.broadcast_to([1.0, 0.5, 0.5], (2, 2, 3)))
    np.testing.assert_allclose(_block(mosaic, 1, 2, 2, 2), np.broadcast_to([0.5, 0.5, 0.25], (2, 2, 3)))


SNAPSHOTS = [(f"step {s}", np.random.default_rng(s).normal(size=(6, 1, 5, 5)) * (0.01 + s / 100))
             for s in (0, 100, 200)]


def test_filter_viewer_slider_draws_the_chosen_snapshot():
    viewer = FilterViewer(SNAPSHOTS, ncols=4)
    assert viewer.slider.value == "step 200" and viewer.redraws == 1          # the trained filters first
    first_png = bytes(viewer.image.value)
    assert first_png.startswith(PNG) and first_png == viewer.png

    viewer.slider.value = "step 0"
    W0 = SNAPSHOTS[0][1]
    assert viewer.redraws == 2
    assert viewer.drawn["label"] == "step 0"
    np.testing.assert_array_equal(viewer.drawn["weights"], W0)
    mosaic = _shown(viewer.figure.axes[0])
    for k in range(6):
        np.testing.assert_allclose(_block(mosaic, k, 4, 5, 5), W0[k, 0])
    limit = np.abs(W0).max()                        # the scale of this snapshot
    assert viewer.figure.axes[0].images[0].get_clim() == pytest.approx((-limit, limit))
    assert "step 0" in viewer.figure.axes[0].get_title() and f"±{limit:.3g}" in viewer.figure.axes[0].get_title()
    assert bytes(viewer.image.value) != first_png

    viewer.slider.value = "step 100"
    np.testing.assert_allclose(_block(_shown(viewer.figure.axes[0]), 5, 4, 5, 5), SNAPSHOTS[1][1][5, 0])
    assert viewer.redraws == 3


def test_filter_viewer_can_keep_one_scale_for_all_snapshots():
    viewer = FilterViewer(SNAPSHOTS, scale="all", initial="step 0")
    assert viewer.drawn["label"] == "step 0" and viewer.redraws == 1
    limit = max(np.abs(W).max() for _, W in SNAPSHOTS)
    assert viewer.figure.axes[0].images[0].get_clim() == pytest.approx((-limit, limit))
    assert "all snapshots" in viewer.figure.axes[0].get_title()


def test_filter_viewer_rejects_what_it_cannot_show():
    with pytest.raises(ValueError, match="twice"):
        FilterViewer([("a", np.zeros((2, 1, 3, 3))), ("a", np.zeros((2, 1, 3, 3)))])
    with pytest.raises(ValueError, match="FN, C, FH, FW"):
        FilterViewer([("a", np.zeros((2, 3, 3)))])
    with pytest.raises(ValueError):
        FilterViewer([])


# --- feature maps ----------------------------------------------------------------------------------

IMAGES = np.random.default_rng(1).random((4, 1, 8, 8))
LABELS = [7, 2, 1, 0]


def _network(calls):
    """A stand-in for the learner's layers: 12 'filters' scale the image, then ReLU and 2×2 pooling."""
    scales = np.linspace(-1.0, 1.0, 12)

    def stages(x):
        calls.append(x)
        conv = x[:, :1] * scales[None, :, None, None] - 0.25        # (1, 12, 8, 8)
        relu = np.maximum(conv, 0.0)
        pool = relu.reshape(1, 12, 4, 2, 4, 2).max(axis=(3, 5))      # (1, 12, 4, 4)
        return {"convolution": conv, "ReLU": relu, "max-pooling": pool}

    return stages


def test_feature_maps_slider_draws_the_stages_of_the_chosen_image():
    calls = []
    maps = FeatureMaps(IMAGES, _network(calls), labels=LABELS, max_maps=5, ncols=5)
    assert maps.redraws == 1 and len(calls) == 1
    first_png = maps.png

    maps.slider.value = 2
    assert maps.redraws == 2 and len(calls) == 2
    assert calls[-1].shape == (1, 1, 8, 8)
    np.testing.assert_array_equal(calls[-1], IMAGES[2:3])
    assert maps.drawn["index"] == 2 and maps.drawn["label"] == 1 and maps.drawn["problem"] is None
    np.testing.assert_array_equal(maps.drawn["image"], IMAGES[2:3])
    expected = _network([])(IMAGES[2:3])
    assert list(maps.drawn["stages"]) == ["convolution", "ReLU", "max-pooling"]
    for name in expected:
        np.testing.assert_array_equal(maps.drawn["stages"][name], expected[name])

    axes = maps.figure.axes
    assert len(axes) == 4                                            # the input, then one row per stage
    np.testing.assert_allclose(_shown(axes[0]), IMAGES[2, 0])
    assert "label 1" in axes[0].get_title() and maps.label.value == "test image 2, label 1"
    for ax, (name, value), (h, w) in zip(axes[1:], expected.items(), [(8, 8), (8, 8), (4, 4)]):
        mosaic = _shown(ax)
        assert mosaic.shape == (h, 5 * (w + 1) - 1)                  # max_maps = 5 of 12, one row
        for k in range(5):
            np.testing.assert_allclose(_block(mosaic, k, 5, h, w), value[0, k])
        assert ax.get_title().startswith(f"{name}: 12 maps {h}×{w}, first 5 shown")
    low = expected["convolution"][0, :5].min()
    bound = max(-low, expected["convolution"][0, :5].max())
    assert axes[1].images[0].get_clim() == pytest.approx((-bound, bound))        # signed: symmetric
    assert axes[2].images[0].get_clim()[0] == 0                                  # ReLU: from 0
    assert maps.png != first_png


def test_feature_maps_says_when_the_stages_are_not_written_yet():
    def unanswered(x):
        raise NotImplementedError()

    maps = FeatureMaps(IMAGES[:, 0], unanswered)                     # (N, H, W) is read as C = 1
    assert maps.drawn["problem"] == "not implemented" and maps.drawn["stages"] is None
    assert "not implemented" in _texts(maps.figure)
    np.testing.assert_allclose(_shown(maps.figure.axes[0]), IMAGES[0, 0])       # the input is still shown
    maps.slider.value = 1
    assert maps.redraws == 2 and maps.drawn["index"] == 1

    wrong = FeatureMaps(IMAGES, lambda x: {"flat": np.zeros((8, 8))})
    assert wrong.drawn["problem"].startswith("error") and "(8, 8)" in _texts(wrong.figure)


def test_feature_maps_draws_a_vector_stage_as_a_strip():
    maps = FeatureMaps(IMAGES, lambda x: {"scores": np.arange(10.0)[None]})
    np.testing.assert_allclose(_shown(maps.figure.axes[1]), np.arange(10.0)[None])
    assert maps.figure.axes[1].get_title().startswith("scores: 10 values")


# --- convolution explorer ----------------------------------------------------------------------------

def _correlate_same(image, kernel):
    """Reference: 3×3 cross-correlation with zero padding 1 (what a Convolution layer computes)."""
    padded = np.pad(image, 1)
    out = np.zeros_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.sum(padded[i:i + 3, j:j + 3] * kernel)
    return out


def _correlate_valid(image, kernel):
    return _correlate_same(image, kernel)[1:-1, 1:-1]


IMAGE = np.random.default_rng(2).random((9, 7))


def _boxes(explorer):
    return np.array([box.value for box in explorer.boxes]).reshape(3, 3)


def test_convolution_explorer_applies_the_chosen_kernel_once():
    calls = []

    def convolve(image, kernel):
        calls.append(kernel)
        return _correlate_valid(image, kernel)

    explorer = ConvolutionExplorer(IMAGE, convolve)
    assert list(explorer.kernel.options) == [*CLASSIC_KERNELS, "custom"]
    assert explorer.kernel.value == "identity" and explorer.redraws == 1 and len(calls) == 1
    np.testing.assert_array_equal(_boxes(explorer), CLASSIC_KERNELS["identity"])
    np.testing.assert_allclose(explorer.drawn["output"], IMAGE[1:-1, 1:-1])
    first_png = explorer.png

    explorer.kernel.value = "Sobel x"
    assert explorer.redraws == 2 and len(calls) == 2                  # nine boxes filled, one redraw
    np.testing.assert_array_equal(_boxes(explorer), CLASSIC_KERNELS["Sobel x"])
    np.testing.assert_array_equal(calls[-1], CLASSIC_KERNELS["Sobel x"])
    expected = _correlate_valid(IMAGE, CLASSIC_KERNELS["Sobel x"])
    assert explorer.drawn["name"] == "Sobel x" and explorer.drawn["problem"] is None
    np.testing.assert_allclose(explorer.drawn["output"], expected)
    input_ax, kernel_ax, output_ax = explorer.figure.axes
    np.testing.assert_allclose(_shown(input_ax), IMAGE)
    np.testing.assert_allclose(_shown(kernel_ax), CLASSIC_KERNELS["Sobel x"])
    assert [t.get_text() for t in kernel_ax.texts] == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
    assert kernel_ax.get_title() == "kernel: Sobel x"
    np.testing.assert_allclose(_shown(output_ax), expected)
    assert "7×5" in output_ax.get_title()
    assert explorer.png != first_png

    explorer.boxes[4].value = 3.0                                    # edit the centre weight
    edited = CLASSIC_KERNELS["Sobel x"].copy()
    edited[1, 1] = 3.0
    assert explorer.kernel.value == "custom" and explorer.redraws == 3 and len(calls) == 3
    np.testing.assert_array_equal(explorer.drawn["kernel"], edited)
    np.testing.assert_allclose(_shown(explorer.figure.axes[2]), _correlate_valid(IMAGE, edited))
    assert explorer.figure.axes[1].get_title() == "kernel: custom"

    explorer.boxes[0].value = -0.5                                   # a second edit keeps "custom"
    edited[0, 0] = -0.5
    assert explorer.redraws == 4
    np.testing.assert_allclose(explorer.drawn["output"], _correlate_valid(IMAGE, edited))

    explorer.kernel.value = "box blur"
    assert explorer.redraws == 5
    np.testing.assert_allclose(_boxes(explorer), np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(explorer.drawn["output"], _correlate_valid(IMAGE, np.full((3, 3), 1 / 9)))
    explorer.kernel.value = "custom"                                 # nothing changed: no redraw
    assert explorer.redraws == 5 and len(calls) == 5


def test_convolution_explorer_draws_what_comes_back_and_its_own_kernels():
    explorer = ConvolutionExplorer(IMAGE, _correlate_same, kernels={"double": 2 * CLASSIC_KERNELS["identity"]})
    assert list(explorer.kernel.options) == ["double", "custom"]
    np.testing.assert_allclose(explorer.drawn["output"], 2 * IMAGE)
    assert "9×7" in explorer.figure.axes[2].get_title()
    with pytest.raises(ValueError, match="3×3"):
        ConvolutionExplorer(IMAGE, _correlate_same, kernels={"big": np.ones((5, 5))})
    with pytest.raises(ValueError, match="2-D"):
        ConvolutionExplorer(IMAGE[None], _correlate_same)


def test_convolution_explorer_says_when_the_convolution_is_not_written_yet():
    def unanswered(image, kernel):
        raise NotImplementedError()

    explorer = ConvolutionExplorer(IMAGE, unanswered)
    assert explorer.drawn["problem"] == "not implemented" and explorer.drawn["output"] is None
    assert explorer.figure.axes[2].get_title() == "output: not implemented"
    assert "not implemented" in _texts(explorer.figure)
    explorer.kernel.value = "sharpen"                                # the controls still work
    assert explorer.redraws == 2
    np.testing.assert_array_equal(explorer.drawn["kernel"], CLASSIC_KERNELS["sharpen"])

    broken = ConvolutionExplorer(IMAGE, lambda image, kernel: image.ravel())
    assert "not a 2-D image" in broken.drawn["problem"]
    failing = ConvolutionExplorer(IMAGE, lambda image, kernel: image[:, :, 0])
    assert failing.drawn["problem"].startswith("error: IndexError")


def test_classic_kernels_are_3x3_and_blurs_keep_the_brightness():
    assert all(k.shape == (3, 3) for k in CLASSIC_KERNELS.values())
    for name in ("identity", "box blur", "Gaussian blur", "sharpen"):
        assert CLASSIC_KERNELS[name].sum() == pytest.approx(1.0)
    for name in ("edge (Laplacian)", "Sobel x", "Sobel y"):
        assert CLASSIC_KERNELS[name].sum() == pytest.approx(0.0)
    np.testing.assert_array_equal(CLASSIC_KERNELS["Sobel y"], CLASSIC_KERNELS["Sobel x"].T)


# --- speed -------------------------------------------------------------------------------------------

def test_speed_figure_labels_each_bar_with_its_speed_up():
    fig = speed_figure({"naive loops": 2.0, "im2col": 0.01, "im2col + BLAS": 0.004}, log=True)
    ax = fig.axes[0]
    np.testing.assert_allclose([p.get_width() for p in ax.patches], [2.0, 0.01, 0.004])
    texts = [t.get_text() for t in ax.texts]
    assert "slowest" in texts[0] and "2 s" in texts[0]
    assert "×200 faster" in texts[1] and "10 ms" in texts[1]
    assert "×500 faster" in texts[2] and "4 ms" in texts[2]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["naive loops", "im2col", "im2col + BLAS"]
    assert speed_figure({"a": 1.0}).axes[0].get_xscale() == "linear"
    with pytest.raises(ValueError):
        speed_figure({"a": 0.0})


# --- static fallback -----------------------------------------------------------------------------------

def _widgets():
    """(widget, a function moving one of its controls) for each explorer."""
    viewer = FilterViewer(SNAPSHOTS)
    maps = FeatureMaps(IMAGES, _network([]), labels=LABELS)
    explorer = ConvolutionExplorer(IMAGE, _correlate_same)
    return [(viewer, lambda: setattr(viewer.slider, "value", "step 0")),
            (maps, lambda: setattr(maps.slider, "value", 3)),
            (explorer, lambda: setattr(explorer.kernel, "value", "Sobel y"))]


def test_show_sends_the_widget_and_the_current_png(monkeypatch):
    import IPython
    import IPython.display

    sent = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: sent.append((obj, raw)))
    for widget, move in _widgets():
        widget.show()
        move()
        widget._ipython_display_()
        (before, raw), (after, _) = sent[-2:]
        assert raw
        for bundle in (before, after):
            assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.widget.model_id
            assert base64.b64decode(bundle["image/png"]).startswith(PNG)
        assert base64.b64decode(after["image/png"]) == widget.png == bytes(widget.image.value)
        assert after["image/png"] != before["image/png"]
        assert type(widget).__name__ in after["text/plain"]


def test_show_outside_ipython_displays_nothing(capsys):
    viewer, _ = _widgets()[0]
    assert viewer.show() is None
    assert capsys.readouterr().out == ""


# --- in a real kernel ------------------------------------------------------------------------------------

KERNEL_SETUP = """
import numpy as np
import dlfs.convviz
from dlfs.convviz import FilterViewer, FeatureMaps, ConvolutionExplorer
rng = np.random.default_rng(0)
viewer = FilterViewer([("step 0", rng.normal(size=(4, 1, 3, 3))), ("step 1", rng.normal(size=(4, 1, 3, 3)))])
def stages(x):
    return {"convolution": x - 0.5, "ReLU": np.maximum(x - 0.5, 0)}
maps = FeatureMaps(rng.random((3, 1, 6, 6)), stages, labels=[5, 6, 7])
def convolve(image, kernel):
    p = np.pad(image, 1)
    return sum(kernel[i, j] * p[i:i + image.shape[0], j:j + image.shape[1]] for i in range(3) for j in range(3))
explorer = ConvolutionExplorer(rng.random((6, 6)), convolve)
display(viewer)
display(maps)
explorer
"""

KERNEL_MOVE = """
viewer.slider.value = "step 0"
explorer.kernel.value = "Sobel x"
explorer.boxes[0].value = 2.0
print("viewer", viewer.redraws, viewer.drawn["label"])
print("explorer", explorer.redraws, explorer.drawn["name"],
      bool(np.allclose(explorer.drawn["output"], convolve(explorer.input, explorer.current_kernel()))))
print("module", dlfs.convviz.__file__)
"""


def _run(client, code):
    messages = []
    reply = client.execute_interactive(code, output_hook=messages.append, timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
    return messages


def _stdout(messages):
    return "".join(m["content"]["text"] for m in messages
                   if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")


def test_the_widgets_in_a_real_kernel():
    jupyter_client = pytest.importorskip("jupyter_client")
    env = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg")
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3", cwd=str(REPO), env=env,
                                                              startup_timeout=60)
    try:
        shown = _run(client, KERNEL_SETUP)
        views = [m["content"]["data"] for m in shown if m["msg_type"] in ("display_data", "execute_result")]
        assert len(views) == 3
        for data in views:
            assert "application/vnd.jupyter.widget-view+json" in data
            assert base64.b64decode(data["image/png"]).startswith(PNG)
        assert [data["text/plain"].split(":")[0] for data in views] == ["<FilterViewer", "<FeatureMaps",
                                                                        "<ConvolutionExplorer"]
        # the widget models were opened on the kernel's side, as a frontend needs them
        assert any(m["msg_type"] == "comm_open" for m in shown)

        moved = _run(client, KERNEL_MOVE)
        out = _stdout(moved)
        assert "viewer 2 step 0" in out
        assert "explorer 3 custom True" in out                       # one redraw per change
        assert f"module {REPO / 'dlfs' / 'convviz.py'}" in out
        # the new pictures went to the frontend as widget state updates
        assert any(m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "update"
                   for m in moved)

        # a frontend moving the slider: a comm message to the slider's model, as the browser sends it
        slider_id = _stdout(_run(client, "print(maps.slider.model_id)")).strip()
        client.shell_channel.send(client.session.msg("comm_msg", {
            "comm_id": slider_id, "data": {"method": "update", "state": {"value": 2}, "buffer_paths": []}}))
        out = _stdout(_run(client, 'print("maps", maps.redraws, maps.drawn["index"], maps.drawn["label"])'))
        assert out.strip() == "maps 2 2 7"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
