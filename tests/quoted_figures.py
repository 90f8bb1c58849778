"""Every figure the chapters' prose states about a run, and the printed output it must agree with.

The prose of a chapter is its markdown cells, whitespace collapsed to single spaces (so a pattern does
not care where a line breaks). A run's output is everything its code cells print:

- "graded": the solution notebook as nbgrader's autograde runs it (tests/test_pipeline.py);
- "full": the chapter's opt-in FULL_RUN, recorded by ``python benchmarks/full_runs.py CHAPTER`` in
  benchmarks/full_runs/CHAPTER.txt (tests/test_text_figures.py checks the record is of today's code).

Three kinds of entries:

- ``Quote``: one number in the prose that a run prints. The prose pattern's group is the quoted
  number, the printed pattern's group the printed one; ``scale`` brings the printed number into the
  prose's unit (100 for a fraction quoted in %). The quote must be the printed number rounded to the
  quote's digits, or within one unit of its last digit when the prose says "about".
- ``Claim``: a statement in the prose (a comparison, a threshold) and a predicate over printed numbers
  that must hold for it to be true.
- ``Exempt``: a figure in the prose that is not about a run of this chapter (a setting, arithmetic on
  shapes, a published figure of another source), with the reason.

tests/test_text_figures.py fails when a percentage, a 0.xxx figure, a timing or an "N times" in the
prose is covered by none of these entries, or when an entry no longer matches the prose.
"""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from course import REPO

sys.path.insert(0, str(REPO))
from benchmarks.full_runs import read_record  # noqa: E402,F401  (the recorded full runs, for the tests)

# A number as a run prints it: 0.9487, 90.75 (then "%"), 1e-09.
NUMBER = r"([0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)"


@dataclass(frozen=True)
class Quote:
    chapter: str
    text: str
    printed: str
    run: str = "graded"
    scale: float = 1.0
    about: bool = False


@dataclass(frozen=True)
class Claim:
    chapter: str
    text: str
    printed: dict              # name -> (run, pattern with one group)
    holds: Callable = field(compare=False)
    why: str = ""


@dataclass(frozen=True)
class Exempt:
    chapter: str
    text: str
    reason: str


ENTRIES = [
    # 02 — softmax regression
    Claim("02_softmax", r"the accuracy to pass 85 % within the first epoch",
          {"step": ("graded", r"first passes 85 % at step ([0-9]+)"),
           "epoch": ("graded", r"one epoch is ([0-9]+) steps")},
          lambda v: v["step"] <= v["epoch"]),
    Claim("02_softmax", r"\$0\.5\$ wins on validation",
          {f"lr {lr}": ("graded", rf"learning rate {lr} *: validation accuracy {NUMBER}%") for lr in ("0.05", "0.5", "5.0")},
          lambda v: v["lr 0.5"] > max(v["lr 0.05"], v["lr 5.0"])),
    Claim("02_softmax", r"With `FULL_RUN` the same choice wins and the figures rise by one to two points",
          {"chosen": ("full", r"chosen: learning rate ([0-9.]+)\."),
           "full": ("full", rf"looked at once: {NUMBER}%"), "short": ("graded", rf"looked at once: {NUMBER}%")},
          lambda v: v["chosen"] == 0.5 and 1.0 <= v["full"] - v["short"] <= 2.0),
    Quote("02_softmax", r"reaches about ([0-9]+) % on MNIST from 10 000 training images",
          rf"looked at once: {NUMBER}%", about=True),

    # 03 — the MLP against 02 on the same images and settings
    Quote("03_mlp", r"reached a test accuracy of ([0-9.]+) %", rf"looked at once: {NUMBER}%"),  # 02's run, below
    Quote("03_mlp", r"take it to about ([0-9]+) %", rf"test accuracy, looked at once: {NUMBER}", scale=100,
          about=True),
    Claim("03_mlp", r"With `FULL_RUN` the MLP passes 97 %",
          {"test": ("full", rf"test accuracy, looked at once: {NUMBER}")}, lambda v: v["test"] > 0.97),
    Claim("03_mlp", r"The linear stack ends where softmax regression ends",
          {"linear": ("graded", rf"softmax regression 2-2: training accuracy {NUMBER}"),
           "stack": ("graded", rf"no activation: training accuracy {NUMBER}"),
           "mlp": ("graded", rf"with ReLU: training accuracy {NUMBER}")},
          lambda v: abs(v["linear"] - v["stack"]) <= 0.02 and v["mlp"] == 1.0),
    Exempt("03_mlp", r"the grader gives each cell 60 seconds", "nbgrader's per-cell time limit, a setting"),

    # 04 — optimizers
    Claim("04_optimizers", r"so they finish these 80 steps behind SGD",
          {name: ("graded", rf"^\s+{name}\s+{NUMBER}$") for name in ("SGD", "Momentum", "Nesterov")},
          lambda v: max(v["Momentum"], v["Nesterov"]) < v["SGD"]),
    Claim("04_optimizers", r"The adaptive rules \(AdaGrad, RMSProp, AdaDelta, Adam\) bring the loss down fastest",
          {name: ("graded", rf"^\s+{name}\s+{NUMBER}$")
           for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam")},
          lambda v: min(v["AdaGrad"], v["RMSProp"], v["AdaDelta"], v["Adam"]) > max(v["SGD"], v["Momentum"], v["Nesterov"]),
          why="measured by the accuracy after the short run"),
    Claim("04_optimizers", r"SGD has hardly bent its boundary, Momentum .* gets much further, and Adam wraps",
          {name: ("graded", rf"{name} accuracy {NUMBER}") for name in ("SGD", "Momentum", "Adam")},
          lambda v: v["SGD"] < v["Momentum"] < v["Adam"]),
    Claim("04_optimizers", r"Given that many epochs, Momentum catches up with Adam here, while SGD still lags behind",
          {name: ("full", rf"{name} accuracy {NUMBER}") for name in ("SGD", "Momentum", "Adam")},
          lambda v: v["Adam"] - v["Momentum"] <= 0.02 and v["SGD"] < v["Momentum"] - 0.02),
    Claim("04_optimizers", r"the differences shrink to about one point of validation accuracy, with these untuned "
                           r"learning rates still leaving Momentum and Nesterov just behind SGD",
          {name: ("full", rf"^\s+{name}\s+{NUMBER}$")
           for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam")},
          lambda v: max(v.values()) - min(v.values()) <= 0.02 and max(v["Momentum"], v["Nesterov"]) < v["SGD"]),
    Claim("04_optimizers", r"With longer training \(`FULL_RUN = True`, 5 epochs on 50 000 images\) the differences shrink",
          {f"{run} {name}": (run, rf"^\s+{name}\s+{NUMBER}$") for run in ("graded", "full")
           for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam")},
          lambda v: _spread(v, "full") < _spread(v, "graded")),
    Exempt("04_optimizers", r"published about 79\.7 % accuracy for mini-batch GD and for Momentum, and 94 % for Adam",
           "the published figures of another course's assignment"),
    Exempt("04_optimizers", r"\$\\beta_2 = 0\.999\$", "a setting (Adam's default decay)"),
    Exempt("04_optimizers", r"\$v = 0\.001\\, g\^2\$", "arithmetic on Adam's first step"),
    Exempt("04_optimizers", r"\\sqrt\{0\.001\}", "arithmetic on Adam's first step"),
    Exempt("04_optimizers", r"learning rates 0\.002 and 0\.05", "settings suggested for the playground"),
    Exempt("04_optimizers", r"\$\\eta = 0\.0007\$", "a setting of the full run"),

    # 06 — convolutional networks
    Quote("06_cnn", r"held out from the training set as in chapter 02 — about ([0-9]+) % after these 50 steps",
          rf"accuracy on 1000 validation images: {NUMBER}", scale=100, about=True),
    *[Quote("06_cnn", rf"validation accuracy of .*?([0-9.]+) % after {ordinal}\b",
            rf"epoch {epoch}: validation accuracy {NUMBER}", run="full", scale=100)
      for epoch, ordinal in ((1, "one epoch"), (2, "two"), (3, "three"))],
    Quote("06_cnn", r"\*\*([0-9.]+) % on the test set\*\*", rf"test accuracy, looked at once: {NUMBER}", run="full",
          scale=100),
    Quote("06_cnn", r"in about ([0-9.]+) minutes of training and validation",
          r"epoch 3: validation accuracy [0-9.]+ \(([0-9]+) s of training", run="full", scale=1 / 60, about=True),
    Exempt("06_cnn", r"the grader gives each cell 60 seconds", "nbgrader's per-cell time limit, a setting"),
    Exempt("06_cnn", r"and reports about 99 % test accuracy", "the published figure of another source"),
    Exempt("06_cnn", r"about 18 times as much", "arithmetic on shapes, in the written question's model answer"),
]

# The 03 quote of 02's figure is checked against 02's run: the printed pattern applies to this chapter.
PRINTED_BY = {("03_mlp", r"reached a test accuracy of ([0-9.]+) %"): "02_softmax"}


def _spread(values, run):
    """max - min of the seven rules' accuracies in one run."""
    mine = [value for name, value in values.items() if name.startswith(run + " ")]
    return max(mine) - min(mine)


def prose(chapter, root):
    """The chapter's markdown cells, whitespace collapsed to single spaces."""
    from dlfs.build import SOURCE_SUFFIX, read_source

    cells = read_source(Path(root) / "solutions" / chapter / f"{chapter}{SOURCE_SUFFIX}").cells
    return re.sub(r"\s+", " ", "\n\n".join(cell.source for cell in cells if cell.cell_type == "markdown"))


def entries(chapter):
    return [entry for entry in ENTRIES if entry.chapter == chapter]


def runs_of(entry):
    """The runs ("graded", "full") whose output the entry is checked against."""
    if isinstance(entry, Quote):
        return {entry.run}
    if isinstance(entry, Claim):
        return {run for run, _ in entry.printed.values()}
    return set()


def printed_number(pattern, output, what):
    found = re.search(pattern, output, flags=re.MULTILINE)
    assert found, f"{what}: the run printed nothing matching {pattern!r}; its output ends with:\n{output[-1500:]}"
    return float(found.group(1))


def check(entry, outputs):
    """Assert that the entry's prose agrees with the outputs ({run: printed text})."""
    text = prose(entry.chapter, REPO)
    found = re.search(entry.text, text)
    assert found, f"{entry.chapter}: the prose no longer says {entry.text!r} (update tests/quoted_figures.py)"
    if isinstance(entry, Quote):
        quoted = found.group(1)
        value = printed_number(entry.printed, outputs[entry.run], f"{entry.chapter}: {entry.text!r}") * entry.scale
        decimals = len(quoted.partition(".")[2])
        allowed = 10.0 ** -decimals * (1.0 if entry.about else 0.5) + 1e-9
        assert abs(float(quoted) - value) <= allowed, (
            f"{entry.chapter}: the prose says {found.group(0)!r}, the {entry.run} run printed {value:g}")
    elif isinstance(entry, Claim):
        values = {name: printed_number(pattern, outputs[run], f"{entry.chapter}: {name}")
                  for name, (run, pattern) in entry.printed.items()}
        assert entry.holds(values), f"{entry.chapter}: the prose claims {found.group(0)!r}, but the runs printed {values}"


# What counts as a figure about a run: a percentage, a decimal of three or more places, a timing,
# "N times faster/slower/as much".
FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s?%|\b0\.\d{3,}\b|\b\d+(?:\.\d+)?\s?(?:ms|s|seconds?|minutes?|hours?)\b"
                    r"|\b\d+\s?times (?:faster|slower|as)\b")


def unaccounted_figures(chapter):
    """The figures in the chapter's prose that no entry covers, with some context."""
    text = prose(chapter, REPO)
    covered = [found.span() for entry in entries(chapter) for found in re.finditer(entry.text, text)]
    return [text[max(0, m.start() - 60):m.end() + 20] for m in FIGURE.finditer(text)
            if not any(start <= m.start() and m.end() <= end for start, end in covered)]
