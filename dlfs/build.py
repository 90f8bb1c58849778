"""The course build: text sources -> nbgrader source notebooks -> the learner release.

Each chapter is authored once, as a jupytext percent-format file
``solutions/NN_topic/NN_topic.pct.py``. Graded cells are marked in the cell header:

    # %% answer="mse_loss" export=true        an autograded answer (code between
                                               ### BEGIN SOLUTION / ### END SOLUTION)
    # %% tests="test_mse_loss" points=2        an autograder test cell (hidden tests between
                                               ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS)
    # %% [markdown] written="q_lr" points=2     a manually graded written answer

``export=true`` marks a solved building block for later chapters; ``demo=true`` marks a
cell that only shows something (a training run, a plot) and that no test cell depends
on, so the test suite may skip it when it tries many answers quickly. The build

1. writes ``solutions/NN_topic/NN_topic.ipynb`` (nbgrader's source notebook, not
   committed) with nbgrader's cell metadata and no outputs;
2. writes ``solutions/NN_topic/provided/`` (not committed): one module per *earlier*
   chapter holding that chapter's exported cells, solutions included, so chapter k
   can ``from provided.linear_regression import MSELayer`` while its own and later
   solutions stay out of its release; plus the modules that ``OFFERED_AFTER`` offers
   once an earlier chapter is done (chapter 06's fast reference CNN);
3. runs ``nbgrader generate_assignment`` for every chapter, which writes the
   release ``notebooks/NN_topic/`` (committed; a test checks it is up to date).

Run it as ``python3 -m dlfs release`` (or ``python -m dlfs.build`` inside .venv).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE_SUFFIX = ".pct.py"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
HIDDEN_TEST_MARKER = "### BEGIN HIDDEN TESTS"
JUPYTEXT_LAYOUT_KEYS = {"lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker"}
# Modules kept outside solutions/ that every chapter after the named one gets in its provided/, copied
# as they are: chapter 06's fast reference of its network, which would give away chapter 06's
# solutions in 06 itself but is a building block for the capstone.
OFFERED_AFTER = {"06_cnn": ["benchmarks/fast_cnn.py"]}


class BuildError(Exception):
    """A source file breaks the authoring conventions; the message names file and cell."""


def chapters(root=ROOT):
    """The chapter directory names under solutions/, in course order (e.g. '01_linear_regression')."""
    found = []
    for directory in sorted((Path(root) / "solutions").iterdir()):
        if re.fullmatch(r"\d\d_[a-z0-9_]+", directory.name) and (directory / (directory.name + SOURCE_SUFFIX)).is_file():
            found.append(directory.name)
    return found


def topic(chapter):
    """'03_mlp' -> 'mlp': the module name under provided/ for a chapter's exports."""
    return chapter.split("_", 1)[1]


def _nbgrader_metadata(cell, where):
    """Translate the short header keys into nbgrader's cell metadata (schema 3)."""
    # jupytext records layout details (blank lines between cells) that nbgrader does not need
    meta = {k: v for k, v in cell.metadata.items() if k not in JUPYTEXT_LAYOUT_KEYS}
    known = {"answer", "tests", "written", "points", "export", "demo"}
    unknown = set(meta) - known
    if unknown:
        raise BuildError(f"{where}: unknown cell header key(s) {sorted(unknown)}; use {sorted(known)}.")
    if meta.get("demo") and any(k in meta for k in ("answer", "tests", "written", "export")):
        raise BuildError(f"{where}: a demo=true cell cannot be graded or exported.")
    kinds = [k for k in ("answer", "tests", "written") if k in meta]
    if len(kinds) > 1:
        raise BuildError(f"{where}: a cell is one of answer/tests/written, not {kinds}.")
    if not kinds:
        if "points" in meta:
            raise BuildError(f"{where}: points= needs tests= or written=.")
        return None
    kind = kinds[0]
    grade_id = meta[kind]
    if not re.fullmatch(r"[A-Za-z0-9_-]+", str(grade_id)):
        raise BuildError(f"{where}: {kind}={grade_id!r} must be letters, digits, '_' or '-'.")
    points = meta.get("points")
    expected_type = "markdown" if kind == "written" else "code"
    if cell.cell_type != expected_type:
        raise BuildError(f"{where}: a {kind}= cell must be a {expected_type} cell.")
    if kind == "answer":
        if points is not None:
            raise BuildError(f"{where}: points go on the tests= cell, not the answer cell.")
        if "### BEGIN SOLUTION" not in cell.source:
            raise BuildError(f"{where}: answer cell without ### BEGIN SOLUTION / ### END SOLUTION.")
        return {"grade": False, "solution": True, "locked": False, "task": False,
                "grade_id": grade_id, "schema_version": 3}
    if not isinstance(points, (int, float)) or points <= 0:
        raise BuildError(f"{where}: {kind}= needs points=N with N > 0.")
    return {"grade": True, "solution": kind == "written", "locked": kind == "tests", "task": False,
            "points": points, "grade_id": grade_id, "schema_version": 3}


def read_source(path):
    """The chapter's text source as a notebook, cell metadata still in short form."""
    return jupytext.read(path, fmt="py:percent")


def source_notebook(path):
    """Build nbgrader's source notebook (nbformat 4, no outputs) from a .pct.py file."""
    path = Path(path)
    text_nb = read_source(path)
    cells, seen = [], set()
    for index, cell in enumerate(text_nb.cells):
        where = f"{path.name}, cell {index + 1}"
        nbgrader = _nbgrader_metadata(cell, where)
        metadata = {"demo": True} if cell.metadata.get("demo") else {}
        if nbgrader:
            if nbgrader["grade_id"] in seen:
                raise BuildError(f"{where}: duplicate id {nbgrader['grade_id']!r}.")
            seen.add(nbgrader["grade_id"])
            metadata["nbgrader"] = nbgrader
        make = nbformat.v4.new_markdown_cell if cell.cell_type == "markdown" else nbformat.v4.new_code_cell
        new = make(source=cell.source, metadata=metadata)
        new.id = nbgrader["grade_id"] if nbgrader else f"cell-{index:03d}"
        cells.append(new)
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    })
    nbformat.validate(nb)
    return nb


def exported_code(path):
    """The code of a chapter's ``export=true`` cells, solution markers removed."""
    blocks = []
    for index, cell in enumerate(read_source(path).cells):
        if not cell.metadata.get("export"):
            continue
        if cell.cell_type != "code" or HIDDEN_TEST_MARKER in cell.source:
            raise BuildError(f"{Path(path).name}, cell {index + 1}: only code without tests can be exported.")
        lines = [line for line in cell.source.splitlines() if not SOLUTION_MARKERS.match(line)]
        blocks.append("\n".join(lines).strip("\n"))
    return blocks


def provided_module(chapter, blocks):
    header = (f'"""Building blocks solved in chapter {chapter}, provided working to later chapters.\n\n'
              f"Generated by `python3 -m dlfs release` from solutions/{chapter}/{chapter}{SOURCE_SUFFIX};\n"
              f'do not edit: change the source and rebuild.\n"""\n')
    return header + "\n\n\n".join([""] + blocks).lstrip("\n") + "\n" if blocks else header


def write_sources(root=ROOT):
    """Steps 1 and 2: the source notebooks and the provided/ packages; returns the chapters."""
    root = Path(root)
    names = chapters(root)
    exports = {}
    for chapter in names:
        directory = root / "solutions" / chapter
        text_path = directory / (chapter + SOURCE_SUFFIX)
        nbformat.write(source_notebook(text_path), directory / (chapter + ".ipynb"))
        provided = directory / "provided"
        if provided.exists():
            shutil.rmtree(provided)
        earlier = {c: blocks for c, blocks in exports.items() if blocks}
        offered = [root / path for done in exports for path in OFFERED_AFTER.get(done, [])]
        if earlier or offered:
            provided.mkdir()
            (provided / "__init__.py").write_text(
                '"""Solved building blocks of earlier chapters (generated; do not edit)."""\n')
            for done, blocks in earlier.items():
                (provided / f"{topic(done)}.py").write_text(provided_module(done, blocks))
            for path in offered:
                if not path.is_file():
                    raise BuildError(f"{chapter}: {path.relative_to(root)} is offered to it in provided/ "
                                     "(OFFERED_AFTER in dlfs/build.py) but does not exist.")
                shutil.copyfile(path, provided / path.name)
        exports[chapter] = exported_code(text_path)
    return names


def nbgrader_env():
    """The environment for nbgrader subprocesses: this interpreter's bin/ first on PATH
    (nbgrader runs `alembic` from PATH to create the gradebook)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def generate_release(root=ROOT, names=None):
    """Step 3: ``nbgrader generate_assignment`` for each chapter into notebooks/."""
    root = Path(root)
    (root / "autograder").mkdir(exist_ok=True)  # nbgrader keeps its gradebook there
    for chapter in names or chapters(root):
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", chapter, "--force",
                        "--log-level=WARN"], cwd=root, env=nbgrader_env(), check=True)


def build(root=ROOT):
    names = write_sources(root)
    generate_release(root, names)
    return names


def main():
    try:
        names = build()
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"build failed: nbgrader exited with {error.returncode}", file=sys.stderr)
        return 1
    print(f"built {len(names)} chapter(s): {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
