"""Grade every submission of a chapter: a sandboxed kernel per learner, the verdict outside it, a report.

    python3 -m dlfs grade 01_linear_regression [--no-sandbox] [--timeout SECONDS]

For each ``autograder/submitted/<student>/<chapter>/``: the learner's answer cells are taken from their
notebook; every other cell (given code, demos, tests) comes from the chapter's source, so edited or
deleted test cells change nothing; the cells run one by one in a fresh kernel inside a bubblewrap
sandbox whose folder holds only the release's files; dlfs.judge compares what the kernel observed with
the reference run of the solution (cached in ``autograder/reference/``). Writes
``autograder/reports/<chapter>.csv`` (student_id, score, max_score, status, notes) and each learner's
verdicts in ``autograder/verdicts/<student>/<chapter>.json``.

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
from pathlib import Path

import nbformat

from dlfs.judge import sandbox
from dlfs.judge.hidden import leaks
from dlfs.judge.kernel import graded_run
from dlfs.judge.verdict import judge

ROOT = Path(__file__).resolve().parent.parent.parent


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def auto_points(source):
    """{test grade_id: points} of a source notebook's autograded test cells."""
    return {_meta(c)["grade_id"]: float(_meta(c)["points"]) for c in source.cells
            if _meta(c).get("grade") and not _meta(c).get("solution")}


def reference_run(root, chapter, source, timeout):
    """The reference records of the chapter's solution, cached per version of its source notebook."""
    digest = hashlib.sha256(nbformat.writes(source).encode()).hexdigest()[:16]
    cache = Path(root) / "autograder" / "reference" / f"{chapter}-{digest}.json"
    if cache.is_file():
        return {k: tuple(v) for k, v in json.loads(cache.read_text()).items()}
    records, dead = graded_run(source, Path(root) / "solutions" / chapter, "reference", sandboxed=False,
                               timeout=timeout)
    broken = [t for t, (r, _) in records.items() if any(x.get("check") == "stopped" for x in r)]
    if dead or broken or set(records) != set(auto_points(source)):
        raise SystemExit(f"The solution of {chapter} does not pass its own tests ({broken or 'kernel died'}); "
                         "fix the source before grading.")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(records))
    return records


def read_submission(root, folder, chapter, release):
    """(answers {answer grade_id: code}, notes, failure) of one learner's folder."""
    notes, expected = [], folder / f"{chapter}.ipynb"
    notebooks = sorted(folder.glob("*.ipynb"))
    if expected.is_file():
        path = expected
    elif len(notebooks) == 1:
        path = notebooks[0]
        notes.append(f"notebook named {path.name}, graded as {expected.name}")
    else:
        return None, notes, f"no notebook {expected.name}" + (f" (found {len(notebooks)} others)" if notebooks else "")
    try:
        submitted = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same outcome for the learner
        return None, notes, f"{path.name} is not a readable notebook ({type(error).__name__})"
    by_id = {}
    for cell in submitted.cells:
        grade_id = _meta(cell).get("grade_id") if isinstance(cell.get("metadata"), dict) else None
        if grade_id and cell.get("cell_type") == "code":
            by_id.setdefault(grade_id, str(cell.get("source", "")))
    stubs = {_meta(c)["grade_id"]: c.source for c in release.cells if _meta(c).get("solution") and c.cell_type == "code"}
    answers = {}
    for grade_id, stub in stubs.items():
        if grade_id in by_id:
            answers[grade_id] = by_id[grade_id]
        else:
            answers[grade_id] = stub
            notes.append(f"answer cell {grade_id} deleted (graded as not answered)")
    release_tests = {_meta(c)["grade_id"]: c.source for c in release.cells if _meta(c).get("grade")
                     and not _meta(c).get("solution") and c.cell_type == "code"}
    changed = [t for t, code in release_tests.items() if by_id.get(t, None) != code]
    if changed:
        notes.append(f"test cells edited or deleted: {', '.join(changed)} (the originals were run)")
    allowed = ({p.name for p in (Path(root) / "notebooks" / chapter).iterdir()}
               | {path.name, ".ipynb_checkpoints", "timestamp.txt"})
    extra = sorted(p.name for p in folder.iterdir() if p.name not in allowed)
    if extra:
        notes.append(f"extra files ignored: {', '.join(extra[:5])}")
    return answers, notes, None


def grade_submission(root, chapter, source, release, reference, folder, sandboxed, timeout):
    """One learner: (score, status, notes, verdicts)."""
    answers, notes, failure = read_submission(root, folder, chapter, release)
    if failure:
        return 0.0, "failed", notes + [failure], {}
    points = auto_points(source)
    with tempfile.TemporaryDirectory(prefix="dlfs-grade-") as work:
        workdir = Path(work) / chapter
        shutil.copytree(Path(root) / "notebooks" / chapter, workdir)   # the release's files, not the learner's
        observed, died = graded_run(source, workdir, "observe", answers=answers, sandboxed=sandboxed,
                                    timeout=timeout)
    if died:
        notes.append("the kernel died part way: scored on what was observed")
    verdicts, score = {}, 0.0
    for test, (records, hidden_from) in reference.items():
        verdict = judge(records, observed.get(test, ([], None))[0], hidden_from)
        verdicts[test] = {"passed": verdict.passed, "points": points[test] if verdict.passed else 0.0,
                          "max_points": points[test], "message": verdict.message}
        score += verdicts[test]["points"]
    return score, "flagged" if notes else "ok", notes, verdicts


def known_students(root):
    """Student ids in the gradebook, if there is one."""
    database = Path(root) / "autograder" / "gradebook.db"
    if not database.is_file():
        return set()
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{database}") as gradebook:
        return {student.id for student in gradebook.students}


def grade(root, chapter, sandboxed=True, timeout=60, out=sys.stdout):
    """Grade every submission of ``chapter``; returns the report's rows."""
    root = Path(root)
    source_path = root / "solutions" / chapter / f"{chapter}.ipynb"
    if not source_path.is_file():
        raise SystemExit(f"{source_path} is missing: build the course first (python -m dlfs.build).")
    if sandboxed and not sandbox.available():
        raise SystemExit("bubblewrap (bwrap) is not installed, so submissions cannot be sandboxed: "
                         "`apt install bubblewrap`, or pass --no-sandbox if you trust every submission.")
    source = nbformat.read(source_path, as_version=4)
    unconverted = [_meta(c)["grade_id"] for c in source.cells if _meta(c).get("grade") and not _meta(c).get("solution")
                   and c.cell_type == "code" and leaks(c.source)]
    if unconverted:
        raise SystemExit(f"{chapter}'s tests are not yet written for grading outside the learner's kernel "
                         f"({', '.join(unconverted)}): grade it with nbgrader autograde for now (issue 10).")
    release = nbformat.read(root / "notebooks" / chapter / f"{chapter}.ipynb", as_version=4)
    reference = reference_run(root, chapter, source, timeout)
    max_score = sum(auto_points(source).values())
    submitted = root / "autograder" / "submitted"
    folders = {p.parent.name: p for p in sorted(submitted.glob(f"*/{chapter}")) if p.is_dir()}
    rows = []
    for student in sorted(set(folders) | known_students(root)):
        if student not in folders:
            rows.append([student, "", max_score, "missing", "no submission"])
            continue
        score, status, notes, verdicts = grade_submission(root, chapter, source, release, reference,
                                                          folders[student], sandboxed, timeout)
        if not sandboxed:
            notes.append("graded without a sandbox (--no-sandbox)")
        target = root / "autograder" / "verdicts" / student / f"{chapter}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(verdicts, indent=1))
        rows.append([student, f"{score:g}", f"{max_score:g}", status, "; ".join(notes)])
        print(f"{student}: {score:g} / {max_score:g} {status}" + (f" ({'; '.join(notes)})" if notes else ""),
              file=out, flush=True)
    report = root / "autograder" / "reports" / f"{chapter}.csv"
    report.parent.mkdir(parents=True, exist_ok=True)
    with report.open("w", newline="") as f:
        csv.writer(f).writerows([["student_id", "score", "max_score", "status", "notes"], *rows])
    print(f"report: {report}", file=out)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m dlfs grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help="e.g. 01_linear_regression")
    parser.add_argument("--no-sandbox", action="store_true", help="run kernels unsandboxed (trusted submissions only)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per cell (default 60)")
    args = parser.parse_args(argv)
    grade(ROOT, args.chapter, sandboxed=not args.no_sandbox, timeout=args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
