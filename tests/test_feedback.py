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


def test_feedback_html_loads_mathjax_from_a_local_copy_not_a_cdn(tmp_path):
    """The course's nbgrader_config.py makes generate_feedback's exporter ours; with nbgrader's feedback
    template (as GenerateFeedback sets it up) the HTML loads MathJax from autograder/mathjax/, which exists."""
    import os
    import re
    import shutil
    from pathlib import Path

    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    from course import REPO
    from dlfs.feedback import FeedbackExporter

    shutil.copy(REPO / "nbgrader_config.py", tmp_path)                  # the course's config, in a course of its own
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.GenerateFeedback.exporter_class is FeedbackExporter
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)   # as nbgrader makes it
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("The loss $L = \\frac{1}{n}\\sum e_i^2$.")])
    grades = {"score": 1.0, "max_score": 2.0, "late_penalty": 0.0, "notebook": "01_linear_regression"}  # GetGrades'
    html, _ = exporter.from_notebook_node(notebook, resources={"nbgrader": grades})
    assert "cdn" not in html.lower() and not re.search(r"https?://[^\"']*mathjax", html, re.I)
    sources = re.findall(r"""<script[^>]*src=["']([^"']*MathJax[^"']*)""", html)
    assert sources == ["../../../mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"]
    feedback_folder = tmp_path / "autograder" / "feedback" / "alice" / "01_linear_regression"
    mathjax = Path(os.path.normpath(feedback_folder / sources[0].split("?")[0]))
    assert mathjax == tmp_path / "autograder" / "mathjax" / "MathJax.js" and mathjax.is_file()
    assert (mathjax.parent / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    assert (mathjax.parent / "fonts" / "HTML-CSS" / "STIX-Web" / "woff").is_dir() and 'webFont: "STIX-Web"' in html


def test_the_formgrader_loads_mathjax_from_the_jupyter_server_not_a_cdn(tmp_path):
    """nbgrader's formgrader renders a submission with an HTMLExporter of its own (template "formgrade",
    then the course's nbgrader_config.py): its page must load MathJax where the Jupyter server serves the
    installed jupyter-server-mathjax, and that file must exist."""
    import re
    import shutil

    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from course import REPO
    from dlfs.feedback import mathjax_source

    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    config = Config()                                   # what nbgrader's FormgradeExtension sets up ...
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config())  # ... then the file
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("The loss $L = \\frac{1}{n}\\sum e_i^2$.")])
    resources = {"assignment_id": "01_linear_regression", "notebook_id": "01_linear_regression", "submission_id": "x",
                 "index": 0, "total": 1, "base_url": "/user/ada", "student": "ada", "last_name": "L",
                 "first_name": "Ada", "notebook_path": "autograder/autograded/ada/01/01.ipynb"}
    html, _ = HTMLExporter(config=config).from_notebook_node(notebook, resources=resources)
    assert "formgrade.css" in html and "Ada" in html       # still the formgrader's page
    assert "cdn" not in html.lower() and not re.search(r"https?://[^\"']*mathjax", html, re.I)
    sources = re.findall(r"""<script[^>]*src=["']([^"']*MathJax[^"']*)""", html)
    assert sources == ["/user/ada/static/jupyter_server_mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"]
    assert (mathjax_source() / "MathJax.js").is_file() and 'webFont: "STIX-Web"' in html
