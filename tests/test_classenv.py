"""The class environment (dlfs/classenv.py), built for real from the system's Python and used as a learner would:
by another, unprivileged user."""

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
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


@pytest.fixture
def learner():
    """A real unprivileged user for the test (root only: CI runs as root), removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("creating a learner's user account needs root (CI runs as root)")
    name = f"dlfs{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=True)


def test_the_class_environment_runs_for_another_user_without_the_instructor_extensions(learner, open_folder):
    folder = open_folder
    python = classenv.build(folder / "env", python=SYSTEM_PYTHON, exchange="/srv/exchange-of-the-test",
                            course_id="ml101", log=lambda *_: None, wheel_dir=folder / "wheel")
    home = folder / "home"
    home.mkdir()
    os.chown(home, pwd.getpwnam(learner).pw_uid, -1)

    def as_learner(*command):
        done = subprocess.run(["runuser", "-u", learner, "--", "env", f"HOME={home}", *command], cwd=home,
                              capture_output=True, text=True, check=True)
        return done.stdout + done.stderr

    imported = as_learner(str(python), "-c", "import dlfs, dlfs.data as d, nbgrader; d.load_mnist(n_train=5); "
                                             "print(dlfs.__file__); print(d.data_dir())")
    package, data = imported.split()
    assert package.startswith(str(folder / "env")) and data.endswith("site-packages/dlfs/datasets")
    servers = as_learner(str(folder / "env" / "bin" / "jupyter"), "server", "extension", "list")
    listing = as_learner(str(folder / "env" / "bin" / "jupyter"), "labextension", "list")
    config = as_learner(str(python), "-c", "from nbgrader.apps import NbGrader; app = NbGrader(); "
                                           "app.load_config_file(); print(app.config.CourseDirectory.course_id, "
                                           "app.config.Exchange.root)")
    assert config.split()[-2:] == ["ml101", "/srv/exchange-of-the-test"]
    enabled = {line.split()[0]: "enabled" in line for line in servers.splitlines()
               if line.strip().startswith("nbgrader.server_extensions.") and ("enabled" in line or "disabled" in line)}
    assert enabled == {"nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.course_list": False,
                       "nbgrader.server_extensions.assignment_list": True,
                       "nbgrader.server_extensions.validate_assignment": True}
    assert "Disabled extensions" in listing
    for plugin in classenv.INSTRUCTOR_LAB_PLUGINS:
        assert plugin in listing.split("Disabled extensions")[1]
    assert "assignment-list" not in listing.split("Disabled extensions")[1]
