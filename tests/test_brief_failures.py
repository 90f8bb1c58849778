"""A failed check in the notebook reads as a message, not a stack (issue 11): the learner sees what was
expected, what came back and the hint, then only the lines of their own code where an error happened —
no test source, no frames of IPython or dlfs.grading. Run in a real Jupyter kernel."""

import pytest
from jupyter_client.manager import start_new_kernel

from course import REPO


@pytest.fixture(scope="module")
def kernel():
    manager, client = start_new_kernel(cwd=str(REPO), extra_arguments=[])
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def _error(client, code):
    """The error output of running ``code``, or None."""
    errors = []
    client.execute_interactive(code, timeout=60, output_hook=lambda m: errors.append(m["content"])
                               if m["msg_type"] == "error" else None)
    return errors[0] if errors else None


def test_an_error_in_the_learners_function_shows_the_hint_and_only_their_line(kernel):
    assert _error(kernel, "from dlfs.grading import call, check_close\n"
                          "def slope(x):\n    scale = 0\n    return x / scale\n") is None
    error = _error(kernel, "# a test cell\nimport numpy as np\ncall(slope, 1, hint='divide by the spread of x.')\n")
    text = "\n".join(error["traceback"])
    assert error["ename"] == "GradingError" and "slope: raised ZeroDivisionError" in text
    assert "hint: divide by the spread of x." in text
    assert "return x / scale" in text and "Where it happened, in your code:" in text
    assert "a test cell" not in text and "grading.py" not in text and "interactiveshell" not in text
    assert len(text) < 600


def test_a_wrong_value_shows_expected_got_and_hint_without_any_stack(kernel):
    error = _error(kernel, "check_close([1.0, 2.0], [1.0, 3.0], 'mse(x)', hint='average over the batch.')\n")
    text = "\n".join(error["traceback"])
    assert text.startswith("GradingError: mse(x): has the wrong values.") and "hint: average over the batch." in text
    assert "Where it happened" not in text and "File " not in text


def test_other_errors_keep_ipythons_full_traceback(kernel):
    error = _error(kernel, "def broken():\n    return undefined_name\nbroken()\n")
    assert error["ename"] == "NameError" and len("\n".join(error["traceback"])) > 100
