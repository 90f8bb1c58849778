"""Grade every submission of a chapter: a sandboxed kernel per learner, the verdict outside it, a report.

    python3 -m dlfs grade 01_linear_regression [--student ID ...] [--no-sandbox] [--timeout SECONDS]

For each ``autograder/submitted/<student>/<chapter>/``: the learner's answer cells are taken from their
notebook; every other cell (given code, demos, tests) comes from the chapter's source, so edited or
deleted test cells change nothing; the cells run one by one in a fresh kernel inside a bubblewrap
sandbox whose folder holds only the release's files; dlfs.judge compares what the kernel observed with
the reference run of the solution (cached in ``autograder/reference/``). The grades go into nbgrader's
gradebook and an autograded notebook per learner (dlfs.judge.gradebook), so formgrader, manual
grading, ``nbgrader generate_feedback`` and ``nbgrader export`` work as usual. Writes
``autograder/reports/<chapter>.csv`` (student_id, score, max_score, status, notes) and each learner's
verdicts in ``autograder/verdicts/<student>/<chapter>.json`` (for instructors).

Statuses: ``ok``; ``flagged`` (graded, but a person should look: a renamed notebook graded under its
right name, edited or deleted cells, extra files next to the notebook, a kernel that died part way);
``failed`` (no readable notebook: scored 0); ``missing`` (a student in the gradebook with no
submission: not a 0 of theirs). One submission's trouble never stops the others.
"""

import argparse
import csv
import hashlib
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlfs.judge import gradebook, sandbox
from dlfs.judge.hidden import leaks
from dlfs.judge.kernel import graded_run
from dlfs.judge.submission import UnreadableSubmission, read_folder, test_cells
from dlfs.judge.verdict import judge

ROOT = Path(__file__).resolve().parent.parent.parent
REPORT_HEADER = ["student_id", "score", "max_score", "status", "notes"]


def auto_points(notebook):
    """{test grade_id: points} of a notebook's autograded test cells."""
    return {grade_id: float(cell.metadata["nbgrader"]["points"]) for grade_id, cell in test_cells(notebook).items()}


def db_url(root):
    return f"sqlite:///{Path(root) / 'autograder' / 'gradebook.db'}"


@dataclass
class Chapter:
    """What grading a chapter needs, read once: its notebooks, the reference run, the points."""
    root: Path
    name: str
    source: nbformat.NotebookNode     # solutions/NN/NN.ipynb: the instructor's notebook, hidden tests and all
    release: nbformat.NotebookNode    # notebooks/NN/NN.ipynb: what learners got
    reference: dict                   # {test grade_id: (records, index of the first hidden record)}
    printed: str                      # what the reference run printed (instructors only)

    @property
    def points(self):
        return auto_points(self.source)

    @property
    def max_score(self):
        return sum(self.points.values())

    @property
    def release_folder(self):
        return self.root / "notebooks" / self.name


def reference_run(root, chapter, source, timeout):
    """(records, printed) of the chapter's solution, cached per version of its source notebook."""
    digest = hashlib.sha256(nbformat.writes(source).encode()).hexdigest()[:16]
    cache = Path(root) / "autograder" / "reference" / f"{chapter}-{digest}.json"
    cached = json.loads(cache.read_text()) if cache.is_file() else {}
    if {"records", "printed"} <= set(cached):         # (else: none yet, or from an older grader: run again)
        return {k: tuple(v) for k, v in cached["records"].items()}, cached["printed"]
    printed = []
    records, dead = graded_run(source, Path(root) / "solutions" / chapter, "reference", sandboxed=False,
                               timeout=timeout, printed=printed)
    broken = [t for t, (r, _) in records.items() if any(x.get("check") == "stopped" for x in r)]
    if dead or broken or set(records) != set(auto_points(source)):
        raise SystemExit(f"The solution of {chapter} does not pass its own tests ({broken or 'kernel died'}); "
                         "fix the source before grading.")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"records": records, "printed": "".join(printed)}))
    return records, "".join(printed)


def release_of(source):
    """The release of a source notebook, as nbgrader's generate_assignment makes it (solutions and
    hidden tests cleared), for a learner whose notebooks/ copy is their own work."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
    notebook, resources = ClearSolutions().preprocess(nbformat.from_dict(source), {})
    return ClearHiddenTests().preprocess(notebook, resources)[0]


def prepare(root, name, timeout=60, release=None):
    """The Chapter, after checking it can be graded outside the learner's kernel. ``release`` defaults
    to the release notebook in notebooks/."""
    root = Path(root)
    source_path = root / "solutions" / name / f"{name}.ipynb"
    if not source_path.is_file():
        raise SystemExit(f"{source_path} is missing: build the course first (python3 -m dlfs release).")
    source = nbformat.read(source_path, as_version=4)
    unconverted = [grade_id for grade_id, cell in test_cells(source).items() if leaks(cell.source)]
    if unconverted:
        raise SystemExit(f"{name}'s tests are not yet written for grading outside the learner's kernel "
                         f"({', '.join(unconverted)}): grade it with nbgrader autograde for now (issue 10).")
    release = release or nbformat.read(root / "notebooks" / name / f"{name}.ipynb", as_version=4)
    reference, printed = reference_run(root, name, source, timeout)
    return Chapter(root, name, source, release, reference, printed)


def verdicts_of(chapter, answers, sandboxed, timeout):
    """({test grade_id: verdict dict}, whether the kernel died) for one learner's answers."""
    with tempfile.TemporaryDirectory(prefix="dlfs-grade-") as work:
        workdir = Path(work) / chapter.name
        shutil.copytree(chapter.release_folder, workdir, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        # demo cells only show things (no test depends on one: tests/test_variants.py runs without them),
        # so a learner's run skips them: faster, and a slow plot costs no points
        observed, died = graded_run(chapter.source, workdir, "observe", answers=answers, sandboxed=sandboxed,
                                    timeout=timeout, skip_demos=True)
    verdicts = {}
    for test, (records, hidden_from) in chapter.reference.items():
        verdict = judge(records, observed.get(test, ([], None))[0], hidden_from)
        points = chapter.points[test]
        verdicts[test] = {"passed": verdict.passed, "points": points if verdict.passed else 0.0,
                          "max_points": points, "message": verdict.message}
    return verdicts, died


def grade_student(chapter, student, folder, sandboxed, timeout):
    """Grade one submission folder into the gradebook; returns its report row."""
    try:
        submission = read_folder(folder, chapter.name, chapter.release,
                                 [p.name for p in chapter.release_folder.iterdir()])
    except UnreadableSubmission as failure:
        message = f"{failure}: nothing could be graded."
        verdicts = {test: {"passed": False, "points": 0.0, "max_points": p, "message": message}
                    for test, p in chapter.points.items()}
        answers = {}
        gradebook.record(db_url(chapter.root), student, chapter.name, verdicts, answers, chapter.release, folder,
                         unreadable=True)
        status, notes, score = "failed", [str(failure)], 0.0
    else:
        answers, notes = submission.answers, list(submission.notes)
        verdicts, died = verdicts_of(chapter, answers, sandboxed, timeout)
        if died:
            notes.append("the kernel died part way: scored on what was observed")
        gradebook.record(db_url(chapter.root), student, chapter.name, verdicts, answers, chapter.release, folder)
        score, status = sum(v["points"] for v in verdicts.values()), "flagged" if notes else "ok"
    gradebook.write_autograded(chapter.root, student, chapter.name,
                               gradebook.autograded_notebook(chapter.release, answers, verdicts), folder)
    if not sandboxed:
        notes.append("graded without a sandbox (--no-sandbox)")
    target = chapter.root / "autograder" / "verdicts" / student / f"{chapter.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(verdicts, indent=1))
    return [student, f"{score:g}", f"{chapter.max_score:g}", status, "; ".join(notes)]


def known_students(root):
    """Student ids in the gradebook."""
    with gradebook.open_gradebook(db_url(root)) as book:
        return {student.id for student in book.students}


def _write_report(path, rows):
    """Write the report, keeping the rows of students not graded in this run."""
    kept = {}
    if path.is_file():
        with path.open(newline="") as f:
            kept = {row[0]: row for row in list(csv.reader(f))[1:] if row}
    kept.update({row[0]: row for row in rows})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="") as f:
        csv.writer(f).writerows([REPORT_HEADER, *(kept[s] for s in sorted(kept))])
    partial.replace(path)


def grade(root, chapter_name, sandboxed=True, timeout=60, students=None, out=sys.stdout):
    """Grade every submission of ``chapter_name`` (or only ``students``); returns this run's report rows."""
    root = Path(root)
    if sandboxed and not sandbox.available():
        raise SystemExit("bubblewrap (bwrap) is not installed, so submissions cannot be sandboxed: "
                         "`apt install bubblewrap`, or pass --no-sandbox if you trust every submission.")
    gradebook.require_assignment(db_url(root), chapter_name)
    chapter = prepare(root, chapter_name, timeout)
    submitted = root / "autograder" / "submitted"
    folders = {p.parent.name: p for p in sorted(submitted.glob(f"*/{chapter_name}")) if p.is_dir()}
    everyone = sorted(set(folders) | known_students(root))
    rows = []
    for student in (everyone if students is None else sorted(students)):
        if student not in folders:
            row = [student, "", f"{chapter.max_score:g}", "missing", "no submission"]
        else:
            try:
                row = grade_student(chapter, student, folders[student], sandboxed, timeout)
            except Exception as error:  # noqa: BLE001 - one submission's trouble never stops the batch
                row = [student, "", f"{chapter.max_score:g}", "failed",
                       f"the grader could not grade it ({type(error).__name__}: {error}); nothing was recorded"]
        rows.append(row)
        print(f"{row[0]}: {row[1] or '-'} / {row[2]} {row[3]}" + (f" ({row[4]})" if row[4] else ""), file=out, flush=True)
    report = root / "autograder" / "reports" / f"{chapter_name}.csv"
    _write_report(report, rows)
    print(f"report: {report}", file=out)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m dlfs grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help="e.g. 01_linear_regression")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--no-sandbox", action="store_true", help="run kernels unsandboxed (trusted submissions only)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per cell (default 60)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder (default: this course)")
    args = parser.parse_args(argv)
    grade(args.root, args.chapter, sandboxed=not args.no_sandbox, timeout=args.timeout, students=args.student)
    return 0


if __name__ == "__main__":
    sys.exit(main())
