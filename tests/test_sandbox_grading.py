"""Grading chapter 01 in real kernels: the reference in a trusted kernel, each submission in a
bubblewrap sandbox, the verdict by dlfs.judge (issue 10). Submissions here try what a determined
learner would: read the solutions, write outside their folder, patch the checks, leave a process
behind, loop forever, kill their kernel."""

import os
import shutil
import subprocess
import textwrap

import pytest

from course import REPO
from dlfs.judge import sandbox
from dlfs.grading import BATCH
from dlfs.judge.kernel import KernelRun, graded_run
from dlfs.judge.verdict import judge

pytestmark = pytest.mark.skipif(not sandbox.available() and not os.environ.get("CI"),
                                reason="bubblewrap is not installed (apt install bubblewrap); CI installs it")

CHAPTER = "01_linear_regression"
CORRECT_MSE = "def mse_loss(y_pred, y):\n    return float(np.mean((y_pred - y) ** 2))\n"


@pytest.fixture(scope="module")
def reference(built_course):
    notebook = built_course.source(CHAPTER)
    records, dead = graded_run(notebook, built_course.root / "solutions" / CHAPTER, "reference", sandboxed=False)
    assert not dead
    return built_course, notebook, records


def _grade(reference, tmp_path, answers, timeout=60):
    """{test: None if passed else message} for a submission whose answers are the solution's except ``answers``."""
    course, notebook, expected = reference
    workdir = tmp_path / "submission"
    shutil.copytree(course.root / "notebooks" / CHAPTER, workdir)
    observed, _ = graded_run(notebook, workdir, "observe", answers=answers, timeout=timeout)
    verdicts = {test: judge(records, observed.get(test, ([], None))[0], hidden_from)
                for test, (records, hidden_from) in expected.items()}
    return {test: None if v.passed else v.message for test, v in verdicts.items()}


def test_a_correct_submission_gets_every_test_in_the_sandbox(reference, tmp_path):
    assert set(_grade(reference, tmp_path, {}).values()) == {None}


def test_the_sandbox_hides_the_solutions_and_keeps_writes_inside_the_submission(reference, tmp_path):
    course = reference[0]
    outside = course.root / "autograder" / "written-by-a-submission"
    answer = textwrap.dedent(f"""
        import os
        from pathlib import Path

        def mse_loss(y_pred, y):
            seen = [p for p in ({str(course.root / "solutions")!r}, {str(REPO / "solutions")!r},
                                {str(course.root / "autograder")!r}, {str(REPO / "tests")!r}) if os.path.exists(p)]
            # of the course folder, only the runtime is visible: the dlfs package, the datasets, the venv
            seen += sorted(set(os.listdir({str(REPO)!r})) - {{"dlfs", "datasets", ".venv"}})
            try:
                Path({str(outside)!r}).write_text("hello")
            except OSError:
                pass
            value = float(np.mean((y_pred - y) ** 2))
            return value + 1.0 if seen else value       # only an honest view of the world passes
    """)
    assert _grade(reference, tmp_path, {"mse_loss": answer})["test_mse_loss"] is None
    assert not outside.exists()


def test_patching_the_checks_in_the_kernel_fails_the_test(reference, tmp_path):
    answer = textwrap.dedent("""
        import dlfs.grading

        def mse_loss(y_pred, y):
            def passes(*args, **kwargs):
                return args[0] if args else None
            for name in ("check_close", "check_scalar", "check_shape", "call"):
                setattr(dlfs.grading, name, passes)
                globals()[name] = passes
            return 0.0
    """)
    assert _grade(reference, tmp_path, {"mse_loss": answer})["test_mse_loss"] is not None


def test_no_process_outlives_the_sandbox(reference, tmp_path):
    marker = f"dlfs-sandbox-test-{os.getpid()}"
    answer = textwrap.dedent(f"""
        import subprocess

        def mse_loss(y_pred, y):
            subprocess.Popen(["/bin/sh", "-c", "exec -a {marker} sleep 600"], start_new_session=True)
            return float(np.mean((y_pred - y) ** 2))
    """)
    assert _grade(reference, tmp_path, {"mse_loss": answer})["test_mse_loss"] is None
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert found.stdout.strip() == "", f"a process outlived the sandbox: {found.stdout}"


def test_a_looping_answer_loses_its_test_only(reference, tmp_path):
    verdicts = _grade(reference, tmp_path, {"closed_form": "def closed_form(X, y):\n    while True:\n        pass\n"},
                      timeout=10)
    assert verdicts["test_closed_form"] is not None
    assert [t for t, m in verdicts.items() if m is not None] == ["test_closed_form"]


def test_a_kernel_that_dies_fails_what_it_did_not_reach_and_nothing_crashes(reference, tmp_path):
    verdicts = _grade(reference, tmp_path, {"mul_layer": "import os\nos._exit(3)\n"})
    assert verdicts["test_mse_loss"] is None and verdicts["test_closed_form"] is None
    assert verdicts["test_mul_layer"] and verdicts["test_add_layer"] and verdicts["test_mse_layer"]


@pytest.mark.parametrize("ending, error", [("", None), ("raise ValueError('part way')", "ValueError"),
                                           ("while True:\n    pass", "TimeoutError")])
def test_every_check_of_a_long_test_cell_reaches_the_grader(tmp_path, ending, error):
    """The kernel sends a test cell's records in batches (dlfs.grading.BATCH records, the rest when the cell
    ends): none is lost past a batch, nor when the cell raises or is interrupted part way."""
    checks = 2 * BATCH + 123
    code = (f"from dlfs.grading import check_scalar\nfor i in range({checks}):\n    check_scalar(float(i), f'v{{i}}')\n"
            + ending)
    with KernelRun(tmp_path, "observe", timeout=5) as kernel:
        run = kernel.run(code, test=True)
        after = kernel.run("check_scalar(1.0, 'next cell')", test=True)
    assert run.error == error
    assert [record["name"] for record in run.records] == [f"v{i}" for i in range(checks)]
    assert [record["name"] for record in after.records] == ["next cell"]
