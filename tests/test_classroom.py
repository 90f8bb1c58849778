"""The classroom release (dlfs/classroom.py): releasing a chapter warns while an earlier chapter whose solutions its
provided/ hands out is not yet due, through nbgrader's own release_assignment."""

import datetime
import shutil

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
