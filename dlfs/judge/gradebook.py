"""The judge's verdicts, written where nbgrader's own tools read grades.

- The gradebook (nbgrader's database): one submission per learner and chapter, an automatic score per
  test cell, written answers left for a person (``needs_manual_grade``), "No response." on answer
  cells left as the stub. Formgrader, ``nbgrader export`` and manual grading work on it as usual, and
  a manual score a grader already gave is never overwritten.
- The autograded notebook (``autograder/autograded/<student>/<chapter>/``), which formgrader shows and
  ``nbgrader generate_feedback`` renders: the *release* notebook (no hidden test, no solution) with
  the learner's answers, and under each test cell the judge's verdict as its only output: a passing
  note, or an error whose message is the verdict's (what failed and the hint, no hidden value).
  Nothing the learner's code printed while being graded is kept: it could quote hidden tests.

One learner's grades are committed in one transaction, so a grader stopped part way leaves every
learner either graded or as before.

Where the gradebook lives (``url``): nbgrader's ``db_url``, by default the SQLite file
``autograder/gradebook.db`` (no set-up); ``$DLFS_GRADEBOOK`` or the grading command's ``--db`` put it on a
database server, e.g. ``postgresql://grader@db.example.org/dlfs``, which several grading commands, the
Formgrader and nbgrader's own commands use at once (the course's ``nbgrader_config.py`` reads the same
variable).
"""

import contextlib
import os
import shutil
import sys
import warnings
from pathlib import Path

import nbformat

from dlfs.judge.submission import EXCHANGE_FILES, answer_cells, nbgrader_meta, test_cells

DB_VARIABLE = "DLFS_GRADEBOOK"
PASSED = "passed: every check of this test, visible and hidden, holds."


def test_output(verdict):
    """The output nbgrader scores a test cell by: an error output fails it, anything else passes it."""
    if verdict["passed"]:
        return nbformat.v4.new_output("stream", name="stdout", text=PASSED + "\n")
    return nbformat.v4.new_output("error", ename="GradingError", evalue=verdict["message"],
                                  traceback=[f"GradingError: {verdict['message']}"])


def autograded_notebook(release, answers, verdicts):
    """The release notebook with the learner's answers and one verdict output under each test cell."""
    notebook = nbformat.from_dict(release)
    answered, tests = answer_cells(notebook), test_cells(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    for grade_id, cell in answered.items():
        cell.source = answers.get(grade_id, cell.source)
    for grade_id, cell in tests.items():
        if grade_id in verdicts:
            cell.outputs = [test_output(verdicts[grade_id])]
    return notebook


def write_autograded(root, student, chapter, notebook, submitted_folder):
    """Write the autograded notebook, with the exchange's files of the submission: its timestamp, which feedback
    shows, and its secret, by which nbgrader release_feedback names the learner's feedback in the exchange."""
    folder = Path(root) / "autograder" / "autograded" / student / chapter
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{chapter}.ipynb")
    for name in EXCHANGE_FILES:
        kept = Path(submitted_folder) / name if submitted_folder else None
        if kept and kept.is_file():
            shutil.copyfile(kept, folder / name)
    return folder


def _timestamp(submitted_folder):
    from nbgrader.utils import parse_utc
    stamp = Path(submitted_folder) / "timestamp.txt" if submitted_folder else None
    try:
        return parse_utc(stamp.read_text().strip()) if stamp and stamp.is_file() else None
    except (ValueError, OverflowError):
        return None


def url(root, db=None):
    """The gradebook's database URL: ``db`` if given, else ``$DLFS_GRADEBOOK``, else the course's SQLite file."""
    return db or os.environ.get(DB_VARIABLE) or f"sqlite:///{Path(root) / 'autograder' / 'gradebook.db'}"


def shown(db_url):
    """The URL without its password, to print."""
    from sqlalchemy.engine import make_url
    return make_url(db_url).render_as_string(hide_password=True)


@contextlib.contextmanager
def open_gradebook(db_url):
    """nbgrader's Gradebook at ``db_url``, as a context manager.

    nbgrader runs `alembic` from PATH on a new database: this interpreter's bin/ comes first, as with
    `python3 -m dlfs`. nbgrader's API makes SQLAlchemy warn "Object of type <SubmittedAssignment> not
    in session" whenever a submission is created (its own autograde prints the same); they say nothing
    about the grades, and an instructor would read them as trouble, so they are silenced here."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning, message=".*not in session.*")
        with Gradebook(db_url) as gradebook:
            yield gradebook


def require_assignment(db_url, chapter):
    """SystemExit with the fix if nbgrader does not know the chapter (generate_assignment never ran)."""
    from nbgrader.api import MissingEntry
    with open_gradebook(db_url) as gradebook:
        try:
            gradebook.find_assignment(chapter)
        except MissingEntry:
            raise SystemExit(f"The gradebook has no assignment {chapter}: run `python3 -m dlfs release` "
                             f"(or `nbgrader generate_assignment {chapter}`) first.") from None


def record(db_url, student, chapter, verdicts, answers, release, submitted_folder, unreadable=False):
    """Write one learner's automatic grades into the gradebook.

    Args:
        verdicts: {test grade_id: {"passed", "points", ...}} from the judge.
        answers: {answer grade_id: source} as graded (the stub where the learner left none).
        unreadable: no notebook could be read: every grade is 0, nothing waits for a person.
    """
    stubs = {grade_id: cell.source for grade_id, cell in answer_cells(release).items()}
    with open_gradebook(db_url) as gradebook:
        _ensure_student(gradebook, student)
        timestamp = _timestamp(submitted_folder)
        gradebook.update_or_create_submission(chapter, student, **({"timestamp": timestamp} if timestamp else {}))
        notebook = gradebook.find_submission_notebook(chapter, chapter, student)
        for grade in notebook.grades:
            if unreadable:
                grade.auto_score = 0
            elif grade.name in verdicts:
                grade.auto_score = float(verdicts[grade.name]["points"])
            else:                              # a written answer: a person grades it
                grade.auto_score = None
            grade.needs_manual_grade = grade.manual_score is not None or (grade.auto_score is None and not unreadable)
        for comment in notebook.comments:
            unanswered = unreadable or answers.get(comment.name) == stubs.get(comment.name)
            comment.auto_comment = "No response." if unanswered else None
        gradebook.db.commit()


def _ensure_student(gradebook, student):
    """Add the student unless the gradebook has them. Another grading command may add the same student at the
    same moment (two chapters graded at once into one database server): the loser of that race finds the
    winner's row instead of failing, as nbgrader's own update_or_create_student would."""
    from nbgrader.api import MissingEntry, Student
    from sqlalchemy.exc import IntegrityError
    try:
        gradebook.find_student(student)
    except MissingEntry:
        gradebook.db.add(Student(id=student))
        try:
            gradebook.db.commit()
        except IntegrityError:
            gradebook.db.rollback()
            gradebook.find_student(student)


def written_answers(release):
    """Grade ids of the answers a person grades (written answers)."""
    return [grade_id for grade_id, cell in answer_cells(release).items() if nbgrader_meta(cell).get("grade")]
