"""dlfs.gradcheck, dlfs.synthetic, dlfs.grading: the helpers notebooks and graded tests rely on."""

import numpy as np
import pytest

from dlfs import grading
from dlfs.grading import GradingError, grad_of
from dlfs.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from dlfs.synthetic import make_moons, make_regression, make_spirals


# --- gradcheck -------------------------------------------------------------------------------
def test_numerical_gradient_of_a_known_function_any_shape():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    grad = numerical_gradient(lambda z: np.sum(z ** 3), x)
    assert grad.shape == x.shape and rel_error(grad, 3 * x ** 2) < 1e-8


def test_numerical_gradient_restores_its_input_and_works_through_closures():
    x = np.array([1.0, -2.0, 3.0])
    before = x.copy()
    grad = numerical_gradient(lambda _: np.dot(x, x), x)  # f ignores its argument, reads x
    assert np.array_equal(x, before) and rel_error(grad, 2 * before) < 1e-9


def test_numerical_gradient_array_matches_a_layer_backward():
    rng = np.random.default_rng(1)
    x, W, dout = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    assert rel_error(numerical_gradient_array(lambda z: z @ W, x, dout), dout @ W.T) < 1e-8


def test_numerical_gradient_refuses_low_precision():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda z: z.sum(), np.ones(3, dtype=np.float32))


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        rel_error(np.ones(2), np.ones(3))


# --- synthetic -------------------------------------------------------------------------------
def test_generators_are_seeded_and_shaped():
    X, y = make_regression(n_samples=50, weights=[1.0, -2.0], bias=0.5, noise=0.0, seed=3)
    assert X.shape == (50, 2) and y.shape == (50, 1)
    assert np.allclose(y, X @ np.array([[1.0], [-2.0]]) + 0.5)
    assert np.array_equal(make_regression(seed=4)[0], make_regression(seed=4)[0])
    assert not np.array_equal(make_regression(seed=4)[0], make_regression(seed=5)[0])
    X, y = make_moons(n_samples=101, seed=1)
    assert X.shape == (101, 2) and sorted(np.bincount(y)) == [50, 51]
    X, y = make_spirals(n_per_class=20, n_classes=4, seed=1)
    assert X.shape == (80, 2) and np.bincount(y).tolist() == [20] * 4


# --- grading: every failure speaks to the learner ---------------------------------------------
def _message(check, *args, **kwargs):
    with pytest.raises(grading.GradingError) as error:
        check(*args, **kwargs)
    return str(error.value)


def test_check_close_reports_expected_got_worst_element_and_hint():
    message = _message(grading.check_close, [[1.0, 2.0], [3.0, 9.0]], [[1.0, 2.0], [3.0, 4.0]], "dW", hint="look")
    assert "dW: has the wrong values" in message and "expected" in message and "got" in message
    assert "worst element at index (1, 1): expected 4, got 9" in message and "hint: look" in message


def test_a_failure_shows_the_hint_before_the_values():
    message = _message(grading.check_close, np.arange(400.0).reshape(20, 20), np.ones((20, 20)), "dW", hint="look")
    lines = message.splitlines()
    assert lines[0] == "dW: has the wrong values." and lines[1] == "  hint: look"
    assert "..." in message and len(message) < 1200  # a large array is summarised, never printed whole


_A = np.array([[1.0, 2.0, 0.5], [-3.0, 4.0, 1.5], [0.25, -1.0, 2.0]])


@pytest.mark.parametrize("got, says", [
    (np.zeros((3, 3)), "every value is 0"),
    (_A.T, "transposed"),
    (-_A, "opposite sign"),
    (2 * _A, "every value is 2 times the expected one"),
    (_A / 3, "every value is 0.3333 times"),
    (_A + 0.1, "off by the same amount"),
])
def test_a_wrong_answer_related_to_the_right_one_gets_a_hint_naming_the_relation(got, says):
    assert says in _message(grading.check_close, got, _A, "out", hint="generic")


def test_an_answer_without_a_telling_relation_keeps_the_tests_hint():
    got = _A.copy()
    got[0, 0] = 7.0
    assert "hint: generic" in _message(grading.check_close, got, _A, "out", hint="generic")
    # a single wrong number is always "a constant factor" of the right one: only whole ratios are named
    assert "hint: generic" in _message(grading.check_close, 1.7, 1.0, "loss", hint="generic")
    assert "3 times" in _message(grading.check_close, 3.0, 1.0, "loss", hint="generic")


def test_returning_the_input_unchanged_is_named():
    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    got = grading.call(lambda z: z, x, name="relu")
    assert "the input, returned unchanged" in _message(grading.check_close, got, np.maximum(x, 0), "relu(x)")


def test_a_gradient_off_by_a_factor_is_named():
    assert "every value is 2 times" in _message(grading.check_gradient, 2 * _A, _A, "dx")


def test_the_checks_raise_no_numpy_warnings_of_their_own(recwarn):
    assert "complex" in _message(grading.check_close, np.array([1 + 2j, 3j]), [1.0, 0.0], "z")
    assert "not an array of numbers" in _message(grading.check_close, [[1.0, 2.0], [3.0]], [1.0, 2.0], "ragged")
    assert not [w for w in recwarn if "numpy" in str(w.filename) or "Complex" in w.category.__name__]


def test_check_close_names_a_known_mistake():
    message = _message(grading.check_close, 14.0, 3.5, "loss", hint="generic",
                       mistakes=[(14.0, "you summed instead of averaging")])
    assert "you summed instead of averaging" in message and "generic" not in message


def test_check_close_passes_within_tolerance_and_fails_on_shape():
    grading.check_close(np.array([1.0, 2.0 + 1e-9]), [1.0, 2.0], "x")
    message = _message(grading.check_close, np.zeros((3, 1)), np.zeros(3), "db")
    assert "expected shape: (3,)" in message and "got shape:      (3, 1)" in message and "(N,) versus (N, 1)" in message
    assert "transposed" in _message(grading.check_shape, np.zeros((2, 3)), (3, 2), "W")


@pytest.mark.parametrize("bad, words", [
    (None, "returned None"), ("3.5", "returned a str"), ({"a": 1}, "returned a dict"),
    (object(), "not an array of numbers"), ([np.nan, 1.0], "NaN or infinite"),
])
def test_check_close_rejects_non_numbers(bad, words):
    assert words in _message(grading.check_close, bad, [1.0, 1.0] if isinstance(bad, list) else 1.0, "x")


def test_an_object_that_claims_equality_does_not_pass():
    class Liar:
        def __eq__(self, other):
            return True
        __hash__ = None
    assert "not an array of numbers" in _message(grading.check_close, Liar(), 3.5, "x")


def test_check_scalar_and_length():
    assert grading.check_scalar(np.array([[2.5]]), "x") == 2.5
    assert "single number" in _message(grading.check_scalar, np.ones(3), "x")
    grading.check_length([1, 2], 2, "losses")
    assert "has 3 items, expected 2" in _message(grading.check_length, [1, 2, 3], 2, "losses")
    assert "list of 2 items" in _message(grading.check_length, 5, 2, "losses")


def test_check_gradient():
    grading.check_gradient(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), "g")
    message = _message(grading.check_gradient, np.array([1.0, 4.0]), np.array([1.0, 2.0]), "g")
    assert "relative error" in message and "at index (1,)" in message


def test_call_explains_an_unanswered_exercise():
    def todo(x):
        raise NotImplementedError()
    message = _message(grading.call, todo, 1)
    assert "todo: is not implemented yet" in message and "NotImplementedError" in message
    assert grading.call(lambda x: x + 1, 1) == 2


def test_unchanged_catches_in_place_edits():
    x = np.arange(4.0)
    with grading.unchanged("f", x=x):
        y = x + 1
    assert "modified its input `x` in place" in _message(lambda: _edit(x))


def _edit(x):
    with grading.unchanged("f", x=x):
        x[0] = 99


def test_replaced_restores_the_namespace_even_on_failure():
    namespace = {"f": 1}
    with pytest.raises(RuntimeError):
        with grading.replaced(namespace, f=2, g=3):
            assert namespace == {"f": 2, "g": 3}
            raise RuntimeError
    assert namespace == {"f": 1}


def test_checks_ignore_a_replaced_numpy_comparison(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "isfinite", lambda x: np.ones(np.shape(x), dtype=bool))
    assert "wrong values" in _message(grading.check_close, 2.0, 1.0, "x")
    assert "NaN" in _message(grading.check_finite, [np.nan], "x")


def test_grad_of_returns_the_stored_gradient_or_says_what_is_missing():
    class Layer:
        grads = {"W": np.ones(2)}

    assert grad_of(Layer(), "W", "Affine") is Layer.grads["W"]
    with pytest.raises(GradingError, match=r"(?s)Affine.grads: has no entry 'b' after backward.*self.grads\['b'\]"):
        grad_of(Layer(), "b", "Affine")
    with pytest.raises(GradingError, match="has no entry 'W'"):
        grad_of(object(), "W", "ReLU")
