"""dlfs.data: the shipped MNIST, Fashion-MNIST and CIFAR-10 sample, the full CIFAR-10 on demand (read with a
restricted unpickler), and every way a data file can be wrong."""

import gzip
import hashlib
import io
import os
import pickle
import re
import shlex
import socket
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dlfs import data
from course import REPO


def test_mnist_loads_offline_as_floats_in_unit_range():
    (x_train, t_train), (x_test, t_test) = data.load_mnist()
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and 0.0 == x_train.min() and x_train.max() == 1.0
    assert t_train.shape == (60000,) and t_train.dtype == np.int64
    assert list(t_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the published first labels
    assert np.bincount(t_test, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_options_image_shape_one_hot_and_subsets():
    (x, t), (xt, tt) = data.load_mnist(flatten=False, one_hot_labels=True, n_train=50, n_test=7, dtype=np.float64)
    assert x.shape == (50, 1, 28, 28) and x.dtype == np.float64 and xt.shape == (7, 1, 28, 28)
    assert t.shape == (50, 10) and np.all(t.sum(axis=1) == 1)
    (_, t_int), _ = data.load_mnist(n_train=50, n_test=7)
    assert np.array_equal(t.argmax(axis=1), t_int)
    with pytest.raises(ValueError, match="n_train"):
        data.load_mnist(n_train=0)


def test_validation_split_is_the_end_of_the_training_set_and_never_overlaps_it():
    (x_all, t_all), _ = data.load_mnist()
    (x, t), (xv, tv), (xt, tt) = data.load_mnist(n_train=1000, n_validation=10_000, n_test=500)
    assert x.shape == (1000, 784) and xv.shape == (10_000, 784) and xt.shape == (500, 784)
    assert np.array_equal(x, x_all[:1000]) and np.array_equal(xv, x_all[50_000:])
    assert np.array_equal(tv, t_all[50_000:])
    (x_rest, _), _, _ = data.load_mnist(n_validation=10_000)
    assert len(x_rest) == 50_000                  # n_train=None keeps all but the validation images
    with pytest.raises(ValueError, match="n_train must be between 1 and 50000"):
        data.load_mnist(n_train=50_001, n_validation=10_000)
    with pytest.raises(ValueError, match="n_validation"):
        data.load_mnist(n_validation=60_000)


def test_loads_return_independent_arrays():
    (x, _), _ = data.load_mnist(n_train=5, n_test=5)
    x[:] = 7
    (x2, _), _ = data.load_mnist(n_train=5, n_test=5)
    assert x2.max() <= 1.0


def test_registry_matches_shipped_sha256sums():
    listed = {}
    for line in (REPO / "datasets" / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        listed[name] = digest
    shipped = {r.path: r.sha256 for files in data.DATASETS.values() for r in files.values() if r.ships}
    assert shipped == listed
    assert set(listed) >= {f"{folder}/{name}" for folder in ("mnist", "fashion-mnist") for name in (
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz")} | {"cifar10-sample/test_batch_first20", "cifar10-sample/batches.meta"}
    for files in data.DATASETS.values():
        for remote in files.values():
            if remote.ships:
                assert data.verify(remote, REPO / "datasets").stat().st_size == remote.size
    archive = data.CIFAR10_FILES["archive"]            # downloaded on demand, checked by its published MD5
    assert not archive.ships and archive.path.startswith("cache/") and archive.sha256 is None
    assert archive.checksum == ("md5", "c58f30108f718f92721af3b95e74349a") and archive.size == 170_498_071
    assert "datasets/cache/" in (REPO / ".gitignore").read_text().splitlines()


def _copy_mnist(tmp_path):
    for remote in data.MNIST_FILES.values():
        target = tmp_path / remote.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / "datasets" / remote.path).read_bytes())
    return tmp_path


def test_missing_file_names_it_and_the_fix(tmp_path):
    directory = _copy_mnist(tmp_path)
    (directory / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DatasetError) as error:
        data.load_mnist(directory=directory)
    message = str(error.value)
    assert "Missing data file" in message and "t10k-labels-idx1-ubyte.gz" in message
    # a folder of the learner's own: no git history and not where `download` writes, so: where to copy it
    assert f"copy a good mnist/t10k-labels-idx1-ubyte.gz (SHA-256 {data.MNIST_FILES['test_labels'].sha256}) to " \
        f"{directory.resolve() / 'mnist' / 't10k-labels-idx1-ubyte.gz'}" in message


def _advised_commands(message):
    return re.findall(r"`([^`]+)`", message)


def test_a_damaged_shipped_file_is_fixed_by_the_advised_commands_from_any_folder(tmp_path, monkeypatch):
    """The advice for the course's own datasets/ names commands that work from wherever the learner is:
    git with the course's absolute root (a path with a space here), and the download with this Python."""
    root = tmp_path / "my course"
    remote = data.MNIST_FILES["test_labels"]
    shipped = root / "datasets" / remote.path
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes((REPO / "datasets" / remote.path).read_bytes())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "datasets"], ["commit", "-q", "-m", "course"]):
        subprocess.run(git + command, cwd=root, check=True, capture_output=True)
    monkeypatch.setattr(data, "_REPO_DATASETS", root / "datasets")
    monkeypatch.delenv("DLFS_DATA_DIR", raising=False)
    shipped.write_bytes(b"damaged")
    with pytest.raises(data.DatasetError) as error:
        data.verify(remote)
    restore, download = _advised_commands(str(error.value))
    assert download == f"{shlex.quote(sys.executable)} -m dlfs.data download mnist"
    elsewhere = tmp_path / "workspace" / "01_linear_regression"
    elsewhere.mkdir(parents=True)
    subprocess.run(restore, shell=True, cwd=elsewhere, check=True, capture_output=True)
    assert data.verify(remote).read_bytes() == (REPO / "datasets" / remote.path).read_bytes()


def _registry_served_from(tmp_path, monkeypatch, sources):
    """MNIST's registry with each file's source URL replaced (``sources``: key -> URL); the data dir in tmp."""
    files = {key: data.RemoteFile(r.path, r.sha256, r.size, (sources[key],)) for key, r in data.MNIST_FILES.items()}
    monkeypatch.setattr(data, "MNIST_FILES", files)
    monkeypatch.setattr(data, "DATASETS", {"mnist": files})
    monkeypatch.setenv("DLFS_DATA_DIR", str(tmp_path / "data"))
    return files


def test_download_fetches_only_missing_or_damaged_files(tmp_path, monkeypatch, capsys):
    mirror = tmp_path / "mirror"
    for key in ("test_labels", "train_labels"):
        remote = data.MNIST_FILES[key]
        (mirror / remote.path).parent.mkdir(parents=True, exist_ok=True)
        (mirror / remote.path).write_bytes((REPO / "datasets" / remote.path).read_bytes())
    nowhere = (tmp_path / "nowhere.gz").as_uri()                    # a file fetched from here would fail
    files = _registry_served_from(tmp_path, monkeypatch, {
        "train_images": nowhere, "test_images": nowhere,
        "train_labels": (mirror / data.MNIST_FILES["train_labels"].path).as_uri(),
        "test_labels": (mirror / data.MNIST_FILES["test_labels"].path).as_uri()})
    directory = tmp_path / "data"
    for key in ("train_images", "test_images"):                     # verified: must not be fetched again
        (directory / files[key].path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(REPO / "datasets" / files[key].path, directory / files[key].path)
    (directory / files["train_labels"].path).write_bytes(b"damaged")  # test_labels: missing
    assert data._main(["download", "mnist"]) == 0
    out = capsys.readouterr().out
    assert out.count("verified: not downloaded again") == 2 and out.count("downloaded and verified") == 2, out
    assert "fetching mnist/train-images" not in out and "fetching mnist/t10k-labels-idx1-ubyte.gz" in out
    for remote in files.values():
        data.verify(remote, directory)


def test_offline_download_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    with socket.socket() as s:                      # a port nobody listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{s.getsockname()[1]}"
    _registry_served_from(tmp_path, monkeypatch, {key: f"http://{host}/{r.path}" for key, r in data.MNIST_FILES.items()})
    assert data._main(["download", "mnist"]) == 1
    lines = capsys.readouterr().out.splitlines()
    target = tmp_path / "data" / data.MNIST_FILES["train_images"].path
    assert lines == ["fetching mnist/train-images-idx3-ubyte.gz",
                     f"No network: could not reach {host}. Copy the file to {target} or run again when online."]


def test_truncated_file_is_reported(tmp_path):
    directory = _copy_mnist(tmp_path)
    path = directory / "mnist" / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(data.DatasetError, match="truncated") as error:
        data.load_mnist(directory=directory)
    assert "train-labels-idx1-ubyte.gz" in str(error.value)


def test_same_size_corruption_fails_the_checksum(tmp_path):
    directory = _copy_mnist(tmp_path)
    path = directory / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(data.DatasetError, match="fails its checksum"):
        data.load_mnist(directory=directory)


@pytest.mark.parametrize("content, problem", [
    (b"not gzip at all", "not a readable gzip"),
    (gzip.compress(b"\x01\x02\x03\x04"), "IDX header"),
    (gzip.compress(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + b"\x00" * 9), "promises"),
])
def test_read_idx_rejects_malformed_files(tmp_path, content, problem):
    path = tmp_path / "bad.gz"
    path.write_bytes(content)
    with pytest.raises(data.DatasetError, match=problem):
        data.read_idx(path)


def test_read_idx_parses_a_file_it_did_not_ship(tmp_path):
    values = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "small.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"".join(n.to_bytes(4, "big") for n in values.shape)
                                   + values.tobytes()))
    assert np.array_equal(data.read_idx(path), values)


def _remote_for(payload, name="set/file.bin"):
    return data.RemoteFile(name, hashlib.sha256(payload).hexdigest(), len(payload), ())


def test_fetch_downloads_verifies_and_renames(tmp_path):
    payload = os.urandom(3000)
    source = tmp_path / "server" / "file.bin"
    source.parent.mkdir()
    source.write_bytes(payload)
    remote = _remote_for(payload)
    path = data.fetch(remote, tmp_path / "data", urls=[source.as_uri()])
    assert path.read_bytes() == payload
    assert [p.name for p in path.parent.iterdir()] == ["file.bin"]  # no temporary file left


def test_fetch_tries_the_next_mirror_and_keeps_nothing_bad(tmp_path):
    payload = os.urandom(3000)
    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_bytes(payload)
    bad.write_bytes(payload[:-1] + bytes([payload[-1] ^ 1]))
    remote = _remote_for(payload)
    missing = (tmp_path / "nowhere.bin").as_uri()
    path = data.fetch(remote, tmp_path / "data", urls=[missing, bad.as_uri(), good.as_uri()])
    assert path.read_bytes() == payload


def test_failed_fetch_leaves_the_old_file_and_no_partial_file(tmp_path):
    payload = os.urandom(3000)
    bad = tmp_path / "bad.bin"
    bad.write_bytes(os.urandom(3000))
    remote = _remote_for(payload)
    target = tmp_path / "data" / remote.path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old content")
    with pytest.raises(data.DatasetError) as error:
        data.fetch(remote, tmp_path / "data", urls=[bad.as_uri(), (tmp_path / "none").as_uri()])
    assert "Could not download set/file.bin" in str(error.value) and "SHA-256" in str(error.value)
    assert target.read_bytes() == b"old content"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_load_mnist_download_fetches_missing_files(tmp_path, monkeypatch):
    mirror = _copy_mnist(tmp_path / "mirror")
    directory = tmp_path / "data"
    files = {key: data.RemoteFile(r.path, r.sha256, r.size, ((mirror / r.path).as_uri(),))
             for key, r in data.MNIST_FILES.items()}
    monkeypatch.setattr(data, "MNIST_FILES", files)
    (x, _), (xt, _) = data.load_mnist(directory=directory, download=True, n_train=3, n_test=3)
    assert x.shape == (3, 784) and (directory / "mnist" / "train-images-idx3-ubyte.gz").is_file()


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("DLFS_DATA_DIR", str(tmp_path))
    assert data.data_dir() == Path(tmp_path)
    monkeypatch.delenv("DLFS_DATA_DIR")
    assert data.data_dir() == REPO / "datasets"


def test_verify_command(capsys):
    assert data._main(["verify"]) == 0
    out = capsys.readouterr().out
    shipped = [r for files in data.DATASETS.values() for r in files.values() if r.ships]
    assert len(shipped) == 10 and all(f"ok      {REPO / 'datasets' / r.path}\n" in out for r in shipped), out


# Fashion-MNIST: the loader of MNIST, the files of Zalando --------------------------------------------------

def test_fashion_mnist_loads_offline_like_mnist():
    (x_train, t_train), (x_test, t_test) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and 0.0 == x_train.min() and x_train.max() == 1.0
    assert t_train.dtype == np.int64 and list(t_train[:10]) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # published
    assert np.bincount(t_train).tolist() == [6000] * 10 and np.bincount(t_test).tolist() == [1000] * 10
    assert data.FASHION_MNIST_CLASSES == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    (x_mnist, _), _ = data.load_mnist(n_train=10, n_test=1)
    assert not np.array_equal(x_train[:10], x_mnist)                  # the other dataset, not MNIST again


def test_fashion_mnist_takes_every_option_of_load_mnist():
    (x, t), (xv, tv), (xt, tt) = data.load_fashion_mnist(flatten=False, one_hot_labels=True, n_train=50,
                                                         n_validation=100, n_test=7, dtype=np.float64)
    assert x.shape == (50, 1, 28, 28) and xv.shape == (100, 1, 28, 28) and xt.shape == (7, 1, 28, 28)
    assert x.dtype == np.float64 and t.shape == (50, 10) and np.all(t.sum(axis=1) == 1)
    (x_all, t_all), _ = data.load_fashion_mnist(dtype=np.float64)
    assert np.array_equal(xv.reshape(100, -1), x_all[-100:]) and np.array_equal(tv.argmax(axis=1), t_all[-100:])
    with pytest.raises(ValueError, match="n_test must be between 1 and 10000"):
        data.load_fashion_mnist(n_test=10001)


@pytest.mark.parametrize("load", [data.load_mnist, data.load_fashion_mnist])
def test_uint8_gives_the_raw_pixels(load):
    (x, t), (xt, _) = load(dtype=np.uint8, n_train=100, n_test=5)
    (x_float, t_float), _ = load(n_train=100, n_test=5)
    assert x.dtype == np.uint8 and xt.dtype == np.uint8 and x.max() == 255
    assert np.array_equal(x, np.rint(x_float * 255)) and np.array_equal(t, t_float)
    x[:] = 0                                                        # a copy: the cached pixels stay
    assert load(dtype=np.uint8, n_train=100, n_test=5)[0][0].max() == 255
    with pytest.raises(ValueError, match="dtype must be a floating dtype .* or np.uint8 .* got int32"):
        load(dtype=np.int32)


# The shipped CIFAR-10 sample ---------------------------------------------------------------------------

def test_cifar10_sample_is_channel_last_with_the_pickles_pixels():
    x, t = data.load_cifar10_sample()
    assert x.shape == (20, 32, 32, 3) and x.dtype == np.uint8 and x.flags.c_contiguous
    assert t.dtype == np.int64 and t.tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]
    with open(REPO / "datasets" / "cifar10-sample" / "test_batch_first20", "rb") as f:
        rows = pickle.load(f, encoding="bytes")[b"data"]       # our own file, so the plain unpickler is safe
    for i, r, c, ch in [(0, 0, 0, 0), (3, 5, 7, 2), (19, 31, 31, 1), (7, 16, 2, 0)]:
        assert x[i, r, c, ch] == rows[i, ch * 1024 + r * 32 + c]   # rows: R plane, G plane, B plane, row by row
    i, r, c = np.meshgrid(np.arange(20), np.arange(32), np.arange(32), indexing="ij")
    for ch in range(3):
        assert np.array_equal(x[..., ch], rows[i, ch * 1024 + r * 32 + c])


def test_cifar10_label_names():
    assert data.cifar10_label_names() == ("airplane", "automobile", "bird", "cat", "deer",
                                          "dog", "frog", "horse", "ship", "truck")


def test_missing_cifar10_sample_is_restored_by_git_and_never_downloaded(tmp_path, monkeypatch, capsys):
    root = tmp_path / "course"
    remote = data.CIFAR10_SAMPLE_FILES["test_batch_first20"]
    (root / "datasets" / "cifar10-sample").mkdir(parents=True)
    (root / ".git").mkdir()                        # the course as cloned
    monkeypatch.setattr(data, "_REPO_DATASETS", root / "datasets")
    monkeypatch.delenv("DLFS_DATA_DIR", raising=False)
    with pytest.raises(data.DatasetError) as error:
        data.load_cifar10_sample()
    message = str(error.value)
    restore = shlex.join(["git", "-C", str(root.resolve()), "checkout", "--", "datasets/" + remote.path])
    assert message.startswith("Missing data file") and f"`{restore}`" in message
    assert "download" not in message                 # it has no source: a download could not work
    assert data._main(["download", "cifar10-sample"]) == 1
    out = capsys.readouterr().out
    assert "has no download source: the course ships it" in out and f"`{restore}`" in out and "fetching" in out


# The full CIFAR-10, from a tar.gz built here like the official one -------------------------------------

class _Python2Pickler(pickle._Pickler):
    """Pickles as CIFAR-10's authors did (Python 2): every string is a byte string (BINSTRING), so with
    encoding="bytes" the keys, and the arguments numpy's rebuilders get, come back as bytes."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_python2_str(self, obj):
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw if len(raw) < 256
                   else pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[str] = save_python2_str
    dispatch[bytes] = save_python2_str


def _numpy_module_named(raw, module):
    """``raw`` with numpy's array rebuilder named as ``module`` (numpy 1 and 2 name it differently)."""
    return raw.replace(b"cnumpy._core.multiarray\n", b"c" + module + b"\n").replace(
        b"cnumpy.core.multiarray\n", b"c" + module + b"\n")


def _batch(rows, labels, name, python2=True):
    """A pickled batch like CIFAR-10's: rows (N, 3072) uint8, labels N ints."""
    batch = {b"batch_label": name.encode(), b"labels": [int(label) for label in labels], b"data": rows,
             b"filenames": [f"image_{i}.png".encode() for i in range(len(rows))]}
    if not python2:
        return pickle.dumps(batch, protocol=2)
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(batch)
    return _numpy_module_named(buffer.getvalue(), b"numpy.core.multiarray")   # as the official files name it


def _tar_gz(path, members):
    """Write a tar.gz whose members are ``members`` (name -> bytes)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def _cifar10_members(rng, n_per_batch=4, n_test=3):
    """The official archive's members, with small batches: (members, train rows, train labels, test rows...)."""
    rows = rng.integers(0, 256, size=(5 * n_per_batch + n_test, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=len(rows))
    members = {"cifar-10-batches-py/batches.meta": pickle.dumps({b"label_names": [b"airplane"] * 10}, protocol=2),
               "cifar-10-batches-py/readme.html": b"<html></html>"}
    for i in range(5):
        part = slice(i * n_per_batch, (i + 1) * n_per_batch)
        members[f"cifar-10-batches-py/data_batch_{i + 1}"] = _batch(rows[part], labels[part],
                                                                   f"training batch {i + 1} of 5")
    test = slice(5 * n_per_batch, None)
    members["cifar-10-batches-py/test_batch"] = _numpy_module_named(
        _batch(rows[test], labels[test], "testing batch 1 of 1", python2=False), b"numpy._core.multiarray")
    return members, rows[:5 * n_per_batch], labels[:5 * n_per_batch], rows[test], labels[test]


def _serve_cifar10(tmp_path, monkeypatch, members, md5=None):
    """Build the archive in tmp_path/server and point the registry's CIFAR-10 entry at it (file:// URL)."""
    archive = _tar_gz(tmp_path / "server.tar.gz", members)
    remote = data.RemoteFile(data.CIFAR10_FILES["archive"].path, None, archive.stat().st_size, (archive.as_uri(),),
                             md5=md5 or hashlib.md5(archive.read_bytes()).hexdigest())
    monkeypatch.setitem(data.CIFAR10_FILES, "archive", remote)     # DATASETS["cifar10"] is the same dict
    return remote


def test_load_cifar10_downloads_checks_the_md5_and_reads_the_tar(tmp_path, monkeypatch):
    members, rows, labels, test_rows, test_labels = _cifar10_members(np.random.default_rng(0))
    remote = _serve_cifar10(tmp_path, monkeypatch, members)
    directory = tmp_path / "data"
    (x, t), (xt, tt) = data.load_cifar10(directory=directory, download=True)
    assert sorted(p.name for p in (directory / "cache").iterdir()) == ["cifar-10-python.tar.gz"]  # no .part left
    assert data.digest_of(directory / remote.path, "md5") == remote.md5
    assert x.shape == (20, 32, 32, 3) and x.dtype == np.uint8 and xt.shape == (3, 32, 32, 3)
    assert t.dtype == np.int64 and t.tolist() == labels.tolist() and tt.tolist() == test_labels.tolist()
    i, r, c = np.meshgrid(np.arange(20), np.arange(32), np.arange(32), indexing="ij")
    for ch in range(3):                              # batches 1..5 in order, each row R, G, B planes
        assert np.array_equal(x[..., ch], rows[i, ch * 1024 + r * 32 + c])
    assert xt[2, 31, 0, 1] == test_rows[2, 1 * 1024 + 31 * 32 + 0]
    (x5, t5), (xt1, _) = data.load_cifar10(n_train=5, n_test=1, directory=directory)   # no download needed now
    assert np.array_equal(x5, x[:5]) and np.array_equal(t5, t[:5]) and xt1.shape == (1, 32, 32, 3)
    x5[:] = 0                                         # a copy: the cached arrays stay
    assert np.array_equal(data.load_cifar10(n_train=5, directory=directory)[0][0], x[:5])
    with pytest.raises(ValueError, match="n_train must be between 1 and 20"):
        data.load_cifar10(n_train=21, directory=directory)


def test_a_cifar10_download_with_the_wrong_md5_keeps_no_file(tmp_path, monkeypatch):
    members = _cifar10_members(np.random.default_rng(1))[0]
    _serve_cifar10(tmp_path, monkeypatch, members, md5="0" * 32)
    directory = tmp_path / "data"
    with pytest.raises(data.DatasetError) as error:
        data.load_cifar10(directory=directory, download=True)
    assert "Could not download cache/cifar-10-python.tar.gz" in str(error.value) and "MD5" in str(error.value)
    assert list((directory / "cache").iterdir()) == []


def test_missing_cifar10_without_download_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DLFS_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DatasetError) as error:
        data.load_cifar10()
    message = str(error.value)
    target = tmp_path.resolve() / "cache" / "cifar-10-python.tar.gz"
    assert message.startswith("CIFAR-10 is not downloaded yet") and "load_cifar10(download=True)" in message
    assert f"`{data.download_command('cifar10')}`" in message and f"copy a good cache/cifar-10-python.tar.gz " \
        f"to {target}" in message


def test_a_pickle_that_names_os_system_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    marker = tmp_path / "it-ran"

    class Exploit:
        def __reduce__(self):
            return os.system, (f"touch {shlex.quote(str(marker))}",)

    crafted = pickle.dumps({b"data": Exploit(), b"labels": [0]}, protocol=2)
    crafted = crafted.replace(b"cposix\nsystem\n", b"cos\nsystem\n")   # name it as os.system
    assert b"cos\nsystem\n" in crafted
    members = _cifar10_members(np.random.default_rng(2))[0]
    members["cifar-10-batches-py/data_batch_3"] = crafted
    _serve_cifar10(tmp_path, monkeypatch, members)
    with pytest.raises(data.DatasetError) as error:
        data.load_cifar10(directory=tmp_path / "data", download=True)
    message = str(error.value)
    assert "Refused to load" in message and "cifar-10-batches-py/data_batch_3" in message and "os.system" in message
    assert not marker.exists()
    pickle.loads(crafted)                             # the plain unpickler does run it: the refusal saved us
    assert marker.exists()


@pytest.mark.parametrize("module, name", [("builtins", "eval"), ("subprocess", "Popen"), ("numpy", "load"),
                                          ("_codecs", "decode"), ("numpy.core.multiarray", "scalar")])
def test_batch_unpickler_allows_only_numpys_array_rebuilding(module, name):
    with pytest.raises(pickle.UnpicklingError, match=f"names {module}.{name}"):
        data.BatchUnpickler(io.BytesIO(b"\x80\x02c" + f"{module}\n{name}\n".encode() + b".")).load()


@pytest.mark.parametrize("change, problem", [
    (lambda m: m.pop("cifar-10-batches-py/test_batch"), "lacks cifar-10-batches-py/test_batch"),
    (lambda m: m.update({"cifar-10-batches-py/data_batch_2": b"\x80\x02garbage"}),
     "Refused to load .*data_batch_2"),
    (lambda m: m.update({"cifar-10-batches-py/data_batch_4": pickle.dumps({b"data": b"\x00" * 3072,   # no array
                                                                           b"labels": [0]})}),
     "data_batch_4 is not a CIFAR-10 batch"),
])
def test_a_damaged_archive_is_named_with_the_fix(tmp_path, monkeypatch, change, problem):
    members = _cifar10_members(np.random.default_rng(3))[0]
    change(members)
    _serve_cifar10(tmp_path, monkeypatch, members)
    with pytest.raises(data.DatasetError, match=problem) as error:
        data.load_cifar10(directory=tmp_path / "data", download=True)
    assert "cifar-10-python.tar.gz" in str(error.value) and "To fix it" in str(error.value)


def test_verify_on_a_fresh_clone_passes_and_calls_cifar10_optional(tmp_path, monkeypatch, capsys):
    for files in data.DATASETS.values():              # the data directory of a fresh clone: what ships
        for remote in files.values():
            if remote.ships:
                (tmp_path / remote.path).parent.mkdir(parents=True, exist_ok=True)
                os.symlink(REPO / "datasets" / remote.path, tmp_path / remote.path)
    monkeypatch.setenv("DLFS_DATA_DIR", str(tmp_path))
    assert data._main(["verify"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok      ") == 10 and "FAILED" not in out
    assert f"absent  {tmp_path / 'cache' / 'cifar-10-python.tar.gz'}: not downloaded " \
        f"(optional: {data.download_command('cifar10')})" in out
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "cifar-10-python.tar.gz").write_bytes(b"half a download")   # there, but damaged
    assert data._main(["verify"]) == 1
    assert "FAILED  Data file" in capsys.readouterr().out


def test_download_command_fetches_cifar10_into_the_cache(tmp_path, monkeypatch, capsys):
    remote = _serve_cifar10(tmp_path, monkeypatch, _cifar10_members(np.random.default_rng(4))[0])
    monkeypatch.setenv("DLFS_DATA_DIR", str(tmp_path / "data"))
    assert data._main(["download", "cifar10"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "fetching cache/cifar-10-python.tar.gz",
        f"ok      {tmp_path / 'data' / remote.path} (downloaded and verified)"]
    (x, _), _ = data.load_cifar10()
    assert x.shape == (20, 32, 32, 3)


def test_digest_of_by_algorithm(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"abc" * 1000)
    assert data.digest_of(path, "md5") == hashlib.md5(b"abc" * 1000).hexdigest()
    assert data.digest_of(path) == data.sha256_of(path) == hashlib.sha256(b"abc" * 1000).hexdigest()
