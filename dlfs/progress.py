"""How far a learner has got, chapter by chapter, read from their notebooks in workspace/ as last saved.

    python3 -m dlfs progress        # the table in the terminal
    workspace/START.ipynb           # the same table as a page, with a link to each chapter

For each chapter: the exercises attempted (answer cells, written answers included, that differ from
the release's stub) and the visible tests as they last ran in the notebook (passing: ran without an
error; failing: ran with one; not run). Nothing is executed: this reads the saved notebooks, so the
numbers are as fresh as the learner's last save. ``python3 -m dlfs check NN_topic`` runs the hidden
tests too.

Standard library only: ``python3 -m dlfs progress`` works before the course's environment is installed.
"""

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_PAGE = "START.ipynb"


@dataclass
class ChapterProgress:
    chapter: str            # e.g. "01_linear_regression"
    title: str              # the notebook's first heading
    started: bool           # the learner's notebook exists in workspace/
    attempted: int          # answer cells that differ from their stub
    exercises: int          # answer cells (code and written)
    passing: int            # visible test cells that last ran without an error
    failing: int            # ... that last ran with one
    tests: int              # visible test cells

    @property
    def not_run(self):
        return self.tests - self.passing - self.failing

    @property
    def path(self):
        return f"{self.chapter}/{self.chapter}.ipynb"


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _nbgrader(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _read(path):
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return notebook if isinstance(notebook, dict) and isinstance(notebook.get("cells"), list) else None


def _title(notebook, chapter):
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown" and _source(cell).startswith("# "):
            return _source(cell).splitlines()[0][2:].strip()
    return chapter


def chapter_progress(root, chapter):
    """The progress of one chapter, from workspace/NN_topic/NN_topic.ipynb against the release's stubs."""
    release = _read(Path(root) / "notebooks" / chapter / f"{chapter}.ipynb") or {"cells": []}
    stubs = {_nbgrader(c).get("grade_id"): _source(c).strip() for c in release["cells"] if _nbgrader(c).get("solution")}
    tests = [_nbgrader(c).get("grade_id") for c in release["cells"]
             if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")]
    mine = _read(Path(root) / "workspace" / chapter / f"{chapter}.ipynb")
    attempted = passing = failing = 0
    for cell in (mine or {"cells": []})["cells"]:
        meta = _nbgrader(cell)
        grade_id = meta.get("grade_id")
        if grade_id in stubs and meta.get("solution") and _source(cell).strip() != stubs[grade_id]:
            attempted += 1
        elif grade_id in tests and cell.get("execution_count") is not None:
            if any(o.get("output_type") == "error" for o in cell.get("outputs", []) if isinstance(o, dict)):
                failing += 1
            else:
                passing += 1
    return ChapterProgress(chapter, _title(release, chapter), mine is not None, attempted, len(stubs),
                           passing, failing, len(tests))


def course_progress(root=ROOT):
    """Every chapter of the release, in order."""
    notebooks = Path(root) / "notebooks"
    names = sorted(p.name for p in notebooks.iterdir() if p.is_dir() and p.name[:2].isdigit()) \
        if notebooks.is_dir() else []
    return [chapter_progress(root, name) for name in names]


def _tests_text(p):
    if not p.started:
        return "not started"
    parts = [f"{p.passing} passing"] + ([f"{p.failing} failing"] if p.failing else []) \
        + ([f"{p.not_run} not run"] if p.not_run else [])
    return ", ".join(parts) + f" (of {p.tests})"


def as_text(rows):
    """The table for a terminal (chapters by the names the commands take)."""
    width = max([len("chapter")] + [len(p.chapter) for p in rows]) + 3
    lines = [f"{'chapter':<{width}}{'exercises attempted':<22}visible tests (as last run)"]
    for p in rows:
        attempted = f"{p.attempted} of {p.exercises}" if p.started else "-"
        lines.append(f"{p.chapter:<{width}}{attempted:<22}{_tests_text(p)}")
    return "\n".join(lines)


def as_markdown(rows):
    """The table as Markdown, each chapter linked to its notebook (paths relative to workspace/)."""
    lines = ["| chapter | exercises attempted | visible tests (as last run) |", "|---|---|---|"]
    for p in rows:
        attempted = f"{p.attempted} of {p.exercises}" if p.started else "–"
        lines.append(f"| [{p.title}]({p.path}) | {attempted} | {_tests_text(p)} |")
    return "\n".join(lines)


def show_progress(root=None):
    """Display the table in a notebook (the start page's refresh cell, which runs in workspace/)."""
    from IPython.display import Markdown, display
    here = Path.cwd()
    if root is None:
        root = here.parent if here.name == "workspace" and (here.parent / "notebooks").is_dir() else ROOT
    display(Markdown(as_markdown(course_progress(root))))


_INTRO = """# Deep Learning from Scratch, graded — start here

Open a chapter from the table; work top to bottom. Each exercise cell holds `raise NotImplementedError()`:
replace it with your code, run it, then run the test cell below it. Your progress, as your notebooks were
last saved ({when}; run the cell below the table to refresh it):

{table}
"""

_HOW_TO = """## Commands, from the course folder

| command | what it does |
|---|---|
| `python3 -m dlfs progress` | this table in a terminal |
| `python3 -m dlfs check 01_linear_regression` | grades your notebook as a class is graded, hidden tests included: one line per exercise |
| `python3 -m dlfs reset 01_linear_regression mse_loss` | puts one answer cell back to its stub; every other cell stays |

Your notebooks live in this folder (`workspace/`) and are never overwritten by a course command, a rebuild or
a `git pull`. This page is rewritten each time the course starts: keep your notes in the chapters' notebooks.
"""


def _cell(kind, text, **extra):
    cell = {"cell_type": kind, "metadata": {}, "source": text, **extra}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def write_start_page(root=ROOT, now=None):
    """(Re)write workspace/START.ipynb: the chapters with the learner's progress and a link to each.
    Written atomically; returns its path."""
    workspace = Path(root) / "workspace"
    workspace.mkdir(exist_ok=True)
    when = (now or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M")
    notebook = {
        "cells": [
            _cell("markdown", _INTRO.format(when=when, table=as_markdown(course_progress(root)))),
            _cell("code", "from dlfs.progress import show_progress\nshow_progress()"),
            _cell("markdown", _HOW_TO),
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    for index, cell in enumerate(notebook["cells"]):
        cell["id"] = f"start-{index}"
    path = workspace / START_PAGE
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def main():
    print(as_text(course_progress(ROOT)))
    print("\n(from your notebooks in workspace/ as last saved; `python3 -m dlfs check NN_topic` runs the hidden tests too)")
    return 0
