"""The common base of the explorer widgets (chapters 05 and 06).

An explorer is real ipywidgets controls plus an ``ipywidgets.Image`` holding a PNG of the
current matplotlib figure. :meth:`Explorer.show` (also what a cell's value displays) sends the
widget view together with that PNG in one display bundle: JupyterLab shows the live widget,
while a saved notebook, nbconvert or nbgrader's feedback HTML (no live widgets) show the picture.

Callbacks can be driven without a browser: set a control's ``.value`` and read
:attr:`Explorer.figure`, :attr:`Explorer.drawn` and :attr:`Explorer.redraws`.
"""

import base64

from dlfs.plots import png_bytes


class Explorer:
    """Common machinery: an Image widget holding the current figure, and show().

    A subclass builds its controls (:meth:`_watch` redraws when their values change), sets
    :attr:`widget` (the whole interface), defines :meth:`describe` (one line for ``text/plain``)
    and ``redraw()``, which calls :meth:`_set_figure`.

    Attributes:
        image: the ``ipywidgets.Image`` showing the current figure.
        figure: the last matplotlib Figure drawn.
        png: that figure as PNG bytes (the static fallback).
        drawn: what the last redraw drew (a dict; its keys are documented by each explorer).
        redraws: how many times the figure has been drawn.
    """

    def __init__(self):
        import ipywidgets as widgets

        self.image = widgets.Image(format="png")
        self.figure = None
        self.png = b""
        self.drawn = None
        self.redraws = 0

    def _set_figure(self, fig, drawn):
        self.figure = fig
        self.drawn = drawn
        self.png = png_bytes(fig)
        self.image.value = self.png
        self.redraws += 1

    def describe(self):
        return ""

    def _watch(self, *controls):
        """Redraw whenever the value of one of these controls changes."""
        for control in controls:
            control.observe(self._changed, names="value")

    def _changed(self, change):
        self.redraw()

    def show(self):
        """Display the widgets, with a PNG of the current figure as the static fallback."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is None:
            return
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        bundle["text/plain"] = f"<{type(self).__name__}: {self.describe()}>"
        display(bundle, raw=True)

    def _ipython_display_(self):
        self.show()


def attempt(function, *args):
    """``(function(*args), None)``, or ``(None, problem)`` when the call raises.

    Explorers call the learner's code through this, so an unanswered exercise (it raises
    ``NotImplementedError``) or a bug is drawn as a message in the figure instead of being lost
    in a widget callback. ``problem`` is ``"not implemented"`` or ``"error: <Type>: <message>"``.
    """
    try:
        return function(*args), None
    except NotImplementedError:
        return None, "not implemented"
    except Exception as error:  # noqa: BLE001 - a learner's bug is shown, not raised
        return None, f"error: {type(error).__name__}: {error}"
