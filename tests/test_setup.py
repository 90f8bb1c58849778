"""The set-up files: requirements.txt and environment.yml agree, CI runs the README's test command,
and the run command serves notebook 01 from a real JupyterLab."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from course import REPO
from dlfs import workspace
from dlfs.__main__ import jupyter_lab_options


def _requirements():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    return sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _environment_dependencies():
    lines = (REPO / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:")
    deps = [re.sub(r"^\s*-\s*", "", line).strip() for line in lines[start + 1:] if line.strip().startswith("-")]
    return sorted(d for d in deps if not d.startswith(("python", "pip")))


def test_requirements_and_environment_list_the_same_ranges():
    assert _requirements() == _environment_dependencies()
    for requirement in _requirements():
        assert re.fullmatch(r"[a-z0-9_-]+>=[0-9.]+,<[0-9.]+", requirement), f"pin a range: {requirement}"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^(python3 -m dlfs \w+)", readme, re.M)
    assert commands[:2] == ["python3 -m dlfs start", "python3 -m dlfs test"]
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith(("#", "set ", "cd "))]
    # besides the test command: only the system packages the tests need (bubblewrap), if missing
    system = "\n".join(ci[:-1])
    assert ci[-1] == "python3 -m dlfs test"
    assert re.sub(r"apt-get install -y -qq bubblewrap|apt-get update -qq", "", system).count("apt-get") <= 1
    assert "pip" not in system and "python" not in system


def test_bootstrap_prints_usage_for_unknown_commands():
    result = subprocess.run([sys.executable, "-m", "dlfs", "nonsense"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "python3 -m dlfs start" in result.stdout


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_serves_the_learners_workspace(tmp_path):
    """What `python3 -m dlfs start` runs, headless, on a copy of the course: the workspace filled from the
    release, JupyterLab rooted at it lists notebook 01."""
    shutil.copytree(REPO / "notebooks", tmp_path / "course" / "notebooks")
    workspace_dir = workspace.prepare(tmp_path / "course")
    port, token = _free_port(), "dlfs-test-token"
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
            assert response.status == 200 and "JupyterLab" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
