"""The threat model, tested: hostile and broken chapter-01 submissions graded by the real command
(`python -m dlfs.judge.grade`, each in its bubblewrap sandbox), each with its exact score and status.

Learner code can replace any function or module, inspect frames, globals and the input history, return
objects that lie about themselves, read and write whatever its kernel can, start processes and threads,
exit or kill its kernel, print anything and shadow imports (README, "What the sandbox protects").
A catalog entry says what the learner did and what the grade must be; the module also checks that no
file outside the submissions changed, that no process outlived grading and that no hidden test line
reached any learner's feedback.

Chapter 01's exercises and points: mse_loss 2, mse_gradients 3, gradient_descent 3, closed_form 2,
mul_layer 2, add_layer 2, mse_layer 2 (16 in all). A wrong answer loses its own test; a kernel that
dies keeps only the tests before the cell that ended it.
"""

import hashlib
import html
import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass, field

import nbformat
import pytest

from course import REPO, SUM_INSTEAD_OF_MEAN, solved, with_answer
from dlfs.build import nbgrader_env
from dlfs.judge import sandbox

pytestmark = pytest.mark.skipif(not sandbox.available() and not os.environ.get("CI"),
                                reason="bubblewrap is not installed (apt install bubblewrap); CI installs it")

CHAPTER = "01_linear_regression"
FULL = 16
WRONG_GRADIENTS = "def mse_gradients(X, y, W, b):\n    return np.zeros_like(W), np.zeros(1)\n"
WRONG_CLOSED_FORM = "def closed_form(X, y):\n    return np.zeros((X.shape[1], 1)), np.zeros(1)\n"
MARKER = "/tmp/dlfs-hostile-was-here"     # a host path the learner's code tries to write


@dataclass
class Case:
    """A submission: answer cells replaced (code prepended to the solution's answer where ``prepend``),
    files placed next to the notebook, or a custom edit of the notebook; its expected outcome."""
    name: str
    score: float
    status: str = "ok"
    answers: dict = field(default_factory=dict)
    prepend: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    edit: object = None                 # notebook -> notebook, or None
    filename: str | None = None         # the notebook's file name, if not the chapter's
    note: str = ""                      # a phrase the report's notes must contain


def _without(grade_ids):
    def edit(notebook):
        notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
        return notebook
    return edit


def _edited_test(notebook):
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_mse_loss":
            cell.source = "pass  # no test here"
    return notebook


def _added_cell(notebook):
    notebook.cells.append(nbformat.v4.new_code_cell(
        "def mse_loss(y_pred, y):\n    return float(np.mean((y_pred - y) ** 2))\n"
        "check_close = check_shape = lambda *args, **kwargs: None\n"))
    return notebook


def _wrong_kernel(notebook):
    notebook.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    return notebook


CASES = [
    Case("solver", FULL),
    Case("one_mistake", FULL - 2, answers={"mse_loss": SUM_INSTEAD_OF_MEAN}),
    # --- replacing functions, modules and objects ------------------------------------------------
    Case("patches_numpy", FULL - 2, answers={"mse_loss": "np.allclose = lambda *a, **k: True\n"
                                              "np.testing.assert_allclose = lambda *a, **k: None\n" + SUM_INSTEAD_OF_MEAN}),
    Case("patches_builtins", FULL - 2, answers={"mse_loss": "import builtins\nbuiltins.abs = lambda x: 0\n"
                                                 "builtins.round = lambda *a, **k: 0\n" + SUM_INSTEAD_OF_MEAN}),
    # (a learner who breaks what their own kernel needs loses what was not observed before it died)
    Case("breaks_its_own_kernel", 0, "flagged", answers={"mse_loss": "import builtins\nbuiltins.max = None\n" + SUM_INSTEAD_OF_MEAN},
         note="kernel died"),
    # (the grader's own references to dlfs.grading are bound before any learner code runs)
    Case("replaces_the_grading_module", FULL - 2, answers={"closed_form": (
        "import sys, types\nfake = types.ModuleType('dlfs.grading')\n"
        "fake.__getattr__ = lambda name: (lambda *a, **k: a[0] if a else None)\n"
        "sys.modules['dlfs.grading'] = fake\n" + WRONG_CLOSED_FORM)}),
    Case("silences_the_course_checks", 8, answers={"closed_form": (
        "import dlfs.grading\npasses = lambda *a, **k: a[0] if a else None\n"
        "for _name in ('check_close', 'check_shape', 'check_gradient', 'check_finite', 'call'):\n"
        "    globals()[_name] = passes\n    setattr(dlfs.grading, _name, passes)\n" + WRONG_CLOSED_FORM)}),
    # (observations leave by the kernel's session, not IPython's display publisher: muting it hides none of them)
    Case("mutes_ipython_display", FULL, prepend={"mse_layer": "get_ipython().display_pub.publish = lambda *a, **k: None\n"}),
    Case("forges_observations", FULL - 2, answers={"mse_loss": (
        "from IPython.display import publish_display_data\nimport dlfs.grading as g\n"
        "def mse_loss(y_pred, y):\n"
        "    publish_display_data({g.MIME: {'check': 'close', 'name': 'mse_loss(y_hat, y_true)', 'got': g.encode(3.5)}})\n"
        "    return float(np.sum((y_pred - y) ** 2))\n")}),
    # --- inspecting frames, globals, the input history --------------------------------------------
    Case("reads_the_callers_frames", FULL - 3, answers={"gradient_descent": (
        "import sys\n"
        "def gradient_descent(X, y, lr, n_steps):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for key, value in frame.f_globals.items():\n"
        "            if key.startswith('_ref') or key in ('W_ref', 'trajectory', 'expected'):\n"
        "                return value\n"
        "        frame = frame.f_back\n"
        "    return np.zeros((X.shape[1], 1)), np.zeros(1), [0.0] * n_steps\n")}),
    Case("scans_the_heap_for_expected_values", FULL - 3, answers={"mse_gradients": (
        "import gc\n"
        "def mse_gradients(X, y, W, b):\n"
        "    for thing in gc.get_objects():\n"
        "        if callable(thing) and getattr(thing, '__name__', '').startswith('_ref'):\n"
        "            return thing(X, y, W, b)\n"
        "    return np.zeros_like(W), np.zeros(1)\n")}),
    Case("reads_the_input_history", FULL - 2, answers={"closed_form": (
        "def closed_form(X, y):\n"
        "    history = '\\n'.join(get_ipython().user_ns.get('In', [])) + str(get_ipython().history_manager.input_hist_raw)\n"
        "    if 'BEGIN HIDDEN' in history or 'lstsq' in history:\n"
        "        A = np.hstack([X, np.ones((len(X), 1))])\n"
        "        theta = np.linalg.lstsq(A, y, rcond=None)[0]\n"
        "        return theta[:-1], theta[-1]\n"
        "    return np.zeros((X.shape[1], 1)), np.zeros(1)\n")}),
    # --- objects that lie about themselves ---------------------------------------------------------
    Case("returns_a_liar", FULL - 2, answers={"mse_loss": (
        "class Liar:\n"
        "    def __eq__(self, other): return True\n"
        "    def __float__(self): return 3.5\n"
        "    def __bool__(self): return True\n"
        "    def __array__(self, *a, **k): raise TypeError('no')\n"
        "    def __getattr__(self, name): return lambda *a, **k: True\n"
        "def mse_loss(y_pred, y):\n    return Liar()\n")}),
    Case("returns_an_array_that_claims_equality", FULL - 3, answers={"mse_gradients": (
        "class Always(np.ndarray):\n"
        "    def __eq__(self, other): return np.ones(np.shape(self), bool)\n"
        "    def __array_ufunc__(self, *a, **k): return np.zeros(np.shape(self))\n"
        "def mse_gradients(X, y, W, b):\n"
        "    return np.zeros_like(W).view(Always), np.zeros(1).view(Always)\n")}),
    # --- files: reading what the grader holds, writing outside the submission ----------------------
    Case("reads_the_solutions_and_the_gradebook", FULL - 2, answers={"mse_loss": (
        "import glob, os\nfound = [p for pattern in ('{root}/solutions/*/*', '{root}/autograder/*', "
        "'{root}/autograder/submitted/*/*/*.ipynb', '{repo}/solutions/*/*', '{repo}/tests/*', '{repo}/autograder/*', "
        "'{root}/../*/autograder/*') for p in glob.glob(pattern)]\n"
        "if found:\n"
        "    def mse_loss(y_pred, y):\n        return float(np.mean((y_pred - y) ** 2))\n"
        "else:\n"
        "    def mse_loss(y_pred, y):\n        return float(np.sum((y_pred - y) ** 2))\n")}),
    Case("writes_everywhere", FULL, prepend={"mse_loss": (
        "import os, pathlib\n"
        "for target in ('{root}/hacked', '{root}/solutions/hacked', '{root}/notebooks/hacked', "
        "'{root}/autograder/submitted/hostile_solver/01_linear_regression/01_linear_regression.ipynb', "
        "'{root}/autograder/gradebook.db', '{marker}', '{dlfs}/hacked.py', '{datasets}/hacked'):\n"
        "    try:\n        pathlib.Path(target).write_text('hacked')\n"
        "    except OSError:\n        pass\n")}),
    Case("deletes_the_datasets", FULL, prepend={"mse_loss": (
        "import glob, os\nfor path in glob.glob('{datasets}/**/*', recursive=True):\n"
        "    try:\n        os.remove(path)\n    except OSError:\n        pass\n")}),
    # --- processes, threads, the network -------------------------------------------------------------
    Case("leaves_processes_behind", FULL, prepend={"mse_loss": (
        "import os, subprocess\n"
        "subprocess.Popen(['sleep', '4321.5'], start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n        os.execvp('sleep', ['sleep', '4321.5'])\n"
        "    os._exit(0)\n")}),
    Case("leaves_threads_behind", FULL, prepend={"mse_loss": (
        "import threading, time\n"
        "threading.Thread(target=lambda: time.sleep(4321), daemon=False).start()\n"
        "threading.Thread(target=lambda: [time.sleep(0.01) for _ in iter(int, 1)], daemon=True).start()\n")}),
    Case("asks_the_network", FULL - 2, answers={"mse_loss": (
        "import socket\n"
        "def mse_loss(y_pred, y):\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
        "        return float(np.mean((y_pred - y) ** 2))\n"
        "    except OSError:\n"
        "        return float(np.sum((y_pred - y) ** 2))\n")}),
    # --- ending the kernel ---------------------------------------------------------------------------
    Case("exits_its_kernel", 8, "flagged", answers={"closed_form": "import os\nos._exit(0)\n"}, note="kernel died"),
    Case("kills_its_kernel", FULL - 2, "flagged", prepend={"mse_layer": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
         note="kernel died"),
    Case("segfaults", 8, "flagged", answers={"closed_form": "import ctypes\nctypes.string_at(0)\n"}, note="kernel died"),
    Case("raises_system_exit", FULL - 2, answers={"mse_loss": "def mse_loss(y_pred, y):\n    raise SystemExit(0)\n"}),
    Case("raises_keyboard_interrupt", FULL - 2, answers={"mse_loss": "def mse_loss(y_pred, y):\n    raise KeyboardInterrupt\n"}),
    # --- output, warnings, shadowed imports -----------------------------------------------------------
    Case("floods_the_output", FULL - 2, answers={"mse_loss": (
        "flooded = []\n"
        "def mse_loss(y_pred, y):\n"
        "    if not flooded:\n        flooded.append(print('x' * 12_000_000))\n"
        "    return float(np.mean((y_pred - y) ** 2))\n")}),
    Case("floods_the_output_outside_tests", FULL, prepend={"mse_loss": "print('y' * 12_000_000)\n"}),
    Case("prints_fake_results_and_warns", FULL, prepend={"mse_loss": (
        "import sys, warnings\nprint('All tests ' + 'passed. Score: 16/16')\n"
        "sys.stderr.write('\\x1b[31mGradingError\\x1b[0m\\n')\n"
        "warnings.warn('a warning ' + 'from the learner')\n")}),
    Case("shadows_numpy", FULL, "flagged", files={"numpy.py": "raise SystemExit(1)\n"}, note="numpy.py"),
    Case("shadows_the_course_package", FULL - 2, "flagged", answers={"mse_loss": SUM_INSTEAD_OF_MEAN},
         files={"dlfs/__init__.py": "", "dlfs/grading.py": "raise SystemExit(1)\n"}, note="dlfs"),
    # --- loops and memory ------------------------------------------------------------------------------
    Case("loops_forever", FULL - 2, answers={"mse_loss": "def mse_loss(y_pred, y):\n    while True:\n        pass\n"}),
    Case("allocates_too_much", FULL - 3, answers={"mse_gradients": (
        "def mse_gradients(X, y, W, b):\n    hog = bytearray(16 * 1024 ** 3)\n    return np.zeros_like(W), np.zeros(1)\n")}),
    # --- broken notebooks --------------------------------------------------------------------------------
    Case("renamed_notebook", FULL, "flagged", filename="my_answers.ipynb", note="my_answers.ipynb"),
    Case("deleted_test_cells", FULL, "flagged", edit=_without({"test_mse_loss", "test_closed_form"}), note="test_closed_form"),
    Case("edited_test_cell", FULL, "flagged", edit=_edited_test, note="test_mse_loss"),
    Case("deleted_answer_cell", FULL - 2, "flagged", edit=_without({"mse_layer"}), note="mse_layer deleted"),
    Case("added_cells", FULL - 2, "flagged", answers={"mse_loss": SUM_INSTEAD_OF_MEAN}, edit=_added_cell, note="added"),
    Case("wrong_kernel_spec", FULL, edit=_wrong_kernel),
    Case("corrupt_notebook", 0, "failed", files={"01_linear_regression.ipynb": '{"cells": [ broken'},
         note="not a readable notebook"),
    Case("no_notebook", 0, "failed", filename="", note="no notebook"),
    Case("two_other_notebooks", 0, "failed", filename="a.ipynb", files={"b.ipynb": "{}"}, note="found 2 others"),
]


def _hashes(root, skip):
    """{relative path: sha256} of every file under ``root`` outside the ``skip`` folders."""
    result = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not any(relative.startswith(s) for s in skip) and "__pycache__" not in relative:
            result[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def _leftover_sleepers():
    found = subprocess.run(["pgrep", "-f", "sleep 4321.5"], capture_output=True, text=True).stdout.split()
    return [pid for pid in found if pid != str(os.getpid())]


@pytest.fixture(scope="module")
def catalog(built_course):
    """Every case submitted as hostile_<name>, graded by one run of the command; its report rows."""
    import dlfs
    from dlfs.data import data_dir
    course = built_course
    release, source = course.release(CHAPTER), course.source(CHAPTER)
    good = solved(release, source)
    solution = {c.metadata["nbgrader"]["grade_id"]: c.source for c in good.cells
                if c.metadata.get("nbgrader", {}).get("solution")}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    values = {"root": course.root, "repo": REPO, "marker": MARKER, "dlfs": os.path.dirname(dlfs.__file__),
              "datasets": data_dir(), "port": listener.getsockname()[1]}
    def filled(code):
        for key, value in values.items():
            code = code.replace("{" + key + "}", str(value))
        return code

    for case in CASES:
        notebook = nbformat.from_dict(good)
        for grade_id, code in case.answers.items():
            notebook = with_answer(notebook, grade_id, filled(code))
        for grade_id, code in case.prepend.items():
            notebook = with_answer(notebook, grade_id, filled(code) + solution[grade_id])
        if case.edit:
            notebook = case.edit(notebook)
        student = f"hostile_{case.name}"
        course.submit(student, CHAPTER, notebook, filename=case.filename or None)
        folder = course.root / "autograder" / "submitted" / student / CHAPTER
        if case.filename == "":
            (folder / f"{CHAPTER}.ipynb").unlink()
        for name, text in case.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
    protected = ("autograder/autograded", "autograder/feedback", "autograder/reports", "autograder/verdicts",
                 "autograder/reference", "autograder/gradebook.db")
    before = _hashes(course.root, protected) | {f"datasets/{k}": v for k, v in _hashes(data_dir(), ()).items()}
    students = [f"--student=hostile_{case.name}" for case in CASES]
    try:
        result = subprocess.run([sys.executable, "-m", "dlfs.judge.grade", CHAPTER, "--root", str(course.root),
                                 "--timeout", "10", *students], capture_output=True, text=True, env=nbgrader_env())
    finally:
        listener.close()
    after = _hashes(course.root, protected) | {f"datasets/{k}": v for k, v in _hashes(data_dir(), ()).items()}
    assert result.returncode == 0, result.stderr[-3000:]
    feedback = course.nbgrader("generate_feedback", CHAPTER, "--student=hostile_*")
    rows = {row[0]: row for row in (line.split(",", 4) for line in
            (course.root / "autograder" / "reports" / f"{CHAPTER}.csv").read_text().splitlines()[1:])}
    yield course, rows, before, after, result, feedback
    import shutil
    for case in CASES:
        shutil.rmtree(course.root / "autograder" / "submitted" / f"hostile_{case.name}", ignore_errors=True)
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course.root / 'autograder' / 'gradebook.db'}") as gradebook:
        for case in CASES:
            gradebook.remove_student(f"hostile_{case.name}")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_submission_gets_its_exact_score_and_status(catalog, case):
    _, rows, *_ = catalog
    student, score, max_score, status, notes = rows[f"hostile_{case.name}"]
    assert (float(score), float(max_score), status) == (case.score, FULL, case.status), notes
    assert case.note in notes


def test_at_least_thirty_kinds_of_hostile_or_broken_submission():
    assert len({case.name for case in CASES if case.name not in ("solver", "one_mistake")}) >= 30


def test_no_file_outside_the_grader_outputs_changed_and_nothing_was_written_on_the_host(catalog):
    course, _, before, after, *_ = catalog
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    assert changed == []
    import dlfs
    from dlfs.data import data_dir
    for written in (MARKER, os.path.join(os.path.dirname(dlfs.__file__), "hacked.py"), os.path.join(data_dir(), "hacked")):
        assert not os.path.exists(written)


def test_no_process_outlives_grading(catalog):
    assert _leftover_sleepers() == []


def test_the_gradebook_holds_the_same_scores_as_the_report(catalog):
    course, rows, *_ = catalog
    for case in CASES:
        scores = course.scores(CHAPTER, f"hostile_{case.name}")
        automatic = sum(score for grade_id, (score, _) in scores.items() if grade_id.startswith("test_"))
        assert automatic == case.score, case.name


def test_no_hidden_test_line_or_grading_output_reaches_any_feedback(catalog):
    course, *_ = catalog
    source = (REPO / "solutions" / CHAPTER / f"{CHAPTER}.pct.py").read_text()
    hidden = {line.strip() for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)
              for line in block.splitlines() if len(line.strip()) > 20}
    assert hidden
    pages = sorted((course.root / "autograder" / "feedback").glob(f"hostile_*/{CHAPTER}/{CHAPTER}.html"))
    assert len(pages) == len(CASES)     # a failed submission's feedback says why nothing could be graded
    for page in pages:
        text = html.unescape(page.read_text())
        assert not [line for line in hidden if line in text], page
        assert "All tests passed. Score: 16/16" not in text and "a warning from the learner" not in text, page


def test_a_learner_reads_in_the_feedback_why_a_test_failed(catalog):
    course, *_ = catalog
    text = html.unescape((course.root / "autograder" / "feedback" / "hostile_one_mistake" / CHAPTER / f"{CHAPTER}.html").read_text())
    assert "you summed the squared errors" in text


def test_verdicts_for_instructors_say_what_stopped_a_test(catalog):
    course, *_ = catalog
    verdicts = json.loads((course.root / "autograder" / "verdicts" / "hostile_loops_forever" / f"{CHAPTER}.json").read_text())
    assert "TimeoutError" in verdicts["test_mse_loss"]["message"]
