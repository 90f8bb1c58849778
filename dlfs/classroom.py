"""nbgrader's classroom steps, made to say what happened: the release, the collection and the export.

**The release.**
Chapter k's release carries ``provided/``: the solved building blocks of the chapters before it
(``dlfs/build.py``), so that chapter 06's learners get a working chapter-03 ``Affine``. Releasing chapter k
to a class therefore hands out those chapters' solutions. That is fine once they are due, and a leak
before: a learner who fetches chapter 06 early can read chapter 03's answers while still working on it.

:class:`ReleaseAssignment` is nbgrader's release step with that check added. ``nbgrader_config.py`` makes
it nbgrader's ``release_assignment`` plugin, so ``nbgrader release_assignment NN_topic`` and the
Formgrader's release button both log, before copying, one warning per earlier chapter whose due date
(nbgrader's ``duedate`` in the gradebook) has not passed, and one line for each that has no due date.
The release itself goes ahead: whether to hand out early is the instructor's decision (e.g. a chapter
whose due date is tomorrow morning).

**The collection.** ``nbgrader submit`` takes the student id from its ``--student`` option when given, so a
learner can hand in under another learner's name: ``nbgrader submit 01_linear_regression --student=bob``. Stock
``nbgrader collect`` warns ("cheating attempt?") and collects it anyway — and, being the latest, it replaces
bob's own work. :class:`CollectAssignment` (``nbgrader_config.py`` makes it the collect plugin) refuses a
submission whose folder in the exchange is owned by another learner than the one it names (the named learner is
a user of the machine and does not own it, or its owner is another student of the class), logs who handed it
in, and collects the named learner's latest genuine submission as usual. A submission owned by an account that
is neither (one shared account for everyone, as in some container set-ups) cannot be told apart and is
collected as nbgrader does; ``--ExchangeCollect.check_owner=False`` turns the check off.

**The export.** Stock ``nbgrader export`` lists every assignment of the gradebook for every student and
writes 0 where there is no submission, so a chapter not yet released and a learner who did not hand
in both read as a 0. :class:`GradesExport` (``nbgrader_config.py`` makes it the export plugin) writes
nbgrader's columns plus ``status``, leaves out assignments that were neither released to the exchange nor
submitted to, and gives a learner without a submission the status ``missing`` and no score. Where the
grading command has reported on a chapter (``autograder/reports/NN_topic.csv``), the status is its word
for that learner: ``ok``, ``flagged`` (look at the notes there), ``failed`` or ``missing``.

**Autograding** (stock ``nbgrader autograde``, for submissions you trust) warned "Attribute 'checksum'
for cell test_... has changed!" for every test cell with hidden tests of an untouched submission: the
gradebook keeps the checksum of the source cell, hidden tests included, and the learner's copy has
them removed (nbgrader issue 1961). :class:`OverwriteCells` compares a test cell with its released
version instead, so the warning is left for a cell a learner really changed.
"""

import copy
import csv
import datetime
import os
import pwd
from pathlib import Path

from nbgrader import preprocessors, utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default import Exchange, ExchangeCollect, ExchangeReleaseAssignment
from nbgrader.plugins import CsvExportPlugin

from dlfs.build import chapters, topic


def provided_chapters(release_folder, chapter_names):
    """The chapters whose solved exports ``release_folder/provided/`` holds, in course order."""
    modules = {path.stem for path in (Path(release_folder) / "provided").glob("*.py")}
    return [chapter for chapter in chapter_names if topic(chapter) in modules]


def early_solutions(release_folder, chapter_names, due_dates, now):
    """What releasing ``release_folder`` would hand out too early.

    Args:
        due_dates: chapter -> its due date (naive UTC, as nbgrader stores it), or None when it has none;
            a chapter missing from the mapping is not in the gradebook.
        now: the current time, naive UTC.

    Returns:
        (early, undated): [(chapter, due date)] of provided chapters not yet due, and the provided chapters
        without a due date.
    """
    provided = provided_chapters(release_folder, chapter_names)
    early = [(chapter, due_dates[chapter]) for chapter in provided
             if due_dates.get(chapter) is not None and due_dates[chapter] > now]
    undated = [chapter for chapter in provided if due_dates.get(chapter) is None]
    return early, undated


def due_dates(db_url, course_id, chapter_names):
    """chapter -> due date (or None) for every chapter the gradebook knows."""
    dates = {}
    with Gradebook(db_url, course_id=course_id) as gradebook:
        for chapter in chapter_names:
            try:
                dates[chapter] = gradebook.find_assignment(chapter).duedate
            except MissingEntry:
                dates[chapter] = None
    return dates


class ReleaseAssignment(ExchangeReleaseAssignment):
    """nbgrader's release to the exchange, warning first about solutions handed out before their due date."""

    def copy_files(self):
        release = Path(self.src_path)
        names = chapters(Path(self.coursedir.root))
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        early, undated = early_solutions(release, names, due_dates(self.coursedir.db_url, self.coursedir.course_id,
                                                                   names), now)
        for chapter, due in early:
            self.log.warning(
                f"Releasing {release.name} hands out the solutions of {chapter} (provided/{topic(chapter)}.py) before "
                f"{chapter} is due ({due:%Y-%m-%d %H:%M} UTC): learners who fetch {release.name} now can read them. "
                f"Release it after that date, or accept that {chapter} is effectively over.")
        for chapter in undated:
            self.log.info(f"{release.name} hands out the solutions of {chapter} (provided/{topic(chapter)}.py), "
                          f"which has no due date in the gradebook: set one (nbgrader db assignment add {chapter} "
                          f"--duedate=...) and releasing {release.name} warns while {chapter} is open.")
        super().copy_files()


EXPORT_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email", "raw_score",
                  "late_submission_penalty", "score", "max_score", "status"]


REFUSED = "(handed in under another learner's name)"   # the student id given to refused submissions' records


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def handed_in_by_another(path, student_id, students):
    """The owner of submission folder ``path`` (a user name, or "uid N") when another learner handed it in under
    ``student_id``'s name, else None. Another learner: the owner is not ``student_id``, and either
    ``student_id`` is a user of this machine (who would own their own submission) or the owner is one of the
    class's ``students``. A submission owned by an account that is neither (one shared account, as in some
    container set-ups) cannot be told apart and is not refused."""
    owner = os.stat(path).st_uid
    try:
        claimed_uid = pwd.getpwnam(student_id).pw_uid
    except KeyError:
        claimed_uid = None
    if owner == claimed_uid:
        return None
    if claimed_uid is not None or user_name(owner) in students:
        return user_name(owner)
    return None


class CollectAssignment(ExchangeCollect):
    """nbgrader's collect, refusing a submission handed in under another learner's name (module docstring)."""

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        owner = handed_in_by_another(path, record["username"], self._students()) if self.check_owner else None
        if owner is not None:
            self.log.error(f"Not collected: {os.path.basename(path)} is handed in under the name of "
                           f"{record['username']} by {owner}, another user. {record['username']}'s own submissions "
                           "are collected as usual.")
            record["username"] = REFUSED
        return record

    def _students(self):
        if not hasattr(self, "_student_ids"):
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
                self._student_ids = {student.id for student in gradebook.students}
        return self._student_ids

    def init_src(self):
        super().init_src()      # nbgrader's choice per learner: the latest (before the due date, if asked)
        self.src_records = [record for record in self.src_records if record["username"] != REFUSED]


def report_statuses(course_root, assignment):
    """student -> status from the grading command's report of ``assignment`` ({} when there is none)."""
    report = Path(course_root) / "autograder" / "reports" / f"{assignment}.csv"
    if not report.is_file():
        return {}
    with open(report, newline="") as f:
        return {row["student_id"]: row["status"] for row in csv.DictReader(f)}


class GradesExport(CsvExportPlugin):
    """nbgrader's CSV export with a status column; unreleased assignments left out, missing work not a 0."""

    def released(self, gradebook, assignment):
        """Whether ``assignment`` went to the learners: it is in the exchange's outbound folder, or someone
        submitted it."""
        coursedir = CourseDirectory(config=self.config)
        outbound = Path(Exchange(config=self.config, coursedir=coursedir).root) / coursedir.course_id / "outbound"
        return (outbound / assignment.name).is_dir() or assignment.num_submissions > 0

    def rows(self, gradebook):
        """One dict of EXPORT_COLUMNS per (released assignment, student)."""
        root = CourseDirectory(config=self.config).root
        for assignment in gradebook.assignments:
            if self.assignment and assignment.name not in map(str, self.assignment):
                continue
            if not self.released(gradebook, assignment):
                self.log.info("%s is not released yet: not exported", assignment.name)
                continue
            statuses = report_statuses(root, assignment.name)
            for student in gradebook.students:
                if self.student and student.id not in map(str, self.student):
                    continue
                row = dict(assignment=assignment.name, duedate=assignment.duedate or "", student_id=student.id,
                           last_name=student.last_name or "", first_name=student.first_name or "",
                           email=student.email or "", max_score=assignment.max_score)
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row.update(timestamp="", raw_score="", late_submission_penalty="", score="",
                               status=statuses.get(student.id, "missing"))
                else:
                    penalty = submission.late_submission_penalty or 0.0
                    row.update(timestamp=submission.timestamp or "", raw_score=submission.score,
                               late_submission_penalty=penalty, score=max(0.0, submission.score - penalty),
                               status=statuses.get(student.id, "graded"))
                yield row

    def export(self, gradebook):
        destination = self.to or "grades.csv"
        self.log.info("Exporting grades to %s", destination)
        with open(destination, "w", newline="") as f:
            writer = csv.DictWriter(f, EXPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows(gradebook))


class OverwriteCells(preprocessors.OverwriteCells):
    """nbgrader's OverwriteCells, without the false alarm on untouched test cells (nbgrader issue 1961)."""

    _released_checksum = None

    def preprocess_cell(self, cell, resources, cell_index):
        self._released_checksum = self.released_checksum(cell)
        return super().preprocess_cell(cell, resources, cell_index)

    def released_checksum(self, cell):
        """The checksum of ``cell`` as the release had it: its source cell with the hidden tests removed (None for
        a cell the gradebook does not know)."""
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None or "checksum" not in cell.metadata.get("nbgrader", {}):
            return None
        try:
            source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            return None
        released = copy.deepcopy(cell)
        released.source = source_cell.source
        preprocessors.ClearHiddenTests().preprocess_cell(released, {}, 0)
        return utils.compute_checksum(released)

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and new == self._released_checksum:
            self.log.debug("Cell %s is as released (its hidden tests are put back)", name)
            return
        super().report_change(name, attr, old, new)
