"""dlfs.judge: verdicts reached outside the learner's code, from plain observations (issue 10, first step).

The learner's version of a test cell computes no expected value; the reference run records what was
expected; the judge compares. Chapter 01 is graded this way here, variant by variant and against
submissions that fool a grade decided inside the learner's kernel."""

import importlib
import json

import numpy as np
import pytest

from cells import _run_graded, judge_tests, run_tests
from dlfs import grading
from dlfs.build import read_source
from dlfs.judge.hidden import learner_version, leaks, split_test
from dlfs.judge.verdict import judge
from course import REPO

CHAPTER = "01_linear_regression"
# chapters whose test cells are written for the judge (no leaks)
CONVERTED = [CHAPTER, "02_softmax", "03_mlp", "04_optimizers", "05_regularization", "06_cnn", "07_cifar10"]
VARIANTS = importlib.import_module("variants.ch01")
_REFERENCES = {}


def _prepared(built_course, name):
    """(source notebook, directory, reference records) of a chapter, the reference run once."""
    if name not in _REFERENCES:
        notebook = built_course.source(name)
        directory = built_course.root / "solutions" / name
        _REFERENCES[name] = notebook, directory, _run_graded(notebook, directory, "reference")
    return _REFERENCES[name]


@pytest.fixture(scope="module")
def chapter(built_course):
    return _prepared(built_course, CHAPTER)


def _verdicts(chapter, answers):
    notebook, directory, reference = chapter
    return judge_tests(notebook, directory, answers, reference=reference)


def test_learner_version_keeps_the_calls_and_drops_every_expected_value():
    source = ("x = rng.normal(size=3)\n"
              "### BEGIN REFERENCE\n"
              "secret = 2 * x\n"
              "### END REFERENCE\n"
              "got = call(double, x)\n"
              "check_close(got, secret, 'double(x)', hint='twice x', mistakes=[(x, 'you returned x')])\n"
              "check_shape(got, secret.shape, 'double(x)')\n")
    learner = learner_version(source)
    assert "secret" not in learner and "mistakes" not in learner
    assert "call(double, x)" in learner and "check_close(got, ..., 'double(x)', hint='twice x')" in learner
    assert leaks(source) == []


def test_leaks_finds_what_only_an_expected_value_needed():
    source = ("### BEGIN HIDDEN TESTS\n"
              "x = rng.normal(size=3)\n"
              "expected = 2 * x\n"
              "trajectory = []\n"
              "for step in range(3):\n"
              "    trajectory.append(step * x)\n"
              "check_close(call(double, x), expected, 'double(x)')\n"
              "check_close(call(steps, x), trajectory, 'steps(x)')\n")
    assert leaks(source) == ["expected", "step", "trajectory"]


@pytest.mark.parametrize("chapter_name", CONVERTED)
def test_converted_chapters_hand_the_learner_no_expected_value(chapter_name):
    for cell in read_source(REPO / "solutions" / chapter_name / f"{chapter_name}.pct.py").cells:
        if "tests" in cell.metadata:
            assert leaks(cell.source) == [], cell.metadata["tests"]


@pytest.mark.parametrize("name", CONVERTED)
def test_the_solution_passes_every_test_and_the_reference_run_is_complete(built_course, name):
    chapter = _prepared(built_course, name)
    notebook, directory, reference = chapter
    assert all(not any(r["check"] == "stopped" for r in records) for records, _ in reference.values())
    assert all(hidden_from is not None for _, hidden_from in reference.values())
    assert _verdicts(chapter, {}) == {grade_id: None for grade_id in reference}


@pytest.mark.parametrize("name,answer_id,label,code,should_pass", [
    pytest.param(name, *v, id=f"{name[:2]}-{v[0]}-{v[1].replace(' ', '_')}")
    for name in CONVERTED for v in importlib.import_module(f"variants.ch{name[:2]}").VARIANTS])
def test_every_variant_keeps_its_verdict_through_the_judge(built_course, name, answer_id, label, code, should_pass):
    verdicts = _verdicts(_prepared(built_course, name), {answer_id: code})
    test = importlib.import_module(f"variants.ch{name[:2]}").TESTS[answer_id]
    assert (verdicts[test] is None) == (should_pass is True), verdicts[test]
    assert [t for t, message in verdicts.items() if t != test and message is not None] == []


# Submissions that pass when the grade is decided inside the learner's kernel (run_tests, what
# nbgrader's autograde does) and must fail when the judge decides.
READS_THE_EXPECTED_VALUES = '''
import sys

def gradient_descent(X, y, lr, n_steps):
    frame = sys._getframe(1)
    while frame is not None and "trajectory" not in frame.f_globals:
        frame = frame.f_back
    if frame is not None and n_steps == 4:     # the hidden test computed the answer before calling us
        return frame.f_globals["W_ref"], frame.f_globals["b_ref"], list(frame.f_globals["trajectory"])
    if n_steps > 2:                             # beyond the visible test, this learner has nothing
        return np.zeros((X.shape[1], 1)), np.zeros(1), [0.0] * n_steps
    W, b, losses = np.zeros((X.shape[1], 1)), np.zeros(1), []
    for _ in range(n_steps):
        losses.append(mse_loss(X @ W + b, y))
        dW, db = mse_gradients(X, y, W, b)
        W, b = W - lr * dW, b - lr * db
    return W, b, losses
'''

# (Only the notebook's names are replaced here: the in-process runner shares dlfs.grading with the
# test process. Patching modules is the sandboxed kernel's case.)
SILENCES_THE_CHECKS = '''
def closed_form(X, y):
    def passes(*args, **kwargs):
        return args[0] if args else None
    for name in ("check_close", "check_shape", "check_gradient"):
        globals()[name] = passes
    return np.zeros((X.shape[1], 1)), np.zeros(1)
'''


@pytest.mark.parametrize("answer_id,code,test", [
    ("gradient_descent", READS_THE_EXPECTED_VALUES, "test_gradient_descent"),
    ("closed_form", SILENCES_THE_CHECKS, "test_closed_form"),
])
def test_cheats_that_fool_an_in_kernel_grade_fail_with_the_judge(chapter, answer_id, code, test):
    notebook, directory, _ = chapter
    assert run_tests(notebook, directory, {answer_id: code})[test] is None     # the in-kernel grade is fooled
    assert _verdicts(chapter, {answer_id: code})[test] is not None


def test_malformed_extra_and_missing_observations_fail_the_test_not_the_grader():
    reference = [{"check": "close", "name": "f(x)", "hint": None, "rtol": 1e-6, "atol": 1e-8,
                  "expected": grading.encode([1.0, 2.0]), "mistakes": []}]
    good = [{"check": "close", "name": "f(x)", "got": grading.encode([1.0, 2.0])}]
    assert judge(reference, good).passed
    for observed in ([], good + good, [{"check": "close", "name": "f(x)", "got": {"float64": "!!", "shape": [2]}}],
                     [{"check": "close", "name": "f(x)", "got": {"float64": "AAAA", "shape": [99]}}],
                     [{"check": "shape", "name": "f(x)"}], [None], "not a list",
                     [{"check": "close", "name": "f(x)", "invalid": "type:<script>"}]):
        verdict = judge(reference, observed)
        assert not verdict.passed and verdict.message


def test_arrays_travel_as_binary_buffers_and_come_back_whole():
    """A kernel sends its records' arrays as the message's binary buffers, one per distinct array; the grader puts
    them back. The reference cache writes them as base64 JSON: decode reads both."""
    x, y = grading.encode([[1.0, 2.0], [3.0, 4.0]]), grading.encode([0.5])
    records = [{"check": "close", "name": "f", "got": x},
               {"check": "that", "name": "g", "got": [x, None, y]},
               {"check": "close", "name": "h", "expected": y, "mistakes": [[x, "why"]]}]
    sent, buffers = grading.to_buffers(records)
    assert len(buffers) == 2 and "float64" not in json.dumps(sent)          # the content is small, plain JSON
    back = grading.from_buffers(json.loads(json.dumps(sent)), [memoryview(b) for b in buffers])
    assert back == records
    assert np.array_equal(grading.decode(back[2]["mistakes"][0][0]), [[1.0, 2.0], [3.0, 4.0]])
    cached = json.loads(json.dumps(records, default=grading.json_default))
    assert isinstance(cached[0]["got"]["float64"], str)
    assert np.array_equal(grading.decode(cached[1]["got"][2]), [0.5])


def test_forged_buffer_references_fail_the_test_not_the_grader():
    reference = [{"check": "close", "name": "f(x)", "hint": None, "rtol": 1e-6, "atol": 1e-8,
                  "expected": grading.encode([1.0, 2.0]), "mistakes": []}]
    buffers = [grading.encode([1.0, 2.0])["float64"]]
    for reference_to in (1, -1, True, "0", None, 0.0):
        observed = grading.from_buffers([{"check": "close", "name": "f(x)", "got": {"shape": [2], "buffer": reference_to}}],
                                        buffers)
        verdict = judge(reference, observed)
        assert not verdict.passed and verdict.message
    deep = {"check": "close", "name": "f(x)"}
    for _ in range(100_000):                   # deeper than any recursion could follow
        deep = {"got": deep}
    assert grading.from_buffers([deep], buffers) == [deep]
    assert judge(reference, grading.from_buffers([{"check": "close", "name": "f(x)",
                                                   "got": {"shape": [2], "buffer": 0}}], buffers)).passed


def test_records_outside_a_kernel_without_a_sink_are_an_error_not_lost():
    grading.grading_mode("observe")
    try:
        grading.check_scalar(1.0, "x")
        with pytest.raises(RuntimeError, match="sink"):
            grading.grading_mode("direct")
    finally:
        grading.grading_mode("direct")
    assert grading._state["mode"] == "direct" and grading._state["batch"] == []


def test_hidden_checks_never_show_the_expected_values(chapter):
    code = dict((a, c) for a, label, c, ok in VARIANTS.VARIANTS if label == "sum instead of mean")["mse_loss"]
    notebook, directory, reference = chapter
    records, hidden_from = reference["test_mse_loss"]
    hidden_only = {"mse_loss": code.replace("def mse_loss", "def _unused") + (
        "\ndef mse_loss(y_pred, y):\n"
        "    return float(np.mean((y_pred - y) ** 2)) if len(y) == 4 else float(np.sum((y_pred - y) ** 2))\n")}
    message = _verdicts(chapter, hidden_only)["test_mse_loss"]
    assert message and "hint:" in message and "expected:" not in message and "got:" not in message
    assert split_test(notebook.cells[0].source)[2] == ""


def _text(names):
    return np.frombuffer("\n".join(names).encode(), dtype=np.uint8)


_DRAWS = np.random.default_rng(0)
_UNIFORM, _NORMAL = _DRAWS.uniform(-1.5, 1.5, size=(300, 200)), _DRAWS.normal(0.0, 0.5, size=(300, 200))
_X = np.abs(_DRAWS.normal(size=(300, 400))) + 0.5
_KEPT = _DRAWS.random(_X.shape) >= 0.2
_DOUT = _DRAWS.normal(size=_X.shape)


@pytest.mark.parametrize("name,arrays,params,holds,says", [
    ("below", (3e-9,), {"bound": 1e-7}, True, ""),
    ("below", (2e-3,), {"bound": 1e-7}, False, "2.00e-03, expected below 1e-07"),
    ("above", (0.5,), {"bound": 1e-2}, True, ""),
    ("above", ([0.5, 1e-9],), {"bound": 1e-2}, False, "1.00e-09, expected above 1e-02"),
    ("has_keys", ([1, 1], 2), {"keys": ["0.w", "2.w"]}, True, ""),
    ("has_keys", ([1, 0], 3), {"keys": ["0.w", "2.w"]}, False, "the keys ['0.w'] and 2 other key(s), expected exactly"),
    ("has_keys", ([], 0), {"keys": []}, True, ""),
    ("has_keys", ([0, 0], -1), {"keys": ["w", "x"]}, False, "something other than a dict"),
    ("has_keys", ([1], 2), {"keys": ["w", "x"]}, False, "something other than a dict"),   # not what check_keys sends
    ("holds", (True, 1.0), {"problem": "copies"}, True, "copies"),
    ("holds", (True, False), {"problem": "copies"}, False, "copies"),
    ("holds", ([1, 1, 1],), {"problem": "other arrays"}, True, ""),
    ("holds", ([1, 0, 1],), {"problem": "other arrays"}, False, "other arrays"),
    ("holds", ([],), {"problem": "other arrays"}, False, "other arrays"),
    ("holds", ((), True), {"problem": "other arrays"}, False, "other arrays"),
    ("agree", ([3, 0], [3, 0]), {"what": "X_batch 0's"}, True, ""),
    ("agree", ([3, 0], [0, 3]), {"what": "X_batch 0's"}, False,
     "values that differ from X_batch 0's in 2 of 2 entries\n  expected: [0. 3.]\n  got:      [3. 0.]\n"
     "  worst element at index (0,): expected 0, got 3 (off by 3)"),
    ("agree", ([0.1], [0.1 + 1e-12]), {"what": "the first run", "rtol": 1e-9}, True, ""),
    ("agree", ([0.1], [0.1 + 1e-12]), {"what": "the first run"}, False, "expected 0.100000000001, got 0.1"),
    ("agree", (np.zeros(20), np.r_[np.zeros(19), 1.0]), {"what": "before"}, False, "differ from before in 1 of 20"),
    ("agree", ([1, 2], [1]), {"what": "X_batch 0's"}, False,
     "values other than X_batch 0's\n  expected shape: (1,)\n  got shape:      (2,)"),
    ("agree", ([1.0, 2.0 + 1e-9], [1.0, 2.0]), {"what": "the first draw", "rtol": 1e-6, "atol": 1e-8}, True, ""),
    ("agree", ([1.0, 2.5], [1.0, 2.0]), {"what": "the first draw", "rtol": 1e-6, "atol": 1e-8}, False,
     "values that differ from the first draw in 1 of 2 entries\n  expected: [1. 2.]\n  got:      [1.  2.5]\n"
     "  worst element at index (1,)"),
    ("differ", (np.arange(4), [0, 2, 1, 3]), {"same": "no shuffle"}, True, "no shuffle"),
    ("differ", (np.arange(4), np.arange(4)), {"same": "no shuffle"}, False, "no shuffle"),
    ("differ", ([1.0, 2.0], [1.0, 2.0 + 1e-12]), {"same": "no shuffle"}, True, ""),
    ("differ", ([1.0, 2.0], [1.0, 3.0]), {"same": "the same weights", "rtol": 1e-6, "atol": 1e-8}, True, ""),
    ("differ", ([1.0, 2.0], [1.0, 2.0 + 1e-12]), {"same": "the same weights", "rtol": 1e-6, "atol": 1e-8}, False,
     "the same weights"),
    ("differ", ([1.0, 2.0], [1.0]), {"same": "the same weights"}, True, ""),
    ("batch_sizes", ([3, 3, 1],), {"largest": 3, "total": 7, "unit": "examples"}, True, ""),
    ("batch_sizes", ([7],), {"largest": 3, "total": 7, "unit": "examples"}, False,
     "batches of [7] examples, expected at most 3 examples per batch, covering all 7 once"),
    ("batch_sizes", ([3, 3],), {"largest": 3, "total": 7, "unit": "examples"}, False, "batches of [3, 3] examples"),
    ("batch_sizes", ([],), {"largest": 3, "total": 7, "missing": "no call of predict"}, False, "no call of predict"),
    ("batch_sizes", (np.ones(2500),), {"largest": 1, "total": 2500, "unit": "examples"}, True,
     "2500 batches, the largest of 1 examples, 2500 in all"),
    ("batch_sizes", ([100, 30],), {"largest": 100}, True, ""),
    ("batch_sizes", ([130],), {"largest": 100}, False,
     "batches of [130] images, expected at most 100 images per batch"),
    ("batch_sizes", ([7] * 18 + [4],), {"largest": 7, "total": 130}, True, ""),
    ("batch_sizes", ([7] * 18,), {"largest": 7, "total": 130}, False, "covering all 130 once"),
    ("batch_sizes", ([],), {"largest": 7}, False, "no image through the layer"),
    ("train_flags", ([True, True],), {"expected": True}, True, ""),
    ("train_flags", ([True, False],), {"expected": False}, False, "the train flags [True, False], expected train=False"),
    ("train_flags", ([],), {"expected": True}, False, "no call with a train flag"),
    ("names_are", (_text(["beta", "gamma"]),), {"expected": ["beta", "gamma"], "what": "keys"}, True, ""),
    ("names_are", (_text(["beta"]),), {"expected": ["beta", "gamma"], "what": "keys"}, False,
     "the keys ['beta'], expected ['beta', 'gamma']"),
    ("names_are", (_text([]),), {"expected": ["ReLU"]}, False, "the names [], expected ['ReLU']"),
    ("names_are", ([1e9, -3.0, 0.5, 104.0],), {"expected": ["h"]}, False, "expected ['h']"),    # garbage: no error
    ("initializer_statistics", (_UNIFORM,), {"kind": "uniform", "scale": 1.5}, True, ""),
    ("initializer_statistics", (_NORMAL,), {"kind": "normal", "scale": 0.5}, True, ""),
    ("initializer_statistics", (_UNIFORM,), {"kind": "uniform", "scale": 1.5 * np.sqrt(3)}, False,
     "the wrong spread\n  hint: check the formula of the scale, and that you used fan_in and fan_out from "
     "fans(shape)\n  expected: mean 0, standard deviation 1.5, every value in [-2.598, 2.598]\n  got:      mean"),
    ("initializer_statistics", (2 * _NORMAL,), {"kind": "normal", "scale": 0.5, "mistakes": [[1.0, "the variance."]]},
     False, "  hint: the variance"),
    ("initializer_statistics", (2 * _NORMAL,), {"kind": "normal", "scale": 0.5}, False,
     "  hint: check the formula of the scale"),
    ("initializer_statistics", (_NORMAL + 0.05,), {"kind": "normal", "scale": 0.5}, False, "not centred on 0"),
    ("initializer_statistics", (_NORMAL,), {"kind": "uniform", "scale": 0.5 * np.sqrt(3)}, False,
     "not uniform on [-a, a]\n"),
    ("initializer_statistics", (_UNIFORM,), {"kind": "normal", "scale": 1.5 / np.sqrt(3)}, False,
     "do not look normal: 0.0% of the values lie beyond 2 standard deviations"),
    ("initializer_statistics", ([],), {"kind": "normal", "scale": 0.5}, False, "no weights"),
    ("dropout_mask", (_X * _KEPT,), {"p": 0.2, "tolerance": 0.01}, True, ""),
    ("dropout_mask", (_X * _KEPT[:1],), {"p": 0.2, "tolerance": 0.01}, False, "the same mask for every example\n"
                                                                               "  hint: draw one random number"),
    ("dropout_mask", (_X * _KEPT[:, :1],), {"p": 0.2, "tolerance": 0.01}, False, "the same mask for every unit"),
    ("dropout_mask", (_X * ~_KEPT,), {"p": 0.2, "tolerance": 0.01}, False,
     "% of the units dropped, expected about 20%\n  hint: drop a unit when"),
    ("dropout_mask", (_X,), {"p": 0.5, "tolerance": 0.5, "rate_hint": "train=True is the default."}, False,
     "0.0% of the units dropped, expected about 50%\n  hint: train=True is the default"),
    ("dropout_scaling", (_X * _KEPT / 0.8, _X), {"p": 0.2, "mean_tolerance": 0.02}, True, ""),
    ("dropout_scaling", (_X * _KEPT, _X), {"p": 0.2, "mean_tolerance": 0.02, "mistakes": [[1.0, "divide by 1 - p."]]},
     False, "kept units of x * 1, expected x / (1 - p) = x * 1.25\n  hint: divide by 1 - p"),
    ("dropout_scaling", (_X * (_DRAWS.random(_X.shape) < 0.5) / 0.8, _X), {"p": 0.2, "mean_tolerance": 0.02}, False,
     "the mean activation changed by a factor 0.6"),
    ("dropout_scaling", (_X[:2], _X), {"p": 0.2, "mean_tolerance": 0.02}, False, "shape (2, 400)"),
    ("dropout_backward", (_DOUT * _KEPT / 0.8, _DOUT * _KEPT / 0.8), {}, True, ""),
    ("dropout_backward", (_DOUT / 0.8, _DOUT * _KEPT / 0.8), {}, False, "not zero exactly where"),
    ("dropout_backward", (_DOUT * _KEPT, _DOUT * _KEPT / 0.8), {}, False, "differ from dout * mask / (1 - p)"),
    ("standard_deviation_near", (_NORMAL,), {"expected": 0.5, "tolerance": 0.15, "formula": "He"}, True, ""),
    ("standard_deviation_near", (_NORMAL,), {"expected": 0.2, "tolerance": 0.15, "formula": "He's gives sqrt(2 / 50)"},
     False, "a standard deviation of 0.50"),
    ("peak_memory_within", (90e6, 48000), {"allowance": 100e6}, True, ""),
    ("peak_memory_within", (250e6, 48000), {"allowance": 100e6}, False, "250 MB at its peak, expected below 100 MB"),
])
def test_the_predicates(name, arrays, params, holds, says):
    result, measured = grading.PREDICATES[name](*(np.array(a, dtype=np.float64) for a in arrays), **params)
    assert result is holds and says in measured


def test_check_keys_is_judged_from_flags_and_a_count():
    reference, observed = [], []
    try:
        grading.grading_mode("reference", reference)
        grading.check_keys({"w": 1.0, "x": 2.0}, ["w", "x"], "f(x)", hint="one key per parameter.")
        for got in ({"w": 1.0, "x": 2.0}, {"x": 1.0, "y": 2.0}, [("w", 1.0), ("x", 2.0)]):
            grading.grading_mode("observe", observed)
            grading.check_keys(got, ["w", "x"], "f(x)")
    finally:
        grading.grading_mode("direct")
    messages = [judge(reference, [record]).message for record in observed]
    assert messages == ["", "f(x): measured the keys ['x'] and 1 other key(s), expected exactly the keys ['w', 'x'].\n"
                            "  hint: one key per parameter.",
                        "f(x): measured something other than a dict, expected a dict with exactly the keys ['w', 'x'].\n"
                        "  hint: one key per parameter."]
    with pytest.raises(grading.GradingError, match="the keys \\['x'\\] and 1 other key"):
        grading.check_keys({"x": 1.0, "y": 2.0}, ["w", "x"], "f(x)")


@pytest.mark.parametrize("name,params", [
    ("names_are", {"expected": ["a"]}), ("holds", {"problem": "p"}), ("agree", {"what": "w"}),
    ("agree", {"what": "w", "rtol": 1e-6, "atol": 1e-8}), ("differ", {"same": "s"}),
    ("differ", {"same": "s", "rtol": 1e-6, "atol": 1e-8}),
    ("initializer_statistics", {"kind": "uniform", "scale": 1.0}),
    ("dropout_mask", {"p": 0.5, "tolerance": 0.1}), ("dropout_scaling", {"p": 0.5, "mean_tolerance": 0.1}),
    ("dropout_backward", {}), ("standard_deviation_near", {"expected": 1.0, "tolerance": 0.1, "formula": "f"}),
    ("batch_sizes", {"largest": 3, "total": 5}), ("peak_memory_within", {"allowance": 1.0}),
])
def test_the_predicates_never_fail_on_what_a_learner_sends(name, params):
    """The judge evaluates predicates on the learner's arrays: any shape, size or value they send (finite, as the
    judge checks first) gives a verdict, never an error."""
    arity = {"peak_memory_within": 2, "agree": 2, "differ": 2, "dropout_scaling": 2,
             "dropout_backward": 2}.get(name, 1)
    for arrays in ([np.zeros(0)] * 2, [np.array(3.0)] * 2, [np.zeros((2, 3)), np.ones(4)], [np.zeros((1, 1, 0))] * 2,
                   [np.full((2, 2), -1e300), np.full((2, 2), 1e-300)], [np.zeros((3, 4))] * 2):
        holds, measured = grading.PREDICATES[name](*arrays[:arity], **params)
        assert isinstance(holds, bool) and isinstance(measured, str)


def test_a_setup_block_defines_helpers_and_checks_nothing():
    """A hidden block that opens a test cell (dlfs.judge.hidden.split_test's setup) runs before the visible
    checks so that its helpers exist even when those fail; whatever it checked would be reported as visible,
    so at its top level it may only define (functions, classes, imports, assignments)."""
    import ast
    setups = 0
    for name in CONVERTED:
        for cell in read_source(REPO / "solutions" / name / f"{name}.pct.py").cells:
            if cell.cell_type != "code" or "tests" not in cell.metadata:
                continue
            setup = split_test(cell.source)[0]
            setups += bool(setup)
            for statement in ast.parse(learner_version(setup)).body if setup else []:
                assert isinstance(statement, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign)), \
                    f"{name} {cell.metadata['tests']}: the setup block runs {ast.unparse(statement)[:80]!r}"
    assert setups >= 2
    assert split_test("### BEGIN HIDDEN TESTS\ndef f(): pass\n### END HIDDEN TESTS\ncheck(1)\n### BEGIN HIDDEN TESTS\n"
                      "check(2)\n### END HIDDEN TESTS\n")[1] == "check(1)\n"


def test_a_failing_check_names_the_classic_mistake_it_recognised_for_the_class_report():
    from dlfs.judge.verdict import NO_RETURN, NOT_ATTEMPTED
    summed = "you summed; divide by N."
    close = {"check": "close", "name": "f(x)", "hint": "the mean.", "rtol": 1e-6, "atol": 1e-8,
             "expected": grading.encode([[1.0, 2.0], [3.0, 4.0]]), "mistakes": [[grading.encode([[4.0, 8.0], [12.0, 16.0]]),
                                                                                summed]]}

    def mistake(observation):
        verdict = judge([close], [{"check": "close", "name": "f(x)", **observation}])
        assert not verdict.passed
        return verdict.mistake

    assert mistake({"got": grading.encode([[4.0, 8.0], [12.0, 16.0]])}) == summed               # the chapter's list
    assert mistake({"got": grading.encode([[1.0, 3.0], [2.0, 4.0]])}) == "transposed"           # a telling relation
    assert mistake({"got": grading.encode([[-1.0, -2.0], [-3.0, -4.0]])}) == "the opposite sign"
    assert mistake({"got": grading.encode([[1.0, 2.0], [3.0, 5.0]])}) is None                   # merely wrong
    assert mistake({"invalid": "none"}) == NO_RETURN
    call = {"check": "call", "name": "f", "hint": None}
    assert judge([call], [{"check": "call", "name": "f", "raised": "NotImplementedError"}]).mistake == NOT_ATTEMPTED
    assert judge([call], [{"check": "call", "name": "f", "raised": "ValueError"}]).mistake is None
    assert judge([close], [{"check": "close", "name": "f(x)", "got": grading.encode([[1.0, 2.0], [3.0, 4.0]])}]) \
        .mistake is None
