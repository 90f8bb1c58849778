"""``python3 -m dlfs`` from any folder of the course (standard library only).

``python3 -m dlfs`` finds the package in the folder it is run from or on the Python's path, so from a
chapter folder it would fail with Python's "No module named dlfs". Two things make it work everywhere:

- the course's commands register the course with the Python that ran them: a link ``dlfs`` in that
  Python's per-user site-packages (``~/.local/lib/python3.X/site-packages/``, the folder ``pip install
  --user`` writes to) pointing at the course's ``dlfs/``. It is made once, never replaces a package
  that is already there, and is repaired when it points at a course that is gone;
- a command run inside a course other than the one the package belongs to (a second clone) hands over
  to that course's own package, so a command always works on the course around the folder it is run in.

(The links of ``workspace.link_package`` in notebooks/ and workspace/ serve a Python without a per-user
site-packages, e.g. one of a virtual environment.)
"""

import os
import site
import subprocess
import sys
from pathlib import Path

PACKAGE = "dlfs"
HANDED_OVER = "DLFS_HANDED_OVER_TO"


def is_course(folder):
    """True if ``folder`` is a course's root: it holds the package and the project file."""
    folder = Path(folder)
    return (folder / PACKAGE / "__main__.py").is_file() and (folder / "pyproject.toml").is_file()


def course_around(folder):
    """The root of the course that contains ``folder`` (or is it), or None outside any course."""
    folder = Path(folder).resolve()
    return next((f for f in (folder, *folder.parents) if is_course(f)), None)


def user_link():
    """Where the registration link goes, or None when this Python reads no per-user site-packages (a
    virtual environment, ``python3 -s``, PYTHONNOUSERSITE)."""
    if sys.prefix != sys.base_prefix or not site.ENABLE_USER_SITE:
        return None
    return Path(site.getusersitepackages()) / PACKAGE


def register(root):
    """Link this Python's per-user site-packages to ``root``'s package, unless a working ``dlfs`` is there
    already. Returns the link when it was made now, else None (also when it cannot be made: a home
    folder that cannot be written costs only this convenience)."""
    link, package = user_link(), Path(root).resolve() / PACKAGE
    if link is None or (link / "__main__.py").is_file():
        return None
    if link.exists() and not link.is_symlink():       # something else of that name: not ours to touch
        return None
    try:
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():                           # pointing at a course that was deleted or moved
            link.unlink()
        link.symlink_to(package, target_is_directory=True)
    except (OSError, NotImplementedError):
        return None
    return link


def hand_over(course, argv):
    """Run ``python -m dlfs argv`` with ``course``'s own package (from its root folder, where Python finds
    it first), with notebook paths made absolute first; returns its exit code (on POSIX it replaces this
    process, so Ctrl-C and exit codes behave exactly as if that package had been run directly)."""
    arguments = [str(Path(a).resolve()) if a.endswith(".ipynb") else a for a in argv]
    command = [sys.executable, "-m", PACKAGE, *arguments]
    env = {**os.environ, HANDED_OVER: str(course)}      # never twice, whatever links that course has
    if os.name == "posix":
        os.chdir(course)
        os.execve(sys.executable, command, env)
    return subprocess.call(command, cwd=course, env=env)


def should_hand_over(root):
    """The course around the current folder if it is not ``root`` (the course this package belongs to)
    and this run was not handed over already; else None."""
    course = course_around(Path.cwd())
    if course is None or course == Path(root).resolve() or os.environ.get(HANDED_OVER):
        return None
    return course
