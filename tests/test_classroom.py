"""nbgrader's classroom steps as the course configures them (dlfs/classroom.py), driven through nbgrader's own commands:
the release warns while an earlier chapter whose solutions its provided/ hands out is not yet due; the export leaves out
unreleased chapters and tells missing work from a 0; stock autograde warns of a changed test cell only when a learner
changed it."""

import csv
import datetime
import os
import shutil

from nbgrader.api import Gradebook

from course import Course
from dlfs.build import chapters
from dlfs.classroom import early_solutions, provided_chapters

NAMES = ["02_softmax", "03_mlp", "06_cnn", "07_cifar10"]


def _release_folder(tmp_path, modules):
    provided = tmp_path / "07_cifar10" / "provided"
    provided.mkdir(parents=True)
    for module in modules:
        (provided / f"{module}.py").write_text("")
    return provided.parent


def test_the_provided_modules_name_the_chapters_whose_solutions_go_out(tmp_path):
    folder = _release_folder(tmp_path, ["__init__", "softmax", "mlp", "cnn", "fast_cnn"])
    assert provided_chapters(folder, NAMES) == ["02_softmax", "03_mlp", "06_cnn"]


def test_early_solutions_are_those_not_yet_due_and_undated_ones_are_named(tmp_path):
    folder = _release_folder(tmp_path, ["softmax", "mlp", "cnn"])
    now = datetime.datetime(2026, 12, 3, 12, 0)
    dates = {"02_softmax": now - datetime.timedelta(days=7), "03_mlp": now + datetime.timedelta(hours=1),
             "06_cnn": None}
    early, undated = early_solutions(folder, NAMES, dates, now)
    assert early == [("03_mlp", now + datetime.timedelta(hours=1))]
    assert undated == ["06_cnn"]


def test_nbgrader_release_assignment_warns_and_still_releases(built_course, tmp_path):
    course = Course(tmp_path / "course")
    shutil.copytree(built_course.root, course.root)
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    now = datetime.datetime.now(datetime.timezone.utc)
    soon, past = now + datetime.timedelta(days=3), now - datetime.timedelta(days=3)
    course.nbgrader("db", "assignment", "add", "03_mlp", f"--duedate={soon:%Y-%m-%d %H:%M:%S} UTC")
    course.nbgrader("db", "assignment", "add", "02_softmax", f"--duedate={past:%Y-%m-%d %H:%M:%S} UTC")
    done = course.nbgrader("release_assignment", "06_cnn", f"--Exchange.root={exchange}", "--log-level=INFO")
    log = done.stdout + done.stderr
    assert "Releasing 06_cnn hands out the solutions of 03_mlp (provided/mlp.py) before 03_mlp is due" in log
    assert "solutions of 02_softmax" not in log           # due last week: handing it out is fine
    undated = [c for c in chapters(course.root)[:5] if c not in ("02_softmax", "03_mlp")]
    for chapter in undated:               # 01, 04, 05: in provided/, no due date
        assert f"hands out the solutions of {chapter}" in log and "has no due date" in log
    assert (exchange / "dlfs" / "outbound" / "06_cnn" / "06_cnn.ipynb").is_file()


def test_the_export_leaves_out_unreleased_chapters_and_tells_missing_work_from_a_zero(built_course, tmp_path):
    course = Course(tmp_path / "course")
    shutil.copytree(built_course.root, course.root)
    exchange = tmp_path / "exchange"
    (exchange / "dlfs" / "outbound" / "03_mlp").mkdir(parents=True)            # released, nobody handed in yet
    with Gradebook(f"sqlite:///{course.root / 'autograder' / 'gradebook.db'}", course_id="dlfs") as gradebook:
        for student in ("ada", "bob"):
            gradebook.add_student(student)
        for chapter in ("01_linear_regression", "02_softmax", "03_mlp"):
            gradebook.update_or_create_assignment(chapter)
        gradebook.add_submission("01_linear_regression", "ada")                  # handed in, scored 0
    report = course.root / "autograder" / "reports"
    report.mkdir(parents=True, exist_ok=True)
    (report / "01_linear_regression.csv").write_text("student_id,score,max_score,status,notes\n"
                                                     "ada,0,10,flagged,test cells edited\nbob,0,10,missing,\n")
    grades = tmp_path / "grades.csv"
    course.nbgrader("export", f"--to={grades}", f"--Exchange.root={exchange}")
    with open(grades, newline="") as f:
        rows = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(f)}
    assert sorted(rows) == [("01_linear_regression", "ada"), ("01_linear_regression", "bob"),
                            ("03_mlp", "ada"), ("03_mlp", "bob")]              # 02 was never released: not listed
    assert (rows[("01_linear_regression", "ada")]["score"], rows[("01_linear_regression", "ada")]["status"]) == \
        ("0.0", "flagged")                                                      # a real 0, with the report's word
    assert (rows[("01_linear_regression", "bob")]["score"], rows[("01_linear_regression", "bob")]["status"]) == \
        ("", "missing")                                                         # nothing handed in: not a 0
    assert (rows[("03_mlp", "ada")]["score"], rows[("03_mlp", "ada")]["status"]) == ("", "missing")


def test_stock_autograde_warns_of_changed_test_cells_only_when_a_learner_changed_one(built_course, tmp_path):
    course = Course(tmp_path / "course")
    shutil.copytree(built_course.root, course.root)
    chapter = "01_linear_regression"
    release = course.release(chapter)
    course.submit("ada", chapter, release)                               # untouched
    edited = course.release(chapter)
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_mse_loss":
            cell.source = "pass  # the visible tests deleted\n"
    course.submit("bob", chapter, edited)
    logs = {student: course.nbgrader("autograde", chapter, f"--student={student}", "--create") for student in ("ada", "bob")}
    changed = {student: [line for line in (done.stdout + done.stderr).splitlines() if "has changed" in line]
               for student, done in logs.items()}
    for done in logs.values():                       # nbgrader's SQLAlchemy warnings on a new submission: silenced
        assert "SAWarning" not in done.stdout + done.stderr
    assert changed["ada"] == []                      # hidden tests put back into an untouched cell: no alarm
    assert len(changed["bob"]) == 1 and "Attribute 'checksum' for cell test_mse_loss has changed" in changed["bob"][0]


def test_a_submission_is_refused_only_when_another_learner_owns_it(tmp_path):
    """dlfs.classroom.handed_in_by_another, on a folder owned by this test's user (whose name is ``me``). The whole
    collect step, with real learners' submissions: tests/test_classroom_round_trip.py."""
    import pwd
    from dlfs.classroom import handed_in_by_another
    me = pwd.getpwuid(os.getuid()).pw_name
    others = [user.pw_name for user in pwd.getpwall() if user.pw_uid != os.getuid()]
    folder = tmp_path / "submission"
    folder.mkdir()
    assert handed_in_by_another(folder, me, students=set()) is None                      # my own
    assert handed_in_by_another(folder, others[0], students=set()) == me                 # a user who is not me
    assert handed_in_by_another(folder, "no-such-user-x", students={me}) == me           # not a user; I am a student
    assert handed_in_by_another(folder, "no-such-user-x", students={"someone"}) is None  # a shared account: can't tell
