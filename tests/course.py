"""Drive the real nbgrader pipeline on a temporary copy of the course.

    course = Course.copy_of(REPO, tmp_path)   # text sources + nbgrader_config.py only
    course.build()                             # our build: source notebooks, provided/, release
    course.submit("alice", "01_linear_regression", notebook)
    # python -m dlfs.judge.grade 01_linear_regression --root <course.root>   (the grading command)
    course.scores("01_linear_regression", "alice")   # {grade_id: (score, max_score)}
"""

import csv
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from dlfs import build

REPO = Path(__file__).resolve().parent.parent
# Chapter 01's mse_loss with a classic mistake: it sums the squared errors instead of averaging them (the
# exercise's 2 points lost, every other test passed).
SUM_INSTEAD_OF_MEAN = "def mse_loss(y_pred, y):\n    return float(np.sum((y_pred - y) ** 2))\n"


class Course:
    def __init__(self, root):
        self.root = Path(root)

    @classmethod
    def copy_of(cls, repo, destination):
        """A fresh course directory holding only what the build needs from ``repo``."""
        destination = Path(destination)
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(repo) / "nbgrader_config.py", destination)
        for text in sorted(Path(repo).glob("solutions/*/*" + build.SOURCE_SUFFIX)):
            target = destination / "solutions" / text.parent.name
            target.mkdir(parents=True)
            shutil.copy(text, target)
        for offered in sorted({path for paths in build.OFFERED_AFTER.values() for path in paths}):
            (destination / offered).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(Path(repo) / offered, destination / offered)
        (destination / "autograder").mkdir()
        return cls(destination)

    def build(self):
        return build.build(self.root)

    def nbgrader(self, *args, check=True):
        """Run an nbgrader command in the course root; returns the CompletedProcess (output captured)."""
        result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.root,
                                env=build.nbgrader_env(), capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def source(self, chapter):
        return nbformat.read(self.root / "solutions" / chapter / f"{chapter}.ipynb", as_version=4)

    def release(self, chapter):
        return nbformat.read(self.root / "notebooks" / chapter / f"{chapter}.ipynb", as_version=4)

    def submit(self, student, chapter, notebook, filename=None):
        directory = self.root / "autograder" / "submitted" / student / chapter
        directory.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, directory / (filename or f"{chapter}.ipynb"))
        (directory / "timestamp.txt").write_text("2026-11-23 12:00:00.000000 UTC")   # as nbgrader collect leaves them
        (directory / "submission_secret.txt").write_text(f"{student}-{chapter}-secret")

    def feedback_html(self, chapter, student):
        return self.root / "autograder" / "feedback" / student / chapter / f"{chapter}.html"

    def scores(self, chapter, student):
        """{grade_id: (score, max_score)} of a graded submission, from the gradebook."""
        with Gradebook(f"sqlite:///{self.root / 'autograder' / 'gradebook.db'}") as gradebook:
            notebook = gradebook.find_submission_notebook(chapter, chapter, student)
            return {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}

    def export(self):
        """Rows of nbgrader's CSV export, keyed by (student_id, assignment)."""
        path = self.root / "autograder" / "grades.csv"
        self.nbgrader("export", f"--to={path}")
        with open(path, newline="") as f:
            return {(row["student_id"], row["assignment"]): row for row in csv.DictReader(f)}


def solved(release, source):
    """The release notebook with every answer cell filled in from the solution source:
    what a learner who answered everything correctly submits."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    notebook = nbformat.from_dict(release)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def with_answer(notebook, grade_id, code):
    """A copy of ``notebook`` whose answer cell ``grade_id`` holds ``code``."""
    notebook = nbformat.from_dict(notebook)
    cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert cells, f"no cell {grade_id!r}"
    cells[0].source = code
    return notebook


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a JupyterLab server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
