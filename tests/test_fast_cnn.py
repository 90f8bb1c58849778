"""The fast reference CNN (benchmarks/fast_cnn.py) computes what chapter 06's clear SimpleConvNet
computes: the same initialization, loss, gradients and predictions, in float64 to rounding; and its
benchmark runs."""

import re
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from course import REPO

sys.path.insert(0, str(REPO))
from benchmarks.cnn_train_step import load_clear_cnn  # noqa: E402
from benchmarks.fast_cnn import FastSimpleConvNet  # noqa: E402

KEYS = ["0.W", "0.b", "3.W", "3.b", "5.W", "5.b"]
SHAPES = {"0.W": (30, 1, 5, 5), "0.b": (30,), "3.W": (4320, 100), "3.b": (100,), "5.W": (100, 10), "5.b": (10,)}


# -- fixtures and helpers -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clear_net_class(built_course):
    """Chapter 06's SimpleConvNet: the solution's exported cells, from the built course."""
    return load_clear_cnn(built_course.root).SimpleConvNet


def clear_net(cls, seed=0):
    return cls(input_dim=(1, 28, 28), filter_num=30, filter_size=5, hidden_size=100, output_size=10, seed=seed)


def trained_like_params(seed):
    """He-initialized weights, each moved by up to 10 %, and random biases (so the ReLUs cut at nonzero
    thresholds), float64."""
    net = FastSimpleConvNet(dtype=np.float64, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for key, value in net.params.items():
        if key.endswith(".W"):
            value *= 1 + 0.1 * rng.uniform(-1, 1, value.shape)
        else:
            value += 0.1 * rng.normal(size=value.shape)
    return {key: value.copy() for key, value in net.params.items()}


def batch(kind, n, seed):
    """(x, t): images (n, 1, 28, 28) and labels, integer (n,) or one-hot (n, 10)."""
    rng = np.random.default_rng(seed)
    # Like MNIST, a zero background, where the members of a pooling window tie at 0 + b, and a saturated
    # patch, where they tie at w·window + b for four identical nonzero windows: there the whole gradient
    # must go to one member.
    x = np.zeros((n, 1, 28, 28))
    for image in x:
        top, left = rng.integers(0, 14, 2)
        image[0, top:top + 14, left:left + 14] = rng.random((14, 14))
        top, left = rng.integers(0, 20, 2)
        image[0, top:top + 8, left:left + 8] = 1.0
    labels = rng.integers(0, 10, n)
    return x, (np.eye(10)[labels] if kind == "one-hot" else labels)


def assert_same(got, expected, what, rtol):
    """max |got - expected| <= rtol · max |expected| (rounding of a differently ordered sum)."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, expected {expected.shape}"
    scale = np.max(np.abs(expected))
    error = np.max(np.abs(got - expected))
    assert error <= rtol * scale, f"{what}: max |difference| {error:.3g} > {rtol:g} × max |expected| {scale:.3g}"


CASES = [("integer", 1, 1), ("one-hot", 1, 2), ("integer", 7, 3), ("one-hot", 37, 4), ("integer", 100, 5)]


# -- the tests ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
def test_same_initialization(clear_net_class, seed):
    clear, fast = clear_net(clear_net_class, seed), FastSimpleConvNet(dtype=np.float64, seed=seed)
    assert list(fast.params) == KEYS
    for key in KEYS:
        assert fast.params[key].shape == SHAPES[key] and fast.params[key].dtype == np.float64
        np.testing.assert_array_equal(fast.params[key], clear.params[key], err_msg=key)
    assert not np.array_equal(FastSimpleConvNet(seed=seed + 1).params["0.W"], fast.params["0.W"])


@pytest.mark.parametrize("kind, n, seed", CASES)
def test_same_loss_and_gradients_in_float64(clear_net_class, kind, n, seed):
    params = trained_like_params(seed)
    clear, fast = clear_net(clear_net_class), FastSimpleConvNet(dtype=np.float64)
    for net in (clear, fast):
        net.set_params(params) if net is fast else [np.copyto(clear.params[k], v) for k, v in params.items()]
    x, t = batch(kind, n, seed)
    expected_loss = clear.loss(x, t)
    assert fast.loss(x, t) == pytest.approx(expected_loss, rel=1e-12)
    expected = {key: np.array(value) for key, value in clear.gradient(x, t).items()}
    got = fast.gradient(x, t)
    assert sorted(got) == sorted(KEYS)
    for key in KEYS:
        assert got[key].dtype == np.float64
        assert_same(got[key], expected[key], f"grads[{key!r}] ({kind} labels, N={n})", rtol=1e-10)


def test_the_batches_exercise_ties_and_both_relus():
    """The comparison above means something: some pooling windows tie (at 0, and at the same nonzero value)
    while their gradient flows, and both ReLUs cut some units and pass others."""
    params = trained_like_params(5)
    x, t = batch("integer", 100, 5)
    windows = np.lib.stride_tricks.sliding_window_view(x[:, 0], (5, 5), axis=(1, 2))
    zero_windows = np.all(windows == 0, axis=(-2, -1))                       # conv output exactly 0 there
    tied = zero_windows.reshape(100, 12, 2, 12, 2).all(axis=(2, 4))
    saturated = np.all(windows == 1, axis=(-2, -1)).reshape(100, 12, 2, 12, 2).all(axis=(2, 4))
    assert tied.mean() > 0.2 and saturated.sum() > 50 and (params["0.b"] > 0).sum() > 5
    net = FastSimpleConvNet(dtype=np.float64)
    net.set_params(params)
    net.gradient(x, t)
    _, first, pooled, _, h = net._cache
    assert 0.2 < (pooled > 0).mean() < 0.95 and 0.2 < (h > 0).mean() < 0.95


def test_predict_and_accuracy_agree(clear_net_class):
    params = trained_like_params(7)
    clear, fast = clear_net(clear_net_class), FastSimpleConvNet(dtype=np.float64)
    for key, value in params.items():
        np.copyto(clear.params[key], value)
    fast.set_params(params)
    x, labels = batch("integer", 250, 7)
    scores = clear.predict(x)
    assert_same(fast.predict(x, batch_size=64), scores, "predict(x, batch_size=64)", rtol=1e-10)
    labels[:120] = scores[:120].argmax(axis=1)  # an accuracy well away from 0 and 1
    expected = clear.accuracy(x, labels)
    assert 0.4 < expected < 0.7
    assert fast.accuracy(x, labels, batch_size=64) == pytest.approx(expected, abs=1e-12)
    assert fast.accuracy(x, np.eye(10)[labels], batch_size=300) == pytest.approx(expected, abs=1e-12)


def test_predict_memory_does_not_grow_with_the_number_of_images():
    fast = FastSimpleConvNet(dtype=np.float64)
    x = np.random.default_rng(11).random((2000, 1, 28, 28))  # in one pass: col alone would take 230 MB
    tracemalloc.start()
    try:
        scores = fast.predict(x, batch_size=100)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert scores.shape == (2000, 10)
    assert peak < 64e6, f"predict of 2000 images in batches of 100 peaked at {peak / 1e6:.0f} MB"


def test_the_chapters_own_predict_stays_under_the_memory_it_states(clear_net_class):
    """Chapter 06 says its batched predict stays below 100 MB besides the scores, whatever the number of
    images; its graded test checks the bound with reference layers, this one with the solution's own."""
    net = clear_net(clear_net_class)
    x = np.random.default_rng(12).random((2000, 1, 28, 28)).astype(np.float32)   # MNIST arrives as float32
    tracemalloc.start()
    try:
        scores = net.predict(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert scores.shape == (2000, 10)
    assert peak < 100e6 + scores.nbytes, f"the chapter's predict of 2000 images peaked at {peak / 1e6:.0f} MB"
    assert "below 100 MB" in (REPO / "solutions" / "06_cnn" / "06_cnn.pct.py").read_text()


def test_float32_agrees_loosely():
    params = trained_like_params(8)
    exact, fast = FastSimpleConvNet(dtype=np.float64), FastSimpleConvNet()
    exact.set_params(params)
    fast.set_params(params)
    assert all(value.dtype == np.float32 for value in fast.params.values())
    x, t = batch("one-hot", 50, 8)
    assert fast.loss(x, t) == pytest.approx(exact.loss(x, t), rel=1e-5)
    expected = {key: value.copy() for key, value in exact.gradient(x, t).items()}
    for key, value in fast.gradient(x.astype(np.float32), t).items():
        assert value.dtype == np.float32
        assert_same(value, expected[key], f"float32 grads[{key!r}]", rtol=1e-4)


def test_train_step_is_one_sgd_step():
    params = trained_like_params(9)
    stepped, manual = FastSimpleConvNet(dtype=np.float64), FastSimpleConvNet(dtype=np.float64)
    stepped.set_params(params)
    manual.set_params(params)
    x, t = batch("integer", 20, 9)
    loss = manual.loss(x, t)
    grads = manual.gradient(x, t)
    assert stepped.train_step(x, t, lr=0.01) == pytest.approx(loss, rel=1e-14)
    for key in KEYS:
        np.testing.assert_allclose(stepped.params[key], params[key] - 0.01 * grads[key], rtol=1e-14, atol=1e-16,
                                   err_msg=key)
    assert stepped.loss(x, t) < loss


def test_set_params_copies_and_checks_shapes():
    fast = FastSimpleConvNet()
    params = trained_like_params(10)
    fast.set_params(params)
    params["0.W"][...] = 0.0  # a copy: later changes to the source do not leak in
    assert np.abs(fast.params["0.W"]).max() > 0
    with pytest.raises(ValueError, match="3.W"):
        fast.set_params({**params, "3.W": np.zeros((100, 4320))})
    with pytest.raises(ValueError, match="shape"):
        fast.loss(np.zeros((2, 28, 28)), np.zeros(2, int))


BENCHMARK_START = ("import runpy, sys; {hide}sys.argv = sys.argv[1:]; "
                   "runpy.run_path(sys.argv[0], run_name='__main__')")


@pytest.mark.parametrize("torch", ["as installed", "hidden"])
def test_benchmark_runs_and_ends_with_the_ratio(built_course, torch):
    hide = "sys.modules['torch'] = None; " if torch == "hidden" else ""  # then `import torch` fails
    result = subprocess.run([sys.executable, "-c", BENCHMARK_START.format(hide=hide),
                             str(REPO / "benchmarks" / "cnn_train_step.py"), "--repeats", "2", "--warmup", "1",
                             "--batch-size", "8", "--root", str(built_course.root)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio fast/pytorch: (\d+\.\d\d|n/a \(torch not installed\))", lines[-1]), result.stdout
    if torch == "hidden":
        assert lines[-1] == "ratio fast/pytorch: n/a (torch not installed)"
    for name in ("clear (float64)", "fast (float32)"):
        assert any(re.search(re.escape(name) + r" +median +\d", line) for line in lines), result.stdout
    assert "BLAS: " in result.stdout and "unknown" not in lines[0], result.stdout
