"""Building blocks flow forward, and no release gives away its own solutions.

- chapter 03's release carries ``provided/softmax.py`` (chapter 02's solved exports), and it works;
- it does not carry ``provided/mlp.py`` (its own exports) nor any text of its solutions or hidden tests;
- a chapter after 03 gets ``provided/mlp.py``, and the layers, the model and ``make_mlp`` in it work;
- no release of any chapter contains solution or hidden-test markers.
"""

import importlib
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cells import _inside
from course import REPO, Course
from dlfs import build

CHAPTER = "03_mlp"
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _release_texts(directory):
    """{file name: text} of every file in a release directory; notebooks as their cells' sources."""
    texts = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if path.suffix == ".ipynb":
            notebook = nbformat.read(path, as_version=4)
            texts[str(path.relative_to(directory))] = "\n".join(cell.source for cell in notebook.cells)
        else:
            texts[str(path.relative_to(directory))] = path.read_text()
    return texts


def _regions(source, begin, end):
    """(inside, outside): the lines between ``### begin`` / ``### end`` markers, and all other lines."""
    inside, outside, blocks, depth = [], [], [], False
    for line in source.splitlines():
        if re.match(rf"^\s*### {begin}\s*$", line):
            depth, block = True, []
            continue
        if re.match(rf"^\s*### {end}\s*$", line):
            depth = False
            blocks.append(block)
            continue
        (inside if depth else outside).append(line)
        if depth:
            block.append(line)
    return inside, outside, blocks


def _chapter_regions(chapter):
    """Solution lines, hidden-test lines, and the lines that are neither, over a chapter's text source."""
    cells = build.read_source(REPO / "solutions" / chapter / f"{chapter}{build.SOURCE_SUFFIX}").cells
    solution, hidden, visible, blocks = [], [], [], []
    for cell in cells:
        in_solution, rest, solution_blocks = _regions(cell.source, "BEGIN SOLUTION", "END SOLUTION")
        in_hidden, rest, _ = _regions("\n".join(rest), "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        solution += in_solution
        hidden += in_hidden
        visible += rest
        blocks += solution_blocks
    return solution, hidden, visible, blocks


def _squash(text):
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def release_03(built_course):
    if CHAPTER not in build.chapters(built_course.root):
        pytest.skip(f"{CHAPTER} is not in this course")
    return built_course.root / "notebooks" / CHAPTER


def test_release_of_03_provides_softmax_and_it_works(release_03):
    assert (release_03 / "provided" / "__init__.py").is_file()
    assert (release_03 / "provided" / "softmax.py").is_file(), "chapter 02's exports are missing from 03's release"
    with _inside(release_03):
        softmax_module = importlib.import_module("provided.softmax")
        scores = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
        labels = np.array([2, 0])
        p = softmax_module.softmax(scores)
        assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1) and np.all(np.isfinite(p))
        assert np.allclose(p[0], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())
        assert np.allclose(softmax_module.softmax(scores[0]), p[0])
        assert np.allclose(softmax_module.log_softmax(scores[:1]), np.log(p[:1]))
        loss = softmax_module.cross_entropy(scores, labels)
        assert isinstance(loss, float) and np.isclose(loss, -np.log(p[0, 2]) / 2)
        assert np.isclose(softmax_module.cross_entropy(scores, np.eye(3)[labels]), loss)
        grad = softmax_module.cross_entropy_grad(scores, labels)
        assert np.allclose(grad, (p - np.eye(3)[labels]) / 2)


def test_release_of_03_does_not_provide_its_own_blocks(release_03, built_course):
    provided = {path.name for path in (release_03 / "provided").glob("*.py")}
    assert "mlp.py" not in provided
    own_and_later = {f"{build.topic(c)}.py" for c in build.chapters(built_course.root) if c >= CHAPTER}
    assert not provided & own_and_later, provided & own_and_later
    assert not list(release_03.rglob("mlp.py"))


def test_no_release_provides_its_own_or_later_chapters(built_course):
    names = build.chapters(built_course.root)
    for index, chapter in enumerate(names):
        provided = {p.stem for p in (built_course.root / "notebooks" / chapter / "provided").glob("*.py")}
        offered = {Path(path).stem for done in names[:index] for path in build.OFFERED_AFTER.get(done, [])}
        allowed = {build.topic(c) for c in names[:index]} | offered | {"__init__"}
        assert provided <= allowed, (chapter, provided - allowed)


def test_no_solution_or_hidden_test_text_of_03_in_its_release(release_03):
    solution, hidden, visible, blocks = _chapter_regions(CHAPTER)
    assert solution and hidden and blocks
    released = _release_texts(release_03)
    everything = "\n".join(released.values())
    lines_released = {line.strip() for line in everything.splitlines()}
    given = {line.strip() for line in visible}
    # every solution block, whitespace-insensitively
    squashed = _squash(everything)
    for block in blocks:
        text = _squash("\n".join(block))
        if len(text) >= 12:
            assert text not in squashed, f"a solution of {CHAPTER} leaked into its release:\n{text[:300]}"
    # every solution or hidden-test line that is not also given text of the chapter
    for kind, lines in (("solution", solution), ("hidden test", hidden)):
        secret = {line.strip() for line in lines} - given
        secret = {line for line in secret if len(line) >= 12 and not line.startswith("#")}
        assert secret, kind
        leaked = sorted(secret & lines_released)
        assert not leaked, f"{kind} lines of {CHAPTER} appear in its release: {leaked[:5]}"


def test_release_notebooks_contain_no_markers(built_course):
    for chapter in build.chapters(built_course.root):
        for name, text in _release_texts(built_course.root / "notebooks" / chapter).items():
            for marker in MARKERS:
                assert marker not in text, f"{chapter}/{name} contains {marker!r}"


def test_a_later_chapter_can_use_provided_mlp(tmp_path):
    """A probe chapter after 03 gets provided/mlp.py from the build, and what it provides trains."""
    course = Course.copy_of(REPO, tmp_path / "course")
    if CHAPTER not in build.chapters(course.root):
        pytest.skip(f"{CHAPTER} is not in this course")
    probe = course.root / "solutions" / "99_probe"
    probe.mkdir()
    (probe / "99_probe.pct.py").write_text("# %%\nfrom provided.mlp import Model\n")
    build.write_sources(course.root)
    provided = probe / "provided"
    assert (provided / "mlp.py").is_file() and (provided / "softmax.py").is_file()
    text = (provided / "mlp.py").read_text()
    assert not any(marker in text for marker in MARKERS)
    with _inside(probe):
        mlp = importlib.import_module("provided.mlp")
        rng = np.random.default_rng(0)
        x = rng.normal(size=(60, 2, 2))
        t = (x.reshape(60, -1).sum(axis=1) > 0).astype(int) + (x[:, 0, 0] > 1)
        model = mlp.make_mlp([4, 16, 3], weight_std=0.5, seed=0)
        assert sorted(model.params) == ["0.W", "0.b", "2.W", "2.b"]
        assert [type(layer).__name__ for layer in model.layers] == ["Affine", "ReLU", "Affine"]
        # backprop agrees with a numerical gradient
        grads = model.gradient(x[:8], t[:8])
        for key, value in model.params.items():
            analytic = grads[key].copy()
            numerical = np.zeros_like(value)
            for index in np.ndindex(value.shape):
                old = value[index]
                value[index] = old + 1e-5
                plus = model.loss(x[:8], t[:8])
                value[index] = old - 1e-5
                minus = model.loss(x[:8], t[:8])
                value[index] = old
                numerical[index] = (plus - minus) / 2e-5
            assert np.allclose(analytic, numerical, rtol=1e-4, atol=1e-7), key
        # a few SGD steps lower the loss
        before = model.loss(x, t)
        for _ in range(100):
            grads = model.gradient(x, t)
            for key, value in model.params.items():
                value -= 0.2 * grads[key]
        assert model.loss(x, t) < 0.8 * before
        assert 0.7 < model.accuracy(x, t, batch_size=7) <= 1.0
        # save and load; another shape fails clearly
        path = str(tmp_path / "weights.npz")
        model.save(path)
        other = mlp.make_mlp([4, 16, 3], seed=1)
        other.load(path)
        assert np.array_equal(other.predict(x), model.predict(x))
        with pytest.raises(ValueError):
            mlp.make_mlp([4, 8, 3]).load(path)
        # the gradient check helper is provided too
        layer = mlp.Affine(rng.normal(size=(4, 3)), rng.normal(size=3))
        errors = mlp.layer_gradient_errors(layer, rng.normal(size=(5, 4)), seed=0)
        assert sorted(errors) == ["W", "b", "x"] and max(errors.values()) < 1e-7
    shutil.rmtree(course.root)
