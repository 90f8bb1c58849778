"""Check your own notebook exactly as a class is graded, hidden tests included.

    python3 -m dlfs check notebooks/01_linear_regression/01_linear_regression.ipynb
    python3 -m dlfs check 01_linear_regression

Prints one line per exercise: its points and "passed", or the first check that failed with its hint.
Written answers are graded by a person and show as pending. Your notebook is only read: nothing under
notebooks/ changes. The reference the grade is compared with comes from the solutions in solutions/,
which self-study copies of the course have; a classroom copy without them cannot check hidden tests.
"""

import argparse
import sys
from pathlib import Path

import nbformat

from dlfs.feedback import exercise_labels

from dlfs.judge import sandbox
from dlfs.judge.grade import ROOT, prepare, release_of, verdicts_of
from dlfs.judge.gradebook import written_answers
from dlfs.judge.submission import UnreadableSubmission, read_notebook


def resolve(argument, root=ROOT):
    """(chapter name, notebook path) for a chapter name or a notebook path."""
    path = Path(argument)
    if path.suffix == ".ipynb":
        return path.resolve().parent.name if path.resolve().parent.name[:2].isdigit() else path.stem, path
    chapter = argument.strip("/").split("/")[-1]
    from dlfs.workspace import learner_notebook
    return chapter, learner_notebook(root, chapter)


def _indent(message):
    return "\n".join("      " + line for line in message.splitlines())


def check(argument, root=ROOT, timeout=60, out=sys.stdout):
    """Grade one notebook as the class grader would; returns (score, max_score)."""
    from dlfs.build import chapters, write_sources
    root = Path(root)
    chapter_name, path = resolve(argument, root)
    if not list(root.glob("solutions/*/*.pct.py")):
        raise SystemExit("This copy of the course has no solutions/ folder, so the hidden tests cannot be run here: "
                         "your instructor grades them. The visible tests in the notebook still check your work.")
    if chapter_name not in chapters(root):
        raise SystemExit(f"{chapter_name} is not a chapter of this course (one of: {', '.join(chapters(root))}).")
    if not path.is_file():
        raise SystemExit(f"No notebook at {path}.")
    write_sources(root)                  # solutions/*.ipynb and provided/ (generated; never touches notebooks/)
    source = nbformat.read(root / "solutions" / chapter_name / f"{chapter_name}.ipynb", as_version=4)
    chapter = prepare(root, chapter_name, timeout, release=release_of(source))   # the notebooks/ copy is yours
    try:
        submission = read_notebook(path, chapter.release)
    except UnreadableSubmission as error:
        raise SystemExit(f"{error}. Open it in JupyterLab to see what is wrong.") from None
    sandboxed = sandbox.available()     # your own code: a sandbox is a courtesy here, not a requirement
    print(f"Checking {path} as the grader would (hidden tests included; this runs every cell)...", file=out, flush=True)
    verdicts, died = verdicts_of(chapter, submission.answers, sandboxed, timeout)
    labels = exercise_labels(chapter.release.cells)
    written = written_answers(chapter.release)
    width = max(len(labels.get(t, t)) for t in [*verdicts, *written])
    for test, verdict in verdicts.items():
        points = f"{verdict['points']:g}/{verdict['max_points']:g}"
        print(f"  {labels.get(test, test):<{width}}  {points:>5}  " + ("passed" if verdict["passed"] else "failed:"),
              file=out)
        if not verdict["passed"]:
            print(_indent(verdict["message"]), file=out)
    for grade_id in written:
        print(f"  {labels.get(grade_id, grade_id):<{width}}      -  graded by hand (pending)", file=out)
    for note in submission.notes:
        print(f"  note: {note}", file=out)
    if died:
        print("  note: the kernel stopped part way (your code ended it, or ran out of memory).", file=out)
    score = sum(v["points"] for v in verdicts.values())
    print(f"Automatic score: {score:g} / {chapter.max_score:g}", file=out)
    return score, chapter.max_score


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m dlfs check", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", help="a notebook path, or a chapter name such as 01_linear_regression")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per cell (default 60)")
    args = parser.parse_args(argv)
    check(args.notebook, timeout=args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
