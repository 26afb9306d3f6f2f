"""ember.vision.datasets on small files written here in the real formats (IDX, CIFAR
pickles, class folders); nothing is downloaded."""

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms


def write_idx(path, arr, gz=False):
    codes = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}
    arr = np.ascontiguousarray(arr)
    head = bytes([0, 0, codes[arr.dtype.type], arr.ndim]) + struct.pack(f">{arr.ndim}I",
                                                                         *arr.shape)
    data = head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gz else open)(str(path) + (".gz" if gz else ""), "wb") as f:
        f.write(data)


def make_mnist(root, name="MNIST", n_train=5, n_test=3, gz=False):
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", imgs, gz)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, gz)
        out[prefix] = (imgs, labels)
    return out


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path, gz):
    written = make_mnist(tmp_path, gz=gz)
    ds = datasets.MNIST(str(tmp_path), train=True)
    assert len(ds) == 5 and ds.data.shape == (5, 28, 28)
    assert ds.data.dtype == ember.uint8 and ds.targets.dtype == ember.int64
    img, target = ds[2]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    np.testing.assert_array_equal(img, written["train"][0][2])
    assert target == 2 and isinstance(target, int)
    test = datasets.MNIST(str(tmp_path), train=False)
    assert len(test) == 3
    np.testing.assert_array_equal(test.targets.numpy(), [0, 1, 2])
    assert ds.classes[3] == "3 - three" and ds.class_to_idx["9 - nine"] == 9
    assert "Split: Train" in repr(ds) and "Number of datapoints: 5" in repr(ds)


def test_mnist_transforms_and_dataloader(tmp_path):
    written = make_mnist(tmp_path)
    ds = datasets.MNIST(str(tmp_path), transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]),
        target_transform=lambda y: y * 10)
    img, target = ds[1]
    assert img.shape == (1, 28, 28) and img.dtype == ember.float32 and target == 10
    expected = (written["train"][0][1] / 255.0 - 0.1307) / 0.3081
    np.testing.assert_allclose(img.numpy()[0], expected, rtol=1e-5, atol=1e-5)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and y.tolist() == [0, 10, 20, 30]


def test_fashion_mnist_uses_own_folder(tmp_path):
    make_mnist(tmp_path, name="FashionMNIST")
    ds = datasets.FashionMNIST(str(tmp_path), train=False)
    assert len(ds) == 3 and ds.classes[9] == "Ankle boot"
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(str(tmp_path))  # MNIST/raw does not exist


def test_download_raises_clear_error_offline(tmp_path):
    with pytest.raises(RuntimeError, match="does not download"):
        datasets.MNIST(str(tmp_path), download=True)
    with pytest.raises(RuntimeError, match="does not download"):
        datasets.CIFAR10(str(tmp_path), download=True)
    make_mnist(tmp_path)
    assert len(datasets.MNIST(str(tmp_path), download=True)) == 5  # files present: fine


def test_idx_errors(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(RuntimeError, match="bad magic"):
        datasets.read_idx(p)
    write_idx(tmp_path / "f", np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "f"),
                                  np.arange(6).reshape(2, 3))
    blob = (tmp_path / "f").read_bytes()
    (tmp_path / "short").write_bytes(blob[:-4])
    with pytest.raises(RuntimeError, match="data bytes"):
        datasets.read_idx(tmp_path / "short")


def make_cifar10(root, per_batch=4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        # Python 2 pickles have byte-string keys; write them that way.
        with open(folder / name, "wb") as f:
            pickle.dump({b"batch_label": name.encode(), b"data": data, b"labels": labels,
                         b"filenames": [b"x.png"] * per_batch}, f, protocol=2)
        batches[name] = (data, labels)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [n.encode() for n in names], b"num_vis": 3072}, f,
                    protocol=2)
    return batches


def test_cifar10_reads_pickled_batches(tmp_path):
    batches = make_cifar10(tmp_path)
    train = datasets.CIFAR10(str(tmp_path), train=True)
    assert len(train) == 20 and train.data.shape == (20, 32, 32, 3)
    assert train.classes[0] == "airplane" and train.class_to_idx["truck"] == 9
    img, target = train[5]  # second batch, second row
    data, labels = batches["data_batch_2"]
    np.testing.assert_array_equal(img, data[1].reshape(3, 32, 32).transpose(1, 2, 0))
    assert target == labels[1]
    test = datasets.CIFAR10(str(tmp_path), train=False, transform=transforms.ToTensor())
    x, y = test[0]
    assert x.shape == (3, 32, 32) and y == batches["test_batch"][1][0]
    np.testing.assert_allclose(x.numpy()[2, 0, :4], batches["test_batch"][0][0][2048:2052]
                               / 255.0, rtol=1e-6)
    os.remove(tmp_path / "cifar-10-batches-py" / "data_batch_3")
    with pytest.raises(RuntimeError, match="not found"):
        datasets.CIFAR10(str(tmp_path))


def test_cifar100_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    data = np.zeros((2, 3072), np.uint8)
    for name in ("train", "test"):
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"fine_labels": [7, 99], b"coarse_labels": [1, 2]}, f)
    with open(folder / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [f"c{i}".encode() for i in range(100)]}, f)
    ds = datasets.CIFAR100(str(tmp_path))
    assert ds.targets == [7, 99] and ds.classes[99] == "c99"


def test_image_folder(tmp_path):
    for cls, value in (("cat", 10), ("dog", 200)):
        (tmp_path / cls).mkdir()
        np.save(tmp_path / cls / "a.npy", np.full((4, 4, 3), value, np.uint8))
    (tmp_path / "dog" / "notes.txt").write_text("ignored")
    ds = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor())
    assert ds.classes == ["cat", "dog"] and len(ds) == 2 and ds.targets == [0, 1]
    x, y = ds[1]
    assert y == 1 and x.shape == (3, 4, 4) and abs(float(x[0, 0, 0]) - 200 / 255) < 1e-6


def test_image_folder_png_with_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    (tmp_path / "a").mkdir()
    arr = np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "a" / "x.png")
    img, target = datasets.ImageFolder(str(tmp_path))[0]
    np.testing.assert_array_equal(img, arr)
    assert target == 0
