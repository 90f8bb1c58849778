"""The set-up files: requirements.txt and environment.yml agree, CI runs the README's test command,
and the run command serves notebook 01 from a real JupyterLab."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from course import REPO, free_port
from dlfs import workspace
from dlfs.__main__ import jupyter_lab_options


def _requirements():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    return sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _environment_dependencies():
    lines = (REPO / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:")
    deps = [re.sub(r"^\s*-\s*", "", line).strip() for line in lines[start + 1:] if line.strip().startswith("-")]
    return sorted(d for d in deps if not d.startswith(("python", "pip", "-e .")))


def test_the_conda_environment_installs_the_course_itself():
    """conda and Binder's repo2docker install the pip section from the repository's root: `-e .` is the course."""
    assert "      - -e .\n" in (REPO / "environment.yml").read_text()


def test_requirements_and_environment_list_the_same_ranges():
    assert _requirements() == _environment_dependencies()
    for requirement in _requirements():
        assert re.fullmatch(r"[a-z0-9_-]+(\[[a-z0-9_,]+\])?>=[0-9.]+,<[0-9.]+", requirement), f"pin a range: {requirement}"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^(python3 -m dlfs \w+)", readme, re.M)
    assert commands[:2] == ["python3 -m dlfs start", "python3 -m dlfs test"]
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith(("#", "set ", "cd "))]
    # besides the test command: only the system packages the tests need (bubblewrap, chromium, the system Python's
    # venv module, PostgreSQL's server), if missing; nothing of Python's own is installed or run there
    system = "\n".join(ci[:-1])
    assert ci[-1] == "python3 -m dlfs test"
    assert sorted(re.findall(r'packages="\$packages (\S+)"', system)) == ["bubblewrap", "chromium", "postgresql",
                                                                          "python3-venv"]
    installs = re.sub(r"apt-get install -y -qq \$packages|apt-get update -qq", "", system)
    assert installs.count("apt-get") <= 1 and "install" not in installs
    assert not re.search(r"\bpip\b", system) and "python3 -m" not in system and "python3 -c" not in system


def test_bootstrap_prints_usage_for_unknown_commands():
    result = subprocess.run([sys.executable, "-m", "dlfs", "nonsense"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "python3 -m dlfs start" in result.stdout


def test_jupyterlab_serves_the_learners_workspace(tmp_path):
    """What `python3 -m dlfs start` runs, headless, on a copy of the course: the workspace filled from the
    release, JupyterLab rooted at it lists notebook 01."""
    shutil.copytree(REPO / "notebooks", tmp_path / "course" / "notebooks")
    workspace_dir = workspace.prepare(tmp_path / "course")
    port, token = free_port(), "dlfs-test-token"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", *jupyter_lab_options(workspace_dir)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/api/contents/01_linear_regression?token={token}"
        for _ in range(120):
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    listing = response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not answer within 60 s")
        assert "01_linear_regression.ipynb" in listing
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as response:
            page = response.read().decode()
            assert response.status == 200 and "JupyterLab" in page
        assert '"news": {"disabled": true}' in page          # no news pop-up (jupyter_lab_options)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=10) as response:
            listed = [item["name"] for item in json.loads(response.read())["content"]]
        assert "01_linear_regression" in listed and "dlfs" not in listed   # the link is not the learner's
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_venv_that_cannot_run_pip_is_seen_as_broken(tmp_path):
    from dlfs.__main__ import venv_works
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    assert not venv_works(broken) and not venv_works(tmp_path / "missing") and venv_works(sys.executable)


def test_a_python_without_ensurepip_is_told_to_install_python3_venv(monkeypatch):
    import pytest

    from dlfs import __main__ as setup
    monkeypatch.setitem(sys.modules, "ensurepip", None)          # import ensurepip now fails, as on Debian
    with pytest.raises(setup.SetupError, match="apt install python3-venv"):
        setup.create_venv()


def test_a_clone_without_write_permission_is_told_what_is_needed(monkeypatch):
    import pytest

    from dlfs import __main__ as setup
    monkeypatch.setattr(setup.os, "access", lambda path, mode: False)
    with pytest.raises(setup.SetupError, match="Clone the course into a folder you own"):
        setup.check_writable()


def test_start_passes_jupyter_options_through_and_one_ctrl_c_stops_it_cleanly(tmp_path):
    """`python3 -m dlfs start --no-browser --port=P ...` serves, and a Ctrl-C (SIGINT to the terminal's
    process group) ends it without a traceback and without leaving the server's runtime files behind."""
    import signal
    port, token = free_port(), "dlfs-ctrl-c"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    start = subprocess.Popen(["python3", "-m", "dlfs", "start", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                              f"--IdentityProvider.token={token}"], cwd=REPO, env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("python3 -m dlfs start did not serve within 120 s")
        os.killpg(start.pid, signal.SIGINT)
        _, stderr = start.communicate(timeout=60)
    finally:
        if start.poll() is None:
            os.killpg(start.pid, signal.SIGKILL)
    assert "Traceback" not in stderr, stderr[-2000:]
    assert not list((tmp_path / "runtime").glob("jpserver-*")), stderr[-3000:]


def _course_with_the_package(tmp_path):
    """A small course folder of its own: the dlfs package, the project file and chapter 01's release (no
    venv needed)."""
    root = tmp_path / "my course"
    shutil.copytree(REPO / "dlfs", root / "dlfs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "notebooks" / "01_linear_regression", root / "notebooks" / "01_linear_regression")
    return root


def _stdlib_python():
    """The interpreter the course's venv was made from: no dlfs installed, as on a learner's fresh machine."""
    candidates = [Path(sys.base_prefix) / "bin" / "python3", Path(sys.base_prefix) / "python.exe"]
    return str(next(p for p in candidates if p.exists()))


def _learner_env(tmp_path):
    """The environment of a learner's shell: no venv, no PYTHONPATH, a per-user site-packages of its own."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONNOUSERSITE")}
    env["PYTHONUSERBASE"] = str(tmp_path / "home" / ".local")
    return env


def _answer_mse_loss(notebook_path):
    notebook = json.loads(notebook_path.read_text())
    answer = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "mse_loss")
    answer["source"] = "def mse_loss(y_pred, y):\n    return 'my answer'\n"
    notebook_path.write_text(json.dumps(notebook))


def _dlfs(arguments, folder, env):
    return subprocess.run([_stdlib_python(), "-m", "dlfs", *arguments], cwd=folder, env=env,
                          capture_output=True, text=True)


def test_dlfs_commands_run_from_any_folder_of_the_course_and_work_on_that_course(tmp_path):
    """Before any command, `python3 -m dlfs` runs from the root only; the first one registers the course
    with that Python; then every command runs from any folder of the course (the release's chapter
    folders too, which get nothing added) and resets the answer in *this* course's workspace."""
    root = _course_with_the_package(tmp_path)
    env = _learner_env(tmp_path)
    assert "No module named dlfs" in _dlfs(["progress"], root / "notebooks" / "01_linear_regression", env).stderr
    first = _dlfs(["reset", "01_linear_regression", "mse_loss"], root, env)
    assert first.returncode == 1 and "python3 -m dlfs start` creates it" in first.stdout, first.stdout + first.stderr
    assert "now works from any folder of the course" in first.stdout
    workspace.prepare(root)                       # what `start` does before JupyterLab opens
    (root / "my notes" / "week 1").mkdir(parents=True)
    mine = root / "workspace" / "01_linear_regression" / "01_linear_regression.ipynb"
    for folder in ("notebooks", "notebooks/01_linear_regression", "workspace", "workspace/01_linear_regression",
                   "dlfs", "my notes/week 1"):
        _answer_mse_loss(mine)
        result = _dlfs(["reset", "01_linear_regression", "mse_loss"], root / folder, env)
        assert result.returncode == 0, f"from {folder}: {result.stdout}{result.stderr}"
        assert "back to its stub" in result.stdout and mine.read_text().count("return 'my answer'") == 0
        assert "now works from any folder" not in result.stdout      # registered once
    # a kernel started in a chapter folder imports the same package, which finds this course's data
    kernel = subprocess.run([sys.executable, "-c", "from dlfs import data; print(data._REPO_DATASETS)"],
                            cwd=root / "workspace" / "01_linear_regression", capture_output=True, text=True)
    assert kernel.stdout.strip() == str((root / "datasets").resolve()), kernel.stderr
    # never in the release's chapter folders: nbgrader and the grading command copy those
    assert not (root / "notebooks" / "01_linear_regression" / "dlfs").exists()


def test_a_command_run_in_a_second_clone_works_on_that_clone(tmp_path):
    """The Python is registered with the first course; from a chapter folder of a second clone the command
    hands over to that clone's package and resets *its* learner's answer, leaving the first's alone; once
    the first course is deleted, the registration is repaired by the next command run from a course root."""
    env = _learner_env(tmp_path)
    first, second = (_course_with_the_package(tmp_path / name) for name in ("first", "second"))
    for root in (first, second):
        workspace.prepare(root)
        _answer_mse_loss(root / "workspace" / "01_linear_regression" / "01_linear_regression.ipynb")
    assert "now works from any folder" in _dlfs(["progress"], first, env).stdout
    result = _dlfs(["reset", "01_linear_regression", "mse_loss"], second / "notebooks" / "01_linear_regression", env)
    assert result.returncode == 0, result.stdout + result.stderr
    notebooks = [root / "workspace" / "01_linear_regression" / "01_linear_regression.ipynb" for root in (first, second)]
    assert [path.read_text().count("return 'my answer'") for path in notebooks] == [1, 0]
    shutil.rmtree(first)
    assert "No module named dlfs" in _dlfs(["progress"], second / "notebooks" / "01_linear_regression", env).stderr
    assert "now works from any folder" in _dlfs(["progress"], second, env).stdout
    assert _dlfs(["progress"], second / "notebooks" / "01_linear_regression", env).returncode == 0


def test_jupyterlab_opens_without_news_or_update_checks(tmp_path):
    """Both ways: the server's options (no news feed, no update check) and the settings defaults that
    `install` writes into the venv, read back with jupyterlab_server's own loader."""
    from jupyterlab.labapp import LabApp
    from jupyterlab_server.settings_utils import _get_overrides

    from dlfs.__main__ import write_lab_settings
    app = LabApp()
    app.parse_command_line(jupyter_lab_options(tmp_path))
    assert app.news_url is None and app.check_for_updates_class.__name__ == "NeverCheckForUpdate"
    settings = write_lab_settings(tmp_path / "venv")
    overrides, error = _get_overrides(str(settings.parent.parent))
    assert not error
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}
