"""Figures the chapters' prose quotes agree with the code that produces them (issue 9, first part).

Each test reads a chapter's text source and recomputes a quoted number from the settings the run uses,
so that changing the run without the text (or the text without the run) fails here."""

import re

from course import REPO


def _source(chapter):
    return (REPO / "solutions" / chapter / f"{chapter}.pct.py").read_text()


def test_05_quotes_the_weight_count_of_its_overfitting_network():
    text = _source("05_regularization")
    overfitting_run = re.search(r"deep_network\(he_normal, ReLU, sizes=\(([\d, ]+)\), drop_rate=drop_rate\)", text)
    sizes = tuple(int(n) for n in overfitting_run.group(1).split(","))
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert weights == 44_700
    assert f"about {round(weights, -3) // 1000} 000 weights" in text


def test_04_quotes_the_step_count_of_its_short_mnist_run():
    text = _source("04_optimizers")
    images = int(re.search(r"n_train=60000 if FULL_RUN else (\d+)", text).group(1))
    epochs = int(re.search(r"mnist_epochs = \d+ if FULL_RUN else (\d+)", text).group(1))
    batch = int(re.search(r"epochs=mnist_epochs, batch_size=(\d+)", text).group(1))
    steps = epochs * -(-images // batch)
    assert f"first {steps} steps ({epochs} epochs of {images} images)" in text


def test_01_states_the_mse_layer_gradient_the_code_computes():
    text = _source("01_linear_regression")
    assert "/ self.y_pred.size" in text            # the layer divides by every entry, N * K
    assert r"\frac{2}{NK}(\hat y - y)" in text
