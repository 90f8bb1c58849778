"""dlfs.feedback.HideHiddenTests on hand-made cells (the real pipeline is in test_pipeline.py)."""

import nbformat

from dlfs.feedback import HideHiddenTests


def _test_cell(source, outputs=()):
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade": True, "solution": False}})
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def _run(cell):
    return HideHiddenTests().preprocess_cell(cell, {}, 0)[0]


def test_hidden_block_is_replaced_and_visible_tests_stay():
    cell = _run(_test_cell("assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(7) == 14\n### END HIDDEN TESTS\nprint('x')"))
    assert "f(7)" not in cell.source and "HIDDEN TESTS" not in cell.source
    assert cell.source.startswith("assert f(1) == 2\n# (hidden tests ran here") and cell.source.endswith("print('x')")


def test_tracebacks_shrink_to_the_learner_message():
    error = {"output_type": "error", "ename": "GradingError", "evalue": "dW: has the wrong values.\n  hint: x",
             "traceback": ["\x1b[0;31m---\x1b[0m", "Cell In[5], line 9\n    assert secret_reference(7) == 14", "GradingError: ..."]}
    cell = _run(_test_cell("assert True", [error]))
    assert cell.outputs[0]["traceback"] == ["GradingError: dW: has the wrong values.\n  hint: x"]


def test_a_timeout_is_explained():
    error = {"output_type": "error", "ename": "CellTimeoutError", "evalue": "",
             "traceback": ["\x1b[0;31mCellTimeoutError\x1b[0m: No reply from kernel before timeout"]}
    cell = _run(_test_cell("assert True", [error]))
    assert "ran longer than the time limit" in cell.outputs[0]["traceback"][0]


def test_answer_cells_are_left_alone():
    source = "### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS"
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade": False, "solution": True}})
    assert _run(cell).source == source


def test_every_graded_cell_is_labelled_with_its_exercise():
    from course import REPO
    from dlfs.feedback import exercise_labels
    notebook = nbformat.read(REPO / "notebooks" / "01_linear_regression" / "01_linear_regression.ipynb", as_version=4)
    labels = exercise_labels(notebook.cells)
    graded = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert list(labels) == graded
    assert labels["test_mse_loss"] == "Exercise 1 (mse_loss)" and labels["test_closed_form"] == "Exercise 4 (closed_form)"
    assert labels["q_learning_rate"] == "Written question (q_learning_rate)"
    assert len(set(labels.values())) == len(labels)
    processed, _ = HideHiddenTests().preprocess(notebook, {})
    assert [c.metadata["dlfs"]["label"] for c in processed.cells if "dlfs" in c.metadata] == list(labels.values())
