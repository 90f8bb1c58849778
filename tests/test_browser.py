"""The widgets in a real browser: JupyterLab in headless Chromium, driven by Playwright.

For each chapter with widgets, the learner-facing notebook with every answer filled in (what a
learner who answered everything sees) is opened in JupyterLab and run top to bottom. Then:

- no cell shows an error output, and no widget shows "Error displaying widget" or "Failed to load
  model class" (what JupyterLab shows when the front end cannot draw a widget);
- every expected widget is drawn, with its figure;
- for each widget, one control is moved (its first slider, else its first dropdown) and its figure
  must change (the bytes of its images are compared before and after).

Screenshots of every widget before and after go to ``tests/browser-screenshots/`` (ignored by git)
for a person to look at. One JupyterLab server and one browser serve the whole module.

Needs Chromium (Debian: ``apt install chromium``, or set DLFS_CHROMIUM to a Chromium/Chrome binary) and
the ``playwright`` Python package (in requirements.txt). Without them the tests are skipped locally;
in CI (CI=true) they fail instead, so a missing install is caught.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from course import REPO, free_port, solved
from dlfs.__main__ import jupyter_lab_options
from dlfs.progress import write_start_page

SCREENSHOTS = REPO / "tests" / "browser-screenshots"

#: chapter -> the widgets its notebook shows, in order
WIDGETS = {
    "04_optimizers": ["OptimizerPlayground"],
    "05_regularization": ["InitExplorer", "RegularizationExplorer"],
    "06_cnn": ["FilterViewer", "FeatureMaps", "ConvolutionExplorer"],
}

#: what JupyterLab's widget renderer shows when it cannot draw a widget
WIDGET_ERRORS = ("Error displaying widget", "Failed to load model class", "Could not create a view")

#: an output showing a widget view (JupyterLab's widget renderer puts the view right inside it)
WIDGET_VIEW = ".jp-OutputArea-output:has(> .jupyter-widgets)"

#: per-user JupyterLab settings for a test run: every cell in the DOM (no windowing, so every output
#: can be inspected), no autosave, no news or update pop-up over the notebook
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                          "checkForUpdates": False},
}

RUN_TIMEOUT = 240          # seconds for one notebook's "run all" (05 and 06 take 10-20 s on a laptop)
CHANGE_TIMEOUT = 30        # seconds for a figure to change after its control moved


# --- finding the browser -------------------------------------------------------------------------

def chromium_path():
    """The Chromium binary to drive: $DLFS_CHROMIUM, else Debian's /usr/bin/chromium, else None."""
    for candidate in (os.environ.get("DLFS_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing_browser():
    """Why the browser tests cannot run here (what to install), or None when they can."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright (pip install -r requirements.txt)")
    if chromium_path() is None:
        problems.append("Chromium (apt install chromium, or set DLFS_CHROMIUM to a Chromium binary)")
    if problems:
        return "the browser tests need " + " and ".join(problems)
    return None


def require_browser():
    """Skip with what to install; in CI fail instead, so a missing install cannot pass unnoticed."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason}; in CI they must run (.ci/run installs Chromium, python3 -m dlfs test installs "
                    "requirements.txt)")
    pytest.skip(reason)


# --- JupyterLab and the browser ------------------------------------------------------------------

class Lab:
    """A JupyterLab server started for the tests, in its own temporary home (settings, workspaces,
    runtime and config), serving ``root``."""

    def __init__(self, root, home):
        self.root, self.home = Path(root), Path(home)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.log = self.home / "jupyterlab.log"
        settings = self.home / "settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = dict(os.environ, PYTHONPATH=str(REPO),  # the kernels import this tree's dlfs
                   JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(self.home / "workspaces"),
                   JUPYTER_CONFIG_DIR=str(self.home / "config"), JUPYTER_RUNTIME_DIR=str(self.home / "runtime"))
        env.pop("MPLBACKEND", None)  # the learner's inline figures, not the test suite's Agg
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                 f"--ServerApp.token={self.token}", "--LabApp.expose_app_in_browser=True",
                 *jupyter_lab_options(self.root)],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_serving()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def _wait_until_serving(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"JupyterLab exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise AssertionError(f"JupyterLab did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self):
        """SIGTERM: JupyterLab shuts its kernels down and exits; whatever is left of its session is killed."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture(scope="session")
def browser_installed():
    """Skips (or in CI fails) before anything is built when the browser cannot run (session-scoped so
    that it comes before the session's ``built_course``)."""
    require_browser()


@pytest.fixture(scope="module")
def lab(browser_installed, built_course, tmp_path_factory):
    """JupyterLab serving a learner's workspace/ as ``python3 -m dlfs start`` does: the start page, for
    each chapter with widgets its release notebook solved (with its provided/ files), plus a notebook
    built to break the checks (``broken/broken.ipynb``)."""
    course = tmp_path_factory.mktemp("course")       # a learner's course: the release and their workspace/
    shutil.copytree(built_course.root / "notebooks", course / "notebooks")
    root = course / "workspace"
    for chapter in WIDGETS:
        shutil.copytree(built_course.root / "notebooks" / chapter, root / chapter)
        nbformat.write(solved(built_course.release(chapter), built_course.source(chapter)),
                       root / chapter / f"{chapter}.ipynb")
    write_start_page(course)
    (root / "broken").mkdir()
    nbformat.write(broken_notebook(), root / "broken" / "broken.ipynb")
    server = Lab(root, tmp_path_factory.mktemp("lab-home"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(lab):
    """One headless Chromium page with JupyterLab loaded, for every test of the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            open_lab(page, lab.url("lab"))
            yield page
        finally:
            browser.close()


def retained(function):
    """JavaScript for the async ``function`` whose promise stays reachable from ``window`` until it settles.
    Chromium may collect a pending promise that nothing in the page holds while Playwright awaits it, which
    Playwright reports as "Resulting promise was garbage collected"."""
    return f"""(...args) => {{
        const pending = window.__dlfsPending || (window.__dlfsPending = new Set());
        const promise = Promise.resolve(({function})(...args));
        const settle = () => pending.delete(promise);
        pending.add(promise);
        promise.then(settle, settle);
        return promise;
    }}"""


def open_lab(page, url, attempts=3):
    """Load JupyterLab at ``url`` and wait until it has started and restored its layout (should the page
    be replaced while it starts, which Playwright reports as a destroyed execution context, wait for
    the new one, a few times)."""
    from playwright.sync_api import Error

    page.goto(url)
    for attempt in range(attempts):
        try:
            page.wait_for_function("window.jupyterapp && window.jupyterapp.started", polling=250)
            page.evaluate(retained("async () => { await window.jupyterapp.restored; return true; }"))
            return
        except Error as error:
            if attempt == attempts - 1 or not any(s in str(error) for s in ("garbage collected", "context was destroyed")):
                raise
            time.sleep(1)


# --- driving a notebook --------------------------------------------------------------------------

RUN_ALL = """async ([path, timeout]) => {
    const app = window.jupyterapp;
    const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
    await panel.context.ready;
    await panel.sessionContext.ready;
    app.shell.activateById(panel.id);
    const run = app.commands.execute('notebook:run-all-cells');
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error(
        `run all did not finish within ${timeout} s`)), timeout * 1000));
    await Promise.race([run, late]);
    return panel.id;
}"""

ERROR_OUTPUTS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const errors = [];
    for (const cell of panel.content.widgets) {
        if (cell.model.type !== 'code') continue;
        const outputs = cell.model.outputs;
        for (let i = 0; i < outputs.length; i++) {
            const output = outputs.get(i).toJSON();
            if (output.output_type === 'error') errors.push(`${output.ename}: ${output.evalue}`);
        }
    }
    return errors;
}"""

WIDGET_OUTPUTS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === 'code')
    .flatMap(cell => Array.from({length: cell.model.outputs.length}, (_, i) => cell.model.outputs.get(i).data))
    .filter(data => data && data['application/vnd.jupyter.widget-view+json']).length"""

UNRUN_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === 'code' && cell.model.sharedModel.source.trim()
                    && cell.model.executionCount === null).length"""

IMAGE_BYTES = """async (output) => {
    // the decoded bytes of every image in a widget view, once they are all loaded
    const images = [...output.querySelectorAll('img')];
    if (!images.length || images.some(img => !img.complete || img.naturalWidth === 0)) return null;
    const parts = [];
    for (const img of images) {
        const buffer = await (await fetch(img.src)).arrayBuffer();
        const digest = await crypto.subtle.digest('SHA-256', buffer);
        parts.push([...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join(''));
    }
    return parts.join(',');
}"""


def run_notebook(page, path):
    """Open ``path`` (relative to the server's root) in JupyterLab, run all cells and wait for the
    kernel; returns the notebook panel's DOM id."""
    return page.evaluate(retained(RUN_ALL), [path, RUN_TIMEOUT])


def close_notebook(page):
    """Shut down the current notebook's kernel and close it, without a dialog."""
    page.evaluate(retained("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.sessionContext.shutdown();
        panel.dispose();
    }"""))


def drawn_widgets(page, panel_id, timeout=CHANGE_TIMEOUT):
    """The outputs showing a widget in the notebook panel, in order, once every widget output of the
    notebook has been drawn (as a widget or as the error view JupyterLab shows in its place)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    expected = page.evaluate(WIDGET_OUTPUTS)
    selector = f"#{panel_id} {WIDGET_VIEW}"
    try:
        page.wait_for_function("([selector, n]) => document.querySelectorAll(selector).length >= n",
                               arg=[selector, expected], timeout=timeout * 1000, polling=250)
    except PlaywrightTimeout as error:
        drawn = page.locator(selector).count()
        raise AssertionError(f"{expected} widget outputs, only {drawn} drawn after {timeout} s") from error
    return page.locator(selector).all()


def widget_errors(page, panel_id):
    """What the notebook shows in place of widgets it could not draw: the error views (clicked, they
    show the JavaScript error) and lines such as "Error displaying widget"."""
    failed = page.locator(f"#{panel_id} .jupyter-widgets-error-widget").all()
    for view in failed:
        view.click()  # "Click to show javascript error."
    text = page.locator(f"#{panel_id}").inner_text()
    errors = [line.strip() for line in text.splitlines() if any(error in line for error in WIDGET_ERRORS)]
    if len(errors) < len(failed):
        errors.append(f"{len(failed)} widget views failed")
    return errors


def figure_digest(view, timeout=CHANGE_TIMEOUT, differs_from=None):
    """A digest of the bytes of every image in a widget view, once all are drawn (and, with
    ``differs_from``, once it differs from that); None if that does not happen within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        digest = view.evaluate(retained(IMAGE_BYTES))
        if digest is not None and digest != differs_from:
            return digest
        if time.monotonic() > deadline:
            return None
        time.sleep(0.25)


def move_one_control(view):
    """Move the widget's first slider one step (left if it is at its end), else pick the next option of
    its first dropdown, as a person would with keyboard and mouse. Returns what was moved."""
    handles = view.locator(".noUi-handle")
    if handles.count():
        handle = handles.first
        at_end = float(handle.get_attribute("aria-valuenow")) >= float(handle.get_attribute("aria-valuemax"))
        key = "ArrowLeft" if at_end else "ArrowRight"
        handle.focus()
        handle.press(key)
        return f"slider {key}"
    select = view.locator("select").first
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.selectedIndex")
    choice = (current + 1) % len(options)
    select.select_option(index=choice)
    return f"dropdown -> {options[choice]!r}"


def screenshot(view, name):
    """``tests/browser-screenshots/<name>.png``: the widget as it is shown now."""
    SCREENSHOTS.mkdir(exist_ok=True)
    view.screenshot(path=SCREENSHOTS / f"{name}.png")


def notebook_problems(page, panel_id):
    """Everything wrong with a notebook that has run: error outputs, unrun cells, widget errors."""
    problems = [f"error output: {error}" for error in page.evaluate(ERROR_OUTPUTS)]
    unrun = page.evaluate(UNRUN_CELLS)
    if unrun:
        problems.append(f"{unrun} code cells did not run")
    problems += [f"widget error: {line}" for line in widget_errors(page, panel_id)]
    return problems


# --- the tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", list(WIDGETS))
def test_every_widget_draws_and_answers_its_controls(page, chapter):
    panel_id = run_notebook(page, f"{chapter}/{chapter}.ipynb")
    try:
        views = drawn_widgets(page, panel_id)
        problems = notebook_problems(page, panel_id)
        assert not problems, problems
        assert len(views) == len(WIDGETS[chapter]), f"expected the widgets {WIDGETS[chapter]}, found {len(views)}"
        for number, (name, view) in enumerate(zip(WIDGETS[chapter], views), start=1):
            label = f"{chapter}-{number}-{name}"
            before = figure_digest(view)
            assert before is not None, f"{name}: its figure was not drawn"
            screenshot(view, f"{label}-before")
            moved = move_one_control(view)
            after = figure_digest(view, differs_from=before)
            screenshot(view, f"{label}-after")
            assert after is not None, f"{name}: the figure did not change after moving a control ({moved})"
        errors = widget_errors(page, panel_id)
        assert not errors, errors
    finally:
        close_notebook(page)


# --- the checks can fail -------------------------------------------------------------------------

BROKEN_CELLS = [
    # a widget whose control is connected to nothing: its figure never changes
    """import base64, ipywidgets as widgets
PNG = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC')
widgets.VBox([widgets.IntSlider(description='inert'), widgets.Image(value=PNG, format='png', width=50)])""",
    # a widget whose front-end model class does not exist
    """from traitlets import Unicode
class Missing(widgets.DOMWidget):
    _model_module = Unicode('dlfs-no-such-module').tag(sync=True)
    _model_name = Unicode('NoSuchModel').tag(sync=True)
    _view_module = Unicode('dlfs-no-such-module').tag(sync=True)
    _view_name = Unicode('NoSuchView').tag(sync=True)
Missing()""",
    "raise ValueError('injected')",
    "print('never runs')",
]


def broken_notebook():
    """A notebook every check above must complain about."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in BROKEN_CELLS]
    return notebook


def test_the_checks_see_errors_and_a_figure_that_does_not_change(page):
    panel_id = run_notebook(page, "broken/broken.ipynb")
    try:
        inert, missing = drawn_widgets(page, panel_id)
        problems = notebook_problems(page, panel_id)
        assert "error output: ValueError: injected" in problems, problems
        assert "1 code cells did not run" in problems, problems
        assert ("widget error: Failed to load model class 'NoSuchModel' from module 'dlfs-no-such-module'"
                in problems), problems
        before = figure_digest(inert)
        assert before is not None
        assert move_one_control(inert) == "slider ArrowRight"
        assert inert.locator(".widget-readout").inner_text().strip() == "1"   # the slider did move
        assert figure_digest(inert, timeout=3, differs_from=before) is None
    finally:
        close_notebook(page)


# --- the start page ------------------------------------------------------------------------------

def test_the_course_opens_on_the_start_page_whose_links_open_the_chapters(page, lab):
    open_lab(page, lab.url(""))   # where `python3 -m dlfs start` sends the browser
    page.wait_for_function("window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.context.path === 'START.ipynb'", polling=250)
    start = page.locator(".jp-NotebookPanel:visible")
    table = start.locator(".jp-RenderedMarkdown table").first
    rows = table.locator("tbody tr")
    rows.first.wait_for()
    assert rows.count() == len(list((lab.root.parent / "notebooks").glob("[0-9][0-9]_*")))
    optimizers = rows.filter(has_text="Optimizers")
    cells = [optimizers.locator("td").nth(i).inner_text().strip() for i in range(3)]
    attempted, exercises = cells[1].split(" of ")
    assert attempted == exercises and int(exercises) > 0     # the solved notebook: every exercise attempted
    assert "not started" in rows.filter(has_text="Linear regression").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "start-page.png")
    optimizers.locator("a").click()
    page.wait_for_function("window.jupyterapp.shell.currentWidget.context.path === "
                           "'04_optimizers/04_optimizers.ipynb'", polling=250)
    page.evaluate(retained("async () => { const panel = window.jupyterapp.shell.currentWidget; "
                           "await panel.context.ready; panel.dispose(); }"))


def test_a_missing_browser_skips_here_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "chromium_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt install chromium"):
        require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt install chromium"):
        require_browser()
