"""Diagnostics for initialization and regularization (chapter 05): figures and widgets.

Everything here *draws*; nothing computes a network. The notebook passes in what it
computed with the learner's own layers — per-layer activations, per-layer gradient
norms, training histories — or a function that computes them, so this module holds
no solution of any exercise.

- :func:`activation_histograms` — one row of per-layer histograms per setting;
- :func:`gradient_norms_figure` — ||dW|| per layer, one line per setting;
- :func:`train_val_curves` / :func:`overfitting_figure` — train vs validation accuracy (and loss);
- :func:`setup_comparison_figure` — training set-ups side by side (chapter 07): loss and per-layer
  gradient norms over the epochs, validation accuracy;
- :class:`InitExplorer` — widgets choosing the initialization and the activation,
  redrawing the histograms computed by a function you pass in;
- :class:`RegularizationExplorer` — sliders for the weight decay λ and the drop rate
  over precomputed training runs.

The explorers are real ipywidgets (see :mod:`dlfs.explorer`). :meth:`show` displays them together with a PNG of
the current figure in the same output, so a saved notebook, nbconvert or nbgrader's
feedback HTML (no live widgets) still shows a picture. Their callbacks can be driven
without a browser: set a control's ``.value`` and read :attr:`figure` / :attr:`drawn`.
"""

import numpy as np

from dlfs.explorer import Explorer
from dlfs.plots import new_figure


def _new_figure(width, height):
    return new_figure(figsize=(width, height), layout="constrained")


def activation_histograms(activations, bins=30, value_range=None, skip_zeros=False, title=None, size=1.6,
                          layer_names=None):
    """Histograms of each layer's activations, one row per setting.

    Args:
        activations: mapping label -> list of arrays, the outputs of layer 1, 2, ... (any shape;
            flattened). Rows may have different numbers of layers.
        bins: number of histogram bins.
        value_range: (low, high) for every panel; None: one range per row (its smallest and largest
            value); "panel": each panel its own range.
        skip_zeros: leave out values that are exactly 0 (the half of a ReLU's outputs that would
            otherwise hide the rest); the title then says which fraction was 0.
        title: the figure's title.
        size: inches per panel.
        layer_names: the columns' names (default "layer 1", "layer 2", ...).

    Returns:
        A matplotlib Figure; panel (row r, column l) is ``fig.axes[r * n_layers + l]``.
    """
    labels = list(activations)
    if not labels:
        raise ValueError("activation_histograms needs at least one setting")
    n_layers = max(len(v) for v in activations.values())
    fig = _new_figure(size * n_layers + 0.8, size * 0.85 * len(labels) + (0.4 if title else 0.1))
    axes = fig.subplots(len(labels), n_layers, squeeze=False)
    for r, label in enumerate(labels):
        layers = [np.asarray(a, dtype=np.float64).ravel() for a in activations[label]]
        finite = [a[np.isfinite(a)] for a in layers]
        shown = [a[a != 0] if skip_zeros else a for a in finite]
        row_range = value_range if value_range is not None and value_range != "panel" else None
        if value_range is None:
            values = np.concatenate(shown) if shown else np.zeros(0)
            row_range = _span(values)
        for col in range(n_layers):
            ax = axes[r, col]
            ax.tick_params(labelsize=6)
            if col >= len(finite):
                ax.set_axis_off()
                continue
            panel_range = row_range if row_range is not None else _span(shown[col])
            ax.hist(shown[col], bins=bins, range=panel_range, color=f"C{r}")
            ax.set_yticks([])
            std = float(finite[col].std()) if finite[col].size else float("nan")
            name = layer_names[col] if layer_names is not None else f"layer {col + 1}"
            text = f"{name}  (std {std:.2g})"
            if skip_zeros and finite[col].size:
                text += f"\n{np.mean(finite[col] == 0):.0%} zeros not shown"
            ax.set_title(text, fontsize=7)
        axes[r, 0].set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _span(values):
    """(low, high) of the values, never empty."""
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return low, high


def gradient_norms_figure(norms, title="gradient norm per layer", ylabel="‖dW‖"):
    """Per-layer gradient norms as lines on a log axis.

    Args:
        norms: mapping panel title -> (mapping setting label -> sequence of per-layer norms), e.g.
            ``{"sigmoid": {"Xavier": [...], "He": [...]}, "ReLU": {...}}``; or directly
            ``{setting label -> norms}`` for a single panel.

    Returns:
        A matplotlib Figure with one panel per entry of the outer mapping.
    """
    if norms and all(not isinstance(v, dict) for v in norms.values()):
        norms = {"": norms}
    fig = _new_figure(4.2 * len(norms), 3.2)
    axes = fig.subplots(1, len(norms), squeeze=False)[0]
    for ax, (panel, lines) in zip(axes, norms.items()):
        for i, (label, values) in enumerate(lines.items()):
            values = np.asarray(values, dtype=np.float64)
            shown = np.where(values > 0, values, np.nan)
            ax.plot(np.arange(1, len(values) + 1), shown, "o-", color=f"C{i}", label=label)
        ax.set_yscale("log")
        ax.set(xlabel="layer", ylabel=ylabel, title=panel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    return fig


def _smoothed(values, window):
    """Running mean of the finite values among the last ``window`` (fewer at the start); nan where a value is not
    finite."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    sums, counts = np.cumsum(np.where(finite, values, 0.0)), np.cumsum(finite)
    before = lambda running: np.concatenate([np.zeros(window), running])[:len(values)]  # noqa: E731
    in_window = counts - before(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (sums - before(sums)) / in_window
    return np.where(finite & (in_window > 0), means, np.nan)


def setup_comparison_figure(histories, layer_names=("W1", "W2"), title="training set-ups compared"):
    """Several training runs side by side: what went wrong shows in the loss and the gradients.

    Args:
        histories: mapping label -> history with "loss" (one value per step), "grad_norms" ((steps, L):
            the norm of each layer's weight gradient at every step), "val_acc" (one value per epoch) and
            "steps_per_epoch". Runs of different batch sizes share the x axis, which counts epochs.
        layer_names: the L layers' names, for the legend.

    Returns:
        A Figure of three panels: the loss (a running mean over 5 % of an epoch, log axis; a cross marks
        where it stopped being finite), the gradient norms per layer (solid: first layer, dashed:
        second), and the final validation accuracy of each run.
    """
    fig = _new_figure(13.5, 3.6)
    loss_ax, grad_ax, acc_ax = fig.subplots(1, 3, width_ratios=[1.2, 1.2, 0.8])
    styles = ("-", "--", ":", "-.")
    for i, (label, history) in enumerate(histories.items()):
        color = f"C{i % 10}"
        per_epoch = max(1, int(history["steps_per_epoch"]))
        losses = np.asarray(history["loss"], dtype=np.float64)
        epochs = np.arange(1, len(losses) + 1) / per_epoch
        loss_ax.plot(epochs, _smoothed(losses, max(1, per_epoch // 20)), color=color, label=label)
        broken = np.flatnonzero(~np.isfinite(losses))
        if broken.size:
            last = losses[:broken[0]]
            loss_ax.plot(epochs[broken[0]], last[-1] if last.size and np.isfinite(last[-1]) else 1.0, "x",
                         color=color, markersize=9, markeredgewidth=2)
        norms = np.asarray(history["grad_norms"], dtype=np.float64).reshape(len(losses), -1)
        for layer, name in enumerate(layer_names[:norms.shape[1]]):
            shown = np.where(np.isfinite(norms[:, layer]) & (norms[:, layer] > 0), norms[:, layer], np.nan)
            grad_ax.plot(epochs, _smoothed(shown, max(1, per_epoch // 20)), styles[layer % len(styles)], color=color,
                         label=f"{label}: ‖d{name}‖")
        accuracy = float(history["val_acc"][-1])
        acc_ax.barh(i, accuracy if np.isfinite(accuracy) else 0.0, color=color)
        acc_ax.text(0.01, i, f"{accuracy:.0%}", va="center", fontsize=8)
    loss_ax.set(yscale="log", xlabel="epoch", ylabel="training loss (running mean)", title="loss (× where it became nan)")
    grad_ax.set(yscale="log", xlabel="epoch", ylabel="gradient norm (running mean)",
                title="per-layer gradient norms (solid: first layer)\na line ends where they became 0 or nan")
    acc_ax.set(xlim=(0, 1), xlabel="validation accuracy", title="after the last epoch",
               yticks=range(len(histories)), yticklabels=list(histories))
    acc_ax.invert_yaxis()
    acc_ax.tick_params(axis="y", labelsize=7)
    for ax in (loss_ax, grad_ax):
        ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=7)
    fig.suptitle(title)
    return fig


_METRICS = {"acc": "accuracy", "loss": "loss"}


_SPLITS = (("train", "train", "-"), ("val", "validation", "--"))


def train_val_curves(ax, history, metric="acc", label="", color="C0", faded=False):
    """Draw one run's train (solid) and validation (dashed) curves per epoch on ``ax``.

    Args:
        history: mapping with "train_<metric>" and "val_<metric>" lists (one value per epoch).
        metric: "acc" or "loss".
    """
    alpha = 0.35 if faded else 1.0
    width = 1.0 if faded else 1.6
    for split, name, style in _SPLITS:
        values = history.get(f"{split}_{metric}", [])
        ax.plot(np.arange(1, len(values) + 1), values, style, color=color, alpha=alpha, lw=width,
                label=f"{label} {name}".strip())


def _metrics(histories):
    """The metrics every history records: accuracy always, the loss when present."""
    return ["acc"] + (["loss"] if all("train_loss" in h and "val_loss" in h for h in histories) else [])


def _style(ax, metric):
    ax.set(xlabel="epoch", ylabel=_METRICS[metric])
    if metric == "acc":
        ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right" if metric == "acc" else "upper right")


def _run_title(key):
    lam, rate = key
    parts = []
    parts.append(f"λ = {lam:g}" if lam else "no weight decay")
    parts.append(f"drop rate {rate:g}" if rate else "no dropout")
    return ", ".join(parts)


def _gap(history):
    train, val = history.get("train_acc", []), history.get("val_acc", [])
    if not train or not val:
        return float("nan")
    return float(train[-1]) - float(val[-1])


def overfitting_figure(runs, keys=None, title="train vs validation"):
    """Train/validation curves of several runs side by side (a static comparison): accuracy in the first
    row, and the loss in a second row when the histories record it.

    Args:
        runs: mapping (weight decay λ, drop rate) -> history with "train_acc" and "val_acc" (and
            optionally "train_loss" and "val_loss"), one value per epoch.
        keys: the runs to show, in order (default: all).

    Returns:
        A Figure; ``fig.axes[row * len(keys) + column]``.
    """
    keys = list(runs) if keys is None else list(keys)
    metrics = _metrics([runs[k] for k in keys])
    fig = _new_figure(3.6 * len(keys), 3.0 * len(metrics))
    axes = fig.subplots(len(metrics), len(keys), squeeze=False, sharey="row")
    for row, metric in enumerate(metrics):
        for i, key in enumerate(keys):
            ax = axes[row, i]
            history = runs[key]
            train_val_curves(ax, history, metric, color=f"C{i}")
            _style(ax, metric)
            if row == 0:
                ax.set_title(f"{_run_title(key)}\nfinal accuracy gap {_gap(history):.2f}", fontsize=9)
    fig.suptitle(title)
    return fig


class InitExplorer(Explorer):
    """Choose an initialization and an activation; see the per-layer activation histograms.

    Args:
        compute: function ``compute(init_label, activation_label) -> list of arrays`` returning the
            activations of layer 1, 2, ... of the network built with that setting (the notebook
            passes a function built on the learner's initializers and layers).
        inits: the initialization labels offered (e.g. ["σ = 0.01", "σ = 1", "Xavier", "He"]).
        activations: the activation labels offered (e.g. ["sigmoid", "ReLU"]).
        histogram_options: optional mapping activation label -> keyword arguments of
            :func:`activation_histograms` (e.g. ``{"sigmoid": {"value_range": (0, 1)}}``).

    Attributes:
        init, activation: the widgets (a Dropdown and ToggleButtons).
        drawn: ``{"init": ..., "activation": ..., "activations": [...]}`` of the last redraw.
        figure: the last Figure.
    """

    def __init__(self, compute, inits, activations, histogram_options=None):
        import ipywidgets as widgets

        super().__init__()
        self.compute = compute
        self.histogram_options = dict(histogram_options or {})
        self.init = widgets.Dropdown(options=list(inits), description="init")
        self.activation = widgets.ToggleButtons(options=list(activations), description="activation")
        self._watch(self.init, self.activation)
        self.widget = widgets.VBox([widgets.HBox([self.init, self.activation]), self.image])
        self.redraw()

    def describe(self):
        return f"init {self.init.value}, activation {self.activation.value}"

    def redraw(self):
        init, activation = self.init.value, self.activation.value
        layers = [np.asarray(a) for a in self.compute(init, activation)]
        fig = activation_histograms({f"{init}, {activation}": layers},
                                    title=f"activations per layer: {init} with {activation}",
                                    **self.histogram_options.get(activation, {}))
        self._set_figure(fig, {"init": init, "activation": activation, "activations": layers})


class RegularizationExplorer(Explorer):
    """Sliders for the weight decay λ and the drop rate over precomputed training runs.

    Args:
        runs: mapping (λ, drop rate) -> history with "train_acc" and "val_acc" (per epoch), and
            optionally "train_loss" and "val_loss" (then a second panel shows the loss).
            Every combination of the λ values and drop rates present should be a key; a missing
            combination is drawn as an empty panel saying so.
        baseline: the key drawn faded for comparison (default (0, 0) if present).
        initial: the key shown first (default: the middle λ of the slider, the lower middle one for an even
            number of values, and the smallest drop rate), so that the first view leaves room to explore both
            ways.

    Attributes:
        lam, rate: the two SelectionSlider widgets.
        drawn: ``{"key": (λ, rate), "history": ...}`` of the last redraw (history None if missing).
        figure: the last Figure.
    """

    def __init__(self, runs, baseline=(0.0, 0.0), initial=None):
        import ipywidgets as widgets

        super().__init__()
        if not runs:
            raise ValueError("RegularizationExplorer needs at least one run")
        self.runs = {(float(k[0]), float(k[1])): v for k, v in runs.items()}
        self.baseline = (float(baseline[0]), float(baseline[1])) if baseline is not None else None
        lams = sorted({k[0] for k in self.runs})
        rates = sorted({k[1] for k in self.runs})
        first = (lams[(len(lams) - 1) // 2], rates[0]) if initial is None else (float(initial[0]), float(initial[1]))
        if first[0] not in lams or first[1] not in rates:
            raise ValueError(f"RegularizationExplorer: no run for initial={initial}")
        self.lam = widgets.SelectionSlider(options=[(f"{v:g}", v) for v in lams], value=first[0],
                                           description="λ (L2)")
        self.rate = widgets.SelectionSlider(options=[(f"{v:g}", v) for v in rates], value=first[1],
                                            description="drop rate")
        self._watch(self.lam, self.rate)
        self.widget = widgets.VBox([widgets.HBox([self.lam, self.rate]), self.image])
        self.redraw()

    def describe(self):
        return f"λ = {self.lam.value:g}, drop rate = {self.rate.value:g}"

    def redraw(self):
        key = (float(self.lam.value), float(self.rate.value))
        history = self.runs.get(key)
        metrics = _metrics(list(self.runs.values()))
        fig = _new_figure(4.6 * len(metrics), 3.6)
        axes = fig.subplots(1, len(metrics), squeeze=False)[0]
        for ax, metric in zip(axes, metrics):
            if self.baseline is not None and self.baseline != key and self.baseline in self.runs:
                train_val_curves(ax, self.runs[self.baseline], metric, label="no regularization",
                                  color="gray", faded=True)
            if history is None:
                ax.text(0.5, 0.5, f"no run computed for\n{_run_title(key)}", ha="center", va="center",
                        transform=ax.transAxes)
            else:
                train_val_curves(ax, history, metric, label="this run", color="C0")
            _style(ax, metric)
        if history is None:
            fig.suptitle(_run_title(key))
        else:
            fig.suptitle(f"{_run_title(key)}: final accuracy train {history['train_acc'][-1]:.2f}, "
                         f"validation {history['val_acc'][-1]:.2f}")
        self._set_figure(fig, {"key": key, "history": history})
