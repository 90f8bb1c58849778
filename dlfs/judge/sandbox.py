"""A bubblewrap sandbox for a learner's kernel.

The kernel sees a read-only system (/usr), the course runtime read-only (the Python installation, the
virtual environment, the `dlfs` package, the datasets), its own writable copy of the submission, an
empty /tmp and home, and nothing else: not `solutions/`, not the gradebook, not other submissions,
not the instructor's home. It has no network, its own PID namespace (every process it starts dies
with it), a new session (no terminal to inject into), and an address-space limit.

It talks to the grader over Unix sockets in one shared directory (Jupyter's "ipc" transport), the only
other path it can write.
"""

import os
import shutil
import sys
from pathlib import Path

import dlfs
from dlfs.data import data_dir

MEMORY_LIMIT = 6 * 1024 ** 3     # bytes of address space for the kernel and everything it starts


class SandboxUnavailable(RuntimeError):
    """No working bubblewrap on this machine."""


def available():
    """True if bubblewrap is installed (``apt install bubblewrap``)."""
    return shutil.which("bwrap") is not None


def _system_binds():
    binds = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            binds += ["--ro-bind", str(path), str(path)]
    return binds


def runtime_paths():
    """The directories a learner's kernel needs to read: Python, the venv, dlfs, the datasets."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(dlfs.__file__).resolve().parent, Path(data_dir()).resolve()}
    return sorted(p for p in paths if p.exists() and not str(p).startswith("/usr"))


def wrap(argv, workdir, shared, memory_limit=MEMORY_LIMIT):
    """``argv`` as a command that runs inside the sandbox, in ``workdir`` (read-write), with the
    directory ``shared`` (read-write) for the kernel's sockets."""
    if not available():
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: `apt install bubblewrap`, or grade "
                                 "with --no-sandbox on a machine you trust the submissions not to harm.")
    command = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", *_system_binds(),
               "--ro-bind-try", "/etc/fonts", "/etc/fonts",
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/home"]
    for path in runtime_paths():
        command += ["--ro-bind", str(path), str(path)]
    workdir, shared = str(Path(workdir).resolve()), str(Path(shared).resolve())
    command += ["--bind", workdir, workdir, "--bind", shared, shared, "--chdir", workdir,
                "--clearenv", "--setenv", "HOME", "/tmp/home", "--setenv", "PATH", "/usr/bin:/bin",
                "--setenv", "MPLBACKEND", "Agg", "--setenv", "MPLCONFIGDIR", "/tmp/home",
                "--setenv", "DLFS_DATA_DIR", str(Path(data_dir()).resolve()),
                "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
                # the kernel imports the grader's own dlfs (only that package of its folder is visible)
                "--setenv", "PYTHONPATH", str(Path(dlfs.__file__).resolve().parent.parent),
                "--", "prlimit", f"--as={int(memory_limit)}", "--"]
    return command + list(argv)
