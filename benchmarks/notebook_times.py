"""How long each solution notebook takes to run top to bottom in a real kernel.

    python benchmarks/notebook_times.py            # every chapter
    python benchmarks/notebook_times.py 03_mlp     # some chapters

Builds the source notebooks first (``dlfs.build.write_sources``), then executes each one in its
chapter directory with nbclient, as nbgrader's autograder does, and prints the wall time of the
notebook and of its three slowest cells, with the BLAS library that ran (figures are only
comparable for the same library, kernel and thread count). COURSE.md's budget: well under two
minutes per notebook on a 2-core machine.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from threadpoolctl import threadpool_info

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dlfs import build  # noqa: E402


def blas_description():
    libraries = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('num_threads')} threads)"
                 for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(libraries) or "unknown"


def time_notebook(chapter):
    directory = build.ROOT / "solutions" / chapter
    notebook = nbformat.read(directory / f"{chapter}.ipynb", as_version=4)
    cell_times = []
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(directory)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            began = time.perf_counter()
            client.execute_cell(cell, index)
            cell_times.append((time.perf_counter() - began, cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")))
    return time.perf_counter() - start, sorted(cell_times, reverse=True)[:3]


def main(argv):
    import numpy as np

    names = argv or build.write_sources()
    if argv:
        build.write_sources()
    print(f"numpy {np.__version__}, BLAS: {blas_description()}")
    for chapter in names:
        total, slowest = time_notebook(chapter)
        detail = ", ".join(f"{name} {seconds:.1f} s" for seconds, name in slowest)
        print(f"{chapter:<28} {total:6.1f} s   slowest: {detail}")


if __name__ == "__main__":
    main(sys.argv[1:])
