"""No document points at a file the repository does not have: every relative link and every backticked
repository path in the READMEs and in the chapters' text (markdown cells of solutions/*/*.pct.py) exists,
or is one of the paths the course's commands create (listed below, each with what makes it)."""

import os
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

from course import REPO

DOCS = sorted({REPO / "README.md", REPO / "CLASSROOM.md", *(p for p in REPO.glob("*/README.md") if not p.parent.name.startswith("."))})
SOURCES = sorted(REPO.glob("solutions/*/*.pct.py"))

# Made by the course's commands, so absent from a clone: (pattern, what makes it).
GENERATED = [
    ("workspace", "python3 -m dlfs start (the learner's copies of notebooks/)"),
    ("workspace/*", "python3 -m dlfs start"),
    ("tests/browser-screenshots", "tests/test_browser.py (screenshots for a person to look at)"),
    ("*.new-release.ipynb", "python3 -m dlfs start, beside a learner's notebook when the release changed"),
    (".venv", "python3 -m dlfs install"),
    (".venv/*", "python3 -m dlfs install"),
    ("solutions/*/*.ipynb", "python3 -m dlfs release (nbgrader's source notebooks, built from the .pct.py)"),
    ("solutions/*/provided", "python3 -m dlfs release (building blocks of earlier chapters)"),
    ("solutions/*/provided/*", "python3 -m dlfs release"),
    ("provided/*", "the build, in a chapter's folder (notebooks/NN_topic/provided/ once the chapter uses it)"),
    ("autograder/gradebook.db", "python3 -m dlfs release / grade (nbgrader's gradebook)"),
    ("autograder/grades.csv", "nbgrader export"),
    ("autograder/mathjax", "nbgrader generate_feedback (dlfs/feedback.py)"),
    ("autograder/class.json", "python3 -m dlfs class-env (the class's course id and exchange, dlfs/classenv.py)"),
    ("autograder/runtime", "python3 -m dlfs runtime (the learner runtime, dlfs/runtime.py)"),
    ("autograder/runtime/*", "python3 -m dlfs runtime"),
    *((f"autograder/{name}", "python3 -m dlfs grade / nbgrader") for name in
      ("submitted", "autograded", "feedback", "solution", "reports", "verdicts", "reference")),
    *((f"autograder/{name}/*", "python3 -m dlfs grade / nbgrader") for name in
      ("submitted", "autograded", "feedback", "solution", "reports", "verdicts", "reference")),
]
# Files of other projects that the text names as theirs.
ELSEWHERE = {"ch07/train_convnet.py": "the original book's repository (chapter 06's text quotes its run)",
             "jupyterhub_config.py": "a JupyterHub's own configuration (CLASSROOM.md, On JupyterHub)"}
# Placeholders the text uses in paths, and what they stand for.
PLACEHOLDERS = [(re.compile(r"NN_topic"), "[0-9][0-9]_*"), (re.compile(r"\bNN\b|(?<=ch)NN"), "[0-9][0-9]"),
                (re.compile(r"<[^>/]+>"), "*"), (re.compile(r"\bCHAPTER\b"), "*"), (re.compile(r"^k$"), "*"),
                (re.compile(r"^\.\.\.$"), "*")]

LINK = re.compile(r"\]\(([^)\s]+)\)")
TICKED = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"^[A-Za-z0-9_.<>*/-]+$")
FILE = re.compile(r"\.(py|md|txt|yml|toml|ipynb|json|csv|db|gz)$")


def _markdown_of(source):
    """The markdown cells' text of a percent-format source, without the comment marks."""
    lines, markdown = [], False
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            markdown = "[markdown]" in line
        elif markdown:
            lines.append(re.sub(r"^# ?", "", line))
    return "\n".join(lines)


def references(text):
    """Relative links and backticked things that look like repository paths."""
    found = [link for link in LINK.findall(text) if not re.match(r"[a-z]+:|#", link)]
    for ticked in TICKED.findall(text):
        # in a command or a printed line, only the words that are plainly files or folders
        words = [ticked] if PATH.match(ticked) else [w for w in re.split(r"[\s=]+", ticked)
                                                     if "/" in w and (FILE.search(w) or w.endswith(("/", "...")))]
        found += [word for word in words if PATH.match(word) and not word.startswith(("/", "self.", "-"))
                  and not re.match(r"\.+/?$", word) and ("/" in word or FILE.search(word))]
    return found


def _pattern(reference):
    parts = []
    for part in reference.split("#")[0].rstrip("/").split("/"):
        for placeholder, glob in PLACEHOLDERS:
            part = placeholder.sub(glob, part)
        parts.append(part)
    return "/".join(parts)


def missing(reference, bases):
    """None if ``reference`` exists (or is generated) relative to one of ``bases``, else what was looked for."""
    if reference in ELSEWHERE:
        return None
    pattern = _pattern(reference)
    if "/" not in pattern and any(p for p in REPO.rglob(pattern) if ".git" not in p.parts):
        return None                               # a bare file name names a file somewhere in the course
    for base in bases:
        relative = Path(os.path.relpath(base / pattern, REPO)).as_posix()
        if any(base.glob(pattern)) or any(fnmatch(relative, glob) for glob, _ in GENERATED):
            return None
    return f"{reference!r} (looked for {pattern} in {', '.join(str(b.relative_to(REPO)) or '.' for b in bases)})"


def _bases(document):
    # the document's folder, the course root, and the chapters' folders (workspace/ is a copy of notebooks/)
    return [document.parent, REPO, REPO / "notebooks"]


@pytest.mark.parametrize("document", DOCS + SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_path_a_document_names_exists(document):
    text = _markdown_of(document) if document.name.endswith(".pct.py") else document.read_text(encoding="utf-8")
    bases = _bases(document) + ([REPO / "notebooks" / document.parent.name] if document.name.endswith(".pct.py") else [])
    broken = [problem for problem in (missing(r, bases) for r in references(text)) if problem]
    assert not broken, f"{document.relative_to(REPO)} names files the repository does not have:\n  " + "\n  ".join(broken)


def test_the_checker_sees_a_broken_reference(tmp_path):
    """The check itself: a made-up link and a made-up backticked path are reported; real ones are not."""
    text = ("See [the guide](docs/GUIDE.md), `dlfs/nowhere.py`, `nowhere.py`, `dlfs/data.py`, `data.py`, "
            "`solutions/NN_topic/NN_topic.pct.py`, `autograder/reports/NN_topic.csv` and [the web](https://x.org); "
            "run `python benchmarks/nowhere.py --to=autograder/grades.csv` or `python benchmarks/full_runs.py CHAPTER`.")
    assert references(text) == ["docs/GUIDE.md", "dlfs/nowhere.py", "nowhere.py", "dlfs/data.py", "data.py",
                                "solutions/NN_topic/NN_topic.pct.py", "autograder/reports/NN_topic.csv",
                                "benchmarks/nowhere.py", "autograder/grades.csv", "benchmarks/full_runs.py"]
    reported = [r for r in references(text) if missing(r, [REPO])]
    assert reported == ["docs/GUIDE.md", "dlfs/nowhere.py", "nowhere.py", "benchmarks/nowhere.py"]
