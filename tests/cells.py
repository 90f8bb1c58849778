"""Run a notebook's code cells in-process, with some answer cells swapped, and report its test cells.

Much faster than a kernel per run, so every wrong and every alternative answer in
``tests/variants/`` can be tried. The nbgrader pipeline itself is tested with real
kernels in test_pipeline.py.
"""

import contextlib
import os
import sys
import traceback

import matplotlib

matplotlib.use("Agg")


@contextlib.contextmanager
def _inside(directory):
    """cwd and sys.path at a chapter directory (for `provided`), and a clean module cache."""
    old_cwd, old_path = os.getcwd(), list(sys.path)
    stale = [name for name in sys.modules if name == "provided" or name.startswith("provided.")]
    for name in stale:
        del sys.modules[name]
    os.chdir(directory)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        for name in [n for n in sys.modules if n == "provided" or n.startswith("provided.")]:
            del sys.modules[name]


def run_tests(notebook, directory, answers=None):
    """Execute the code cells in order, except ``demo`` cells (which no test depends on);
    returns {test grade_id: None if passed else the error text}.

    Args:
        notebook: an nbformat notebook with nbgrader metadata (a source or a release notebook).
        directory: the chapter directory to run in.
        answers: {answer grade_id: code} replacing those answer cells.
    """
    import matplotlib.pyplot as plt

    answers = answers or {}
    namespace = {"__name__": "__main__"}
    results = {}
    with _inside(directory):
        for cell in notebook.cells:
            if cell.cell_type != "code" or cell.metadata.get("demo"):
                continue
            meta = cell.metadata.get("nbgrader", {})
            source = answers.get(meta.get("grade_id"), cell.source)
            try:
                exec(compile(source, f"<cell {meta.get('grade_id', '')}>", "exec"), namespace)
                error = None
            except Exception:  # noqa: BLE001 - any failure of learner code is a result
                error = traceback.format_exc(limit=-3)
            if meta.get("grade"):
                results[meta["grade_id"]] = error
            plt.close("all")
    return results
