"""A learner's work is never lost (issue 11, first step): answers live in the git-ignored workspace/,
which no course command overwrites; a newer release is offered beside the learner's notebook; one
answer cell can be reset to its stub without touching the others."""

import shutil
import subprocess

import nbformat
import pytest

from course import REPO, Course
from dlfs import progress, workspace

CHAPTER = "01_linear_regression"
MY_ANSWER = "def mse_loss(y_pred, y):\n    # my own words\n    return float(np.mean((y_pred - y) ** 2))\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A built copy of the course in which a learner has started and answered in chapter 01."""
    course = Course.copy_of(REPO, tmp_path_factory.mktemp("learner"))
    course.build()
    workspace.prepare(course.root)
    mine = course.root / "workspace" / CHAPTER / f"{CHAPTER}.ipynb"
    notebook = nbformat.read(mine, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "mse_loss":
            cell.source = MY_ANSWER
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q_learning_rate":
            cell.source = "A large rate overshoots; a small one crawls."
    nbformat.write(notebook, mine)
    (mine.parent / ".ipynb_checkpoints").mkdir()
    shutil.copyfile(mine, mine.parent / ".ipynb_checkpoints" / f"{CHAPTER}-checkpoint.ipynb")
    return course


def _mine(course):
    return course.root / "workspace" / CHAPTER / f"{CHAPTER}.ipynb"


def _answer(course, grade_id):
    notebook = nbformat.read(_mine(course), as_version=4)
    return [c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id][0]


def test_every_chapter_gets_its_notebook_and_files_in_the_workspace(course):
    for release in workspace.chapters(course.root):
        target = course.root / "workspace" / release.name
        assert (target / f"{release.name}.ipynb").is_file()
        released = {p.relative_to(release) for p in release.rglob("*") if p.is_file()}
        assert released <= {p.relative_to(target) for p in target.rglob("*") if p.is_file()}


def test_a_rebuild_and_a_second_start_keep_every_answer(course):
    before = _mine(course).read_bytes()
    course.build()                                      # what `python3 -m dlfs release` does
    workspace.prepare(course.root)                      # what every `python3 -m dlfs start` does
    progress.write_start_page(course.root)              # ... and the start page it writes
    progress.course_progress(course.root)               # `python3 -m dlfs progress`
    assert _mine(course).read_bytes() == before
    assert _answer(course, "mse_loss") == MY_ANSWER


def test_a_newer_release_is_offered_beside_the_learners_notebook_once(course, capsys):
    release = course.root / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb"
    original, before = release.read_bytes(), _mine(course).read_bytes()
    updated = nbformat.read(release, as_version=4)
    updated.cells.insert(0, nbformat.v4.new_markdown_cell("A clarification added in a course update."))
    nbformat.write(updated, release)
    try:
        workspace.prepare(course.root)
        offered = course.root / "workspace" / CHAPTER / f"{CHAPTER}.new-release.ipynb"
        assert offered.read_bytes() == release.read_bytes()
        assert _mine(course).read_bytes() == before
        assert "newer release" in capsys.readouterr().out
        workspace.prepare(course.root)
        assert "newer release" not in capsys.readouterr().out      # said once
    finally:
        release.write_bytes(original)


def test_reset_restores_one_answer_and_leaves_every_other_cell_alone(course):
    stub = [c.source for c in course.release(CHAPTER).cells if c.metadata.get("nbgrader", {}).get("grade_id") == "mse_loss"][0]
    before = nbformat.read(_mine(course), as_version=4)
    workspace.reset(course.root, CHAPTER, "mse_loss")
    after = nbformat.read(_mine(course), as_version=4)
    assert _answer(course, "mse_loss") == stub
    changed = [i for i, (a, b) in enumerate(zip(before.cells, after.cells)) if a != b]
    assert len(before.cells) == len(after.cells) and len(changed) == 1
    assert _answer(course, "q_learning_rate") == "A large rate overshoots; a small one crawls."


@pytest.mark.parametrize("arguments,says", [
    ((CHAPTER, "no_such_answer"), "has no answer cell 'no_such_answer'"),
    (("99_nothing", "mse_loss"), "not a chapter"),
])
def test_a_reset_that_cannot_be_done_says_why_and_changes_nothing(course, arguments, says):
    before = _mine(course).read_bytes()
    with pytest.raises(workspace.ResetError, match=says):
        workspace.reset(course.root, *arguments)
    assert _mine(course).read_bytes() == before


def test_the_workspace_is_ignored_by_git_so_a_pull_never_conflicts_with_it():
    ignored = subprocess.run(["git", "check-ignore", "-q", "workspace/01_linear_regression/01_linear_regression.ipynb"],
                             cwd=REPO)
    assert ignored.returncode == 0


def test_the_reset_command_answers_in_one_line():
    result = subprocess.run(["python3", "-m", "dlfs", "reset", CHAPTER], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "usage: python3 -m dlfs reset NN_topic ANSWER_ID" in result.stdout
    assert result.stderr == ""
