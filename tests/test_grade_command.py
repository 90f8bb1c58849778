"""`python3 -m dlfs grade`: a class of chapter-01 submissions graded in sandboxes, with a report that
says what happened to each learner (issue 10)."""

import io
import os

import nbformat
import pytest

from course import solved, with_answer
from dlfs.judge import sandbox
from dlfs.judge.grade import grade, auto_points

pytestmark = pytest.mark.skipif(not sandbox.available() and not os.environ.get("CI"),
                                reason="bubblewrap is not installed (apt install bubblewrap); CI installs it")

CHAPTER = "01_linear_regression"
SUM_INSTEAD_OF_MEAN = "def mse_loss(y_pred, y):\n    return float(np.sum((y_pred - y) ** 2))\n"


STUDENTS = ("solver", "one_mistake", "renamer", "corrupt", "editor", "shadower")


@pytest.fixture(scope="module")
def graded_class(built_course):
    """The class, graded twice. The course copy is shared with the nbgrader pipeline tests, so the
    submissions and the gradebook's extra student are removed afterwards."""
    course = built_course
    yield from _graded(course)
    import shutil
    from nbgrader.api import Gradebook
    for student in STUDENTS:
        shutil.rmtree(course.root / "autograder" / "submitted" / f"judge_{student}", ignore_errors=True)
    with Gradebook(f"sqlite:///{course.root / 'autograder' / 'gradebook.db'}") as gradebook:
        gradebook.remove_student("judge_absent")


def _graded(course):
    release, source = course.release(CHAPTER), course.source(CHAPTER)
    good = solved(release, source)
    course.submit("judge_solver", CHAPTER, good)
    course.submit("judge_one_mistake", CHAPTER, with_answer(good, "mse_loss", SUM_INSTEAD_OF_MEAN))
    course.submit("judge_renamer", CHAPTER, good, filename="my_answers.ipynb")
    course.submit("judge_corrupt", CHAPTER, good)
    (course.root / "autograder" / "submitted" / "judge_corrupt" / CHAPTER / f"{CHAPTER}.ipynb").write_text("{ not json")
    edited = nbformat.from_dict(good)
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_mse_loss":
            cell.source = "pass  # I removed the test"
    course.submit("judge_editor", CHAPTER, edited)
    course.submit("judge_shadower", CHAPTER, good)
    (course.root / "autograder" / "submitted" / "judge_shadower" / CHAPTER / "numpy.py").write_text("raise SystemExit(1)\n")
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course.root / 'autograder' / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_student("judge_absent")
    solver_file = course.root / "autograder" / "submitted" / "judge_solver" / CHAPTER / f"{CHAPTER}.ipynb"
    before = solver_file.read_bytes()
    first = grade(course.root, CHAPTER, timeout=30, out=io.StringIO())
    second = grade(course.root, CHAPTER, timeout=30, out=io.StringIO())
    assert solver_file.read_bytes() == before
    yield course, {row[0]: row for row in first}, {row[0]: row for row in second}, sum(auto_points(source).values())


def test_every_learner_gets_a_row_with_what_happened(graded_class):
    course, rows, _, max_score = graded_class
    full = f"{max_score:g}"
    assert rows["judge_solver"][1:4] == [full, full, "ok"]
    assert rows["judge_one_mistake"][1:4] == [f"{max_score - 2:g}", full, "ok"]
    assert rows["judge_renamer"][1:4] == [full, full, "flagged"] and "my_answers.ipynb" in rows["judge_renamer"][4]
    assert rows["judge_corrupt"][1:4] == ["0", full, "failed"] and "not a readable notebook" in rows["judge_corrupt"][4]
    assert rows["judge_editor"][1:4] == [full, full, "flagged"] and "test_mse_loss" in rows["judge_editor"][4]
    assert rows["judge_shadower"][1:4] == [full, full, "flagged"] and "numpy.py" in rows["judge_shadower"][4]
    assert rows["judge_absent"][3] == "missing" and rows["judge_absent"][1] == ""
    report = (course.root / "autograder" / "reports" / f"{CHAPTER}.csv").read_text().splitlines()
    assert report[0] == "student_id,score,max_score,status,notes" and len(report) == 1 + len(rows)
    assert set(rows) >= {f"judge_{student}" for student in STUDENTS} | {"judge_absent"}


def test_grading_twice_gives_the_same_report(graded_class):
    _, first, second, _ = graded_class
    assert first == second


def test_verdicts_name_the_failed_test_and_its_hint(graded_class):
    import json
    course = graded_class[0]
    verdicts = json.loads((course.root / "autograder" / "verdicts" / "judge_one_mistake" / f"{CHAPTER}.json").read_text())
    assert not verdicts["test_mse_loss"]["passed"] and "divide by N" in verdicts["test_mse_loss"]["message"]
    assert all(v["passed"] for test, v in verdicts.items() if test != "test_mse_loss")


def test_a_chapter_not_yet_written_for_the_judge_is_refused(built_course):
    with pytest.raises(SystemExit, match="not yet written for grading outside"):
        grade(built_course.root, "06_cnn", timeout=30, out=io.StringIO())
