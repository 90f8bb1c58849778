"""dlfs.data: the shipped MNIST, and every way a data file can be wrong."""

import gzip
import hashlib
import os
import re
import shlex
import socket
import subprocess
import sys
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
    registry = {r.path: r.sha256 for files in data.DATASETS.values() for r in files.values()}
    assert registry == listed
    for remote in data.MNIST_FILES.values():
        assert data.verify(remote, REPO / "datasets").stat().st_size == remote.size


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
    assert capsys.readouterr().out.count("ok ") == 4
