"""Feedback that keeps hidden tests hidden.

Stock ``nbgrader generate_feedback`` renders the autograded notebook, where nbgrader has put
the hidden tests back into every test cell, so the learner would read them (their source, and
the code lines of a failing test's traceback). :class:`HideHiddenTests`, configured in
``nbgrader_config.py``, runs before the HTML is written and

- replaces the lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` by one
  comment line;
- shortens the error of every test cell to its last line, ``ErrorName: message``: the message of
  a failed check says what was expected, what was returned and what to try, without code.
"""

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

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


def _is_test_cell(cell):
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


class HideHiddenTests(Preprocessor):
    """Remove hidden test code and traceback code lines from test cells before feedback is rendered."""

    enabled = Bool(True).tag(config=True)  # nbconvert runs a preprocessor only when enabled

    def preprocess_cell(self, cell, resources, index):
        if _is_test_cell(cell):
            cell.source = HIDDEN_BLOCK.sub(HIDDEN_NOTE, cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [_last_line(output)]
        return cell, resources
