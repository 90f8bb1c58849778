"""Grading a class: the course's grading command on a local Dask cluster against sequential nbgrader autograde.

    python benchmarks/grading_throughput.py                    # 100 learners, every chapter (hours on 2 cores)
    python benchmarks/grading_throughput.py --learners 20 --chapters 01_linear_regression 02_softmax
    python benchmarks/grading_throughput.py --chapters 03_mlp --record benchmarks/grading_records
    python benchmarks/grading_throughput.py --summary benchmarks/grading_records   # the whole course, from records
    python benchmarks/grading_throughput.py --overhead-only --record benchmarks/grading_records   # overhead alone

The whole course at 100 learners takes hours on 2 cores, so it can be run a few chapters at a time: with
``--record DIR`` each chapter's figures (with the machine, BLAS and date) are written to
``DIR/<learners>-<chapter>.json`` as the chapter ends, and ``--summary DIR`` adds the records up into the
whole course's figures, naming any chapter not yet recorded. (Each chapter's baseline and course command
still run back to back on the same machine; ``--no-single-worker`` leaves out the one-worker run.)

Builds a temporary copy of the course and generates a class. Learner i hands in, for every chapter: mostly
the full solution; a single classic mistake (tests/variants/chNN.py, SINGLE_MISTAKE) for about a quarter;
the release untouched (a stub) for one in twenty; and, for one in fifty each, an answer that loops forever,
one that kills its kernel, and a corrupt notebook. Then grades the class, in one run on this machine:

1. **baseline**: stock ``nbgrader autograde NN_topic`` over every learner, one after another (it trusts the
   submissions: no sandbox, grades decided in the learner's kernel);
2. ``python -m dlfs.judge.grade NN_topic --regrade --workers 1``;
3. the same with one worker per core.

For each: wall time, submissions per minute, per-submission median and worst (nbgrader's from the times of its
log lines, the course command's from its progress lines: the time on the worker), and the machine's CPU
utilisation. Last, the course command's per-submission overhead — sandbox, cell-by-cell run and verdicts —
against executing the same code in a plain kernel (nbclient): the solution notebook with its hidden tests, its
demo cells left out as the grading does; and against the handed-in notebook top to bottom (demos in, hidden tests
out, as a learner runs it): medians over three learners who handed in the solution, graded on one worker (so that
no other grading competes for the core).
``--overhead-only`` measures only that, and adds it to the chapters' records in ``--record DIR``.
"""

import argparse
import datetime
import importlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy  # noqa: F401  (loaded, so that threadpoolctl can name the BLAS library)
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from benchmarks.notebook_times import blas_description  # noqa: E402
from course import solved, with_answer  # noqa: E402  (tests/course.py: what learners hand in)
from dlfs import build  # noqa: E402

TIMEOUT = 60            # seconds per cell, both graders (nbgrader_config.py's c.Execute.timeout)
LOG_FORMAT = "--Application.log_format=%(asctime)s.%(msecs)03d %(message)s"
LINE = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) "
STARTS = LINE + r".*Autograding "


def kind_of(learner):
    """What learner number ``learner`` hands in."""
    if learner % 50 == 7:
        return "loops forever"
    if learner % 50 == 23:
        return "kills its kernel"
    if learner % 50 == 41:
        return "corrupt notebook"
    if learner % 20 == 0:
        return "stub"
    if learner % 4 == 1:
        return "one mistake"
    return "solution"


def submission(kind, release, source, chapter):
    """The notebook (or, for a corrupt one, the text) a learner of ``kind`` hands in for ``chapter``."""
    answer = solved(release, source)
    first_answer = next(c.metadata["nbgrader"]["grade_id"] for c in source.cells
                        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    if kind == "stub":
        return nbformat.from_dict(release)
    if kind == "one mistake":
        return with_answer(answer, *importlib.import_module(f"variants.ch{chapter[:2]}").SINGLE_MISTAKE)
    if kind == "loops forever":
        return with_answer(answer, first_answer, "while True:\n    pass\n")
    if kind == "kills its kernel":
        return with_answer(answer, first_answer, "import os\nos._exit(1)\n")
    if kind == "corrupt notebook":
        return "{ this is not a notebook"
    return answer


def make_course(folder, chapters, learners):
    """A built copy of the course with the generated class's submissions."""
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    for text in sorted(ROOT.glob("solutions/*/*" + build.SOURCE_SUFFIX)):
        (folder / "solutions" / text.parent.name).mkdir(parents=True)
        shutil.copy(text, folder / "solutions" / text.parent.name)
    for offered in sorted({path for paths in build.OFFERED_AFTER.values() for path in paths}):
        (folder / offered).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / offered, folder / offered)
    (folder / "autograder").mkdir()
    build.build(folder)
    kinds = {}
    for chapter in chapters:
        release = nbformat.read(folder / "notebooks" / chapter / f"{chapter}.ipynb", as_version=4)
        source = nbformat.read(folder / "solutions" / chapter / f"{chapter}.ipynb", as_version=4)
        for learner in range(learners):
            student, kind = f"learner{learner:03d}", kind_of(learner)
            kinds[student] = kind
            target = folder / "autograder" / "submitted" / student / chapter
            target.mkdir(parents=True)
            handed_in = submission(kind, release, source, chapter)
            path = target / f"{chapter}.ipynb"
            path.write_text(handed_in) if isinstance(handed_in, str) else nbformat.write(handed_in, path)
            (target / "timestamp.txt").write_text("2026-12-01 12:00:00.000000 UTC")
    return kinds


def cpu_busy(before, after):
    """Fraction of the machine's CPU time that was busy between two psutil.cpu_times()."""
    total = sum(after) - sum(before)
    idle = (after.idle + getattr(after, "iowait", 0)) - (before.idle + getattr(before, "iowait", 0))
    return 1 - idle / total if total else 0.0


def run(command, folder, check=True):
    """(wall seconds, CPU busy fraction, output) of a command run in the course copy."""
    environment = build.nbgrader_env()
    before, start = psutil.cpu_times(), time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True)
    wall, busy = time.perf_counter() - start, cpu_busy(before, psutil.cpu_times())
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return wall, busy, done.stdout + done.stderr


def nbgrader_times(log):
    """Per-submission seconds from nbgrader autograde's timestamped log: from one "Autograding" line to the next."""
    def parse(stamp):
        return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
    stamps = [parse(m.group(1)) for m in re.finditer(STARTS, log, flags=re.M)]
    ends = stamps[1:] + [parse(re.findall(LINE, log, flags=re.M)[-1])]
    return [(end - start).total_seconds() for start, end in zip(stamps, ends)]


def course_times(log):
    """Per-submission seconds on the workers, from the grading command's progress lines."""
    return [float(seconds) for seconds in re.findall(r"graded in ([\d.]+) s,", log)]


def plain_run_seconds(folder, chapter, notebook_path, demos=True):
    """Seconds to execute a notebook top to bottom in a plain kernel, in a copy of its release folder (without
    its demo cells if not ``demos``)."""
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work) / chapter
        shutil.copytree(folder / "notebooks" / chapter, directory)
        notebook = nbformat.read(notebook_path, as_version=4)
        notebook.cells = [cell for cell in notebook.cells if demos or not cell.metadata.get("demo")]
        start = time.perf_counter()
        NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                       resources={"metadata": {"path": str(directory)}}).execute()
        return time.perf_counter() - start


def overhead(folder, chapter, kinds, repeats=3):
    """(seconds on the worker for grading one solution, a plain run of the code that grading runs, a plain run of
    the handed-in notebook): medians over ``repeats`` learners who handed in the solution, graded on one worker
    (nothing else competes for the cores); prints them. The code that grading runs is the solution notebook with its
    hidden tests, without its demo cells: the source notebook, run as it is in a plain kernel, checks and all."""
    solvers = [s for s, kind in kinds.items() if kind == "solution"][:repeats]
    _, _, log = run([sys.executable, "-m", "dlfs.judge.grade", chapter, "--root", str(folder), "--regrade",
                     "--workers=1", f"--timeout={TIMEOUT}", *(f"--student={s}" for s in solvers)], folder)
    graded = statistics.median(course_times(log))
    source = folder / "solutions" / chapter / f"{chapter}.ipynb"
    same_code = statistics.median(plain_run_seconds(folder, chapter, source, demos=False) for _ in solvers)
    plain = statistics.median(plain_run_seconds(folder, chapter, folder / "autograder" / "submitted" / s / chapter /
                                                f"{chapter}.ipynb") for s in solvers)
    print(f"  {chapter}: per-submission overhead of the course's grading (sandbox, cell-by-cell run, verdicts; median "
          f"of {len(solvers)} solutions on 1 worker: {graded:.2f} s) over a plain run of the same code — the solution "
          f"with its hidden tests, demos left out ({same_code:.2f} s): {graded / same_code - 1:+.0%}; over a plain run "
          f"of the handed-in notebook, demos in, hidden tests out ({plain:.2f} s): {graded / plain - 1:+.0%}", flush=True)
    return graded, plain, same_code


def overhead_fields(seconds):
    """A record's overhead entries from overhead()'s seconds."""
    graded, plain, same_code = seconds
    return {"overhead": graded / plain - 1, "overhead_same_code": graded / same_code - 1, "overhead_workers": 1,
            "overhead_seconds": {"graded": graded, "plain": plain, "plain_same_code": same_code}}


def line(name, submissions, wall, busy, times):
    per_minute = submissions / wall * 60
    middle, worst = (statistics.median(times), max(times)) if times else (float("nan"), float("nan"))
    return (f"{name:<34} {wall:8.1f} s {per_minute:9.1f}/min   median {middle:6.1f} s   worst {worst:6.1f} s   "
            f"CPU {busy:4.0%}")


def _numbers(chapters):
    """['01_linear_regression', '02_softmax'] -> 'chapters 01, 02'."""
    return f"chapter{'s' * (len(chapters) > 1)} {', '.join(c[:2] for c in chapters)}"


def print_whole_course(results, learners, title="the whole course"):
    """The lines of several chapters together from {chapter: {way: (wall, busy, times)}}. A way measured for some
    chapters only (the one-worker run, left out with --no-single-worker) is summed over those, and says so."""
    print(f"\n{title}:")
    names = list(dict.fromkeys(name for r in results.values() for name in r))
    for name in names:
        chapters = [c for c, r in results.items() if name in r]
        wall = sum(results[c][name][0] for c in chapters)
        times = [t for c in chapters for t in results[c][name][2]]
        busy = statistics.mean(results[c][name][1] for c in chapters)
        only = "" if len(chapters) == len(results) else f"   (only {_numbers(chapters)})"
        print("  " + line(name, learners * len(chapters), wall, busy, times) + only)
    for name in names:
        if name.startswith("dlfs"):
            chapters = [c for c, r in results.items() if name in r]
            base = sum(results[c]["baseline: nbgrader autograde"][0] for c in chapters)
            print(f"  {name}: {base / sum(results[c][name][0] for c in chapters):.2f}× the baseline's throughput"
                  + ("" if len(chapters) == len(results) else f" on {_numbers(chapters)}"))


def summary(folder, learners, chapters):
    """Print the whole course's figures from the records in ``folder``."""
    records = {}
    for chapter in chapters:
        path = Path(folder) / f"{learners}-{chapter}.json"
        if path.is_file():
            records[chapter] = json.loads(path.read_text())
    missing = [chapter for chapter in chapters if chapter not in records]
    for chapter, record in records.items():
        same_code = f"{record['overhead_same_code']:+.0%} over a plain run of the same code, "
        print(f"{chapter}: {record['date']}, {record['cores']} cores, {record['blas']}; per-submission overhead "
              f"{same_code}{record['overhead']:+.0%} over one of the handed-in notebook (on {record['overhead_workers']} "
              "worker(s))")
    if missing:
        print(f"not yet recorded at {learners} learners: {', '.join(missing)}")
    if records:
        print_whole_course({c: {k: tuple(v) for k, v in r["ways"].items()} for c, r in records.items()}, learners,
                           f"the {len(records)} recorded chapter(s)" if missing else "the whole course")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--chapters", nargs="*", default=build.chapters(ROOT))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--single-worker", action=argparse.BooleanOptionalAction, default=True,
                        help="also grade with one worker (default: yes)")
    parser.add_argument("--record", type=Path, help="write each chapter's figures to this folder")
    parser.add_argument("--summary", type=Path, help="only print the whole course's figures from this folder's records")
    parser.add_argument("--overhead-only", action="store_true",
                        help="only measure the per-submission overhead (into the --record folder's records)")
    args = parser.parse_args()
    if args.summary:
        summary(args.summary, args.learners, args.chapters)
        return
    if args.overhead_only:
        with tempfile.TemporaryDirectory(prefix="dlfs-overhead-bench-") as work:
            kinds = make_course(Path(work), args.chapters, 5)       # (learners 2, 3 and 4 hand in the solution)
            for chapter in args.chapters:
                fields = overhead_fields(overhead(Path(work), chapter, kinds))
                path = args.record and args.record / f"{args.learners}-{chapter}.json"
                if path and path.is_file():
                    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}, indent=1))
        return
    print(f"{args.learners} learners × {len(args.chapters)} chapter(s); {os.cpu_count()} cores; BLAS: "
          f"{blas_description()}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    with tempfile.TemporaryDirectory(prefix="dlfs-class-bench-") as work:
        folder = Path(work)
        kinds = make_course(folder, args.chapters, args.learners)
        print("the class: " + ", ".join(f"{sum(k == kind for k in kinds.values())} {kind}"
                                        for kind in sorted(set(kinds.values()))))
        results = {}
        for chapter in args.chapters:
            # (the reference run is cached in autograder/reference/ by a first, untimed grading of one learner)
            run([sys.executable, "-m", "dlfs.judge.grade", chapter, "--root", str(folder), "--student=learner002"],
                folder)
            baseline = run([sys.executable, "-m", "nbgrader", "autograde", chapter, "--force", LOG_FORMAT,
                            "--Application.log_datefmt=%Y-%m-%d %H:%M:%S", "--log-level=INFO"], folder, check=False)
            ways = {"baseline: nbgrader autograde": (*baseline[:2], nbgrader_times(baseline[2]))}
            for workers in sorted({1, args.workers} if args.single_worker else {args.workers}):
                wall, busy, log = run([sys.executable, "-m", "dlfs.judge.grade", chapter, "--root", str(folder),
                                       "--regrade", f"--workers={workers}", f"--timeout={TIMEOUT}"], folder)
                ways[f"dlfs grade, {workers} worker(s)"] = (wall, busy, course_times(log))
            results[chapter] = ways
            print(f"\n{chapter}: {args.learners} submissions")
            for name, (wall, busy, times) in ways.items():
                print("  " + line(name, args.learners, wall, busy, times))
            base = ways["baseline: nbgrader autograde"][0]
            for name, (wall, _, _) in ways.items():
                if name.startswith("dlfs"):
                    print(f"  {name}: {base / wall:.2f}× the baseline's throughput")
            seconds = overhead(folder, chapter, kinds)
            if args.record:
                args.record.mkdir(parents=True, exist_ok=True)
                (args.record / f"{args.learners}-{chapter}.json").write_text(json.dumps({
                    "chapter": chapter, "learners": args.learners, "cores": os.cpu_count(), "blas": blas_description(),
                    "date": datetime.date.today().isoformat(), "ways": ways, **overhead_fields(seconds)}, indent=1))
        if len(args.chapters) > 1:
            print_whole_course(results, args.learners, f"these {len(args.chapters)} chapters")


if __name__ == "__main__":
    main()
