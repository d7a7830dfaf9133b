"""The standard datasets by name: files planted in a temporary Keras cache or in a folder of original files are
read, the official test set is kept as the test set, and a failed download is one line."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest

from tuner.data.keras_datasets import dataset_files, keras_cache, read_dataset
from tuner.data.sources import load_data
from tuner.errors import InputError
from tuner.space.schema import DataSpec


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty Keras cache: KERAS_HOME points into tmp_path, so nothing real is read or written."""
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def load_keras_dataset(name):
    """Every image of a dataset from Keras' cache, its training set then its test set, and the labels."""
    parts = read_dataset(name, dataset_files(name, None))
    return (
        np.concatenate([parts.train_images, parts.test_images]),
        np.concatenate([parts.train_labels, parts.test_labels]),
    )


def plant_mnist(cache, train: int = 30, test: int = 10, folder=None):
    """A small mnist.npz in keras' format: uint8 28x28 images, uint8 digit labels."""
    rng = np.random.default_rng(0)
    folder = folder or cache / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / "mnist.npz",
        x_train=rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        y_train=(np.arange(train) % 10).astype(np.uint8),
        x_test=np.full((test, 28, 28), 255, dtype=np.uint8),
        y_test=(np.arange(test) % 10).astype(np.uint8),
    )


def plant_cifar10(cache, per_batch: int = 4):
    """Extracted CIFAR-10 python batches where keras.datasets leaves them: dicts of bytes keys."""
    folder = cache / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for index, name in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]):
        data = np.zeros((per_batch, 3 * 32 * 32), dtype=np.uint8)
        data[:, :1024] = 200  # red plane only: channels first in the file
        batch = {b"data": data, b"labels": [(index + row) % 10 for row in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch))


def plant_fashion(cache, train: int = 20, test: int = 10, folder=None):
    """The four gzip'd IDX files of Fashion-MNIST (8- and 16-byte headers before the data): training pixels
    128, test pixels 255, as Debian's dataset-fashion-mnist installs them in one folder."""
    folder = folder or cache / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, count, value in (("train", train, 128), ("t10k", test, 255)):
        labels = (np.arange(count) % 10).astype(np.uint8)
        images = np.full((count, 28, 28), value, dtype=np.uint8)
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0" * 8 + labels.tobytes()))
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\0" * 16 + images.tobytes()))


def test_cache_follows_keras_home(cache):
    assert keras_cache() == cache


def test_mnist_is_read_from_the_cache_training_set_first(cache):
    plant_mnist(cache, train=30, test=10)
    images, labels = load_keras_dataset("mnist")
    assert images.shape == (40, 28, 28, 1) and images.dtype == np.uint8
    assert (images[30:] == 255).all() and labels[:10].tolist() == list(range(10))


def test_the_official_test_set_is_the_test_set_by_default(cache):
    plant_mnist(cache, train=30, test=10)
    spec = DataSpec(source="mnist", validation_split=0.2)
    assert spec.test_split == "official"
    data = load_data(spec, None, seed=0)
    assert data.class_names == tuple("0123456789") and data.input_shape == (28, 28, 1)
    assert (len(data.train), len(data.val), len(data.test)) == (24, 6, 10)
    assert (data.test.pixels() == 255).all()  # exactly the planted test images, as stored
    assert data.images.dtype == np.uint8 and data.pixel_scale == pytest.approx(1 / 255)
    assert set(data.train_rows) | set(data.val_rows) == set(range(30))


def test_limit_applies_to_the_training_pool_and_the_official_test_set_stays_whole(cache):
    plant_mnist(cache, train=30, test=10)
    data = load_data(DataSpec(source="mnist", limit=20, validation_split=0.25), None, seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == (15, 5, 10)


def test_a_share_instead_of_official_pools_and_splits_again(cache):
    plant_mnist(cache, train=30, test=10)
    data = load_data(DataSpec(source="mnist", limit=20, validation_split=0.25, test_split=0.25), None, seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == (10, 5, 5)
    assert not (data.test.pixels() == 255).all()


def test_cifar10_batches_are_read_channels_last(cache):
    plant_cifar10(cache, per_batch=4)
    images, labels = load_keras_dataset("cifar10")
    assert images.shape == (24, 32, 32, 3)
    assert (images[..., 0] == 200).all() and (images[..., 1:] == 0).all()
    assert labels[20:].tolist() == [5, 6, 7, 8]


def test_fashion_mnist_idx_files_are_read_from_the_cache(cache):
    plant_fashion(cache, train=20, test=10)
    data = load_data(DataSpec(source="fashion_mnist", validation_split=0.2), None, seed=0)
    assert data.num_classes == 10 and data.class_names[9] == "ankle-boot"
    assert (len(data.train), len(data.val), len(data.test)) == (16, 4, 10)
    assert (data.train.pixels() == 128).all() and (data.test.pixels() == 255).all()


def test_data_path_reads_the_original_files_as_debian_installs_them(cache, tmp_path):
    plant_fashion(cache, train=20, test=10, folder=tmp_path / "usr-share-datasets" / "fashion-mnist")
    spec = DataSpec(source="fashion_mnist", path="usr-share-datasets/fashion-mnist")
    data = load_data(spec, tmp_path, seed=0)
    assert (len(data.train) + len(data.val), len(data.test)) == (20, 10)
    assert (data.test.pixels() == 255).all()
    assert not (cache / "datasets").exists()  # Keras' cache was never needed


def test_data_path_reads_mnist_as_idx_files_or_as_keras_npz(cache, tmp_path):
    plant_fashion(cache, train=20, test=10, folder=tmp_path / "lecun")  # mnist's original files: the same format
    idx = load_data(DataSpec(source="mnist", path="lecun"), tmp_path, seed=0)
    assert (len(idx.train) + len(idx.val), len(idx.test)) == (20, 10)
    plant_mnist(cache, train=30, test=10, folder=tmp_path / "keras")
    npz = load_data(DataSpec(source="mnist", path="keras"), tmp_path, seed=0)
    assert (len(npz.train) + len(npz.val), len(npz.test)) == (30, 10)


def test_data_path_reads_cifar_batches_in_the_folder_or_the_one_the_archive_makes(cache, tmp_path):
    plant_cifar10(cache, per_batch=4)
    extracted = cache / "datasets" / "cifar-10-batches-py-target"
    for spec_path in (extracted, extracted / "cifar-10-batches-py"):
        data = load_data(DataSpec(source="cifar10", path=str(spec_path)), tmp_path, seed=0)
        assert (len(data.train) + len(data.val), len(data.test)) == (20, 4)


def test_data_path_without_a_file_names_it(cache, tmp_path):
    plant_fashion(cache, folder=tmp_path / "fashion")
    (tmp_path / "fashion" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(InputError) as caught:
        load_data(DataSpec(source="fashion_mnist", path="fashion"), tmp_path, seed=0)
    assert caught.value.key == "data.path"
    assert caught.value.message.startswith(f"{tmp_path / 'fashion'} has no t10k-images-idx3-ubyte.gz: ")


def test_official_is_refused_for_sources_without_a_test_set():
    with pytest.raises(ValueError, match="only mnist, fashion_mnist, cifar10, cifar100 have an official test set"):
        DataSpec(source="digits", test_split="official")


def test_class_names_name_the_labels_of_a_standard_dataset(cache):
    plant_mnist(cache)
    names = [f"digit-{index}" for index in range(10)]
    assert load_data(DataSpec(source="mnist", class_names=names), None, seed=0).class_names == tuple(names)
    with pytest.raises(InputError, match=r"names 2 classes; the data has 10 \(0, 1,"):
        load_data(DataSpec(source="mnist", class_names=["a", "b"]), None, seed=0)


@pytest.mark.parametrize(
    ("name", "url", "target"),
    [
        ("mnist", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz", "datasets/mnist.npz"),
        (
            "cifar10",
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "datasets/cifar-10-batches-py-target_archive",
        ),
    ],
)
def test_failed_download_names_the_file_and_where_to_put_it(cache, name, url, target):
    with pytest.raises(InputError) as caught:
        load_keras_dataset(name)
    assert caught.value.key == "data.source"
    assert caught.value.message == (
        f"could not fetch {url} (download failed); download it by hand and save it as {cache / target}"
    )


def test_fashion_names_the_first_missing_file(cache):
    plant_fashion(cache)
    (cache / "datasets" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(InputError, match=r"t10k-labels-idx1-ubyte\.gz \(download failed\); download it by hand"):
        load_keras_dataset("fashion_mnist")


def test_a_broken_planted_file_is_named(cache):
    (cache / "datasets").mkdir(parents=True)
    (cache / "datasets" / "mnist.npz").write_bytes(b"not an archive")
    with pytest.raises(InputError, match=r"mnist\.npz is not a usable mnist\.npz .*delete it to download again"):
        load_keras_dataset("mnist")


@pytest.mark.slow
def test_data_module_does_not_import_keras_for_other_sources():
    import subprocess
    import sys

    code = (
        "import sys; from tuner.data.sources import load_data; from tuner.space.schema import DataSpec;"
        "load_data(DataSpec(source='shapes', samples=20, image_size=[15, 15]), None, 1);"
        "print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "False False"


def test_cifar100_reads_the_fine_labels(cache):
    folder = cache / "datasets" / "cifar-100-python-target" / "cifar-100-python"
    folder.mkdir(parents=True)
    for name, count in (("train", 5), ("test", 2)):
        batch = {
            b"data": np.zeros((count, 3072), np.uint8),
            b"fine_labels": [99] * count,
            b"coarse_labels": [1] * count,
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    images, labels = load_keras_dataset("cifar100")
    assert images.shape == (7, 32, 32, 3) and set(labels) == {99}


def test_a_pickle_that_names_other_code_is_refused(cache):
    plant_cifar10(cache, per_batch=2)
    evil = cache / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "test_batch"
    evil.write_bytes(pickle.dumps({b"data": print, b"labels": []}))
    with pytest.raises(InputError, match=r"does not hold readable cifar10 batches \(refusing to load builtins.print\)"):
        load_keras_dataset("cifar10")
