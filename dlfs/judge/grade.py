"""Grade every submission of a chapter: a sandboxed kernel per learner, the verdict outside it, a report.

    python3 -m dlfs grade 01_linear_regression [--student ID ...] [--no-sandbox] [--timeout SECONDS]
                      [--workers N | --scheduler tcp://HOST:PORT] [--time-limit SECONDS] [--regrade]
                      [--db postgresql://HOST/DB]

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

Submissions are graded in parallel on Dask (dlfs.judge.cluster): by default one worker per core of this
machine, or an existing cluster (``--scheduler``). This process alone reads the submissions and writes
every result; progress (done/total, failures, time left) shows as each learner's grading ends. A worker
that dies, a grading that exceeds ``--time-limit`` and a grader error are reported as ``failed`` for that
learner, with nothing recorded; run the command again and it grades only what is missing: learners whose
submission, chapter source and settings are unchanged since they were graded keep their grades
(``--regrade`` grades everyone again; ``--student`` always grades those named).
"""

import argparse
import csv
import hashlib
import json
import os
import stat
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlfs.grading import json_default
from dlfs.judge import class_report, cluster, gradebook, sandbox
from dlfs.judge.hidden import leaks
from dlfs.judge.kernel import graded_run
from dlfs.judge.submission import UnreadableSubmission, read_folder, test_cells
from dlfs.judge.verdict import judge

ROOT = Path(__file__).resolve().parent.parent.parent
REPORT_HEADER = ["student_id", "score", "max_score", "status", "notes"]
TIME_LIMIT = 1800        # seconds for one submission's whole grading (each cell also has its --timeout)


def auto_points(notebook):
    """{test grade_id: points} of a notebook's autograded test cells."""
    return {grade_id: float(cell.metadata["nbgrader"]["points"]) for grade_id, cell in test_cells(notebook).items()}


@dataclass
class Chapter:
    """What grading a chapter needs, read once: its notebooks, the reference run, the points."""
    root: Path
    name: str
    source: nbformat.NotebookNode     # solutions/NN/NN.ipynb: the instructor's notebook, hidden tests and all
    release: nbformat.NotebookNode    # notebooks/NN/NN.ipynb: what learners got
    reference: dict                   # {test grade_id: (records, index of the first hidden record)}
    printed: str                      # what the reference run printed (instructors only)
    release_files: dict               # {path in the release folder: bytes}: its files other than notebooks

    @property
    def points(self):
        return auto_points(self.source)

    @property
    def max_score(self):
        return sum(self.points.values())

    @property
    def release_folder(self):
        return self.root / "notebooks" / self.name


def files_of(folder):
    """{relative path: bytes} of a release folder's files, without notebooks and checkpoints (what a learner's
    kernel finds next to the notebook: provided/, data files)."""
    folder = Path(folder)
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.suffix != ".ipynb" and ".ipynb_checkpoints" not in path.parts}


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
    cache.write_text(json.dumps({"records": records, "printed": "".join(printed)}, default=json_default))
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
    return Chapter(root, name, source, release, reference, printed, files_of(root / "notebooks" / name))


def verdicts_of(chapter, answers, sandboxed, timeout):
    """({test grade_id: verdict dict}, whether the kernel died) for one learner's answers. Needs nothing of the
    course folder: a Dask worker runs it (dlfs.judge.cluster)."""
    with tempfile.TemporaryDirectory(prefix="dlfs-grade-") as work:
        workdir = Path(work) / chapter.name
        workdir.mkdir()
        for name, content in chapter.release_files.items():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            (workdir / name).write_bytes(content)
        # demo cells only show things (no test depends on one: tests/test_variants.py runs without them),
        # so a learner's run skips them: faster, and a slow plot costs no points
        observed, died = graded_run(chapter.source, workdir, "observe", answers=answers, sandboxed=sandboxed,
                                    timeout=timeout, skip_demos=True)
    verdicts = {}
    for test, (records, hidden_from) in chapter.reference.items():
        verdict = judge(records, observed.get(test, ([], None))[0], hidden_from)
        points = chapter.points[test]
        verdicts[test] = {"passed": verdict.passed, "points": points if verdict.passed else 0.0,
                          "max_points": points, "message": verdict.message, "mistake": verdict.mistake}
    return verdicts, died


def record(db_url, chapter, student, folder, answers, notes, verdicts, sandboxed, unreadable=False):
    """Write one learner's grading (the gradebook at ``db_url``, the autograded notebook, the verdicts); returns the
    report row."""
    gradebook.record(db_url, student, chapter.name, verdicts, answers, chapter.release, folder,
                     unreadable=unreadable)
    gradebook.write_autograded(chapter.root, student, chapter.name,
                               gradebook.autograded_notebook(chapter.release, answers, verdicts), folder)
    status = "failed" if unreadable else "flagged" if notes else "ok"
    notes = list(notes) + ([] if sandboxed else ["graded without a sandbox (--no-sandbox)"])
    target = chapter.root / "autograder" / "verdicts" / student / f"{chapter.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(verdicts, indent=1))
    score = sum(v["points"] for v in verdicts.values())
    return [student, f"{score:g}", f"{chapter.max_score:g}", status, "; ".join(notes)]


def record_unreadable(db_url, chapter, student, folder, failure, sandboxed):
    """A submission with no readable notebook: every test failed with the reason, scored 0."""
    message = f"{failure}: nothing could be graded."
    verdicts = {test: {"passed": False, "points": 0.0, "max_points": p, "message": message}
                for test, p in chapter.points.items()}
    return record(db_url, chapter, student, folder, {}, [str(failure)], verdicts, sandboxed, unreadable=True)


def read(chapter, folder):
    """The learner's Submission (answers and notes), read without running any of it."""
    return read_folder(folder, chapter.name, chapter.release, [p.name for p in chapter.release_folder.iterdir()])


def _notes(notes, died):
    return list(notes) + (["the kernel died part way: scored on what was observed"] if died else [])


def fingerprint(chapter, folder, sandboxed, timeout, db_url):
    """What a learner's grade depends on: their submission (its notebooks' bytes, the names, kinds and sizes of
    its other files, never followed through a link), the chapter's source (tests and solutions), the grading
    settings and the gradebook it went into. Unchanged, a rerun keeps the grade."""
    digest = hashlib.sha256(nbformat.writes(chapter.source).encode())
    digest.update(json.dumps([sandboxed, timeout, gradebook.shown(db_url)]).encode())
    for here, folders, files in os.walk(folder):          # (os.walk does not follow links to folders)
        folders[:] = sorted(f for f in folders if f != ".ipynb_checkpoints")
        for name in sorted(files):
            path = Path(here) / name
            status = path.lstat()
            content = path.read_bytes() if name.endswith(".ipynb") and stat.S_ISREG(status.st_mode) else b""
            digest.update(f"{path.relative_to(folder)}\0{status.st_mode}\0{status.st_size}\0".encode() + content)
    return digest.hexdigest()


class Progress:
    """One line per learner as their grading ends: done/total, failures so far and the time left."""

    def __init__(self, total, out):
        self.total, self.done, self.failures, self.out, self.start = total, 0, 0, out, time.monotonic()

    def show(self, row, seconds=None):
        """Print ``row``'s line; ``seconds``: how long its grading ran on its worker."""
        self.done += 1
        self.failures += row[3] == "failed"
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        took = f" in {seconds:.2f} s" if seconds is not None else ""
        print(f"{_line(row)}   [{self.done}/{self.total} graded{took}, {self.failures} failed, "
              f"about {_duration(left)} left]", file=self.out, flush=True)


def _line(row):
    return f"{row[0]}: {row[1] or '-'} / {row[2]} {row[3]}" + (f" ({row[4]})" if row[4] else "")


def _duration(seconds):
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def known_students(db_url):
    """Student ids in the gradebook."""
    with gradebook.open_gradebook(db_url) as book:
        return {student.id for student in book.students}


def _read_report(path):
    """{student: row} of an existing report."""
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {row[0]: row for row in list(csv.reader(f))[1:] if row}


def _write_report(path, rows):
    """Write the report, keeping the rows of students not graded in this run."""
    kept = _read_report(path)
    kept.update({row[0]: row for row in rows})
    _write_atomically(path, lambda f: csv.writer(f).writerows([REPORT_HEADER, *(kept[s] for s in sorted(kept))]))


def _write_atomically(path, write):
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("w", newline="") as f:
        write(f)
    partial.replace(path)


def grade(root, chapter_name, sandboxed=True, timeout=60, students=None, out=sys.stdout, workers=None,
          scheduler=None, time_limit=TIME_LIMIT, regrade=False, db=None):
    """Grade every submission of ``chapter_name`` (or only ``students``) on a Dask cluster (``scheduler``, else a
    local one with ``workers`` processes) into the gradebook at ``db`` (default: dlfs.judge.gradebook.url); returns
    the report rows of the learners considered."""
    root = Path(root)
    if sandboxed and not sandbox.available():
        raise SystemExit("bubblewrap (bwrap) is not installed, so submissions cannot be sandboxed: "
                         "`apt install bubblewrap`, or pass --no-sandbox if you trust every submission.")
    book = gradebook.url(root, db)
    gradebook.require_assignment(book, chapter_name)
    chapter = prepare(root, chapter_name, timeout)
    submitted = root / "autograder" / "submitted"
    folders = {p.parent.name: p for p in sorted(submitted.glob(f"*/{chapter_name}")) if p.is_dir()}
    report = root / "autograder" / "reports" / f"{chapter_name}.csv"
    graded_file = report.with_suffix(".graded.json")     # {student: fingerprint of what their grade is of}
    graded = json.loads(graded_file.read_text()) if graded_file.is_file() else {}
    earlier = _read_report(report)
    rows, jobs, submissions, prints = {}, {}, {}, []

    def done(student, row, fingerprint_=None):
        rows[student] = row
        if fingerprint_ is None:
            graded.pop(student, None)
        else:
            graded[student] = fingerprint_
        _write_report(report, [row])           # after each learner: a stopped run keeps what it finished
        _write_atomically(graded_file, lambda f: json.dump(graded, f, indent=1, sort_keys=True))

    for student in (sorted(set(folders) | known_students(book)) if students is None else sorted(students)):
        if student not in folders:
            done(student, [student, "", f"{chapter.max_score:g}", "missing", "no submission"])
            prints.append(_line(rows[student]))
            continue
        mark = fingerprint(chapter, folders[student], sandboxed, timeout, book)
        if not regrade and students is None and graded.get(student) == mark and student in earlier:
            rows[student] = earlier[student]
            prints.append(_line(rows[student]) + "   (unchanged since graded: kept)")
            continue
        try:
            submissions[student] = read(chapter, folders[student]), mark
        except UnreadableSubmission as failure:
            done(student, record_unreadable(book, chapter, student, folders[student], failure, sandboxed), mark)
            prints.append(_line(rows[student]))
            continue
        jobs[student] = (submissions[student][0].answers, sandboxed, timeout)
    for line in prints:
        print(line, file=out, flush=True)
    if jobs:
        progress = Progress(len(jobs), out)
        with cluster.client(scheduler, workers) as dask_client:
            count = len(dask_client.scheduler_info()["workers"])
            where = scheduler or f"{count} local worker{'s' * (count != 1)}"
            print(f"grading {len(jobs)} submission(s) on {where}", file=out, flush=True)
            for student, result, seconds in cluster.outcomes(dask_client, verdicts_of, chapter, jobs, time_limit):
                submission, mark = submissions[student]
                try:
                    if isinstance(result, cluster.Failure):
                        raise RuntimeError(result)
                    verdicts, died = result
                    row, kept_mark = record(book, chapter, student, folders[student], submission.answers,
                                            _notes(submission.notes, died), verdicts, sandboxed), mark
                except Exception as error:  # noqa: BLE001 - one submission's trouble never stops the batch
                    reason = str(error) if isinstance(error, RuntimeError) else f"{type(error).__name__}: {error}"
                    row, kept_mark = [student, "", f"{chapter.max_score:g}", "failed",
                                      f"the grader could not grade it ({reason}); nothing was recorded: grade again "
                                      "to retry"], None
                done(student, row, kept_mark)
                progress.show(row, seconds)
    print(f"report: {report}\nclass report: {class_report.write(root, chapter_name, book)}\n"
          f"gradebook: {gradebook.shown(book)}", file=out)
    return [rows[s] for s in sorted(rows)]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m dlfs grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help="e.g. 01_linear_regression")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--no-sandbox", action="store_true", help="run kernels unsandboxed (trusted submissions only)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per cell (default 60)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder (default: this course)")
    parser.add_argument("--workers", type=int, help="worker processes of the local Dask cluster (default: one per core)")
    parser.add_argument("--scheduler", help=f"an existing Dask cluster, tcp://HOST:PORT (or ${cluster.SCHEDULER_VARIABLE})")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT,
                        help=f"seconds for one submission's whole grading (default {TIME_LIMIT})")
    parser.add_argument("--db", help=f"the gradebook's database URL, e.g. postgresql://HOST/DB (default: "
                        f"${gradebook.DB_VARIABLE}, else autograder/gradebook.db)")
    parser.add_argument("--regrade", action="store_true", help="grade everyone again, unchanged submissions too")
    args = parser.parse_args(argv)
    grade(args.root, args.chapter, sandboxed=not args.no_sandbox, timeout=args.timeout, students=args.student,
          workers=args.workers, scheduler=args.scheduler, time_limit=args.time_limit, regrade=args.regrade, db=args.db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
