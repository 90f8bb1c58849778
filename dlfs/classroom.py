"""A classroom release that says when it would hand out solutions before they are due.

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
"""

import datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default import ExchangeReleaseAssignment

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
