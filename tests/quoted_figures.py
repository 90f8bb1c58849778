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


GRID = (("0", "0.003", "0.01", "0.03", "0.1"), ("0", "0.1", "0.2", "0.3", "0.5"))   # chapter 05's full grid


def _grid_line(lam, p, column):
    """Pattern for one column of chapter 05's line for (λ, p), e.g. "val acc"."""
    return rf"^λ = {re.escape(lam)}\s+p = {re.escape(p)}\s+.*?{column} {NUMBER}"


def _grid(*columns):
    """{(λ, p, column): (run, pattern)} over chapter 05's full grid."""
    return {(lam, p, column): ("full", _grid_line(lam, p, column))
            for lam in GRID[0] for p in GRID[1] for column in columns}


def _regularization_helps(values):
    """Every mild setting (λ ≤ 0.03, p ≤ 0.3) beats none on validation loss, and on accuracy by two
    points or more except the two mildest, which stay within half a point."""
    mild = [(lam, p) for lam in GRID[0][:4] for p in GRID[1][:4] if (lam, p) != ("0", "0")]
    none_acc, none_loss = values[("0", "0", "val acc")], values[("0", "0", "val loss")]
    mildest = {("0.003", "0"), ("0.01", "0")}
    return (all(values[(lam, p, "val loss")] < none_loss for lam, p in mild)
            and all(values[(lam, p, "val acc")] >= none_acc + 0.02 for lam, p in mild if (lam, p) not in mildest)
            and all(abs(values[(lam, p, "val acc")] - none_acc) <= 0.005 for lam, p in mildest))


def _spread(values, run):
    """max - min of the seven rules' accuracies in one run."""
    mine = [value for name, value in values.items() if name.startswith(run + " ")]
    return max(mine) - min(mine)


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

    # 05 — initialization and regularization
    Claim("05_regularization", r"layer 1's gradient is 180 to 600 times smaller than layer 6's",
          {init: ("graded", rf"^sigmoid {init}\s+‖dL/dW‖ of layers 1-6:.*layer 6 / layer 1:\s+(\S+)$")
           for init in ("Xavier", "He")},
          lambda v: all(170 <= ratio <= 650 for ratio in v.values())),
    Claim("05_regularization", r"with \$\\sigma = 0\.01\$ it all but disappears \(about \$10\^\{-8\}\$ at layer 1\)",
          {"layer 1": ("graded", r"^sigmoid σ = 0\.01\s+‖dL/dW‖ of layers 1-6:\s+(\S+)")},
          lambda v: 3e-9 <= v["layer 1"] <= 3e-8),
    Claim("05_regularization", r"He keeps the norms level from layer to layer \(between about 0\.4 and 1\)",
          {f"layer {k}": ("graded", r"^ReLU\s+He\s+‖dL/dW‖ of layers 1-6:" + r"\s+\S+" * (k - 1) + r"\s+(\S+)")
           for k in range(1, 7)},
          lambda v: 0.35 <= min(v.values()) and max(v.values()) <= 1.2),
    Claim("05_regularization", r"\$\\sigma = 0\.01\$ gives norms of about \$10\^\{-6\}\$, some \$10\^5\$ to \$10\^6\$ times "
                               r"smaller, and \$\\sigma = 1\$ norms of several \$10\^4\$",
          {f"{init} {k}": ("graded", rf"^ReLU\s+{init}\s+‖dL/dW‖ of layers 1-6:" + r"\s+\S+" * (k - 1) + r"\s+(\S+)")
           for init in ("σ = 0.01", "He", "σ = 1") for k in range(1, 7)},
          lambda v: all(3e-7 <= v[f"σ = 0.01 {k}"] <= 3e-6 and 1e5 <= v[f"He {k}"] / v[f"σ = 0.01 {k}"] <= 1e6
                        and 1e4 <= v[f"σ = 1 {k}"] < 1e5 for k in range(1, 7))),
    Claim("05_regularization", r"trained on 300 images can memorise them: its training accuracy reaches 100 %",
          {"right labels": ("graded", rf"^right labels: λ = 0\s+p = 0\s+train acc {NUMBER}")},
          lambda v: v["right labels"] == 1.0),
    Exempt("05_regularization", r"60 of the 300 training images \(20 %\)", "the experiment's setting"),
    *[Quote("05_regularization", text, printed)
      for text, printed in (
          (r"almost perfectly \(train accuracy ([0-9.]+)\)", rf"^λ = 0\s+p = 0\s+train acc {NUMBER}"),
          (r"it has learned ([0-9]+) of the 60 wrong labels", r"^λ = 0\s+p = 0\s+.*wrong labels learned ([0-9]+)/60"),
          (r"is best early \(([0-9.]+) at epoch", rf"^λ = 0\s+p = 0\s+.*best {NUMBER}"),
          (r"is best early \([0-9.]+ at epoch ([0-9]+)\)", r"^λ = 0\s+p = 0\s+.*best [0-9.]+ \(epoch\s+([0-9]+)\)"),
          (r"then falls to ([0-9.]+),", rf"^λ = 0\s+p = 0\s+.*val acc {NUMBER}"),
          (r"lowest at epoch ([0-9]+) \(", r"^λ = 0\s+p = 0\s+.*lowest [0-9.]+ \(epoch\s+([0-9]+)\)"),
          (r"lowest at epoch [0-9]+ \(([0-9.]+)\)", rf"^λ = 0\s+p = 0\s+.*lowest {NUMBER}"),
          (r"climbs to ([0-9.]+):", rf"^λ = 0\s+p = 0\s+.*val loss {NUMBER}"),
          (r"\(([0-9.]+) with \$\\lambda = 0\.03\$, [0-9.]+ with \$p = 0\.3\$\)", rf"^λ = 0\.03\s+p = 0\s+train acc {NUMBER}"),
          (r"\([0-9.]+ with \$\\lambda = 0\.03\$, ([0-9.]+) with \$p = 0\.3\$\)", rf"^λ = 0\s+p = 0\.3\s+train acc {NUMBER}"),
          (r"fewer of the wrong labels \(([0-9]+) and", r"^λ = 0\.03\s+p = 0\s+.*wrong labels learned ([0-9]+)/60"),
          (r"fewer of the wrong labels \([0-9]+ and ([0-9]+) of 60\)", r"^λ = 0\s+p = 0\.3\s+.*wrong labels learned ([0-9]+)/60"),
          (r"higher validation accuracy \(([0-9.]+) and", rf"^λ = 0\.03\s+p = 0\s+.*val acc {NUMBER}"),
          (r"higher validation accuracy \([0-9.]+ and ([0-9.]+)\)", rf"^λ = 0\s+p = 0\.3\s+.*val acc {NUMBER}"),
          (r"much lower validation loss \(([0-9.]+) and", rf"^λ = 0\.03\s+p = 0\s+.*val loss {NUMBER}"),
          (r"much lower validation loss \([0-9.]+ and ([0-9.]+)\)", rf"^λ = 0\s+p = 0\.3\s+.*val loss {NUMBER}"),
          (r"learn only ([0-9]+) of the wrong labels", r"^λ = 0\.03\s+p = 0\.3\s+.*wrong labels learned ([0-9]+)/60"),
          (r"of the wrong labels and end at ([0-9.]+)\.", rf"^λ = 0\.03\s+p = 0\.3\s+.*val acc {NUMBER}"),
          (r"at its best on the validation images around epoch ([0-9]+)", r"^λ = 0\s+p = 0\s+.*best [0-9.]+ \(epoch\s+([0-9]+)\)"),
          (r"would have kept ([0-9.]+),", rf"^λ = 0\s+p = 0\s+.*best {NUMBER}"),
          (r"fits its 300 images \(train accuracy ([0-9.]+)\)", rf"^right labels: λ = 0\s+p = 0\s+train acc {NUMBER}"),
          (r"it ends at a validation accuracy of ([0-9.]+),", rf"^right labels: λ = 0\s+p = 0\s+.*val acc {NUMBER}"),
          (r"ends \*lower\*, at ([0-9.]+),", rf"^right labels: λ = 0\.03\s+p = 0\.3\s+.*val acc {NUMBER}"),
          (r"its validation loss is lower \(([0-9.]+) against", rf"^right labels: λ = 0\.03\s+p = 0\.3\s+.*val loss {NUMBER}"),
          (r"its validation loss is lower \([0-9.]+ against ([0-9.]+)\)", rf"^right labels: λ = 0\s+p = 0\s+.*val loss {NUMBER}"),
          (r"chosen run's validation accuracy \(([0-9.]+) and", rf"test images: {NUMBER}"),
          (r"chosen run's validation accuracy \([0-9.]+ and ([0-9.]+)\)", rf"chosen on validation: .*\(validation accuracy {NUMBER}\)"),
          (r"accuracy is ([0-9.]+) after 5 epochs and after 20", rf"σ = 0\.01, without BatchNorm\s+training accuracy after 5 epochs {NUMBER}"),
          (r"after 5 epochs and after 20, and the loss after 20 epochs is ([0-9.]+)", rf"σ = 0\.01, without BatchNorm.*loss after 20 {NUMBER}"),
          (r"the same initial weights train: ([0-9.]+) after 5 epochs", rf"σ = 0\.01, with BatchNorm\s+training accuracy after 5 epochs {NUMBER}"),
          (r"the same initial weights train: [0-9.]+ after 5 epochs, ([0-9.]+) after 20", rf"σ = 0\.01, with BatchNorm.*after 20 {NUMBER};"),
          (r"still faster: ([0-9.]+) against", rf"He, with BatchNorm\s+training accuracy after 5 epochs {NUMBER}"),
          (r"still faster: [0-9.]+ against ([0-9.]+) after 5 epochs", rf"He, without BatchNorm\s+training accuracy after 5 epochs {NUMBER}"),
          (r"after 5 epochs, ([0-9.]+) against [0-9.]+ after 20", rf"He, with BatchNorm.*after 20 {NUMBER};"),
          (r"after 5 epochs, [0-9.]+ against ([0-9.]+) after 20", rf"He, without BatchNorm.*after 20 {NUMBER};"),
      )],
    Exempt("05_regularization", r"\\frac\{1\}\{2s\}", "a formula (s is the standard deviation)"),

    Claim("05_regularization", r"every setting with \$\\lambda \\le 0\.03\$ and \$p \\le 0\.3\$ ends with a lower "
                               r"validation loss than no regularization, and all of them but the two mildest .* "
                               r"with a validation accuracy at least two points higher",
          _grid("val acc", "val loss"), lambda v: _regularization_helps(v)),
    *[Quote("05_regularization", rf"no dropout with \$\\lambda = 0\.003\$ or \$0\.01\$: {before}([0-9.]+)", _grid_line(lam, "0", "val acc"),
            run="full")
      for lam, before in (("0.003", ""), ("0.01", r"[0-9.]+ and "), ("0", r"[0-9.]+ and [0-9.]+, against "))],
    Claim("05_regularization", r"with \$p = 0\.5\$ or \$\\lambda = 0\.1\$ the training accuracy stays at 0\.8 or below, "
                               r"and \$\\lambda = 0\.1\$ with \$p \\ge 0\.3\$ hardly learns at all",
          _grid("train acc"),
          lambda v: all(acc <= 0.8 for (lam, p, _), acc in v.items() if p == "0.5" or lam == "0.1")
          and all(acc < 0.35 for (lam, p, _), acc in v.items() if lam == "0.1" and p in ("0.3", "0.5"))),
    Quote("05_regularization", r"The highest final validation accuracy of the grid, ([0-9.]+), is",
          rf"^λ = 0\s+p = 0\.3\s+.*val acc {NUMBER}", run="full"),
    Claim("05_regularization", r"is the default path's dropout run \(\$\\lambda = 0\$, \$p = 0\.3\$\)",
          _grid("val acc"), lambda v: max(v, key=v.get)[:2] == ("0", "0.3")),

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
    Exempt("06_cnn", r"--optimizer Adam --lr 0\.001 --batch-size 100", "a command line's settings"),
    Exempt("06_cnn", r"and reports about 99 % test accuracy", "the published figure of another source"),
    Exempt("06_cnn", r"about 18 times as much", "arithmetic on shapes, in the written question's model answer"),
    # 07 — the capstone
    Quote("07_cifar10", r"keep ([0-9.]+) % validation accuracy without it",
          rf"^all but: the softmax overflows.*?validation accuracy {NUMBER}", scale=100),
    *[Quote("07_cifar10", rf"{prose} ([0-9.]+) %", rf"^all but: {printed}.*?validation accuracy {NUMBER}", scale=100)
      for prose, printed in (("without He's initialization the accuracy falls to", "weights of std 1"),
                             ("without mini-batches to", "one image per step"),
                             ("without normalization to", "raw 0-255 pixels"),
                             ("without the smaller learning rate to", "steps too large"))],
    Quote("07_cifar10", r"one step kills the first layer — ([0-9]+) % of its ReLU outputs",
          r"^stable softmax only .*?positive first-layer outputs\s+([0-9]+)%"),
    Quote("07_cifar10", r"\*\*about ([0-9]+) % test accuracy on Fashion-MNIST\*\*",
          rf"Fashion-MNIST test accuracy, looked at once: {NUMBER}", run="full", scale=100, about=True),
    Quote("07_cifar10", r"in about ([0-9.]+) minutes of training", rf"looked at once: [0-9.]+, after {NUMBER} minutes",
          run="full", about=True),
    Exempt("07_cifar10", r"at least 55 % validation accuracy", "the graded threshold, a setting of the test"),
    Exempt("07_cifar10", r"reported to reach 60–70 % on CIFAR-10", "the figure the assignment's thread reported"),
    Exempt("07_cifar10", r"the grader gives each cell 60 seconds", "nbgrader's per-cell time limit, a setting"),
    Exempt("07_cifar10", r"its steps are about ten times the learning rate",
           "Momentum's arithmetic: a constant gradient's steps grow to lr / (1 - 0.9)"),
]

# The 03 quote of 02's figure is checked against 02's run: the printed pattern applies to this chapter.
PRINTED_BY = {("03_mlp", r"reached a test accuracy of ([0-9.]+) %"): "02_softmax"}



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

