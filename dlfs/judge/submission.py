"""What a learner handed in, read without running any of it.

A submission folder ``autograder/submitted/<student>/<chapter>/`` (or a learner's own notebook, for
``python3 -m dlfs check``) yields the learner's answer cells, by nbgrader grade id, and notes for the
instructor about anything unusual: a renamed notebook, deleted answer cells, edited or deleted test
cells (the originals are run anyway), files that are not part of the release. Only answer cells are
ever taken from a learner: every other cell the grader runs comes from the chapter's source.
"""

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

# files nbgrader's exchange puts in a submission: when it was handed in, and the secret that names the
# learner's feedback in the exchange (release_feedback needs it next to the feedback)
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
# files nbgrader and JupyterLab leave next to a notebook, which say nothing about the learner
HOUSEKEEPING = {".ipynb_checkpoints", *EXCHANGE_FILES}


def nbgrader_meta(cell):
    metadata = cell.get("metadata")
    return metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}


def answer_cells(notebook):
    """{grade_id: cell} of a notebook's answer cells (code answers and written answers)."""
    return {nbgrader_meta(c)["grade_id"]: c for c in notebook.cells if nbgrader_meta(c).get("solution")}


def test_cells(notebook):
    """{grade_id: cell} of a notebook's autograded test cells."""
    return {nbgrader_meta(c)["grade_id"]: c for c in notebook.cells
            if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution") and c.cell_type == "code"}


@dataclass
class Submission:
    """One learner's answers: {grade_id: source} for every answer cell of the release (a deleted cell
    gets the release's stub), and the notes for the instructor."""
    answers: dict
    notes: list = field(default_factory=list)


class UnreadableSubmission(Exception):
    """No notebook could be read: the message says why, for the report."""


def find_notebook(folder, chapter):
    """(path of the notebook to grade, notes): the chapter's notebook, or the only notebook there."""
    expected = Path(folder) / f"{chapter}.ipynb"
    if expected.is_file():
        return expected, []
    notebooks = sorted(Path(folder).glob("*.ipynb"))
    if len(notebooks) == 1:
        return notebooks[0], [f"notebook named {notebooks[0].name}, graded as {expected.name}"]
    raise UnreadableSubmission(f"no notebook {expected.name}" + (f" (found {len(notebooks)} others)" if notebooks else ""))


def read_notebook(path, release):
    """The Submission in the notebook at ``path``, compared with the ``release`` notebook."""
    path = Path(path)
    try:
        submitted = nbformat.read(path, as_version=4)
        cells = [c for c in submitted.cells if isinstance(c, dict)]
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same outcome for the learner
        raise UnreadableSubmission(f"{path.name} is not a readable notebook ({type(error).__name__})") from None
    by_id = {}
    for cell in cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id and isinstance(grade_id, str):
            by_id.setdefault(grade_id, cell)
    notes, answers = [], {}
    for grade_id, stub in answer_cells(release).items():
        cell = by_id.get(grade_id)
        if cell is not None and cell.get("cell_type") == stub.cell_type:
            answers[grade_id] = str(cell.get("source", ""))
        else:
            answers[grade_id] = stub.source
            notes.append(f"answer cell {grade_id} deleted (graded as not answered)")
    changed = [grade_id for grade_id, cell in test_cells(release).items()
               if str(by_id.get(grade_id, {}).get("source")) != cell.source]
    if changed:
        notes.append(f"test cells edited or deleted: {', '.join(changed)} (the originals were run)")
    added = (sum(1 for c in cells if c.get("cell_type") == "code" and not nbgrader_meta(c).get("grade_id"))
             - sum(1 for c in release.cells if c.cell_type == "code" and not nbgrader_meta(c).get("grade_id")))
    if added > 0:
        notes.append(f"{added} code cell(s) added outside the answer cells (not run: only answer cells are graded)")
    return Submission(answers, notes)


def _course_link(path):
    """The link to the course package that ``python3 -m dlfs`` puts in a learner's workspace folder
    (dlfs/workspace.py, link_package): handing in that whole folder is not a reason to flag it. (A real
    ``dlfs/`` folder is; it is never imported either way.)"""
    return path.name == "dlfs" and path.is_symlink()


def read_folder(folder, chapter, release, release_files):
    """The Submission in a submission folder; ``release_files`` are the names the release ships."""
    path, notes = find_notebook(folder, chapter)
    submission = read_notebook(path, release)
    submission.notes[:0] = notes
    extra = sorted(p.name for p in Path(folder).iterdir()
                   if p.name not in set(release_files) | HOUSEKEEPING | {path.name} and not _course_link(p))
    if extra:
        submission.notes.append(f"extra files ignored: {', '.join(extra[:5])}" + (" ..." if len(extra) > 5 else ""))
    return submission
