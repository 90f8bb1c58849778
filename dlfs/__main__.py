"""The course's two set-up commands, using only the standard library.

    python3 -m dlfs start [JupyterLab options, e.g. --no-browser --port=8890]
                            # install into .venv, fill workspace/ from the release, open JupyterLab on it
    python3 -m dlfs test    # install into .venv, then run the whole test suite

and, for contributors and instructors:

    python3 -m dlfs install # only install (or refresh) .venv
    python3 -m dlfs release # rebuild solutions/*.ipynb and notebooks/ from the text sources
    python3 -m dlfs grade NN_topic [--student ID] [--no-sandbox] [--timeout S] [--workers N | --scheduler ADDR]
                            [--time-limit S] [--regrade] [--db postgresql://HOST/DB]
                            # grade autograder/submitted/*/NN_topic/ (dlfs/judge/grade.py)
    python3 -m dlfs check NN_topic | path/to/notebook.ipynb
                            # grade your own notebook, hidden tests included (dlfs/judge/check.py)
    python3 -m dlfs reset NN_topic ANSWER_ID
                            # put one answer cell of workspace/NN_topic/ back to its stub (dlfs/workspace.py)
    python3 -m dlfs progress
                            # per chapter: exercises attempted, visible tests passing (dlfs/progress.py)
    python3 -m dlfs runtime # the learner runtime for a class: a wheel of the support modules and the shipped
                            # datasets, no solution and no grader (dlfs/runtime.py)
    python3 -m dlfs class-env DIR [--python PY] [--exchange DIR] [--course-id ID]
                            # the environment a class's learners run, for a shared server (dlfs/classenv.py)

Run from any folder of the course with any Python >= 3.11: the first command, run from the root, registers
the course with that Python (dlfs/launcher.py), and links notebooks/, workspace/ and workspace/NN_topic/
to the package for a Python that has no per-user site-packages (dlfs/workspace.py, link_package). Every
command works on the course around the current folder. The virtual
environment lives in ``.venv`` at the repository root. A re-run skips pip when requirements.txt and
pyproject.toml have not changed since the last successful install.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

from dlfs import launcher, progress, workspace

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".dlfs-install-stamp"
USAGE = __doc__


def _install_fingerprint():
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _env_with_venv_on_path():
    # nbgrader runs `alembic` from PATH to create its gradebook: the venv's bin/
    # must come first for every command started from here.
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("PYTHONHOME", None)
    return env


class SetupError(Exception):
    """The set-up cannot go on; the message names the cause and the fix."""


def venv_works(python=PYTHON):
    """True if the virtual environment's Python runs and has pip (a .venv interrupted while it was being
    created has neither)."""
    try:
        return subprocess.run([str(python), "-c", "import pip"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def check_writable(root=ROOT):
    """SetupError unless the course folder can be written: .venv and workspace/ live in it."""
    if not os.access(root, os.W_OK):
        raise SetupError(f"you cannot write to {root}, where the course keeps its environment (.venv) and your "
                         "notebooks (workspace/). Clone the course into a folder you own (e.g. in your home "
                         "folder) and run the command there.")


def create_venv():
    """A new .venv (a broken one is removed first); SetupError if this Python cannot make one."""
    try:
        import ensurepip  # noqa: F401 - only its presence matters
    except ImportError:
        raise SetupError("this Python cannot create virtual environments with pip (ensurepip is missing). On "
                         f"Debian or Ubuntu: `sudo apt install python3-venv` (or python{sys.version_info.major}."
                         f"{sys.version_info.minor}-venv), then run the same command again.") from None
    if VENV.exists():
        print(f"[dlfs] {VENV} is incomplete (interrupted?): creating it again", flush=True)
        shutil.rmtree(VENV)
    print(f"[dlfs] creating the virtual environment {VENV}", flush=True)
    venv.EnvBuilder(with_pip=True).create(VENV)


def install():
    """Create .venv if needed and install the course into it (idempotent)."""
    if sys.version_info < (3, 11):
        sys.exit(f"This course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    check_writable()
    if not venv_works():
        create_venv()
        STAMP.unlink(missing_ok=True)
    write_lab_settings()
    fingerprint = _install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    print("[dlfs] installing the course's packages into .venv (a few minutes the first time):", flush=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check",
         "-r", str(ROOT / "requirements.txt"), "-e", str(ROOT)],
        check=True, env=_env_with_venv_on_path(),
    )
    STAMP.write_text(fingerprint)


# JupyterLab's file browser lists what a learner opens; the dlfs links (see link_package) are not theirs.
HIDDEN_IN_FILE_BROWSER = ("__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "dlfs")
# No news pop-up and no update check: the course runs offline, and the question distracts from it.
LAB_SETTINGS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def write_lab_settings(venv_dir=VENV):
    """Settings defaults for every JupyterLab of the course's environment: no news, no update checks
    (``share/jupyter/lab/settings/overrides.d/dlfs.json``, beside any overrides.json of the learner's)."""
    import json
    path = Path(venv_dir) / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "dlfs.json"
    text = json.dumps(LAB_SETTINGS, indent=2) + "\n"
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def jupyter_lab_options(workspace_dir=ROOT / "workspace"):
    """JupyterLab rooted at the learner's workspace/, opening on the start page, without news or update
    checks, and without the dlfs links in its file browser (JupyterLab refuses to run as root unless told:
    containers do)."""
    options = [f"--ServerApp.root_dir={workspace_dir}", f"--LabApp.default_url=/lab/tree/{progress.START_PAGE}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               *(f"--ContentsManager.hide_globs={glob}" for glob in HIDDEN_IN_FILE_BROWSER)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.append("--allow-root")
    return options


def _run_in_venv(args, stop_on_interrupt=False):
    """Run ``python -m <args>`` with the venv's interpreter; return its exit code.

    Ctrl-C never ends this with a traceback. By default it reaches the child too (same process group) and
    this waits for the child to finish. With ``stop_on_interrupt`` the child runs in its own session, out
    of the terminal's reach, and a Ctrl-C here asks it to stop with SIGTERM: JupyterLab then shuts down
    at once, kernels and runtime files included (a SIGINT would make it ask "Shutdown this Jupyter server
    (y/[n])?" on a terminal, and leave its runtime files behind without one)."""
    child = subprocess.Popen([str(PYTHON), *args], cwd=ROOT, env=_env_with_venv_on_path(),
                             start_new_session=stop_on_interrupt)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            if stop_on_interrupt and child.poll() is None:
                print("\n[dlfs] stopping JupyterLab...", flush=True)
                child.terminate()


def reset_command(arguments):
    """python3 -m dlfs reset NN_topic ANSWER_ID (standard library only: no install needed)."""
    if len(arguments) != 2:
        print("usage: python3 -m dlfs reset NN_topic ANSWER_ID   e.g. python3 -m dlfs reset 01_linear_regression mse_loss")
        return 2
    try:
        path = workspace.reset(ROOT, *arguments)
    except workspace.ResetError as error:
        print(f"[dlfs] nothing was reset: {error}")
        return 1
    print(f"[dlfs] {arguments[1]} in {path.relative_to(ROOT)} is back to its stub; every other cell is as it was. "
          "Reload the notebook in JupyterLab (File > Reload Notebook from Disk).")
    return 0


def link_package_everywhere(root=ROOT):
    """The dlfs links that let ``python3 -m dlfs`` run from notebooks/, workspace/ and workspace/NN_topic/
    (those that exist; a folder that cannot be written is skipped)."""
    folders = [root / "notebooks", root / "workspace"]
    if (root / "workspace").is_dir():
        folders += sorted(p for p in (root / "workspace").iterdir() if p.is_dir() and p.name[:2].isdigit())
    for folder in folders:
        workspace.link_package(folder, root)


def main(argv):
    other_course = launcher.should_hand_over(ROOT)
    if other_course is not None:
        return launcher.hand_over(other_course, argv)
    link_package_everywhere()
    registered = launcher.register(ROOT)
    if registered is not None:
        print(f"[dlfs] `python3 -m dlfs` now works from any folder of the course (a link to it: {registered})",
              flush=True)
    if argv[:1] == ["reset"]:
        return reset_command(argv[1:])
    if argv == ["progress"]:
        return progress.main()
    takes_arguments = {"grade", "check", "start", "class-env"}
    if not argv or argv[0] not in {"test", "install", "release", "runtime"} | takes_arguments \
            or (argv[0] not in takes_arguments and len(argv) != 1):
        print(USAGE)
        return 2
    command = argv[0]
    try:
        install()
    except SetupError as error:
        print(f"[dlfs] {error}")
        return 1
    except KeyboardInterrupt:
        print("\n[dlfs] installation interrupted (pip was stopped); run the same command again to finish it.")
        return 130
    except subprocess.CalledProcessError as error:
        print(f"[dlfs] installation failed ({error}). pip's messages above say why: often no connection to "
              "PyPI; run the same command again when it is back.")
        return 1
    if command == "install":
        return 0
    if command == "start":                # JupyterLab's own options pass through: --no-browser, --port=8890
        workspace.prepare(ROOT)
        progress.write_start_page(ROOT)
        code = _run_in_venv(["-m", "jupyter", "lab", *jupyter_lab_options(), *argv[1:]], stop_on_interrupt=True)
        return 0 if code in (0, -signal.SIGTERM) else code
    if command == "test":
        return _run_in_venv(["-m", "pytest", "tests"])
    if command == "runtime":
        return _run_in_venv(["-m", "dlfs.runtime"])
    if command == "class-env":
        return _run_in_venv(["-m", "dlfs.classenv", *argv[1:]])
    if command in takes_arguments:     # (it runs at the root: a notebook path is made absolute first)
        arguments = [str(Path(a).resolve()) if a.endswith(".ipynb") else a for a in argv[1:]]
        return _run_in_venv(["-m", f"dlfs.judge.{command}", *arguments])
    return _run_in_venv(["-m", "dlfs.build"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
