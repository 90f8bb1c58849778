"""Feedback that keeps hidden tests hidden.

Stock ``nbgrader generate_feedback`` renders the autograded notebook, where nbgrader has put
the hidden tests back into every test cell, so the learner would read them (their source, and
the code lines of a failing test's traceback). :class:`HideHiddenTests`, configured in
``nbgrader_config.py``, runs before the HTML is written and

- replaces the lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` by one
  comment line;
- shortens the error of every test cell to its last line, ``ErrorName: message``: the message of
  a failed check says what was expected, what was returned and what to try, without code;
- labels every graded cell with its exercise ("Exercise 2 (mse_gradients)"), which the page's list
  of scores shows instead of nbgrader's "Test cell" (template dlfs/templates/dlfs_feedback).

Feedback renders its maths offline: :class:`FeedbackExporter` (``GenerateFeedback.exporter_class`` in
``nbgrader_config.py``) replaces the MathJax that nbgrader's feedback template loads from a CDN by a
copy of MathJax 2 from the installed package ``jupyter-server-mathjax`` (requirements.txt), kept in
``autograder/mathjax/`` and referenced relatively, so the HTML shows its maths without a network, opened
from disk or served by Jupyter from the course folder.
"""

import os
import re
import shutil
from pathlib import Path

from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")  # dlfs_feedback/, formgrade/
HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*$", re.S | re.M)
HIDDEN_NOTE = "# (hidden tests ran here; their results are in the score and in the message below)"


ANSI = re.compile(r"\x1b\[[0-9;]*m")
STOPPED = ("the cell ran longer than the time limit for one cell and was stopped: "
           "look for a loop that never ends, or code far slower than it needs to be.")


def _last_line(error):
    """``ErrorName: message`` for an error output, without any code."""
    name = error.get("ename", "Error")
    if name in ("CellTimeoutError", "KeyboardInterrupt"):
        return f"{name}: {STOPPED}"
    message = error.get("evalue") or ""
    return f"{name}: {message}" if message else ANSI.sub("", (error.get("traceback") or [name])[-1])


EXERCISE = re.compile(r"\*\*(Exercise \d+|Written question)\b")


def exercise_labels(cells):
    """{grade_id: label} for every graded cell: the notebook's last "**Exercise N" (or "**Written
    question") heading before it, and the answer it grades (a test cell grades the answer cell above it)."""
    labels, heading, answer = {}, None, None
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "markdown":
            found = EXERCISE.search("".join(cell.get("source", "")))
            heading = found.group(1) if found else heading
        if meta.get("solution"):
            answer = meta.get("grade_id")
        if meta.get("grade"):
            name = answer if not meta.get("solution") and answer else meta.get("grade_id")
            labels[meta.get("grade_id")] = f"{heading} ({name})" if heading else str(name)
    return labels


def _is_test_cell(cell):
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


class HideHiddenTests(Preprocessor):
    """Remove hidden test code and traceback code lines from test cells before feedback is rendered."""

    enabled = Bool(True).tag(config=True)  # nbconvert runs a preprocessor only when enabled

    def preprocess(self, nb, resources):
        labels = exercise_labels(nb.cells)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in labels:
                cell.metadata["dlfs"] = {"label": labels[grade_id]}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if _is_test_cell(cell):
            cell.source = HIDDEN_BLOCK.sub(HIDDEN_NOTE, cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [_last_line(output)]
        return cell, resources


# MathJax 2 as jupyter-server-mathjax ships it: HTML-CSS output with the STIX-Web fonts only (no TeX
# fonts, no CommonHTML), so the page must ask for that font and that configuration.
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
MATHJAX_FONTS = ('<script type="text/x-mathjax-config">MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], '
                 'imageFont: null, preferredFont: null, webFont: "STIX-Web"}});</script>')
_MATHJAX_SCRIPT = re.compile(r"""<script[^>]*\bsrc=["'][^"']*mathjax[^"']*["'][^>]*>\s*</script>""", re.I)


def mathjax_source():
    """The folder of MathJax files (MathJax.js, config/, jax/, fonts/) of the installed jupyter-server-mathjax."""
    import jupyter_server_mathjax
    return Path(jupyter_server_mathjax.__file__).parent / "static"


def install_mathjax(folder):
    """A copy of the installed MathJax in ``folder`` (made once per package version; atomic). Returns it."""
    from importlib.metadata import version
    folder, stamp_text = Path(folder), f"jupyter-server-mathjax {version('jupyter-server-mathjax')}\n"
    stamp = folder / ".installed-from"
    if stamp.is_file() and stamp.read_text() == stamp_text and (folder / "MathJax.js").is_file():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(mathjax_source(), partial)
    (partial / stamp.name).write_text(stamp_text)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    return folder


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback HTML with MathJax from a local copy instead of a CDN."""

    mathjax_folder = Unicode("", help="Where the copy of MathJax lives (made when missing); "
                                      "mathjax_url must lead there from the feedback files.").tag(config=True)

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        if self.mathjax_folder:
            install_mathjax(self.mathjax_folder)
        return with_local_mathjax(output, self.mathjax_url), resources


def with_local_mathjax(html, url):
    """``html`` with its MathJax script tag (a CDN's) replaced by one that loads ``url``."""
    local = f'{MATHJAX_FONTS}\n<script src="{url}"></script>'
    return _MATHJAX_SCRIPT.sub(lambda match: local, html)


def offline_mathjax(html, base_url=""):
    """The formgrader's pages with the MathJax the Jupyter server serves from jupyter-server-mathjax
    (``{base_url}/static/jupyter_server_mathjax/``): a Jinja filter of dlfs/templates/formgrade."""
    return with_local_mathjax(html, f"{base_url.rstrip('/')}/static/jupyter_server_mathjax/MathJax.js?config={MATHJAX_CONFIG}")
