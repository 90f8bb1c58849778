"""The gradebook on a real PostgreSQL server (issue 14): $DLFS_GRADEBOOK points the course's nbgrader commands,
the Formgrader and `python3 -m dlfs grade` at it; two grading commands on different chapters write into it at
once and lose nothing."""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest

from course import Course, SUM_INSTEAD_OF_MEAN, free_port, solved, with_answer
from dlfs import build
from dlfs.judge import gradebook, sandbox
from dlfs.judge.grade import auto_points
from postgres import binaries, postgres_server

pytestmark = pytest.mark.skipif((binaries() is None or not sandbox.available()) and not os.environ.get("CI"),
                                reason="PostgreSQL's server or bubblewrap is not installed (apt install postgresql "
                                       "bubblewrap); CI installs them")

CHAPTERS = ("01_linear_regression", "02_softmax")


@pytest.fixture(scope="module")
def server():
    with postgres_server() as running:
        yield running


@pytest.fixture(scope="module")
def pg_course(built_course, server, tmp_path_factory):
    """A copy of the built course whose gradebook is a database on the server ($DLFS_GRADEBOOK), its two chapters
    released into it by nbgrader itself, and a class's submissions: ada solved both, bob made a classic mistake
    in 01 and handed 02 in untouched, cy handed in 01 only."""
    url = server.database("gradebook")
    course = Course(tmp_path_factory.mktemp("pg_course"))
    shutil.copy(built_course.root / "nbgrader_config.py", course.root)
    for chapter in CHAPTERS:
        for folder in ("solutions", "notebooks"):
            shutil.copytree(built_course.root / folder / chapter, course.root / folder / chapter)
    if (built_course.root / "autograder" / "reference").is_dir():     # the solutions' runs, if made already
        shutil.copytree(built_course.root / "autograder" / "reference", course.root / "autograder" / "reference")
    (course.root / "autograder").mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv(gradebook.DB_VARIABLE, url)
        for chapter in CHAPTERS:
            course.nbgrader("generate_assignment", chapter, "--force")
    for chapter in CHAPTERS:
        good = solved(course.release(chapter), course.source(chapter))
        course.submit("ada", chapter, good)
        course.submit("bob", chapter, course.release(chapter) if chapter != CHAPTERS[0]
                      else with_answer(good, "mse_loss", SUM_INSTEAD_OF_MEAN))
    course.submit("cy", CHAPTERS[0], solved(course.release(CHAPTERS[0]), course.source(CHAPTERS[0])))
    return course, url


@pytest.fixture(scope="module")
def graded(pg_course):
    """Both chapters graded at the same time by two grading commands, one worker each."""
    course, url = pg_course
    commands = [subprocess.Popen([sys.executable, "-m", "dlfs.judge.grade", chapter, "--root", str(course.root),
                                  "--workers", "1", "--timeout", "30"],
                                 env={**build.nbgrader_env(), gradebook.DB_VARIABLE: url},
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for chapter in CHAPTERS]
    printed = [command.communicate(timeout=600)[0] for command in commands]
    assert [command.returncode for command in commands] == [0, 0], printed
    return course, url, dict(zip(CHAPTERS, printed))


def scores(url):
    """{(student, chapter): score} of every submission in the gradebook at ``url``."""
    with gradebook.open_gradebook(url) as book:
        return {(s.student.id, s.assignment.name): s.score for chapter in CHAPTERS
                for s in book.assignment_submissions(chapter)}


def test_two_grading_commands_at_once_write_every_grade_into_the_server(graded):
    course, url, printed = graded
    max_score = {chapter: sum(auto_points(course.source(chapter)).values()) for chapter in CHAPTERS}
    assert scores(url) == {("ada", CHAPTERS[0]): max_score[CHAPTERS[0]], ("bob", CHAPTERS[0]): max_score[CHAPTERS[0]] - 2,
                           ("cy", CHAPTERS[0]): max_score[CHAPTERS[0]],
                           ("ada", CHAPTERS[1]): max_score[CHAPTERS[1]], ("bob", CHAPTERS[1]): 0}
    for chapter in CHAPTERS:   # the command says where the grades went, and nothing went to the SQLite default
        assert f"gradebook: {url}\n" in printed[chapter]
    assert not (course.root / "autograder" / "gradebook.db").exists()


def test_nbgrader_export_and_feedback_read_the_server(graded, pg_course):
    course, url, _ = graded
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv(gradebook.DB_VARIABLE, url)
        rows = course.export()
        course.nbgrader("generate_feedback", CHAPTERS[0], "--student=bob")
    exported = {key: (float(row["score"] or 0), row["status"]) for key, row in rows.items()}
    expected = scores(url)
    for (student, chapter), score in expected.items():
        assert exported[(student, chapter)] == (score, "ok")
    assert exported[("cy", CHAPTERS[1])][1] == "missing"
    assert "mse_loss" in course.feedback_html(CHAPTERS[0], "bob").read_text()


def test_the_formgrader_shows_the_grades_of_the_server_and_the_class_report_links_to_it(graded):
    """A real Jupyter server started in the course folder with $DLFS_GRADEBOOK: the Formgrader's API lists the
    grades written into PostgreSQL; the class report, opened from that server, links bob's classic mistake to his
    graded notebook in the Formgrader."""
    course, url, _ = graded
    port, token = free_port(), "formgrader-test"
    server = subprocess.Popen([sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root", f"--port={port}",
                               f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False"],
                              cwd=course.root, env={**build.nbgrader_env(), gradebook.DB_VARIABLE: url},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def get(path):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                             headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read().decode()

        for _ in range(120):
            try:
                submissions = json.loads(get(f"/formgrader/api/submissions/{CHAPTERS[0]}"))
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("the Jupyter server did not answer")
        shown = {s["student"]: s["score"] for s in submissions}
        assert shown == {student: score for (student, chapter), score in scores(url).items() if chapter == CHAPTERS[0]}
        page_path = f"/files/autograder/reports/{CHAPTERS[0]}.html"
        page = get(page_path)
        row = re.search(r"<tr><td>you summed the squared errors[^<]*</td><td>Exercise 1 \(mse_loss\)</td>"
                        r"<td class=count>1 of 3</td><td><a href=\"([^\"]+)\">bob</a></td></tr>", page)
        assert row, page
        submission = get(urllib.parse.urljoin(page_path, row.group(1)))
        text = html.unescape(re.sub(r"<[^>]+>", "", submission))
        assert "def mse_loss" in text and "np.sum((y_pred - y) ** 2)" in text
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[1]
    assert "Traceback" not in log, log


# (gradebook.open_gradebook silences this SQLAlchemy warning with warnings.catch_warnings, which is not thread-safe:
# with two threads, one thread's exit restores the filters while the other is still recording)
@pytest.mark.filterwarnings("ignore:.*not in session")
def test_grading_commands_racing_to_add_the_same_new_learners_lose_nothing(pg_course):
    """Many learners new to the gradebook, recorded for two chapters at the same moment from two threads (as two
    grading commands do): every learner is added once and every grade is kept."""
    course, url = pg_course
    release = {chapter: course.release(chapter) for chapter in CHAPTERS}
    students = [f"newcomer{i:02d}" for i in range(40)]
    start, errors = threading.Barrier(len(CHAPTERS)), []

    def record_all(chapter):
        start.wait()
        try:
            for student in students:
                gradebook.record(url, student, chapter, {}, {}, release[chapter], None, unreadable=True)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=record_all, args=(chapter,)) for chapter in CHAPTERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with gradebook.open_gradebook(url) as book:
        assert sorted(s.id for s in book.students if s.id.startswith("newcomer")) == students
        for chapter in CHAPTERS:
            assert sum(s.student.id in students for s in book.assignment_submissions(chapter)) == len(students)
