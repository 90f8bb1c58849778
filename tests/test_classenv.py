"""The class environment (dlfs/classenv.py): the Python it is built from must be one every user can run. Built for
real and used by other, unprivileged users: tests/test_classroom_round_trip.py, which follows CLASSROOM.md."""

import shutil
import tempfile
from pathlib import Path

import pytest

from dlfs import classenv

SYSTEM_PYTHON = "/usr/bin/python3"   # .ci/run installs python3-venv for it


@pytest.fixture
def open_folder():
    """A folder every user may enter (pytest's own tmp_path lies under a folder private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="dlfs-class-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_folder_closed_to_other_users_is_found_on_the_way_to_a_python(open_folder):
    private = open_folder / "home"
    private.mkdir(mode=0o700)
    (private / "python3").symlink_to(SYSTEM_PYTHON)
    assert classenv.not_executable_by_all(private / "python3") == private
    assert classenv.not_executable_by_all(SYSTEM_PYTHON) is None
    with pytest.raises(classenv.ClassEnvError, match=f"cannot be run by other users \\({private} is not open"):
        classenv.build(open_folder / "env", python=str(private / "python3"))
    assert not (open_folder / "env").exists()
