"""Figures the chapters' prose quotes agree with the code and the runs that produce them.

Settings the prose restates (step counts, weight counts) are recomputed from the code here; figures a
run prints are listed in tests/quoted_figures.py and checked against the graded run in
tests/test_pipeline.py and against the recorded full runs (benchmarks/full_runs/) here. So changing a
run without its text, or the text without the run, fails."""

import re

import pytest

from course import REPO
from dlfs.build import chapters
from quoted_figures import check, entries, read_record, runs_of, unaccounted_figures
from benchmarks.full_runs import fingerprint, has_full_run

CHAPTERS = chapters(REPO)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_run_figure_in_the_prose_is_accounted_for(chapter):
    unaccounted = unaccounted_figures(chapter)
    assert not unaccounted, (
        f"{chapter}: figures in the prose that tests/quoted_figures.py does not tie to a run (add a Quote or a "
        "Claim that checks them, or an Exempt with the reason they are not about a run):\n  "
        + "\n  ".join(unaccounted))


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if has_full_run(c)])
def test_full_run_records_are_of_the_current_code(chapter):
    record = read_record(chapter)
    assert record, f"no record of {chapter}'s full run: run `python benchmarks/full_runs.py {chapter}`"
    header, _ = record
    assert header["fingerprint"] == fingerprint(chapter), (
        f"{chapter}'s code changed since its full run was recorded ({header['recorded']}): run "
        f"`python benchmarks/full_runs.py {chapter}` and check the prose against the new figures")


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if any(runs_of(e) == {"full"} for e in entries(c))])
def test_the_prose_states_what_the_full_run_printed(chapter):
    _, printed = read_record(chapter)
    for entry in entries(chapter):
        if runs_of(entry) == {"full"}:
            check(entry, {"full": printed})


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
    images = int(re.search(r"n_train=50000 if FULL_RUN else (\d+)", text).group(1))
    epochs = int(re.search(r"mnist_epochs = \d+ if FULL_RUN else (\d+)", text).group(1))
    batch = int(re.search(r"epochs=mnist_epochs, batch_size=(\d+)", text).group(1))
    steps = epochs * -(-images // batch)
    assert f"first {steps} steps ({epochs} epochs of {images} images)" in text


def test_01_states_the_mse_layer_gradient_the_code_computes():
    text = _source("01_linear_regression")
    assert "/ self.y_pred.size" in text            # the layer divides by every entry, N * K
    assert r"\frac{2}{NM}(\hat y - y)" in text


def test_full_run_fingerprint_follows_the_code_not_its_comments(tmp_path):
    def fingerprint_of(code):
        folder = tmp_path / "solutions" / "99_demo"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "99_demo.pct.py").write_text("# %% [markdown]\n# Text.\n\n# %%\n" + code + "\n\n"
                                               '# %% tests="test_demo" points=1\nassert True\n')
        return fingerprint("99_demo", tmp_path)

    base = fingerprint_of('def f(x):\n    """Doubles."""\n    return 2 * x\nFULL_RUN = False')
    assert fingerprint_of('def f(x):\n    """Twice x."""\n    return 2 * x  # doubled\nFULL_RUN = False') == base
    assert fingerprint_of('def f(x):\n    """Doubles."""\n    return 3 * x\nFULL_RUN = False') != base
