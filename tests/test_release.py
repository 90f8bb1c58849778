"""The release is generated, clean, up to date, and reveals no solution of its own chapter."""

import json
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from course import REPO, Course
from dlfs import build

CHAPTERS = build.chapters(REPO)


def _files(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_committed_release_is_exactly_what_the_build_generates(built_course):
    committed, generated = _files(REPO / "notebooks"), _files(built_course.root / "notebooks")
    assert sorted(committed) == sorted(generated), "run `python3 -m dlfs release` and commit notebooks/"
    stale = [name for name in committed if committed[name] != generated[name]]
    assert not stale, f"{stale} differ from the build: run `python3 -m dlfs release` and commit notebooks/"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_notebooks_are_clean(chapter):
    raw = (REPO / "notebooks" / chapter / f"{chapter}.ipynb").read_text()
    notebook = nbformat.reads(raw, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
    assert set(notebook.metadata) == {"kernelspec", "language_info"}
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in raw
    assert "NotImplementedError" in raw


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_reveals_none_of_its_chapters_solutions(chapter, built_course):
    """No line written between solution markers in chapter k, or in any later chapter,
    appears anywhere in chapter k's release (notebook or provided/ modules)."""
    release = "\n".join(b.decode() for b in _files(REPO / "notebooks" / chapter).values())
    released_lines = {line.strip() for line in release.splitlines()}
    for later in CHAPTERS[CHAPTERS.index(chapter):]:
        text = (REPO / "solutions" / later / f"{later}{build.SOURCE_SUFFIX}").read_text()
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", text, re.S):
            for line in block.splitlines():
                line = line.strip().lstrip("#").strip()
                if len(line) > 12 and not line.startswith(("return", '"""')):
                    assert line not in released_lines, f"{later}'s solution line {line!r} is in {chapter}'s release"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_provided_holds_exactly_the_earlier_chapters(chapter):
    provided = REPO / "notebooks" / chapter / "provided"
    earlier = [c for c in CHAPTERS[:CHAPTERS.index(chapter)]
               if build.exported_code(REPO / "solutions" / c / f"{c}{build.SOURCE_SUFFIX}")]
    offered = [Path(path).stem for c in CHAPTERS[:CHAPTERS.index(chapter)] for path in build.OFFERED_AFTER.get(c, [])]
    found = sorted(p.stem for p in provided.glob("*.py") if p.stem != "__init__") if provided.exists() else []
    assert found == sorted([build.topic(c) for c in earlier] + offered)


def _write_chapter(root, name, text):
    directory = root / "solutions" / name
    directory.mkdir(parents=True)
    (directory / f"{name}{build.SOURCE_SUFFIX}").write_text(textwrap.dedent(text))


def test_building_blocks_flow_forward_only(tmp_path):
    """A toy course: chapter 02 uses chapter 01's exported solution; 01's release has none of it."""
    course = Course(tmp_path)
    (tmp_path / "nbgrader_config.py").write_bytes((REPO / "nbgrader_config.py").read_bytes())
    (tmp_path / "autograder").mkdir()
    _write_chapter(tmp_path, "01_alpha", '''
        # %% answer="double" export=true
        def double(x):
            ### BEGIN SOLUTION
            return 2 * x  # the secret of chapter one
            ### END SOLUTION

        # %% tests="test_double" points=1
        assert double(2) == 4
        ''')
    _write_chapter(tmp_path, "02_beta", '''
        # %%
        from provided.alpha import double

        # %% answer="quadruple" export=true
        def quadruple(x):
            ### BEGIN SOLUTION
            return double(double(x))
            ### END SOLUTION

        # %% tests="test_quadruple" points=1
        assert quadruple(1) == 4
        ''')
    course.build()
    first, second = tmp_path / "notebooks" / "01_alpha", tmp_path / "notebooks" / "02_beta"
    assert not (first / "provided").exists()
    assert "secret of chapter one" not in (first / "01_alpha.ipynb").read_text()
    assert sorted(p.name for p in (second / "provided").iterdir()) == ["__init__.py", "alpha.py"]
    module = (second / "provided" / "alpha.py").read_text()
    assert "return 2 * x  # the secret of chapter one" in module and "SOLUTION" not in module
    namespace = {}
    exec(compile(module, "alpha.py", "exec"), namespace)
    assert namespace["double"](21) == 42
    assert "quadruple" not in json.dumps(_files(second).get("provided/alpha.py", b"").decode())


def test_offered_modules_reach_only_the_chapters_after_theirs(tmp_path, monkeypatch):
    """A module offered after chapter 01 (like chapter 06's fast reference) is in 02's provided/, not in 01's."""
    monkeypatch.setattr(build, "OFFERED_AFTER", {"01_alpha": ["benchmarks/fast_thing.py"]})
    _write_chapter(tmp_path, "01_alpha", '# %% answer="one" export=true\ndef one():\n    ### BEGIN SOLUTION\n'
                                         '    return 1\n    ### END SOLUTION\n')
    _write_chapter(tmp_path, "02_beta", "# %%\nfrom provided.fast_thing import FAST\n")
    with pytest.raises(build.BuildError, match="benchmarks/fast_thing.py is offered"):
        build.write_sources(tmp_path)
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "fast_thing.py").write_text("FAST = 'the fast reference'\n")
    build.write_sources(tmp_path)
    assert not (tmp_path / "solutions" / "01_alpha" / "provided").exists()
    provided = tmp_path / "solutions" / "02_beta" / "provided"
    assert sorted(p.name for p in provided.iterdir()) == ["__init__.py", "alpha.py", "fast_thing.py"]
    assert (provided / "fast_thing.py").read_text() == "FAST = 'the fast reference'\n"


@pytest.mark.parametrize("header, problem", [
    ('# %% answer="a b"', "must be letters"),
    ('# %% tests="t"', "needs points"),
    ('# %% answr="x"', "unknown cell header"),
    ('# %% [markdown] answer="x"', "must be a code cell"),
    ('# %% answer="x" points=1', "points go on the tests= cell"),
    ('# %% demo=true export=true', "cannot be graded or exported"),
])
def test_build_rejects_malformed_sources(tmp_path, header, problem):
    _write_chapter(tmp_path, "01_bad", f"{header}\nx = 1\n")
    with pytest.raises(build.BuildError, match=problem):
        build.write_sources(tmp_path)


def test_build_rejects_an_answer_cell_without_markers_and_duplicate_ids(tmp_path):
    _write_chapter(tmp_path, "01_bad", '# %% answer="x"\nx = 1\n')
    with pytest.raises(build.BuildError, match="without ### BEGIN SOLUTION"):
        build.write_sources(tmp_path)
    _write_chapter(tmp_path, "02_bad", '# %% tests="t" points=1\nx = 1\n\n# %% tests="t" points=1\ny = 2\n')
    with pytest.raises(build.BuildError, match="duplicate id"):
        build.source_notebook(tmp_path / "solutions" / "02_bad" / f"02_bad{build.SOURCE_SUFFIX}")


def _unbound_globals(source, filename):
    """Global names a module's code reads that it neither defines, imports nor gets from builtins."""
    import builtins
    import symtable

    top = symtable.symtable(source, filename, "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    used, tables = set(), [top]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        used |= {s.get_name() for s in table.get_symbols()
                 if s.is_referenced() and (s.is_global() or (table is top and not s.is_assigned()))}
    return sorted(used - bound - set(dir(builtins)))


def test_provided_modules_are_self_contained():
    modules = sorted((REPO / "notebooks").glob("*/provided/*.py"))
    for path in modules:
        missing = _unbound_globals(path.read_text(), str(path))
        assert not missing, f"{path.relative_to(REPO)} uses {missing} without defining or importing them"
    assert "np" in _unbound_globals("def f(x):\n    return np.mean(x)\n", "check")  # the check can fail
