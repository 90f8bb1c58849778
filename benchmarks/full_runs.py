"""Run chapters' opt-in full runs and record what they print: the figures the prose quotes about FULL_RUN.

    python benchmarks/full_runs.py                      # every chapter that has a FULL_RUN switch
    python benchmarks/full_runs.py 02_softmax 06_cnn    # some of them

Each chapter's solution notebook is built from its text source, its ``FULL_RUN = False`` line is set to
True, and it runs top to bottom in a fresh kernel (nbclient) on the built course. Everything its cells
print goes to ``benchmarks/full_runs/<chapter>.txt`` after a header: the chapter source's fingerprint,
the date, NumPy and the BLAS that ran, the cores, and the minutes the run took.

``tests/test_text_figures.py`` checks every full-run figure the prose quotes against these records, and
that each record was made from the chapter's current code: change a chapter's code, and the test asks
for this command to be run again.
"""

import argparse
import ast
import datetime
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dlfs.build import SOURCE_SUFFIX, build, chapters, read_source  # noqa: E402

RECORDS = ROOT / "benchmarks" / "full_runs"
SWITCH = "FULL_RUN = False"


def _program(code):
    """The code's syntax tree without comments and docstrings (their edits do not change a run), as text."""
    try:
        tree = ast.parse(code)
    except SyntaxError:        # not plain Python (a notebook magic): take the text as it is
        return code
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def fingerprint(chapter, root=ROOT):
    """SHA-256 of the program in the chapter's code cells, test cells left out: what a full run's
    figures depend on."""
    source = Path(root) / "solutions" / chapter / f"{chapter}{SOURCE_SUFFIX}"
    digest = hashlib.sha256()
    for cell in read_source(source).cells:
        if cell.cell_type == "code" and "tests" not in cell.metadata:
            digest.update(_program(cell.source).encode() + b"\0")
    return digest.hexdigest()[:16]


def has_full_run(chapter, root=ROOT):
    return SWITCH in (Path(root) / "solutions" / chapter / f"{chapter}{SOURCE_SUFFIX}").read_text()


def record_path(chapter):
    return RECORDS / f"{chapter}.txt"


def read_record(chapter):
    """(header dict, printed text) of a chapter's record, or None if there is none."""
    path = record_path(chapter)
    if not path.is_file():
        return None
    head, _, printed = path.read_text().partition("\n\n")
    header = dict(line.split(": ", 1) for line in head.splitlines())
    return header, printed


def run_full(chapter, course):
    """Execute the built solution notebook of ``chapter`` with FULL_RUN = True; returns what it printed."""
    import nbclient
    import nbformat

    folder = course / "solutions" / chapter
    nb = nbformat.read(folder / f"{chapter}.ipynb", as_version=4)
    switches = [cell for cell in nb.cells if cell.cell_type == "code" and SWITCH in cell.source]
    if len(switches) != 1:
        raise SystemExit(f"{chapter}: expected one cell with {SWITCH!r}, found {len(switches)}")
    switches[0].source = switches[0].source.replace(SWITCH, "FULL_RUN = True", 1)
    client = nbclient.NotebookClient(nb, timeout=3600, resources={"metadata": {"path": str(folder)}})
    client.execute()
    return "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.get("output_type") == "stream")


def blas():
    from benchmarks.cnn_train_step import blas_description
    return blas_description()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter names, e.g. 02_softmax (default: all with FULL_RUN)")
    args = parser.parse_args(argv)
    names = args.chapters or [c for c in chapters(ROOT) if has_full_run(c)]
    import numpy as np

    RECORDS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        course = Path(folder) / "course"
        shutil.copytree(ROOT, course, ignore=shutil.ignore_patterns(".git", ".venv", "autograder", "__pycache__"))
        build(course)
        for chapter in names:
            print(f"{chapter}: full run ...", flush=True)
            began = time.perf_counter()
            printed = run_full(chapter, course)
            minutes = (time.perf_counter() - began) / 60
            header = {"chapter": chapter, "fingerprint": fingerprint(chapter, course),
                      "recorded": datetime.date.today().isoformat(), "numpy": np.__version__, "blas": blas(),
                      "cores": str(os.cpu_count()), "minutes": f"{minutes:.1f}"}
            record_path(chapter).write_text("".join(f"{k}: {v}\n" for k, v in header.items()) + "\n" + printed)
            print(f"{chapter}: {minutes:.1f} min -> {record_path(chapter).relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
