"""The grading pipeline, end to end, on a temporary copy of the course: nbgrader's generate_assignment
(via the build), the course's grading command (python -m dlfs.judge.grade: sandboxed learner kernels,
verdicts outside them, grades into nbgrader's gradebook), then nbgrader's own generate_feedback and
export. Hostile and broken submissions: tests/test_hostile_submissions.py."""

import concurrent.futures
import html
import importlib
import json
import os
import re
import subprocess
import sys

import pytest

from course import REPO, solved, with_answer
from dlfs.build import chapters, nbgrader_env
from quoted_figures import PRINTED_BY, check, entries, runs_of, read_record

CHAPTERS = chapters(REPO)
if os.environ.get("DLFS_TEST_CHAPTERS"):   # while working on one chapter: DLFS_TEST_CHAPTERS=05_regularization
    CHAPTERS = [c for c in CHAPTERS if c in os.environ["DLFS_TEST_CHAPTERS"].split(",")]


def single_mistake(chapter):
    """(answer id, code) of the chapter's "single wrong answer" submission, from tests/variants/chNN.py."""
    return importlib.import_module(f"variants.ch{chapter[:2]}").SINGLE_MISTAKE


def reference_runs(course, chapters):
    """Each chapter's reference run, two chapters at a time, into the grading command's cache
    (autograder/reference/). They are most of a chapter's grading time here (every demo cell runs), each in
    one kernel: one BLAS thread each, so that two share the cores without slowing each other."""
    code = "import sys; from dlfs.judge.grade import prepare; prepare(sys.argv[1], sys.argv[2])"
    environment = {**nbgrader_env(), "OPENBLAS_NUM_THREADS": "1"}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for done in pool.map(lambda chapter: subprocess.run([sys.executable, "-c", code, str(course.root), chapter],
                                                            env=environment, capture_output=True, text=True),
                             sorted(chapters, reverse=True)):     # (the later chapters' runs are the long ones)
            assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def graded(built_course):
    """Three submissions per chapter, autograded, with feedback and an export."""
    course = built_course
    reference_runs(course, CHAPTERS)
    for chapter in CHAPTERS:
        release, source = course.release(chapter), course.source(chapter)
        course.submit("solver", chapter, solved(release, source))
        course.submit("untouched", chapter, release)
        answer_id, code = single_mistake(chapter)
        course.submit("one_mistake", chapter, with_answer(solved(release, source), answer_id, code))
        students = [f"--student={student}" for student in ("solver", "untouched", "one_mistake")]
        subprocess.run([sys.executable, "-m", "dlfs.judge.grade", chapter, "--root", str(course.root), *students],
                       check=True, env=nbgrader_env(), capture_output=True)
        course.nbgrader("generate_feedback", chapter)
    return course, course.export()


def verdicts(course, chapter, student):
    """The grading command's verdicts for one learner (what instructors read)."""
    return json.loads((course.root / "autograder" / "verdicts" / student / f"{chapter}.json").read_text())


def reference_printed(course, chapter):
    """What the chapter's solution printed in the grading command's reference run."""
    (cache,) = (course.root / "autograder" / "reference").glob(f"{chapter}-*.json")
    return json.loads(cache.read_text())["printed"]


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
    messages = [v["message"] for v in verdicts(course, chapter, "untouched").values()]
    assert messages and all(messages), "the release should fail every test"
    assert not [m for m in messages if "Timeout" in m], "a release cell hit the timeout"
    assert all("is not implemented yet" in m or "stopped before this check" in m for m in messages), messages


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
def test_feedback_html_gives_every_test_its_verdict(chapter, student, graded):
    course, _ = graded
    text = html.unescape(course.feedback_html(chapter, student).read_text())
    assert "<html" in text.lower() and chapter in text
    passed = sum(v["passed"] for v in verdicts(course, chapter, student).values())
    assert text.count("passed: every check of this test") == passed
    assert text.count("GradingError") >= len(verdicts(course, chapter, student)) - passed
    # the list of scores names each exercise as the notebook does, never nbgrader's "Test cell"
    toc = text[text.index('<div id="toc">'):text.index("</ol>")]
    graded = re.findall(r'<li><a href="#(?!comment-)[^"]+">([^<]+)</a> \(Score:', toc)
    assert "Test cell" not in toc and "Exercise 1 (" in graded[0] and len(set(graded)) == len(graded)


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


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_prose_states_what_the_graded_run_prints(chapter, graded):
    """Every figure of tests/quoted_figures.py that a graded run prints agrees with the prose."""
    course, _ = graded
    record = read_record(chapter)
    for entry in entries(chapter):
        source = PRINTED_BY.get((entry.chapter, getattr(entry, "text", None)), chapter)
        if "graded" in runs_of(entry) and source in CHAPTERS:   # (DLFS_TEST_CHAPTERS may leave source out)
            check(entry, {"graded": reference_printed(course, source), "full": record[1] if record else ""})


@pytest.mark.skipif("06_cnn" not in CHAPTERS, reason="DLFS_TEST_CHAPTERS leaves out 06_cnn")
def test_cnn_graded_run_compares_loops_with_im2col(graded):
    course, _ = graded
    printed = reference_printed(course, "06_cnn")
    assert "im2col is" in printed and "times faster" in printed   # the live speed comparison ran
