"""Datasets the course ships, verified by checksum, and the download path for the rest.

Offline first: ``datasets/`` ships MNIST and Fashion-MNIST (``mnist/``, ``fashion-mnist/``: the four
original IDX gzip files each) and the first 20 images of CIFAR-10's test batch with its label names
(``cifar10-sample/``, in CIFAR-10's own pickled-batch format). Every load checks the file's SHA-256,
so a truncated or edited file is reported by name with a fix instead of turning into silent garbage.

The full CIFAR-10 (170 MB) does not ship: :func:`load_cifar10` reads the official
``cifar-10-python.tar.gz`` from ``datasets/cache/`` (which git ignores), downloading it on demand and
checking the MD5 its authors publish (they publish no SHA-256). Its batches are Python pickles, and
unpickling can run any function a file names, so they are read with an unpickler that allows only
the few numpy names an array needs (:class:`BatchUnpickler`).

With a network, :func:`fetch` downloads a missing file: it streams into a
temporary file next to the target, checks size and checksum, and only then
renames it into place, so an interrupted or corrupt download leaves nothing
half-written behind.

Command line (with the course's Python, e.g. ``.venv/bin/python``; the error messages print the exact
command for this machine, which works from any folder)::

    python -m dlfs.data verify                  # check every shipped file (and CIFAR-10 once downloaded)
    python -m dlfs.data download mnist          # with a network: the MNIST files that are missing or damaged
    python -m dlfs.data download fashion-mnist  # the same for Fashion-MNIST
    python -m dlfs.data download cifar10        # the full CIFAR-10 (170 MB) into datasets/cache/
"""

import functools
import gzip
import hashlib
import io
import os
import pickle
import shlex
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_REPO_DATASETS = Path(__file__).resolve().parent.parent / "datasets"
# the shipped files inside the learner runtime, the wheel an instructor installs for a class (dlfs/runtime.py)
_PACKAGED_DATASETS = Path(__file__).resolve().parent / "datasets"
CACHE = "cache"   # the data directory's folder for files downloaded on demand (git ignores datasets/cache/)


class DatasetError(RuntimeError):
    """A dataset file is missing, truncated, corrupt or fails its checksum."""


class Offline(DatasetError):
    """No source of a file could be reached (no network): said in one line."""


_DIGEST_NAMES = {"sha256": "SHA-256", "md5": "MD5"}


@dataclass(frozen=True)
class RemoteFile:
    """One data file: where it lives under the data directory, its checksum, and its sources."""

    path: str          # relative to the data directory, e.g. "mnist/t10k-labels-idx1-ubyte.gz"
    sha256: str | None  # None only when its publisher gives no SHA-256: then md5 is checked
    size: int
    urls: tuple        # tried in order; () for a file that only ships with the course
    md5: str | None = None

    def __post_init__(self):
        if not (self.sha256 or self.md5):
            raise ValueError(f"RemoteFile {self.path} needs a sha256 or an md5 to be checked against")

    @property
    def checksum(self):
        """(algorithm, expected hex digest): the SHA-256 when known, else the published MD5."""
        return ("sha256", self.sha256) if self.sha256 else ("md5", self.md5)

    @property
    def ships(self):
        """Whether the course ships this file (everything but what ``cache/`` holds, downloaded on demand)."""
        return not self.path.startswith(f"{CACHE}/")


def _idx_files(folder, mirrors, checksums):
    """The four IDX files of an MNIST-style dataset: key -> RemoteFile, from key -> (sha256, size)."""
    names = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
             "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}
    return {key: RemoteFile(f"{folder}/{name}", *checksums[key], tuple(mirror + name for mirror in mirrors))
            for key, name in names.items()}


MNIST_FILES = _idx_files("mnist", (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
), {
    "train_images": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    "train_labels": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    "test_images": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    "test_labels": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
})

FASHION_MNIST_FILES = _idx_files("fashion-mnist", (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",   # Zalando's own (the checksum guards it)
), {
    "train_images": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
    "train_labels": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
    "test_images": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
    "test_labels": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
})

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

CIFAR10_SAMPLE_FILES = {   # ships only: no download source
    "test_batch_first20": RemoteFile("cifar10-sample/test_batch_first20",
                                     "cc12bfcedf4ce2fa784f6940cd8cab7a33ed07433aebd4efe25d6481ef950de6", 89265, ()),
    "batches_meta": RemoteFile("cifar10-sample/batches.meta",
                               "7594afefea73e03415113478028c0e293e71fa7832a85d7dabf03c172086a10b", 354, ()),
}

CIFAR10_FILES = {          # downloaded on demand; its authors publish an MD5 only
    "archive": RemoteFile(f"{CACHE}/cifar-10-python.tar.gz", None, 170_498_071,
                          ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                          md5="c58f30108f718f92721af3b95e74349a"),
}

DATASETS = {"mnist": MNIST_FILES, "fashion-mnist": FASHION_MNIST_FILES,
            "cifar10-sample": CIFAR10_SAMPLE_FILES, "cifar10": CIFAR10_FILES}


def data_dir():
    """The directory holding the data files.

    ``$DLFS_DATA_DIR`` if set; else the repository's ``datasets/`` (the course as
    cloned); else the shipped files inside the learner runtime (``dlfs/datasets/``, installed
    read-only for a class); else ``~/.cache/dlfs`` (the package installed on its own).
    """
    if os.environ.get("DLFS_DATA_DIR"):
        return Path(os.environ["DLFS_DATA_DIR"])
    if _REPO_DATASETS.is_dir():
        return _REPO_DATASETS
    if _PACKAGED_DATASETS.is_dir():
        return _PACKAGED_DATASETS
    return Path.home() / ".cache" / "dlfs"


def home_of(remote):
    """The directory ``remote`` lives under when none is given: :func:`data_dir`, except that in the
    learner runtime a file downloaded on demand goes to ``~/.cache/dlfs`` (the installed package is
    read-only, and shared by a whole class)."""
    directory = data_dir()
    if directory == _PACKAGED_DATASETS and not remote.ships:
        return Path.home() / ".cache" / "dlfs"
    return directory


def digest_of(path, algorithm="sha256"):
    """The hex digest of a file's bytes, by ``algorithm`` ("sha256" or "md5"), read 1 MiB at a time."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path):
    """The SHA-256 hex digest of a file (:func:`digest_of` by "sha256")."""
    return digest_of(path, "sha256")


def _command(*words):
    """A command line to paste into this machine's terminal."""
    return subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)


def download_command(dataset):
    """The command that downloads a dataset's missing or damaged files, from any folder: this Python
    (the course's, which has dlfs installed) runs dlfs.data."""
    return _command(sys.executable, "-m", "dlfs.data", "download", dataset)


def _dataset_of(remote):
    """The name under which ``DATASETS`` lists ``remote`` (what ``download`` takes)."""
    return next((name for name, files in DATASETS.items() if remote.path in {r.path for r in files.values()}),
                remote.path.split("/")[0])


def _how_to_fix(remote, directory):
    """How to get a good copy of ``remote`` back into ``directory``: commands that work from any folder.

    A shipped file is restored by git; one with a source can be downloaded again; a file with no source
    (it only ships) is never advised to be downloaded.
    """
    directory = Path(directory).resolve()
    target = directory / remote.path
    download = f"`{download_command(_dataset_of(remote))}` downloads the missing or damaged files"
    if remote.ships and directory == _REPO_DATASETS and (directory.parent / ".git").exists():
        restore = _command("git", "-C", str(directory.parent), "checkout", "--", f"datasets/{remote.path}")
        fix = f"To fix it (from any folder): `{restore}` restores the file the course ships"
        return f"{fix}; or, with a network, {download} again." if remote.urls else f"{fix}."
    if remote.ships and directory == _PACKAGED_DATASETS:
        return ("To fix it: install the course's learner runtime again (pip install --force-reinstall with the "
                "wheel your instructor gave, made by `python3 -m dlfs runtime`), or ask your instructor.")
    if remote.urls and directory == Path(home_of(remote)).resolve():
        return f"To fix it (from any folder), with a network: {download}; or copy a good {remote.path} to {target}."
    algorithm, expected = remote.checksum
    return f"To fix it: copy a good {remote.path} ({_DIGEST_NAMES[algorithm]} {expected}) to {target}."


def verify(remote, directory=None):
    """Return the path of ``remote`` under ``directory`` after checking it exists, its size and its checksum
    (SHA-256, or the MD5 when that is all its publisher gives).

    Raises:
        DatasetError: naming the file, what is wrong with it and how to fix it.
    """
    directory = Path(directory) if directory else home_of(remote)
    path = directory / remote.path
    if not path.is_file():
        raise DatasetError(f"Missing data file {path}. {_how_to_fix(remote, directory)}")
    size = path.stat().st_size
    if size != remote.size:
        raise DatasetError(f"Data file {path} has {size} bytes, expected {remote.size}: it is truncated "
                           f"or is not the published file. {_how_to_fix(remote, directory)}")
    algorithm, expected = remote.checksum
    actual = digest_of(path, algorithm)
    if actual != expected:
        name = _DIGEST_NAMES[algorithm]
        raise DatasetError(f"Data file {path} fails its checksum ({name} {actual}, expected "
                           f"{expected}): it is corrupt or was modified. {_how_to_fix(remote, directory)}")
    return path


def fetch(remote, directory=None, urls=None):
    """Download ``remote`` into ``directory`` (atomically), verify it, and return its path.

    Each URL is tried in turn. Bytes stream into a temporary file in the target
    directory; only a file with the right size and checksum is renamed into place.
    On any failure the temporary file is removed and an existing target is left alone.

    Raises:
        Offline: no server could be reached (one line: no network, where to copy the file).
        DatasetError: every source failed, with what each one did wrong; or the file has no source.
    """
    directory = Path(directory) if directory else home_of(remote)
    target = directory / remote.path
    urls = urls or remote.urls
    if not urls:
        raise DatasetError(f"{remote.path} has no download source: the course ships it. "
                           f"{_how_to_fix(remote, directory)}")
    algorithm, expected = remote.checksum
    target.parent.mkdir(parents=True, exist_ok=True)
    problems, unreachable = [], []
    for url in urls:
        handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.new(algorithm)
            with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
            size = tmp.stat().st_size
            if size != remote.size or digest.hexdigest() != expected:
                name = _DIGEST_NAMES[algorithm]
                problems.append(f"{url}: got {size} bytes with {name} {digest.hexdigest()}, "
                                f"expected {remote.size} bytes with {expected}")
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
def _idx_split(images_file, labels_file, directory):
    """One split of an IDX dataset, verified and decoded once: (N, 28, 28) uint8 images, (N,) uint8 labels."""
    images = read_idx(verify(images_file, directory))
    labels = read_idx(verify(labels_file, directory))
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(f"{images_file.path} has {images.shape[0]} images but {labels_file.path} has "
                           f"{labels.shape[0]} labels: one of them is not the published file.")
    return images, labels


def one_hot(labels, n_classes=10):
    """(N,) integer labels -> (N, n_classes) float32 rows with a single 1."""
    labels = np.asarray(labels)
    encoded = np.zeros((labels.shape[0], n_classes), dtype=np.float32)
    encoded[np.arange(labels.shape[0]), labels] = 1.0
    return encoded


def _first(n, images, labels, split):
    """The first ``n`` images and labels of a split (all of them when ``n`` is None)."""
    if n is None:
        return images, labels
    if not 0 < n <= images.shape[0]:
        raise ValueError(f"n_{split} must be between 1 and {images.shape[0]}, got {n}")
    return images[:n], labels[:n]


def _pixel_dtype(dtype):
    """``dtype`` checked as what the loaders offer: a floating dtype (pixels / 255) or uint8 (raw pixels)."""
    dtype = np.dtype(dtype)
    if dtype != np.uint8 and not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating dtype (pixels scaled into [0, 1]) or np.uint8 (the raw "
                         f"pixels 0-255), got {dtype}")
    return dtype


def _load_idx_dataset(files, *, flatten, one_hot_labels, n_train, n_validation, n_test, dtype, directory,
                      download):
    """:func:`load_mnist` for any MNIST-style dataset: ``files`` maps train/test images/labels to RemoteFiles."""
    dtype = _pixel_dtype(dtype)
    directory = Path(directory or data_dir())
    if download:
        for remote in files.values():
            ensure(remote, directory, download=True)
    train_images, train_labels = _idx_split(files["train_images"], files["train_labels"], directory)
    test_images, test_labels = _idx_split(files["test_images"], files["test_labels"], directory)
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
        images, labels = _first(n, images, labels, split)
        x = images.copy() if dtype == np.uint8 else images.astype(dtype) / dtype.type(255)
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *images.shape[1:])
        t = one_hot(labels) if one_hot_labels else labels.astype(np.int64)
        loaded.append((x, t))
    return tuple(loaded)


def load_mnist(*, flatten=True, one_hot_labels=False, n_train=None, n_validation=None, n_test=None,
               dtype=np.float32, directory=None, download=False):
    """MNIST (handwritten digits 0-9) as float arrays in [0, 1].

    Args:
        flatten: images as (N, 784) rows if true, else (N, 1, 28, 28) (channel first).
        one_hot_labels: labels as (N, 10) one-hot rows if true, else (N,) int64.
        n_train, n_test: keep only the first n images of each split (None keeps all:
            60 000 and 10 000, or 60 000 - n_validation training images).
        n_validation: None, or hold out the *last* n_validation of the 60 000 training
            images as a validation split, which the training split never overlaps:
            tune on it, and look at the test split once, at the end.
        dtype: floating dtype of the images; or np.uint8 for the raw pixels 0-255 (not scaled).
        directory: data directory (default :func:`data_dir`).
        download: fetch missing files first (needs a network).

    Returns:
        (x_train, t_train), (x_test, t_test); with n_validation,
        (x_train, t_train), (x_val, t_val), (x_test, t_test).
    """
    return _load_idx_dataset(MNIST_FILES, flatten=flatten, one_hot_labels=one_hot_labels, n_train=n_train,
                             n_validation=n_validation, n_test=n_test, dtype=dtype, directory=directory,
                             download=download)


def load_fashion_mnist(*, flatten=True, one_hot_labels=False, n_train=None, n_validation=None, n_test=None,
                       dtype=np.float32, directory=None, download=False):
    """Fashion-MNIST (Zalando's 28x28 grey photos of clothes, 10 classes: :data:`FASHION_MNIST_CLASSES`),
    with exactly the options and return layout of :func:`load_mnist`: (N, 784) or (N, 1, 28, 28) images,
    60 000 training and 10 000 test images, (N,) int64 or (N, 10) one-hot labels."""
    return _load_idx_dataset(FASHION_MNIST_FILES, flatten=flatten, one_hot_labels=one_hot_labels,
                             n_train=n_train, n_validation=n_validation, n_test=n_test, dtype=dtype,
                             directory=directory, download=download)


# CIFAR-10 ----------------------------------------------------------------------------------------------
#
# Each CIFAR-10 batch is a pickled dict: b'data' a (N, 3072) uint8 array whose row is one 32x32 image
# as its red plane, then its green plane, then its blue plane (each row by row); b'labels' a list of N
# ints 0-9; b'batch_label' and b'filenames' bytes. batches.meta holds b'label_names'.

_ARRAY_REBUILDER = np.zeros(0).__reduce__()[0]   # numpy's _reconstruct, whatever module this numpy keeps it in


def _latin1_bytes(text, encoding):
    """``_codecs.encode(text, "latin1")``, which is how Python 3 writes bytes into a protocol-2 pickle
    (the shipped sample was written so) -- and nothing else ``_codecs.encode`` could be asked to do."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refused _codecs.encode of {type(text).__name__} to {encoding!r}")
    return text.encode("latin1")


class BatchUnpickler(pickle.Unpickler):
    """An unpickler for CIFAR-10 batches that refuses to call anything but numpy's array rebuilding.

    A pickle is a small program: its GLOBAL instructions name any importable function (``os.system``
    too) and the next instructions call it. Every such name goes through :meth:`find_class`, which here
    knows only the names a batch of numbers and bytes needs; any other name stops the load before it is
    imported, so nothing a crafted file names ever runs.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _ARRAY_REBUILDER,    # numpy 1's name (CIFAR-10's batches)
        ("numpy._core.multiarray", "_reconstruct"): _ARRAY_REBUILDER,   # numpy 2's name
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_bytes,
    }

    def find_class(self, module, name):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"it names {module}.{name}, which a CIFAR-10 batch never does "
                                         f"(a pickle that names it may be crafted to run code)") from None


def _unpickle(raw, source, fix):
    """The dict pickled in ``raw`` (bytes read from ``source``), through :class:`BatchUnpickler`."""
    try:
        loaded = BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as error:      # a malformed pickle can fail in many ways; each means the same here
        raise DatasetError(f"Refused to load {source}: {error}. {fix}") from error
    if not isinstance(loaded, dict):
        raise DatasetError(f"{source} holds a {type(loaded).__name__}, expected a dict. {fix}")
    return loaded


def _cifar10_batch(raw, source, fix):
    """One pickled CIFAR-10 batch -> images (N, 32, 32, 3) uint8 (height, width, RGB), labels (N,) int64."""
    batch = _unpickle(raw, source, fix)
    data, labels = batch.get(b"data"), batch.get(b"labels")
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072
            and isinstance(labels, list) and len(labels) == data.shape[0]
            and all(type(label) is int and 0 <= label < 10 for label in labels)):
        raise DatasetError(f"{source} is not a CIFAR-10 batch: expected b'data' an (N, 3072) uint8 array and "
                           f"b'labels' N ints 0-9. {fix}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)     # (N, colour, row, column) -> channel last
    return np.ascontiguousarray(images), np.array(labels, dtype=np.int64)


def _read_shipped(key, directory):
    """A verified file of the shipped CIFAR-10 sample: its bytes, its path, and how to fix it."""
    remote = CIFAR10_SAMPLE_FILES[key]
    directory = Path(directory or data_dir())
    path = verify(remote, directory)
    return path.read_bytes(), path, _how_to_fix(remote, directory)


def load_cifar10_sample(directory=None):
    """The 20 CIFAR-10 images the course ships: the first 20 of CIFAR-10's test batch.

    Returns:
        x: (20, 32, 32, 3) uint8 colour images, channel last (row, column, then red, green, blue), 0-255.
        t: (20,) int64 labels 0-9 (names: :func:`cifar10_label_names`).
    """
    raw, path, fix = _read_shipped("test_batch_first20", directory)
    return _cifar10_batch(raw, path, fix)


def cifar10_label_names(directory=None):
    """CIFAR-10's 10 class names in label order, from the shipped batches.meta: ('airplane', ..., 'truck')."""
    raw, path, fix = _read_shipped("batches_meta", directory)
    names = _unpickle(raw, path, fix).get(b"label_names")
    if not (isinstance(names, list) and len(names) == 10 and all(isinstance(name, bytes) for name in names)):
        raise DatasetError(f"{path} does not list 10 label names under b'label_names'. {fix}")
    return tuple(name.decode("ascii") for name in names)


_CIFAR10_TRAIN = tuple(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6))
_CIFAR10_TEST = "cifar-10-batches-py/test_batch"


@functools.lru_cache(maxsize=1)
def _cifar10_arrays(archive_file, directory):
    """The verified archive's batches, read straight from the tar.gz and decoded once:
    ((x_train (50000, 32, 32, 3) uint8, t_train (50000,) int64), (x_test, t_test) with 10 000)."""
    archive = verify(archive_file, directory)
    fix = _how_to_fix(archive_file, directory)
    batches = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:                      # one pass: a .tar.gz can only be read front to back
                if member.isfile() and member.name in (*_CIFAR10_TRAIN, _CIFAR10_TEST):
                    raw = tar.extractfile(member).read()
                    batches[member.name] = _cifar10_batch(raw, f"{archive}:{member.name}", fix)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise DatasetError(f"{archive} is not a readable tar.gz file ({error}). {fix}") from error
    missing = [name for name in (*_CIFAR10_TRAIN, _CIFAR10_TEST) if name not in batches]
    if missing:
        raise DatasetError(f"{archive} lacks {', '.join(missing)}: it is not CIFAR-10's python version. {fix}")
    train = [batches[name] for name in _CIFAR10_TRAIN]
    return (np.concatenate([x for x, _ in train]), np.concatenate([t for _, t in train])), batches[_CIFAR10_TEST]


def load_cifar10(*, n_train=None, n_test=None, directory=None, download=False):
    """The full CIFAR-10: 50 000 training and 10 000 test colour images of 10 classes
    (names: :func:`cifar10_label_names`), from the official cifar-10-python.tar.gz (170 MB) in
    the data directory's ``cache/``.

    Args:
        n_train, n_test: keep only the first n images of each split (None keeps all).
        directory: data directory (default :func:`data_dir`).
        download: fetch the archive first if it is missing or damaged (needs a network; checked by MD5).

    Returns:
        (x_train, t_train), (x_test, t_test): images (N, 32, 32, 3) uint8 0-255, channel last
        (row, column, then red, green, blue); labels (N,) int64 0-9.
    """
    archive_file = CIFAR10_FILES["archive"]
    directory = Path(directory) if directory else home_of(archive_file)
    if download:
        ensure(archive_file, directory, download=True)
    elif not (directory / archive_file.path).is_file():
        raise DatasetError(f"CIFAR-10 is not downloaded yet: missing {directory / archive_file.path} (170 MB, "
                           f"fetched on demand: load_cifar10(download=True) does it). "
                           f"{_how_to_fix(archive_file, directory)}")
    (x_train, t_train), (x_test, t_test) = _cifar10_arrays(archive_file, directory)
    loaded = []
    for split, images, labels, n in (("train", x_train, t_train, n_train), ("test", x_test, t_test, n_test)):
        images, labels = _first(n, images, labels, split)
        loaded.append((images.copy(), labels.copy()))
    return tuple(loaded)


def _main(argv):
    if argv[:1] == ["verify"]:
        failures = 0
        for name, files in DATASETS.items():
            for remote in files.values():
                path = home_of(remote) / remote.path
                if not remote.ships and not path.exists():
                    print(f"absent  {path}: not downloaded (optional: {download_command(name)})")
                    continue
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
