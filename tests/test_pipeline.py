"""nbgrader's own pipeline, end to end, on a temporary copy of the course:
generate_assignment (via the build), autograde, generate_feedback, export."""

import html
import importlib
import os
import re

import nbformat
import pytest

from course import REPO, solved, with_answer
from dlfs.build import chapters
from quoted_figures import PRINTED_BY, check, entries, runs_of, read_record

CHAPTERS = chapters(REPO)
if os.environ.get("DLFS_TEST_CHAPTERS"):   # while working on one chapter: DLFS_TEST_CHAPTERS=05_regularization
    CHAPTERS = [c for c in CHAPTERS if c in os.environ["DLFS_TEST_CHAPTERS"].split(",")]


def single_mistake(chapter):
    """(answer id, code) of the chapter's "single wrong answer" submission, from tests/variants/chNN.py."""
    return importlib.import_module(f"variants.ch{chapter[:2]}").SINGLE_MISTAKE


@pytest.fixture(scope="module")
def graded(built_course):
    """Three submissions per chapter, autograded, with feedback and an export."""
    course = built_course
    for chapter in CHAPTERS:
        release, source = course.release(chapter), course.source(chapter)
        course.submit("solver", chapter, solved(release, source))
        course.submit("untouched", chapter, release)
        answer_id, code = single_mistake(chapter)
        course.submit("one_mistake", chapter, with_answer(solved(release, source), answer_id, code))
        course.nbgrader("autograde", chapter)
        course.nbgrader("generate_feedback", chapter)
    return course, course.export()


def _auto_points(course, chapter):
    """{test grade_id: points} of the autograded test cells."""
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
            for c in course.source(chapter).cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_gets_every_automatic_point(chapter, graded):
    course, export = graded
    scores = course.scores(chapter, "solver")
    auto = _auto_points(course, chapter)
    assert auto, "a chapter needs autograded tests"
    for grade_id, points in auto.items():
        assert scores[grade_id] == (points, points), (grade_id, scores[grade_id])
    assert float(export[("solver", chapter)]["score"]) == sum(auto.values())


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_untouched_release_scores_zero_without_timeouts(chapter, graded):
    course, export = graded
    assert all(score == 0 for score, _ in course.scores(chapter, "untouched").values())
    assert float(export[("untouched", chapter)]["score"]) == 0
    outputs = [o for c in course.autograded(chapter, "untouched").cells for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.output_type == "error"]
    assert errors, "the release should fail its tests"
    assert not [o for o in errors if "Timeout" in o.ename], "a release cell hit the timeout"
    assert {o.ename for o in errors} <= {"NotImplementedError", "GradingError", "NameError"}, \
        {o.ename for o in errors}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_single_mistake_loses_only_its_exercise(chapter, graded):
    course, export = graded
    answer_id, _ = single_mistake(chapter)
    scores = course.scores(chapter, "one_mistake")
    auto = _auto_points(course, chapter)
    lost = {grade_id for grade_id in auto if scores[grade_id][0] < auto[grade_id]}
    assert lost == {f"test_{answer_id}"}, lost
    assert float(export[("one_mistake", chapter)]["score"]) == sum(auto.values()) - auto[f"test_{answer_id}"]


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.parametrize("student", ["solver", "untouched", "one_mistake"])
def test_feedback_html_exists(chapter, student, graded):
    course, _ = graded
    html = course.feedback_html(chapter, student).read_text()
    assert "<html" in html.lower() and chapter in html
    if student == "solver":  # plots and widgets leave static figures behind for the feedback page
        assert html.count("data:image/png") >= 2


def test_bad_submissions_have_defined_outcomes(graded):
    """An answer that loops forever, deleted cells, a kernel that dies, a renamed notebook."""
    course, _ = graded
    chapter = "01_linear_regression"
    good = solved(course.release(chapter), course.source(chapter))
    course.submit("looper", chapter, with_answer(good, "mse_loss", "def mse_loss(y_pred, y):\n    while True:\n        pass\n"))
    deleted = nbformat.from_dict(good)
    deleted.cells = [c for c in deleted.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") not in ("test_mse_gradients", "closed_form")]
    course.submit("deleter", chapter, deleted)
    course.submit("crasher", chapter, with_answer(good, "closed_form", "import os\nos._exit(1)\n"))
    course.submit("renamer", chapter, good, filename="my_answers.ipynb")
    results = {student: course.nbgrader("autograde", chapter, f"--student={student}",
                                        "--Execute.timeout=5",  # keeps the looping submission quick
                                        check=False)
               for student in ("looper", "deleter", "crasher", "renamer")}
    assert {s for s, r in results.items() if r.returncode != 0} == {"crasher", "renamer"}
    full = {k: v[1] for k, v in course.scores(chapter, "solver").items()}

    lost = {k for k, (score, _) in course.scores(chapter, "looper").items() if score < full[k]}
    assert lost == {"test_mse_loss", "q_learning_rate"}  # the loop is interrupted; only its exercise fails
    lost = {k for k, (score, _) in course.scores(chapter, "deleter").items() if score < full[k]}
    assert lost == {"test_mse_gradients", "test_closed_form", "q_learning_rate"}

    export = course.export()
    # nbgrader drops a submission whose kernel dies and skips an unknown notebook name: both export as 0
    assert float(export[("crasher", chapter)]["score"]) == 0
    assert "Removing failed assignment" in results["crasher"].stderr
    assert float(export[("renamer", chapter)]["score"]) == 0
    assert "Skipping unknown notebook" in results["renamer"].stderr


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_feedback_keeps_hidden_tests_hidden_but_explains_failures(chapter, graded):
    course, _ = graded
    source = (REPO / "solutions" / chapter / f"{chapter}.pct.py").read_text()
    hidden_lines = {line.strip() for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)
                    for line in block.splitlines() if len(line.strip()) > 20}
    assert hidden_lines
    for student in ("solver", "untouched", "one_mistake"):
        text = html.unescape(course.feedback_html(chapter, student).read_text())
        assert "BEGIN HIDDEN TESTS" not in text
        leaked = [line for line in hidden_lines if line in text]
        assert not leaked, f"hidden test lines in {student}'s feedback: {leaked[:3]}"
    text = html.unescape(course.feedback_html(chapter, "untouched").read_text())
    assert "is not implemented yet" in text  # the learner still reads why a test failed


def _printed(notebook):
    """Everything the code cells of an executed notebook printed, as one string."""
    return "\n".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
                     if output.get("output_type") == "stream")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_prose_states_what_the_graded_run_prints(chapter, graded):
    """Every figure of tests/quoted_figures.py that a graded run prints agrees with the prose."""
    course, _ = graded
    record = read_record(chapter)
    for entry in entries(chapter):
        source = PRINTED_BY.get((entry.chapter, getattr(entry, "text", None)), chapter)
        if "graded" in runs_of(entry) and source in CHAPTERS:   # (DLFS_TEST_CHAPTERS may leave source out)
            check(entry, {"graded": _printed(course.autograded(source, "solver")), "full": record[1] if record else ""})


@pytest.mark.skipif("06_cnn" not in CHAPTERS, reason="DLFS_TEST_CHAPTERS leaves out 06_cnn")
def test_cnn_graded_run_compares_loops_with_im2col(graded):
    course, _ = graded
    printed = _printed(course.autograded("06_cnn", "solver"))
    assert "im2col is" in printed and "times faster" in printed   # the live speed comparison ran
