"""The environment a class's learners run: JupyterLab, nbgrader's learner side and the learner runtime.

    python3 -m dlfs class-env /opt/dlfs-class [--python /usr/bin/python3] [--exchange /srv/nbgrader/exchange]

On a shared server every learner runs JupyterLab and their kernels from one environment, which the
instructor builds and every user must be able to execute. This builds it:

1. a virtual environment at the given folder, from a Python that every user can read and execute
   (by default the system's ``/usr/bin/python3``; a Python under a private home, like a pyenv build
   under ``/root``, cannot be run by other users, and is refused with that reason);
2. the packages a learner needs (JupyterLab, nbgrader, ipykernel, ipywidgets, numpy, matplotlib, with
   requirements.txt's ranges) and the learner runtime (``python3 -m dlfs runtime``): the support modules
   and datasets, no solution and no grader;
3. nbgrader's instructor extensions turned off in it — the Formgrader, "Create assignment" and the
   course list — so learners see only the Assignments panel and Validate;
4. ``etc/jupyter/nbgrader_config.py`` inside it, which every nbgrader command run from it reads: the
   course id and the exchange folder;
5. every file readable (and every folder and program executable) by every user;
6. the same course id and exchange for the instructor's nbgrader commands, in ``autograder/class.json``,
   which the course's ``nbgrader_config.py`` reads: both sides of the exchange agree by construction.

CLASSROOM.md is the deployment guide that uses it, step by step.
"""

import argparse
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from dlfs import runtime

ROOT = Path(__file__).resolve().parent.parent
LEARNER_PACKAGES = ("jupyterlab", "nbgrader", "ipykernel", "ipywidgets", "numpy", "matplotlib")  # pinned where
# requirements.txt pins them (ipykernel comes with JupyterLab's own dependencies in the course's .venv)
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list")
NBGRADER_CONFIG = '''"""nbgrader's settings for every learner of the class (written by python3 -m dlfs class-env)."""
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
'''


class ClassEnvError(Exception):
    """The environment cannot be built as asked; the message says why and what to do."""


def not_executable_by_all(path):
    """The first folder or file on the way to ``path`` — as given, and where its symlinks lead — that other users
    cannot enter, read or run, or None."""
    given, resolved = Path(os.path.abspath(path)), Path(path).resolve()
    for end in (given, resolved):
        for part in [*reversed(end.parents), end]:
            mode = part.stat().st_mode       # (follows a symlink: what matters is what it leads to)
            needed = stat.S_IXOTH | (stat.S_IROTH if part == end else 0)
            if mode & needed != needed:
                return part
    return None


def learner_requirements(root=ROOT):
    """The LEARNER_PACKAGES, with requirements.txt's ranges where it pins them."""
    pins = runtime.pinned(root)
    return [pins.get(name, name) for name in LEARNER_PACKAGES]


def class_settings_file(root=ROOT):
    """Where the class's course id and exchange are kept for the instructor's nbgrader commands."""
    return Path(root) / "autograder" / "class.json"


def class_settings(root=ROOT):
    """{"course_id", "exchange"} that class-env gave the learners' environment, or None before it ran."""
    path = class_settings_file(root)
    return json.loads(path.read_text()) if path.is_file() else None


def build(target, python="/usr/bin/python3", exchange="/srv/nbgrader/exchange", course_id="dlfs", root=ROOT,
          log=print, wheel_dir=None, settings_file=None):
    """Build the class environment at ``target`` (see the module docstring); returns its Python. The learner
    runtime's wheel is written to ``wheel_dir`` (default autograder/runtime/), the class settings to
    ``settings_file`` (default autograder/class.json)."""
    target = Path(target).resolve()
    private = not_executable_by_all(python)
    if private is not None:
        raise ClassEnvError(f"{python} cannot be run by other users ({private} is not open to them): learners "
                            "could not start the environment. Use a Python every user can execute, e.g. the "
                            "system's /usr/bin/python3 (Debian/Ubuntu: apt install python3-venv).")
    log(f"[class-env] creating {target} from {python}")
    subprocess.run([python, "-m", "venv", "--clear", str(target)], check=True)
    env_python = target / "bin" / "python"
    wheel = runtime.build_wheel(wheel_dir, root=root)
    log(f"[class-env] installing {', '.join(LEARNER_PACKAGES)} and the learner runtime ({wheel.name})")
    subprocess.run([str(env_python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off",
                    *learner_requirements(root), str(wheel)], check=True)
    jupyter = str(target / "bin" / "jupyter")
    for extension in INSTRUCTOR_SERVER_EXTENSIONS:
        subprocess.run([jupyter, "server", "extension", "disable", "--sys-prefix", extension], check=True,
                       capture_output=True)
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        subprocess.run([jupyter, "labextension", "disable", "--level=sys_prefix", plugin], check=True,
                       capture_output=True)
    config = target / "etc" / "jupyter" / "nbgrader_config.py"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(NBGRADER_CONFIG.format(course_id=course_id, exchange=str(exchange)))
    settings_file = Path(settings_file or class_settings_file(root))
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps({"course_id": course_id, "exchange": str(exchange)}, indent=1) + "\n")
    for folder, _, files in os.walk(target):
        for path in [Path(folder), *(Path(folder) / name for name in files)]:
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | stat.S_IROTH | stat.S_IRGRP | (stat.S_IXOTH | stat.S_IXGRP
                                                                   if mode & stat.S_IXUSR else 0))
    log(f"[class-env] done: learners start `{jupyter} lab`; nbgrader there uses course {course_id!r} and the "
        f"exchange {exchange}, without the Formgrader and Create assignment; your nbgrader commands in the course use "
        f"the same course id and exchange ({settings_file})")
    return env_python


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m dlfs class-env", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="the folder of the environment, e.g. /opt/dlfs-class")
    parser.add_argument("--python", default="/usr/bin/python3", help="a Python every user can execute")
    parser.add_argument("--exchange", default="/srv/nbgrader/exchange", help="nbgrader's exchange folder")
    parser.add_argument("--course-id", default="dlfs")
    arguments = parser.parse_args(argv)
    try:
        build(arguments.target, arguments.python, arguments.exchange, arguments.course_id)
    except ClassEnvError as error:
        print(f"[class-env] {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
