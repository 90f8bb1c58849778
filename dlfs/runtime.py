"""The learner runtime: what a learner's kernel needs, as one wheel an instructor installs for a class.

    python3 -m dlfs runtime       # -> autograder/runtime/dlfs_runtime-<version>-py3-none-any.whl

In a classroom the learners must not read the course folder: ``solutions/`` holds every solution and
hidden test, ``autograder/`` the submissions and the gradebook. Their kernels need only the support
modules the notebooks import (data loading, gradient checks, the checks of the visible tests, plots
and widgets) and the datasets the course ships. This wheel holds exactly that: the distribution
``dlfs-runtime`` with the import package ``dlfs`` (the modules of LEARNER_MODULES) and the shipped
data files under ``dlfs/datasets/``. It holds none of the grading machinery (``dlfs.judge``), the build,
the course commands or anything of ``solutions/``; each chapter's building blocks travel with its
release folder (``provided/``), which is all a learner receives of earlier solutions.

Install it where the learners' kernels run (a JupyterHub's shared environment), e.g.
``pip install autograder/runtime/dlfs_runtime-0.1.0-py3-none-any.whl``; it declares the packages its
modules import (numpy, matplotlib, ipywidgets, with the ranges of requirements.txt). It is built with the
standard library only (a wheel is a zip with a ``.dist-info`` folder), the same bytes for the same
sources.
"""

import base64
import hashlib
import re
import sys
import tomllib
import zipfile
from pathlib import Path

from dlfs.data import DATASETS

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "dlfs-runtime"
# the modules a learner's kernel imports (directly or through each other), and nothing that grades or builds
LEARNER_MODULES = ("__init__", "convviz", "data", "diagnostics", "explorer", "gradcheck", "grading", "monitor",
                   "playground", "plots", "synthetic")
# what those modules import, pinned as in requirements.txt
REQUIREMENTS = ("numpy", "matplotlib", "ipywidgets")
PACKAGED_DATASETS = "dlfs/datasets"      # where the wheel keeps the shipped data (dlfs.data looks there)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)      # zip timestamps, so that the same sources give the same bytes


def version(root=ROOT):
    """The course package's version, from pyproject.toml."""
    return tomllib.loads((Path(root) / "pyproject.toml").read_text())["project"]["version"]


def pinned(root=ROOT):
    """{package name (lower case): its line in requirements.txt} for every package requirements.txt pins."""
    pins = {}
    for line in (Path(root) / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        name = re.match(r"[A-Za-z0-9_.-]+", line)
        if name:
            pins[name.group().lower()] = line
    return pins


def requirements(root=ROOT):
    """The Requires-Dist lines of the runtime: the REQUIREMENTS as requirements.txt pins them."""
    pins = pinned(root)
    missing = [name for name in REQUIREMENTS if name not in pins]
    if missing:
        raise SystemExit(f"requirements.txt does not pin {', '.join(missing)}, which the learner runtime needs")
    return [pins[name] for name in REQUIREMENTS]


def shipped_data(root=ROOT):
    """(path in the wheel, file) of every data file the course ships (dlfs.data's registry, not downloads)."""
    files = [remote for dataset in DATASETS.values() for remote in dataset.values() if remote.ships]
    return [(f"{PACKAGED_DATASETS}/{remote.path}", Path(root) / "datasets" / remote.path) for remote in files]


def _metadata(root):
    lines = ["Metadata-Version: 2.1", f"Name: {DISTRIBUTION}", f"Version: {version(root)}",
             "Summary: The learner runtime of the course Deep Learning from Scratch, graded: the support "
             "modules learners' notebooks import and the datasets the course ships (no solutions, no grader)",
             "Requires-Python: >=3.11", *(f"Requires-Dist: {r}" for r in requirements(root))]
    return "\n".join(lines) + "\n"


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def contents(root=ROOT):
    """{path in the wheel: bytes}, the .dist-info folder included, in the order they are written."""
    root = Path(root)
    files = {f"dlfs/{module}.py": (root / "dlfs" / f"{module}.py").read_bytes() for module in LEARNER_MODULES}
    for name, path in shipped_data(root):
        if not path.is_file():
            raise SystemExit(f"{path} is missing: the learner runtime ships every dataset file of the course "
                             "(python -m dlfs.data verify says which are damaged)")
        files[name] = path.read_bytes()
    info = f"{DISTRIBUTION.replace('-', '_')}-{version(root)}.dist-info"
    files[f"{info}/METADATA"] = _metadata(root).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: dlfs.runtime\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/top_level.txt"] = b"dlfs\n"
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    return files


def build_wheel(out_dir=None, root=ROOT):
    """Write the wheel into ``out_dir`` (default autograder/runtime/) and return its path."""
    root = Path(root)
    out_dir = Path(out_dir or root / "autograder" / "runtime")
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{DISTRIBUTION.replace('-', '_')}-{version(root)}-py3-none-any.whl"
    partial = wheel.with_suffix(".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents(root).items():
            entry = zipfile.ZipInfo(name, _FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    partial.replace(wheel)
    return wheel


def main(argv=()):
    out_dir = argv[0] if argv else None
    wheel = build_wheel(out_dir)
    size = wheel.stat().st_size / 1e6
    print(f"{wheel} ({size:.1f} MB): the learner runtime. Install it where your learners' kernels run, e.g.\n"
          f"  pip install {wheel}\n"
          "It holds the support modules the notebooks import and the shipped datasets; no solution, no hidden "
          "test, no grader. Hand out each chapter's release folder (notebooks/NN_topic/, with its provided/).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
