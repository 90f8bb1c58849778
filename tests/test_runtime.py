"""The learner runtime (dlfs/runtime.py): a wheel with what learners' kernels need and none of the course's secrets,
proven by installing it with pip and running a chapter where the course folder cannot be reached."""

import ast
import hashlib
import os
import shutil
import json
import subprocess
import sys
import sysconfig
import zipfile

import nbformat
import pytest
from nbclient import NotebookClient

from course import REPO
from dlfs import runtime
from dlfs.data import DATASETS


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return runtime.build_wheel(tmp_path_factory.mktemp("runtime"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """The wheel installed by pip into a folder of its own, as `pip install` puts it into a class's environment."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(target), str(wheel)], check=True)
    return target


# A learner's Python: this interpreter without its site initialisation (-S), so that the course's own editable
# install of dlfs (a .pth file in site-packages) is not loaded; the runtime first on the path, then the packages.
LEARNER_PYTHON = [sys.executable, "-S"]


def _learner_env(installed, home):
    """An environment in which `import dlfs` finds the runtime and only the runtime."""
    env = {k: v for k, v in os.environ.items() if k not in ("DLFS_DATA_DIR", "PYTHONPATH")}
    env.update(PYTHONPATH=os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]]), HOME=str(home),
               MPLBACKEND="Agg")
    return env


def test_the_wheel_holds_the_learner_modules_and_the_shipped_data_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        modules = sorted(n for n in names if n.startswith("dlfs/") and n.endswith(".py"))
        assert modules == sorted(f"dlfs/{m}.py" for m in runtime.LEARNER_MODULES)
        assert not [n for n in names if "judge" in n or "solutions" in n or n.endswith(("build.py", "__main__.py"))]
        shipped = [remote for files in DATASETS.values() for remote in files.values() if remote.ships]
        for remote in shipped:
            data = archive.read(f"dlfs/datasets/{remote.path}")
            assert hashlib.sha256(data).hexdigest() == remote.sha256, remote.path
        assert not [n for n in names if "/cache/" in n]               # downloads are never packaged
        metadata = archive.read("dlfs_runtime-0.1.0.dist-info/METADATA").decode()
        assert "Name: dlfs-runtime" in metadata
        assert {line.split(":", 1)[1].split(">")[0].split("=")[0].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")} == set(runtime.REQUIREMENTS)


def test_the_learner_modules_import_only_each_other():
    for module in runtime.LEARNER_MODULES:
        tree = ast.parse((REPO / "dlfs" / f"{module}.py").read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        ours = {name.split(".")[1] for name in imported if name.startswith("dlfs.")}
        assert ours <= set(runtime.LEARNER_MODULES), (module, ours - set(runtime.LEARNER_MODULES))


def test_the_same_sources_give_the_same_wheel(wheel, tmp_path):
    assert runtime.build_wheel(tmp_path).read_bytes() == wheel.read_bytes()


def test_installed_runtime_loads_every_shipped_dataset_from_the_package(installed, tmp_path):
    script = ("import dlfs, dlfs.data as d\n"
              "print(dlfs.__file__)\n"
              "print(d.data_dir())\n"
              "d.load_mnist(n_train=10, n_test=10); d.load_fashion_mnist(n_train=10, n_test=10)\n"
              "x, t = d.load_cifar10_sample(); print(x.shape, d.cifar10_label_names()[t[0]])\n"
              "try:\n"
              "    import dlfs.judge\n"
              "except ImportError:\n"
              "    print('no grader')\n"
              "try:\n"
              "    d.load_cifar10()\n"
              "except d.DatasetError as error:\n"
              "    print(error)\n")
    done = subprocess.run([*LEARNER_PYTHON, "-c", script], cwd=tmp_path, env=_learner_env(installed, tmp_path),
                          capture_output=True, text=True, check=True)
    package, data, sample, grader, cifar = done.stdout.splitlines()[:5]
    assert package == str(installed / "dlfs" / "__init__.py")
    assert data == str(installed / "dlfs" / "datasets")
    assert sample == "(20, 32, 32, 3) cat"
    assert grader == "no grader"
    # a download on demand goes to the learner's own cache, not into the shared, read-only package
    assert str(tmp_path / ".cache" / "dlfs" / "cache" / "cifar-10-python.tar.gz") in cifar


def test_a_damaged_packaged_file_names_the_fix_a_learner_can_make(installed, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(installed, copy)
    (copy / "dlfs" / "datasets" / "cifar10-sample" / "batches.meta").write_bytes(b"damaged")
    done = subprocess.run([*LEARNER_PYTHON, "-c", "import dlfs.data as d; d.cifar10_label_names()"], cwd=tmp_path,
                          env=_learner_env(copy, tmp_path), capture_output=True, text=True)
    assert done.returncode != 0
    assert "install the course's learner runtime again" in done.stderr
    assert "git" not in done.stderr.splitlines()[-1]


def test_a_chapter_runs_on_the_runtime_alone(installed, built_course, tmp_path):
    """A chapter's release folder (with its provided/), its answers filled in, executed by a kernel that has the
    runtime and not the course: every cell runs and every test passes, hidden tests included. (Chapter 02: MNIST and
    the earlier chapter's provided module; every dataset is loaded from the runtime by the test above.)"""
    chapter = "02_softmax"
    folder = tmp_path / "learner" / chapter
    shutil.copytree(built_course.root / "notebooks" / chapter, folder)
    notebook = built_course.source(chapter)
    for cell in notebook.cells:
        cell.metadata.get("nbgrader", {}).pop("solution", None)
    home = tmp_path / "home"
    kernels = tmp_path / "jupyter" / "kernels" / "learner"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({"argv": [*LEARNER_PYTHON, "-m", "ipykernel_launcher", "-f",
                                                              "{connection_file}"],
                                                     "display_name": "learner", "language": "python"}))
    home.mkdir()
    env = dict(_learner_env(installed, home), JUPYTER_PATH=str(tmp_path / "jupyter"))
    notebook.cells.insert(0, nbformat.v4.new_code_cell("import dlfs\nassert dlfs.__file__.startswith(%r), dlfs.__file__"
                                                       % str(installed)))
    saved = os.environ.copy()
    os.environ.clear()
    os.environ.update(env)
    try:
        NotebookClient(notebook, timeout=120, kernel_name="learner",
                       resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    errors = [output for cell in notebook.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert errors == []


def test_the_runtime_command_writes_the_wheel_and_says_how_to_install_it(tmp_path):
    done = subprocess.run([sys.executable, "-m", "dlfs.runtime", str(tmp_path)], cwd=REPO, capture_output=True,
                          text=True, check=True)
    wheel = tmp_path / "dlfs_runtime-0.1.0-py3-none-any.whl"
    assert wheel.is_file() and zipfile.is_zipfile(wheel)
    assert f"pip install {wheel}" in done.stdout and "no grader" in done.stdout


@pytest.mark.parametrize("argv, expected", [(["runtime"], ["-m", "dlfs.runtime"]),
                                            (["class-env", "/opt/class", "--exchange", "/srv/x"],
                                             ["-m", "dlfs.classenv", "/opt/class", "--exchange", "/srv/x"])])
def test_python3_m_dlfs_runs_the_class_builders_in_the_course_environment(monkeypatch, argv, expected):
    import dlfs.__main__ as commands

    ran = []
    monkeypatch.setattr(commands, "install", lambda: None)
    monkeypatch.setattr(commands, "_run_in_venv", lambda args, **_: ran.append(args) or 0)
    monkeypatch.setattr(commands.launcher, "should_hand_over", lambda root: None)
    monkeypatch.setattr(commands.launcher, "register", lambda root: None)
    monkeypatch.setattr(commands, "link_package_everywhere", lambda: None)
    assert commands.main(argv) == 0
    assert ran == [expected]
