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
"""

import os
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

FEEDBACK_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")  # dlfs_feedback/
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
