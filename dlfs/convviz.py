"""Seeing convolutional networks (chapter 06): filters, feature maps, kernels, speed.

Everything here *draws*; nothing computes a convolution. The notebook passes in what it
computed with the learner's own code — weight snapshots saved during training, a function
``stages(x)`` built on the learner's trained layers, a function ``convolve(image, kernel)``
built on the learner's convolution, measured timings — so this module holds no solution of
any exercise.

- :func:`filter_grid` — the first-layer filters (FN, C, FH, FW) as a grid of small images;
- :class:`FilterViewer` — a slider over weight snapshots saved during training;
- :class:`FeatureMaps` — a slider over test images; the feature maps of each stage (convolution,
  ReLU, pooling, ...) of the chosen image;
- :data:`CLASSIC_KERNELS` and :class:`ConvolutionExplorer` — classic 3×3 image kernels, editable,
  applied with the learner's convolution;
- :func:`speed_figure` — bars of measured seconds (naive loops vs im2col) with the speed-ups.

The explorers are real ipywidgets (see :mod:`dlfs.explorer`): displayed, they carry a PNG of
their current figure too, which is what a saved notebook, nbconvert and nbgrader's feedback HTML
show. Their callbacks can be driven without a browser: set a control's ``.value`` and read
``figure``, ``drawn`` and ``redraws``.

Learner code that is not written yet (it raises ``NotImplementedError``) or that fails is never
raised from a widget callback, where it would be lost: the figure shows "not implemented" (or
the error) in place of the output, and ``drawn["problem"]`` says the same.
"""

import math

import numpy as np

from dlfs.explorer import Explorer, attempt
from dlfs.plots import new_figure

CLASSIC_KERNELS = {
    "identity": np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
    "box blur": np.full((3, 3), 1.0 / 9.0),
    "Gaussian blur": np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0,
    "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
    "edge (Laplacian)": np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]),
    "Sobel x": np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]),
    "Sobel y": np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]),
}
"""Classic 3×3 image kernels, name -> (3, 3) array, applied as the network does (cross-correlation)."""

CUSTOM = "custom"  # the kernel dropdown's entry once a box has been edited

DIVERGING = "RdBu_r"  # blue < 0 < red, white at 0


def _figure(width, height):
    return new_figure(figsize=(width, height), layout="constrained")


def tile(maps, ncols=10, gap=1, fill=np.nan):
    """The maps side by side in one array, ``ncols`` per row, separated by ``gap`` pixels of ``fill``.

    Args:
        maps: (K, h, w) or (K, h, w, 3).
        ncols: maps per row (fewer when K is smaller).

    Returns:
        (rows * (h + gap) - gap, cols * (w + gap) - gap[, 3]); map k's block starts at row
        ``(k // cols) * (h + gap)`` and column ``(k % cols) * (w + gap)``.
    """
    maps = np.asarray(maps, dtype=np.float64)
    k, h, w = maps.shape[:3]
    cols = max(1, min(ncols, k))
    rows = max(1, math.ceil(k / cols))
    mosaic = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap) + maps.shape[3:], fill)
    for i in range(k):
        top, left = (i // cols) * (h + gap), (i % cols) * (w + gap)
        mosaic[top:top + h, left:left + w] = maps[i]
    return mosaic


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _check_filters(W):
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 4 or W.shape[1] not in (1, 3):
        raise ValueError(f"filters must have the shape (FN, C, FH, FW) with C = 1 or 3, got {W.shape}")
    return W


def _limit(values):
    return float(np.abs(values).max()) if values.size else 0.0


def filter_grid(W, ncols=10, limit=None, title=None, size=0.55):
    """The filters as a grid of small images on one colour scale.

    Args:
        W: (FN, C, FH, FW) weights of a convolution layer, C = 1 (grayscale input) or 3 (RGB).
        ncols: filters per row.
        limit: the colour scale runs from -limit to +limit (default: the largest |W|), shared by all
            filters. C = 1: blue < 0 < red; C = 3: each channel as 0.5 + w / (2 limit), mid grey = 0.
        title: the figure's title (default: the number of filters and the scale).
        size: inches per filter.

    Returns:
        A matplotlib Figure; ``fig.axes[0].images[0]`` holds ``tile`` of the filters
        (C = 1: (FN, FH, FW) values; C = 3: the (FN, FH, FW, 3) colours); C = 1 adds a colour bar.
    """
    W = _check_filters(W)
    fn, c, fh, fw = W.shape
    limit = _limit(W) if limit is None else float(limit)
    bound = limit if limit > 0 else 1.0
    cols = max(1, min(ncols, fn))
    rows = math.ceil(fn / cols)
    fig = _figure(size * cols * max(fw, 3) / 5 + 1.4, size * rows * max(fh, 3) / 5 + 0.6)
    ax = fig.subplots()
    _bare(ax)
    if c == 1:
        shown = ax.imshow(tile(W[:, 0], ncols), cmap=DIVERGING, vmin=-bound, vmax=bound)
        fig.colorbar(shown, ax=ax, shrink=0.8)
        scale = f"colour scale ±{limit:.3g} (blue < 0 < red)"
    else:
        colours = np.clip(0.5 + W.transpose(0, 2, 3, 1) / (2 * bound), 0.0, 1.0)
        ax.imshow(tile(colours, ncols, fill=1.0))
        scale = f"RGB, mid grey = 0, ±{limit:.3g} saturates"
    ax.set_title(title or f"{fn} filters {c}×{fh}×{fw}, {scale}", fontsize=9)
    return fig


class FilterViewer(Explorer):
    """A slider over first-layer filters saved during training.

    Args:
        snapshots: list of ``(label, W)``, e.g. ``[("step 0", W0), ("step 100", W100), ...]``, with W
            the (FN, C, FH, FW) weights of the first convolution layer (C = 1 or 3) at that time.
            Labels must be distinct.
        ncols: filters per row.
        scale: "snapshot" — one colour scale per snapshot, shared by its filters (±its largest
            |W|: the filters' contrast against each other); "all" — one scale for every snapshot
            (±the largest |W| of all: the weights' growth over training). The title says which.
        initial: the label shown first (default: the last snapshot, the trained filters).

    Attributes:
        slider: the ``SelectionSlider`` over the labels (its ``.value`` is a label).
        drawn: ``{"label": ..., "weights": W, "limit": colour-scale bound}`` of the last redraw.
        figure, image, png, redraws, widget: see :class:`dlfs.explorer.Explorer`.
    """

    def __init__(self, snapshots, ncols=10, scale="snapshot", initial=None):
        import ipywidgets as widgets

        super().__init__()
        self.snapshots = {}
        for label, W in snapshots:
            if label in self.snapshots:
                raise ValueError(f"FilterViewer: the label {label!r} is used twice")
            self.snapshots[label] = _check_filters(W).copy()
        if not self.snapshots:
            raise ValueError("FilterViewer needs at least one (label, W) snapshot")
        if scale not in ("snapshot", "all"):
            raise ValueError(f'FilterViewer: scale must be "snapshot" or "all", got {scale!r}')
        labels = list(self.snapshots)
        if initial is not None and initial not in self.snapshots:
            raise ValueError(f"FilterViewer: no snapshot labelled {initial!r}")
        self.ncols = ncols
        self.scale = scale
        self._all_limit = max(_limit(W) for W in self.snapshots.values())
        self.slider = widgets.SelectionSlider(options=[(str(label), label) for label in labels],
                                              value=labels[-1] if initial is None else initial,
                                              description="snapshot", continuous_update=False,
                                              layout=widgets.Layout(width="420px"))
        self._watch(self.slider)
        self.widget = widgets.VBox([self.slider, self.image])
        self.redraw()

    def describe(self):
        return f"filters at {self.slider.value}"

    def redraw(self):
        label = self.slider.value
        W = self.snapshots[label]
        fn, c, fh, fw = W.shape
        if self.scale == "all":
            limit, shared = self._all_limit, "one scale for all snapshots"
        else:
            limit, shared = _limit(W), "scale of this snapshot"
        colours = "blue < 0 < red" if c == 1 else "RGB, mid grey = 0"
        title = f"{label}: {fn} filters {c}×{fh}×{fw}; ±{limit:.3g} ({shared}; {colours})"
        fig = filter_grid(W, self.ncols, limit=limit, title=title)
        self._set_figure(fig, {"label": label, "weights": W, "limit": limit})


def _problem(call, problem):
    """What the figure says when the learner's code did not answer."""
    hint = " — finish the exercise it uses,\nthen run this cell again" if problem == "not implemented" else ""
    return f"{call}: {problem}{hint}"


def _message(ax, text):
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, wrap=True)


def _show_image(ax, picture):
    """(C, H, W) with C = 1 or 3, or (H, W): grayscale or RGB (min-max normalized)."""
    picture = np.asarray(picture, dtype=np.float64)
    if picture.ndim == 3 and picture.shape[0] == 1:
        picture = picture[0]
    if picture.ndim == 3:
        picture = picture.transpose(1, 2, 0)
        low, high = picture.min(), picture.max()
        ax.imshow((picture - low) / (high - low + 1e-12))
    else:
        ax.imshow(picture, cmap="gray")
    _bare(ax)


def _stage_maps(value):
    """A stage's output as (K, h, w) maps, or a (1, D) vector as a (1, 1, D) strip."""
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 4 and value.shape[0] == 1:
        return value[0]
    if value.ndim == 2 and value.shape[0] == 1:
        return value[None]
    raise ValueError(f"expected an array of shape (1, K, h, w) or (1, D), got {value.shape}")


class FeatureMaps(Explorer):
    """A slider over test images; the feature maps each stage of a network makes of the chosen one.

    Args:
        images: (N, C, H, W) test images ((N, H, W) is read as C = 1).
        stages: function ``stages(x) -> mapping stage name -> array`` for ``x`` of shape (1, C, H, W),
            in order, each array (1, K, h, w) (or (1, D) for a fully connected stage, drawn as a
            strip), e.g. ``{"convolution": ..., "ReLU": ..., "max-pooling": ...}``; the notebook
            builds it from the learner's trained layers.
        labels: (N,) true labels, shown with the image (optional).
        max_maps: at most this many maps per stage are drawn (the first ones).
        ncols: maps per row.
        index: the image shown first.

    Each stage's maps share one colour scale (said in the stage's title): blue < 0 < red when the
    stage has negative values, else black (0) to yellow (the largest value).

    Attributes:
        slider: the ``IntSlider`` over image indices.
        drawn: ``{"index": i, "label": label or None, "image": x (1, C, H, W),
            "stages": {name: array as returned} or None, "problem": None or the message}``.
        figure, image, png, redraws, widget: see :class:`dlfs.explorer.Explorer`.
    """

    def __init__(self, images, stages, labels=None, max_maps=30, ncols=10, index=0):
        import ipywidgets as widgets

        super().__init__()
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"FeatureMaps needs images of shape (N, C, H, W), got {images.shape}")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"FeatureMaps: {len(labels)} labels for {len(images)} images")
        self.images = images
        self.stages = stages
        self.labels = None if labels is None else np.asarray(labels)
        self.max_maps = max_maps
        self.ncols = ncols
        self.slider = widgets.IntSlider(value=index, min=0, max=len(images) - 1, description="test image",
                                        continuous_update=False)
        self.label = widgets.Label()
        self._watch(self.slider)
        self.widget = widgets.VBox([widgets.HBox([self.slider, self.label]), self.image])
        self.redraw()

    def describe(self):
        return self._caption(self.slider.value)

    def _caption(self, index):
        text = f"test image {index}"
        return text if self.labels is None else f"{text}, label {self.labels[index]}"

    def redraw(self):
        index = int(self.slider.value)
        x = self.images[index:index + 1]
        result, problem = attempt(self.stages, x)
        maps = {}
        if problem is None:
            try:
                maps = {name: _stage_maps(value) for name, value in dict(result).items()}
            except (TypeError, ValueError) as error:
                problem = f"error: cannot draw what stages(x) returned: {error}"
        self.label.value = self._caption(index)
        fig = self._draw(x[0], maps, problem, self._caption(index))
        stages = None if problem else dict(result)
        self._set_figure(fig, {"index": index, "label": None if self.labels is None else self.labels[index],
                               "image": x, "stages": stages, "problem": problem})

    def _draw(self, picture, maps, problem, caption):
        width = 9.0
        heights = [1.8]
        for stage in maps.values():
            shown = stage[:self.max_maps]
            cols = min(self.ncols, len(shown))
            rows = math.ceil(len(shown) / cols)
            h, w = shown.shape[1:]
            aspect = rows * (h + 1) / (cols * (w + 1))
            heights.append(max(0.5, min(width * aspect, 6.0)) + 0.35)
        if problem:
            heights.append(1.0)
        fig = _figure(width, sum(heights))
        axes = fig.subplots(len(heights), 1, height_ratios=heights, squeeze=False)[:, 0]
        _show_image(axes[0], picture)
        axes[0].set_title(caption, fontsize=10)
        for ax, (name, stage) in zip(axes[1:], maps.items()):
            shown = stage[:self.max_maps]
            k, h, w = stage.shape
            mosaic = tile(shown, self.ncols)
            low, high = float(np.nanmin(mosaic)), float(np.nanmax(mosaic))
            if low < 0:
                bound = max(-low, high)
                ax.imshow(mosaic, cmap=DIVERGING, vmin=-bound, vmax=bound, aspect="auto" if h == 1 else None)
                scale = f"±{bound:.3g}, blue < 0 < red"
            else:
                ax.imshow(mosaic, cmap="inferno", vmin=0, vmax=high if high > 0 else 1.0,
                                  aspect="auto" if h == 1 else None)
                scale = f"0 … {high:.3g}"
            _bare(ax)
            what = f"{w} values" if (k, h) == (1, 1) else f"{k} maps {h}×{w}"
            first = f", first {len(shown)} shown" if len(shown) < k else ""
            ax.set_title(f"{name}: {what}{first}; colour scale {scale}", fontsize=9)
        if problem:
            _message(axes[-1], _problem("stages(x)", problem))
        return fig


class ConvolutionExplorer(Explorer):
    """Classic 3×3 kernels (and your own) applied to an image with your convolution.

    Args:
        image: (H, W) grayscale image.
        convolve: function ``convolve(image2d, kernel2d) -> 2-D output``; the notebook builds it on
            the learner's convolution (with or without padding: whatever comes back is drawn).
        kernels: mapping name -> (3, 3) array offered in the dropdown (default :data:`CLASSIC_KERNELS`).

    Choosing a kernel in the dropdown fills the nine boxes and redraws once. Editing a box applies
    the edited kernel (the dropdown then shows "custom") and redraws once. Choosing "custom" in the
    dropdown changes nothing.

    Attributes:
        kernel: the ``Dropdown`` of kernel names (plus "custom").
        boxes: the nine ``FloatText`` widgets, row by row (``boxes[3 * row + column]``).
        drawn: ``{"name": kernel name or "custom", "kernel": (3, 3), "output": 2-D array or None,
            "problem": None or the message}``.
        figure, image, png, redraws, widget: see :class:`dlfs.explorer.Explorer`.
    """

    def __init__(self, image, convolve, kernels=None):
        import ipywidgets as widgets

        super().__init__()
        image = np.asarray(image, dtype=np.float64)
        if image.ndim != 2:
            raise ValueError(f"ConvolutionExplorer needs a 2-D (H, W) image, got {image.shape}")
        self.input = image
        self.convolve = convolve
        self.kernels = {}
        for name, kernel in (CLASSIC_KERNELS if kernels is None else kernels).items():
            kernel = np.asarray(kernel, dtype=np.float64)
            if kernel.shape != (3, 3):
                raise ValueError(f"ConvolutionExplorer: kernel {name!r} must be 3×3, got {kernel.shape}")
            self.kernels[name] = kernel
        if not self.kernels or CUSTOM in self.kernels:
            raise ValueError(f"ConvolutionExplorer needs at least one kernel, none named {CUSTOM!r}")
        first = next(iter(self.kernels))
        self.kernel = widgets.Dropdown(options=[*self.kernels, CUSTOM], value=first, description="kernel")
        self.boxes = [widgets.FloatText(value=float(v), step=0.1, layout=widgets.Layout(width="72px"))
                      for v in self.kernels[first].ravel()]
        self._filling = False
        self.kernel.observe(self._on_kernel, names="value")
        for box in self.boxes:
            box.observe(self._on_box, names="value")
        grid = widgets.VBox([widgets.HBox(self.boxes[r * 3:r * 3 + 3]) for r in range(3)])
        self.widget = widgets.VBox([widgets.HBox([self.kernel, grid]), self.image])
        self.redraw()

    def current_kernel(self):
        """The (3, 3) kernel the boxes hold."""
        return np.array([box.value for box in self.boxes], dtype=np.float64).reshape(3, 3)

    def describe(self):
        return f"kernel {self.kernel.value}"

    def _on_kernel(self, change):
        if change["new"] == CUSTOM:
            return
        self._filling = True                # the nine boxes change: redraw once, after the last
        try:
            for box, value in zip(self.boxes, self.kernels[change["new"]].ravel()):
                box.value = float(value)
        finally:
            self._filling = False
        self.redraw()

    def _on_box(self, change):
        if self._filling:
            return
        self.kernel.value = CUSTOM          # _on_kernel leaves "custom" alone: no second redraw
        self.redraw()

    def redraw(self):
        kernel = self.current_kernel()
        output, problem = attempt(self.convolve, self.input.copy(), kernel.copy())
        if problem is None:
            output = np.asarray(output, dtype=np.float64)
            if output.ndim != 2:
                problem = f"error: convolve returned shape {output.shape}, not a 2-D image"
        if problem:
            output = None
        name = self.kernel.value
        fig = _figure(9.0, 3.3)
        axes = fig.subplots(1, 3, width_ratios=[1.0, 0.8, 1.0])
        _show_image(axes[0], self.input)
        axes[0].set_title(f"input {self.input.shape[0]}×{self.input.shape[1]}", fontsize=9)
        _draw_kernel(axes[1], kernel)
        axes[1].set_title(f"kernel: {name}", fontsize=9)
        if output is None:
            _message(axes[2], _problem("convolve(image, kernel)", problem))
            axes[2].set_title(f"output: {problem.split(':')[0]}", fontsize=9)
        else:
            _show_image(axes[2], output)
            axes[2].set_title(f"output {output.shape[0]}×{output.shape[1]}, "
                              f"{output.min():.3g} … {output.max():.3g}", fontsize=9)
        self._set_figure(fig, {"name": name, "kernel": kernel, "output": output, "problem": problem})


def _draw_kernel(ax, kernel):
    """The kernel's weights as colours (blue < 0 < red) with each number written on its cell."""
    bound = _limit(kernel) or 1.0
    ax.imshow(kernel, cmap=DIVERGING, vmin=-bound, vmax=bound)
    for (row, col), value in np.ndenumerate(kernel):
        ax.text(col, row, f"{value:.3g}", ha="center", va="center", fontsize=9,
                color="white" if abs(value) > 0.6 * bound else "black")
    _bare(ax)


def _duration(seconds):
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= factor:
            return f"{seconds / factor:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def speed_figure(timings, log=False, title="time per call"):
    """Horizontal bars of measured times, each labelled with its speed-up over the slowest.

    Args:
        timings: mapping name -> seconds (e.g. ``{"naive loops": 2.1, "im2col": 0.012}``), positive.
        log: a logarithmic time axis (for times that differ by orders of magnitude).
        title: the figure's title.

    Returns:
        A Figure whose axis holds one bar per entry, in order from the top; each bar's text is
        "<time>  (×<slowest / time>)", "slowest" on the slowest.
    """
    if not timings:
        raise ValueError("speed_figure needs at least one timing")
    names = list(timings)
    seconds = np.array([float(timings[name]) for name in names])
    if not np.all(np.isfinite(seconds)) or np.any(seconds <= 0):
        raise ValueError(f"speed_figure needs positive times, got {dict(zip(names, seconds))}")
    slowest = seconds.max()
    fig = _figure(6.5, 0.55 * len(names) + 1.0)
    ax = fig.subplots()
    positions = np.arange(len(names))[::-1]
    ax.barh(positions, seconds, color=[f"C{i}" for i in range(len(names))])
    ax.set_yticks(positions, names)
    if log:
        ax.set_xscale("log")
        ax.set_xlim(seconds.min() / 3, slowest * 30)
    else:
        ax.set_xlim(0, slowest * 1.6)
    for position, value in zip(positions, seconds):
        speedup = "slowest" if value == slowest else f"×{slowest / value:.3g} faster"
        ax.text(value, position, f"  {_duration(value)}  ({speedup})", va="center", fontsize=9)
    ax.set_xlabel("seconds" + (" (log scale)" if log else ""))
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return fig
