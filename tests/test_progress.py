"""The learner's progress: `python3 -m dlfs progress` and the start page workspace/START.ipynb, read from
the notebooks as saved (dlfs/progress.py)."""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from course import REPO
from dlfs import progress, workspace

CHAPTER = "01_linear_regression"


@pytest.fixture
def course(tmp_path):
    """A course folder with the real release and a workspace in which chapter 01 is partly done:
    mse_loss answered and its test passed, mse_gradients answered and its test failed, the written
    answer given."""
    root = tmp_path / "course with spaces"
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    workspace.prepare(root, out=open("/dev/null", "w"))
    path = root / "workspace" / CHAPTER / f"{CHAPTER}.ipynb"
    notebook = json.loads(path.read_text())
    cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in notebook["cells"]}
    cells["mse_loss"]["source"] = "def mse_loss(y_pred, y):\n    return ((y_pred - y) ** 2).mean()\n"
    cells["test_mse_loss"].update(execution_count=3, outputs=[])
    cells["mse_gradients"]["source"] = "def mse_gradients(X, y, W, b):\n    return 0, 0\n"
    cells["test_mse_gradients"].update(execution_count=5, outputs=[
        {"output_type": "error", "ename": "GradingError", "evalue": "dW: has the wrong shape.", "traceback": []}])
    cells["q_learning_rate"]["source"] = "A larger rate overshoots."
    path.write_text(json.dumps(notebook))
    return root


def test_progress_counts_attempts_and_visible_tests_as_last_run(course):
    rows = {p.chapter: p for p in progress.course_progress(course)}
    mine = rows[CHAPTER]
    assert (mine.attempted, mine.exercises) == (3, 8)   # 7 code answers, 1 written
    assert (mine.passing, mine.failing, mine.tests) == (1, 1, 7) and mine.not_run == 5
    assert mine.title.startswith("01 — Linear regression")
    untouched = rows["02_softmax"]
    assert untouched.started and untouched.attempted == 0 and untouched.passing == untouched.failing == 0
    assert len(rows) == len(workspace.chapters(REPO))


def test_the_terminal_table_and_a_chapter_not_started(course):
    shutil.rmtree(course / "workspace" / "03_mlp")
    text = progress.as_text(progress.course_progress(course))
    assert "01_linear_regression" in text and "3 of 8" in text and "1 passing, 1 failing, 5 not run (of 7)" in text
    assert "03_mlp" in text and "not started" in text


def test_a_damaged_notebook_counts_as_not_started_instead_of_failing(course):
    (course / "workspace" / CHAPTER / f"{CHAPTER}.ipynb").write_text("{not json")
    mine = progress.chapter_progress(course, CHAPTER)
    assert not mine.started and mine.attempted == 0


def test_the_command_runs_without_the_environment():
    # the system Python, not the venv: progress is standard library only
    result = subprocess.run([shutil.which("python3") or sys.executable, "-m", "dlfs", "progress"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "exercises attempted" in result.stdout and "01_linear_regression" in result.stdout


def test_the_start_page_links_every_chapter_and_refreshes_in_a_kernel(course):
    page = progress.write_start_page(course)
    notebook = nbformat.read(page, as_version=4)
    nbformat.validate(notebook)
    intro = notebook.cells[0].source
    for chapter in workspace.chapters(course):
        link = f"({chapter.name}/{chapter.name}.ipynb)"
        assert link in intro and (course / "workspace" / link[1:-1]).is_file()
    assert "| 3 of 8 | 1 passing, 1 failing, 5 not run (of 7) |" in intro
    NotebookClient(notebook, timeout=60, resources={"metadata": {"path": str(course / "workspace")}}).execute()
    shown = notebook.cells[1].outputs[0]["data"]["text/markdown"]
    assert "| 3 of 8 |" in shown and f"({CHAPTER}/{CHAPTER}.ipynb)" in shown
