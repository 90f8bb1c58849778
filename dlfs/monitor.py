"""A training monitor: a live loss (and accuracy) curve with a progress bar.

Usage in a notebook::

    monitor = TrainingMonitor(total=n_steps, title="gradient descent")
    for step in range(n_steps):
        ...
        monitor.update(loss=loss)                 # or update(loss=..., accuracy=...)
    monitor.close()

In JupyterLab the figure and the progress line (step, elapsed time, time left,
latest loss/accuracy) redraw in place while the loop runs (at most a few times per second, so the monitor costs little). The output is
an ordinary image updated through a display id, so wherever there is no live
frontend (nbconvert, nbgrader's feedback HTML) the notebook keeps the final,
static figure. Outside IPython nothing is displayed; :meth:`figure` still builds
the plot.
"""

import base64
import html
import io
import time

from dlfs.plots import new_figure


def _in_ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


GRADED_CELL_SECONDS = 60  # the time a cell gets when a notebook is graded (nbgrader_config.py, dlfs grade)


def announce_full_run(full_run, minutes, what="the full training"):
    """Say, before a long opt-in run starts, how long it will take and that grading never runs it.

    Args:
        full_run: the notebook's FULL_RUN switch.
        minutes: how long the full run takes on a 2-core laptop (benchmarks/full_runs/ records it).
        what: what the run does, for the message.
    Returns the message printed, or None when nothing needed saying.
    """
    if not full_run or minutes * 60 <= GRADED_CELL_SECONDS:
        return None
    message = (f"FULL_RUN = True: {what} takes about {_clock(minutes * 60)} on a 2-core laptop, longer than the "
               f"{GRADED_CELL_SECONDS} s a cell gets when a notebook is graded. That is fine here: grading always "
               "runs the short version (FULL_RUN = False).")
    print(message)
    return message


def _clock(seconds):
    """A duration as people read it: 4.2 s, 1 min 05 s, 1 h 02 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class TrainingMonitor:
    """Records metrics per step and shows them as curves with a progress bar.

    Args:
        total: the number of updates expected (for the progress bar), or None.
        title: the figure's title.
        every: minimum seconds between two redraws (the last state is always drawn on close).
        log_loss: plot the loss on a logarithmic axis.
        display: show live output; None means "if running inside IPython".
        steps_per_update: training steps between two updates (the x axis counts training steps).
        xlabel: what the x axis counts, e.g. "training step (one mini-batch of 100 images)".
        labels: {metric: y-axis label}, e.g. {"loss": "loss on 1000 training images"}.
        steps_per_epoch: if given, an epoch axis along the top.
    """

    def __init__(self, total=None, title="training", every=0.5, log_loss=False, display=None,
                 steps_per_update=1, xlabel="step", labels=None, steps_per_epoch=None):
        self.total = total
        self.title = title
        self.every = every
        self.log_loss = log_loss
        self.steps_per_update = steps_per_update
        self.xlabel = xlabel
        self.labels = dict(labels or {})
        self.steps_per_epoch = steps_per_epoch
        self.history = {}
        self.steps = 0
        self._started = time.perf_counter()
        self._last_draw = float("-inf")
        self._handle = None
        self._live = _in_ipython() if display is None else display

    def update(self, **metrics):
        """Record one step's metrics (e.g. ``loss=0.3, accuracy=0.9``) and redraw if due."""
        for name, value in metrics.items():
            self.history.setdefault(name, []).append(float(value))
        self.steps += 1
        if self._live and time.perf_counter() - self._last_draw >= self.every:
            self._draw()

    def close(self):
        """Draw the final state; returns the history (name -> list of values)."""
        if self._live:
            self._draw()
        return self.history

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def progress_text(self):
        """One line: the step, the time so far and the time left (from the pace so far), the latest metrics."""
        elapsed = time.perf_counter() - self._started
        latest = ", ".join(f"{k} {v[-1]:.4g}" for k, v in self.history.items() if v)
        of_total = f"/{self.total * self.steps_per_update}" if self.total else ""
        timing = f"{_clock(elapsed)}"
        if self.total and 0 < self.steps < self.total:
            timing += f", about {_clock(elapsed / self.steps * (self.total - self.steps))} left"
        return f"{self.title}: step {self.steps * self.steps_per_update}{of_total} ({timing}) {latest}".rstrip()

    def figure(self):
        """A matplotlib Figure of every recorded metric: the loss on the left, the others beside it."""
        names = list(self.history) or ["loss"]
        fig = new_figure(figsize=(4.2 * len(names), 3.2), layout="constrained")
        for i, name in enumerate(names):
            ax = fig.add_subplot(1, len(names), i + 1)
            values = self.history.get(name, [])
            ax.plot([self.steps_per_update * k for k in range(1, len(values) + 1)], values, color=f"C{i}")
            ax.set_xlabel(self.xlabel)
            ax.set_ylabel(self.labels.get(name, name))
            if self.total:
                ax.set_xlim(0, self.steps_per_update * self.total)
            if self.steps_per_epoch:
                per_epoch = self.steps_per_epoch
                top = ax.secondary_xaxis("top", functions=(lambda s: s / per_epoch, lambda e: e * per_epoch))
                top.set_xlabel("epoch")
            if name == "loss" and self.log_loss and values and min(values) > 0:
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
        fig.suptitle(self.title)
        return fig

    def _png(self):
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def _draw(self):
        from IPython.display import display

        text = self.progress_text()
        fraction = ""
        if self.total:
            fraction = f'<progress value="{min(self.steps, self.total)}" max="{self.total}" style="width:40%"></progress> '
        bundle = {
            "text/plain": text,
            "text/html": f"<div>{fraction}<code>{html.escape(text)}</code></div>",
        }
        image = {"image/png": base64.b64encode(self._png()).decode("ascii"), "text/plain": f"<{self.title}: curves of {', '.join(self.history)}>"}
        if self._handle is None:
            self._handle = (display(bundle, raw=True, display_id=True), display(image, raw=True, display_id=True))
        else:
            self._handle[0].update(bundle, raw=True)
            self._handle[1].update(image, raw=True)
        self._last_draw = time.perf_counter()


def plot_curves(curves, title="", xlabel="step", ylabel="loss", log=False):
    """One static figure with several named curves, e.g. losses for three learning rates.

    Args:
        curves: mapping label -> sequence of values.
    """
    fig = new_figure(figsize=(5.5, 3.5), layout="constrained")
    ax = fig.add_subplot()
    for label, values in curves.items():
        ax.plot(range(len(values)), values, label=label)
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    return fig
