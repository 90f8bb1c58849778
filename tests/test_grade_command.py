"""`python3 -m dlfs grade`: a class of chapter-01 submissions graded in sandboxes, with a report that
says what happened to each learner (issue 10)."""

import contextlib
import io
import json
import os
import re
import time

import nbformat
import pytest

from course import SUM_INSTEAD_OF_MEAN, solved, with_answer
from dlfs.judge import sandbox
from dlfs.judge.grade import auto_points, grade, prepare

pytestmark = pytest.mark.skipif(not sandbox.available() and not os.environ.get("CI"),
                                reason="bubblewrap is not installed (apt install bubblewrap); CI installs it")

CHAPTER = "01_linear_regression"


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
    printed, printed_again = io.StringIO(), io.StringIO()
    first = grade(course.root, CHAPTER, timeout=30, out=printed)
    second = grade(course.root, CHAPTER, timeout=30, out=printed_again)
    assert solver_file.read_bytes() == before
    _graded.printed = printed.getvalue(), printed_again.getvalue()
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


def test_the_class_report_counts_passes_and_ranks_the_classic_mistakes_with_links_to_the_formgrader(graded_class):
    """autograder/reports/NN.mistakes.csv and NN.html: per test cell, the graded learners who passed; the mistake a
    failing check recognised, with who made it; the unreadable submission failed with no named mistake; the learner
    with no submission not counted."""
    import csv
    from nbgrader.api import Gradebook
    course = graded_class[0]
    reports = course.root / "autograder" / "reports"
    with (reports / f"{CHAPTER}.mistakes.csv").open(newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["test_cell"] == "test_mse_loss"]
    graded = {f"judge_{s}" for s in STUDENTS}
    assert {row["exercise"] for row in rows} == {"Exercise 1 (mse_loss)"}
    assert {(row["graded"], row["passed"]) for row in rows} == {(str(len(graded)), str(len(graded) - 2))}
    by_mistake = {row["mistake"]: row["students"].split() for row in rows}
    assert by_mistake == {"you summed the squared errors; the MSE averages them (divide by N).": ["judge_one_mistake"],
                          "(no classic mistake recognised)": ["judge_corrupt"]}
    page = (reports / f"{CHAPTER}.html").read_text()
    with Gradebook(f"sqlite:///{course.root / 'autograder' / 'gradebook.db'}") as gradebook:
        notebook_id = gradebook.find_submission_notebook(CHAPTER, CHAPTER, "judge_one_mistake").id
    assert (f'<td>you summed the squared errors; the MSE averages them (divide by N).</td><td>Exercise 1 (mse_loss)</td>'
            f'<td class=count>1 of {len(graded)}</td><td><a href="../../../formgrader/submissions/{notebook_id}/">'
            'judge_one_mistake</a></td>') in page
    assert "<svg" in page and "judge_absent" not in page


def test_the_submission_secret_goes_with_the_autograded_notebook_so_feedback_can_be_released(graded_class, tmp_path):
    """nbgrader release_feedback names each learner's feedback in the exchange by the secret nbgrader submit put in
    the submission: it must reach the autograded folder (and is not flagged as an extra file)."""
    course = graded_class[0]
    autograder = course.root / "autograder"
    kept = autograder / "autograded" / "judge_solver" / CHAPTER / "submission_secret.txt"
    assert kept.read_text() == (autograder / "submitted" / "judge_solver" / CHAPTER / "submission_secret.txt").read_text()
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    try:
        course.nbgrader("generate_feedback", CHAPTER, "--student=judge_solver")
        course.nbgrader("release_feedback", CHAPTER, "--student=judge_solver", f"--Exchange.root={exchange}")
    finally:
        import shutil
        shutil.rmtree(autograder / "feedback" / "judge_solver", ignore_errors=True)
    assert len(list((exchange / "dlfs" / "feedback").glob("*.html"))) == 1


PROGRESS = re.compile(r"\[(\d+)/(\d+) graded in [\d.]+ s, (\d+) failed, about \d+ (?:s|min) left\]$")


def progress_lines(printed):
    return [line for line in printed.splitlines() if PROGRESS.search(line)]


def test_progress_shows_as_each_learner_is_graded_and_a_rerun_keeps_unchanged_grades(graded_class):
    first, again = _graded.printed
    graded = progress_lines(first)
    readable = [f"judge_{s}" for s in STUDENTS if s != "corrupt"]      # (an unreadable notebook is not a task)
    assert sorted(line.split(":")[0] for line in graded) == sorted(readable)
    assert [PROGRESS.search(line).groups() for line in graded] == \
        [(str(k), str(len(readable)), "0") for k in range(1, len(readable) + 1)]
    assert re.search(r"grading 5 submission\(s\) on \d+ local workers", first)
    kept = [line.split(":")[0] for line in again.splitlines() if line.endswith("(unchanged since graded: kept)")]
    assert sorted(kept) == sorted(f"judge_{s}" for s in STUDENTS) and not progress_lines(again)


def test_the_same_submissions_get_the_same_grades_on_one_worker_as_on_two(graded_class):
    course, rows, _, _ = graded_class
    students = ["judge_one_mistake", "judge_shadower", "judge_solver"]
    alone = grade(course.root, CHAPTER, timeout=30, students=students, workers=1, out=io.StringIO())
    assert {row[0]: row for row in alone} == {s: rows[s] for s in students}


def test_a_changed_submission_is_graded_again_and_only_it(graded_class):
    course, rows, _, _ = graded_class
    folder = course.root / "autograder" / "submitted" / "judge_one_mistake" / CHAPTER
    original = (folder / f"{CHAPTER}.ipynb").read_bytes()
    good = nbformat.read(course.root / "autograder" / "submitted" / "judge_solver" / CHAPTER / f"{CHAPTER}.ipynb",
                         as_version=4)
    try:
        nbformat.write(good, folder / f"{CHAPTER}.ipynb")          # the learner handed in again, corrected
        printed = io.StringIO()
        report = {row[0]: row for row in grade(course.root, CHAPTER, timeout=30, out=printed)}
        assert report["judge_one_mistake"][1:4] == rows["judge_solver"][1:4]
        assert [line.split(":")[0] for line in progress_lines(printed.getvalue())] == \
            ["judge_one_mistake"]
    finally:
        (folder / f"{CHAPTER}.ipynb").write_bytes(original)
        grade(course.root, CHAPTER, timeout=30, students=["judge_one_mistake"], out=io.StringIO())


SLEEPER = "import time\n\ndef mse_loss(y_pred, y):\n    time.sleep(60)\n    return float(((y_pred - y) ** 2).mean())\n"


@pytest.fixture
def sleeper(graded_class):
    """A learner whose mse_loss takes a minute per call (each cell may take 120 s)."""
    course = graded_class[0]
    solved_notebook = nbformat.read(course.root / "autograder" / "submitted" / "judge_solver" / CHAPTER /
                                    f"{CHAPTER}.ipynb", as_version=4)
    course.submit("judge_sleeper", CHAPTER, with_answer(solved_notebook, "mse_loss", SLEEPER))
    yield course
    import shutil
    from nbgrader.api import Gradebook, MissingEntry
    for folder in ("submitted", "autograded", "verdicts"):
        shutil.rmtree(course.root / "autograder" / folder / "judge_sleeper", ignore_errors=True)
    with Gradebook(f"sqlite:///{course.root / 'autograder' / 'gradebook.db'}") as gradebook, \
            contextlib.suppress(MissingEntry):
        gradebook.remove_student("judge_sleeper")
    report = course.root / "autograder" / "reports" / f"{CHAPTER}.csv"
    report.write_text("".join(line for line in report.read_text().splitlines(keepends=True)
                              if not line.startswith("judge_sleeper,")))


def test_a_grading_over_its_time_limit_is_stopped_and_reported_and_the_others_are_graded(sleeper, graded_class):
    course, rows = sleeper, graded_class[1]
    # (20 s: well over the solver's grading even on a busy machine, well under the sleeper's minute)
    report = {row[0]: row for row in grade(course.root, CHAPTER, timeout=120, time_limit=20,
                                           students=["judge_sleeper", "judge_solver"], out=io.StringIO())}
    assert report["judge_sleeper"][3] == "failed" and "time limit (20 s)" in report["judge_sleeper"][4]
    assert report["judge_solver"][1:4] == rows["judge_solver"][1:4]
    assert "nothing was recorded" in report["judge_sleeper"][4]
    assert not (course.root / "autograder" / "verdicts" / "judge_sleeper").exists()


def test_a_worker_that_dies_while_grading_fails_only_that_learner_on_an_existing_cluster(sleeper, graded_class):
    """An existing cluster (--scheduler): the worker grading the sleeper is killed; the sleeper is reported as failed,
    the solver graded, and a rerun of the sleeper grades it again (it is not kept as graded)."""
    import threading
    import dask
    from distributed import Client, LocalCluster
    from dlfs.judge.cluster import LOCAL_SETTINGS
    course, rows = sleeper, graded_class[1]
    with dask.config.set(LOCAL_SETTINGS), LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) \
            as existing, Client(existing) as watcher:
        def kill_the_sleepers_worker():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                for worker, keys in watcher.processing().items():
                    if any(str(key).startswith("grade-judge_sleeper-") for key in keys):
                        time.sleep(2)                                # (mid-task)
                        with contextlib.suppress(Exception):
                            watcher.run(os._exit, 1, workers=[worker])
                        return
                time.sleep(0.2)
        killer = threading.Thread(target=kill_the_sleepers_worker)
        killer.start()
        report = {row[0]: row for row in grade(course.root, CHAPTER, timeout=120, scheduler=existing.scheduler_address,
                                               students=["judge_sleeper", "judge_solver"], out=io.StringIO())}
        killer.join()
    assert report["judge_sleeper"][3] == "failed" and "the worker grading it died" in report["judge_sleeper"][4]
    assert report["judge_solver"][1:4] == rows["judge_solver"][1:4]
    graded = json.loads((course.root / "autograder" / "reports" / f"{CHAPTER}.graded.json").read_text())
    assert "judge_sleeper" not in graded and "judge_solver" in graded


def test_grading_twice_gives_the_same_report(graded_class):
    _, first, second, _ = graded_class
    assert first == second


def test_verdicts_name_the_failed_test_and_its_hint(graded_class):
    import json
    course = graded_class[0]
    verdicts = json.loads((course.root / "autograder" / "verdicts" / "judge_one_mistake" / f"{CHAPTER}.json").read_text())
    assert not verdicts["test_mse_loss"]["passed"] and "divide by N" in verdicts["test_mse_loss"]["message"]
    assert all(v["passed"] for test, v in verdicts.items() if test != "test_mse_loss")


def test_a_chapter_whose_tests_leak_expected_values_is_refused(tmp_path):
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "### BEGIN HIDDEN TESTS\nexpected = 2 * x\ncheck_close(call(double, x), expected, 'double(x)')",
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "test_double", "points": 1}})])
    (tmp_path / "solutions" / "99_leaky").mkdir(parents=True)
    nbformat.write(source, tmp_path / "solutions" / "99_leaky" / "99_leaky.ipynb")
    with pytest.raises(SystemExit, match=r"not yet written for grading outside.*test_double"):
        prepare(tmp_path, "99_leaky")


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_learner_checks_their_own_notebook_as_the_class_grader_would(built_course, tmp_path):
    from dlfs.judge.check import check
    course = built_course
    mine = tmp_path / CHAPTER / f"{CHAPTER}.ipynb"
    mine.parent.mkdir()
    nbformat.write(with_answer(solved(course.release(CHAPTER), course.source(CHAPTER)), "mse_loss", SUM_INSTEAD_OF_MEAN), mine)
    before, release_before = mine.read_bytes(), _tree(course.root / "notebooks")
    out = io.StringIO()
    score, max_score = check(str(mine), root=course.root, timeout=30, out=out)
    printed = out.getvalue()
    assert (score, max_score) == (max_score - 2, sum(auto_points(course.source(CHAPTER)).values()))
    lines = printed.splitlines()
    # one line per exercise, named as the notebook names it
    failed = [i for i, line in enumerate(lines) if line.split()[:5] == ["Exercise", "1", "(mse_loss)", "0/2", "failed:"]]
    assert failed and "divide by N" in "\n".join(lines[failed[0]:failed[0] + 6])
    assert [line.split()[-2:] for line in lines if "(closed_form)" in line] == [["2/2", "passed"]]
    assert any(line.split()[:3] == ["Written", "question", "(q_learning_rate)"] and "graded by hand (pending)" in line
               for line in lines)
    assert "Test cell" not in printed and "test_mse_loss" not in printed
    assert mine.read_bytes() == before and _tree(course.root / "notebooks") == release_before


def test_a_classroom_copy_without_solutions_says_why_it_cannot_check(tmp_path):
    from dlfs.judge.check import check
    (tmp_path / "notebooks" / CHAPTER).mkdir(parents=True)
    with pytest.raises(SystemExit, match="no solutions/ folder"):
        check(CHAPTER, root=tmp_path, out=io.StringIO())


def test_a_grader_killed_part_way_leaves_the_gradebook_whole_and_a_rerun_finishes(graded_class):
    import signal
    import subprocess
    import sys
    from dlfs.build import nbgrader_env
    course, rows, _, _ = graded_class
    students = ["judge_one_mistake", "judge_renamer", "judge_solver"]
    command = [sys.executable, "-m", "dlfs.judge.grade", CHAPTER, "--root", str(course.root), "--timeout", "30",
               *[f"--student={s}" for s in students]]
    grader = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=nbgrader_env(), start_new_session=True)
    first = next(line for line in grader.stdout if PROGRESS.search(line))   # one graded, others under way
    os.killpg(grader.pid, signal.SIGKILL)                                # (the grader, its workers, their kernels)
    grader.wait()
    assert first.split(":")[0] in students
    for student in students:                       # every learner's grades are whole: new or as before
        scores = course.scores(CHAPTER, student)
        assert sum(score for test, (score, _) in scores.items() if test.startswith("test_")) == float(rows[student][1])
    rerun = subprocess.run(command, capture_output=True, text=True, env=nbgrader_env())
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = {line.split(",")[0]: line.split(",")[:4] for line in
              (course.root / "autograder" / "reports" / f"{CHAPTER}.csv").read_text().splitlines()[1:]}
    assert all(report[s] == rows[s][:4] for s in students)


def test_without_bubblewrap_grading_is_refused_unless_told_and_then_the_report_says_so(graded_class, monkeypatch):
    course = graded_class[0]
    monkeypatch.setattr(sandbox, "available", lambda: False)
    with pytest.raises(SystemExit, match="--no-sandbox"):
        grade(course.root, CHAPTER, out=io.StringIO())
    (row,) = grade(course.root, CHAPTER, sandboxed=False, students=["judge_solver"], timeout=30, out=io.StringIO())
    assert row[3] == "ok" and "graded without a sandbox" in row[4]


def test_a_handed_in_workspace_folder_is_not_flagged_for_the_course_link(built_course, tmp_path):
    """python3 -m dlfs puts a link to the course package in a learner's workspace folder (dlfs/workspace.py);
    handing in that whole folder flags nothing, while a real dlfs/ folder is still flagged."""
    from dlfs.judge.submission import read_folder
    release = built_course.release(CHAPTER)
    release_files = [p.name for p in (built_course.root / "notebooks" / CHAPTER).iterdir()]
    folder = tmp_path / CHAPTER
    folder.mkdir()
    nbformat.write(release, folder / f"{CHAPTER}.ipynb")
    (folder / "dlfs").symlink_to(built_course.root, target_is_directory=True)
    assert read_folder(folder, CHAPTER, release, release_files).notes == []
    (folder / "dlfs").unlink()
    (folder / "dlfs").mkdir()
    assert read_folder(folder, CHAPTER, release, release_files).notes == ["extra files ignored: dlfs"]
