"""Datasets the course ships, verified by SHA-256, and the download path for the rest.

Offline first: MNIST ships in ``datasets/mnist/`` as the four original IDX gzip
files. Every load checks the file's SHA-256, so a truncated or edited file is
reported by name with a fix instead of turning into silent garbage.

With a network, :func:`fetch` downloads a missing file: it streams into a
temporary file next to the target, checks size and SHA-256, and only then
renames it into place, so an interrupted or corrupt download leaves nothing
half-written behind.

Command line (with the course's Python, e.g. ``.venv/bin/python``; the error messages print the exact
command for this machine, which works from any folder)::

    python -m dlfs.data verify            # check every shipped file
    python -m dlfs.data download mnist    # download the MNIST files that are missing or damaged, with a network
"""

import functools
import gzip
import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_REPO_DATASETS = Path(__file__).resolve().parent.parent / "datasets"


class DatasetError(RuntimeError):
    """A dataset file is missing, truncated, corrupt or fails its checksum."""


class Offline(DatasetError):
    """No source of a file could be reached (no network): said in one line."""


@dataclass(frozen=True)
class RemoteFile:
    """One data file: where it lives under the data directory, its checksum, and its sources."""

    path: str          # relative to the data directory, e.g. "mnist/t10k-labels-idx1-ubyte.gz"
    sha256: str
    size: int
    urls: tuple        # tried in order


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


def _mnist_file(name, sha256, size):
    return RemoteFile(f"mnist/{name}", sha256, size, tuple(m + name for m in _MNIST_MIRRORS))


MNIST_FILES = {
    "train_images": _mnist_file("train-images-idx3-ubyte.gz",
                                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    "train_labels": _mnist_file("train-labels-idx1-ubyte.gz",
                                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    "test_images": _mnist_file("t10k-images-idx3-ubyte.gz",
                               "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    "test_labels": _mnist_file("t10k-labels-idx1-ubyte.gz",
                               "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
}

DATASETS = {"mnist": MNIST_FILES}


def data_dir():
    """The directory holding the data files.

    ``$DLFS_DATA_DIR`` if set; else the repository's ``datasets/`` (the course as
    cloned); else ``~/.cache/dlfs`` (the package installed on its own).
    """
    if os.environ.get("DLFS_DATA_DIR"):
        return Path(os.environ["DLFS_DATA_DIR"])
    if _REPO_DATASETS.is_dir():
        return _REPO_DATASETS
    return Path.home() / ".cache" / "dlfs"


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _command(*words):
    """A command line to paste into this machine's terminal."""
    return subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)


def download_command(dataset):
    """The command that downloads a dataset's missing or damaged files, from any folder: this Python
    (the course's, which has dlfs installed) runs dlfs.data."""
    return _command(sys.executable, "-m", "dlfs.data", "download", dataset)


def _how_to_fix(remote, directory):
    """How to get a good copy of ``remote`` back into ``directory``: commands that work from any folder."""
    directory = Path(directory).resolve()
    dataset, target = remote.path.split("/")[0], directory / remote.path
    if directory == _REPO_DATASETS and (directory.parent / ".git").exists():
        restore = _command("git", "-C", str(directory.parent), "checkout", "--", f"datasets/{remote.path}")
        return (f"To fix it (from any folder): `{restore}` restores the file the course ships; or, with a network, "
                f"`{download_command(dataset)}` downloads the missing or damaged files again.")
    if directory == Path(data_dir()).resolve():
        return (f"To fix it (from any folder), with a network: `{download_command(dataset)}` downloads the missing "
                f"or damaged files; or copy a good {remote.path} to {target}.")
    return f"To fix it: copy a good {remote.path} (SHA-256 {remote.sha256}) to {target}."


def verify(remote, directory=None):
    """Return the path of ``remote`` under ``directory`` after checking it exists and its SHA-256.

    Raises:
        DatasetError: naming the file, what is wrong with it and how to fix it.
    """
    directory = Path(directory or data_dir())
    path = directory / remote.path
    if not path.is_file():
        raise DatasetError(f"Missing data file {path}. {_how_to_fix(remote, directory)}")
    size = path.stat().st_size
    if size != remote.size:
        raise DatasetError(f"Data file {path} has {size} bytes, expected {remote.size}: it is truncated "
                           f"or is not the published file. {_how_to_fix(remote, directory)}")
    actual = sha256_of(path)
    if actual != remote.sha256:
        raise DatasetError(f"Data file {path} fails its checksum (SHA-256 {actual}, expected "
                           f"{remote.sha256}): it is corrupt or was modified. {_how_to_fix(remote, directory)}")
    return path


def fetch(remote, directory=None, urls=None):
    """Download ``remote`` into ``directory`` (atomically), verify it, and return its path.

    Each URL is tried in turn. Bytes stream into a temporary file in the target
    directory; only a file with the right size and SHA-256 is renamed into place.
    On any failure the temporary file is removed and an existing target is left alone.

    Raises:
        Offline: no server could be reached (one line: no network, where to copy the file).
        DatasetError: every source failed, with what each one did wrong.
    """
    target = Path(directory or data_dir()) / remote.path
    target.parent.mkdir(parents=True, exist_ok=True)
    problems, unreachable = [], []
    for url in urls or remote.urls:
        handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
            size = tmp.stat().st_size
            if size != remote.size or digest.hexdigest() != remote.sha256:
                problems.append(f"{url}: got {size} bytes with SHA-256 {digest.hexdigest()}, "
                                f"expected {remote.size} bytes with {remote.sha256}")
                continue
            os.replace(tmp, target)
            return target
        except OSError as error:
            parts = urllib.parse.urlsplit(url)
            if (isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError)
                    and isinstance(error.reason, OSError) and parts.scheme in ("http", "https")) \
                    or isinstance(error, TimeoutError):
                unreachable.append(parts.netloc)
            problems.append(f"{url}: {error}")
        finally:
            tmp.unlink(missing_ok=True)
    if unreachable and len(unreachable) == len(problems):
        raise Offline(f"No network: could not reach {' or '.join(dict.fromkeys(unreachable))}. Copy the file to "
                      f"{target} or run again when online.")
    raise DatasetError(f"Could not download {remote.path}:\n  " + "\n  ".join(problems)
                       + "\nCheck your network connection, or copy the file to " + str(target) + " by hand.")


def ensure(remote, directory=None, download=False):
    """The verified path of ``remote``; downloads it first if it is missing or damaged and ``download`` is
    true (a verified file is never downloaded again)."""
    if download:
        try:
            return verify(remote, directory)
        except DatasetError:
            fetch(remote, directory)
    return verify(remote, directory)


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read a gzip-compressed IDX file (the MNIST format) into an array.

    Header: two zero bytes, a dtype code, the number of dimensions n, then n
    big-endian uint32 sizes; the data follow in C order.
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(f"Data file {path} is not a readable gzip file ({error}).") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DatasetError(f"Data file {path} does not start with an IDX header.")
    ndim = raw[3]
    header_end = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header_end + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DatasetError(f"Data file {path} holds {len(raw)} bytes after decompression; "
                           f"its header (shape {shape}) promises {expected}.")
    return np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)


@functools.lru_cache(maxsize=4)
def _mnist_raw(directory, split):
    images = read_idx(verify(MNIST_FILES[f"{split}_images"], directory))
    labels = read_idx(verify(MNIST_FILES[f"{split}_labels"], directory))
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(f"MNIST {split} has {images.shape[0]} images but {labels.shape[0]} labels.")
    return images, labels


def one_hot(labels, n_classes=10):
    """(N,) integer labels -> (N, n_classes) float32 rows with a single 1."""
    labels = np.asarray(labels)
    encoded = np.zeros((labels.shape[0], n_classes), dtype=np.float32)
    encoded[np.arange(labels.shape[0]), labels] = 1.0
    return encoded


def load_mnist(*, flatten=True, one_hot_labels=False, n_train=None, n_validation=None, n_test=None,
               dtype=np.float32, directory=None, download=False):
    """MNIST as float arrays in [0, 1].

    Args:
        flatten: images as (N, 784) rows if true, else (N, 1, 28, 28) (channel first).
        one_hot_labels: labels as (N, 10) one-hot rows if true, else (N,) int64.
        n_train, n_test: keep only the first n images of each split (None keeps all:
            60 000 and 10 000, or 60 000 - n_validation training images).
        n_validation: None, or hold out the *last* n_validation of the 60 000 training
            images as a validation split, which the training split never overlaps:
            tune on it, and look at the test split once, at the end.
        dtype: floating dtype of the images.
        directory: data directory (default :func:`data_dir`).
        download: fetch missing files first (needs a network).

    Returns:
        (x_train, t_train), (x_test, t_test); with n_validation,
        (x_train, t_train), (x_val, t_val), (x_test, t_test).
    """
    directory = Path(directory or data_dir())
    if download:
        for remote in MNIST_FILES.values():
            ensure(remote, directory, download=True)
    train_images, train_labels = _mnist_raw(directory, "train")
    test_images, test_labels = _mnist_raw(directory, "test")
    splits = {"train": (train_images, train_labels, n_train), "test": (test_images, test_labels, n_test)}
    if n_validation is not None:
        available = train_images.shape[0]
        if not 0 < n_validation < available:
            raise ValueError(f"n_validation must be between 1 and {available - 1}, got {n_validation}")
        held_out = available - n_validation
        splits = {"train": (train_images[:held_out], train_labels[:held_out], n_train),
                  "validation": (train_images[held_out:], train_labels[held_out:], None),
                  "test": splits["test"]}
    loaded = []
    for split, (images, labels, n) in splits.items():
        if n is not None:
            if not 0 < n <= images.shape[0]:
                raise ValueError(f"n_{split} must be between 1 and {images.shape[0]}, got {n}")
            images, labels = images[:n], labels[:n]
        x = images.astype(dtype) / dtype(255.0)
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, 28, 28)
        t = one_hot(labels) if one_hot_labels else labels.astype(np.int64)
        loaded.append((x, t))
    return tuple(loaded)


def _main(argv):
    if argv[:1] == ["verify"]:
        failures = 0
        for name, files in DATASETS.items():
            for remote in files.values():
                try:
                    print(f"ok      {verify(remote)}")
                except DatasetError as error:
                    failures += 1
                    print(f"FAILED  {error}")
        return 1 if failures else 0
    if len(argv) == 2 and argv[0] == "download" and argv[1] in DATASETS:
        for remote in DATASETS[argv[1]].values():
            try:
                print(f"ok      {verify(remote)} (verified: not downloaded again)", flush=True)
                continue
            except DatasetError:
                pass
            print(f"fetching {remote.path}", flush=True)
            try:
                print(f"ok      {fetch(remote)} (downloaded and verified)", flush=True)
            except Offline as error:
                print(error)
                return 1
            except DatasetError as error:
                print(f"FAILED  {error}")
                return 1
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
