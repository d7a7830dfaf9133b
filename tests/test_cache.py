"""tuner/data/cache.py: decode once, shared by processes as read-only maps; any cache trouble falls back to memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.helpers import write_classes
from tuner.data.cache import cache_root, fingerprint_key, finish_writing, load_or_build
from tuner.data.folder import decode_folder, list_folder

# A process that loads a folder through the cache, counting each decode in a file, and saves the images it got.
# With ready files it first waits for every one of them, so that the processes start loading together.
LOAD = """
import sys, time
from pathlib import Path
from typing import Any
import numpy as np
from tuner.data.cache import load_or_build
from tuner.data.folder import decode_folder, list_folder

folder, counter, out, *ready = sys.argv[1:]
listing = list_folder(Path(folder))

def build(sink):
    with open(counter, "a") as stream:
        stream.write("decoded\\n")
    time.sleep(0.3 if ready else 0)
    return decode_folder(listing, (8, 8), "rgb", "error", sink)

if ready:
    Path(ready[0]).touch()
    while not all(Path(name).exists() for name in ready):
        time.sleep(0.005)
stored = load_or_build(listing.fingerprint((8, 8), "rgb"), build, warn=print)
np.save(out, np.asarray(stored.arrays["images"]))
"""


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh cache root, in this process and the ones it starts."""
    root = tmp_path / "cache"
    monkeypatch.setenv("TUNER_CACHE", str(root))
    return root


def counting_builder(counter: Path, shape: tuple[int, ...] = (4, 3), fill: int = 7):
    """A builder of one array of ``fill`` that appends a line to ``counter`` each time it runs."""

    def build(sink):
        with counter.open("a") as stream:
            stream.write("built\n")
        sink.array("values", shape, "int16")[...] = fill
        return {"fill": fill}

    return build


def lines(counter: Path) -> int:
    """How many times a counting builder ran."""
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def load_in_process(folder: Path, counter: Path, out: Path, *ready: Path) -> subprocess.Popen:
    """Start a process running LOAD on ``folder``."""
    return subprocess.Popen([sys.executable, "-c", LOAD, str(folder), str(counter), str(out), *map(str, ready)])


def run_load(folder: Path, counter: Path, out: Path) -> np.ndarray:
    """Run LOAD in a process to the end and return the images it got."""
    assert load_in_process(folder, counter, out).wait(timeout=120) == 0
    return np.load(out)


def write_bmp(path: Path, value: int) -> None:
    """An 8x8 RGB bitmap of one value: every such file has the same size in bytes."""
    Image.fromarray(np.full((8, 8, 3), value, dtype=np.uint8)).save(path)


def assert_only_the_lock_is_left(folder: Path) -> None:
    """Nothing of a failed build stays in the cache folder but the key's lock file."""
    assert [path.name for path in folder.iterdir()] == [f"{fingerprint_key({'n': 1})}.lock"]


def printed_by(script: str) -> Any:
    """What a script run in a fresh interpreter printed as JSON; it must exit 0."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TUNER_CACHE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "explicit"
    monkeypatch.delenv("TUNER_CACHE")
    assert cache_root() == tmp_path / "xdg" / "tuner"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "tuner"


def test_the_key_is_the_same_for_the_same_fingerprint_in_any_key_order():
    assert fingerprint_key({"a": 1, "b": [1, 2]}) == fingerprint_key({"b": [1, 2], "a": 1})
    assert fingerprint_key({"a": 1}) != fingerprint_key({"a": 2})
    assert len(fingerprint_key({})) == 64


def test_cached_arrays_are_read_only_memory_maps_built_once(cache, tmp_path):
    counter = tmp_path / "counter"
    first = load_or_build({"n": 1}, counting_builder(counter), warn=pytest.fail)
    second = load_or_build({"n": 1}, counting_builder(counter), warn=pytest.fail)
    assert lines(counter) == 1
    for stored in (first, second):
        values = stored.arrays["values"]
        assert isinstance(values, np.memmap)
        assert not values.flags.writeable
        assert values.dtype == np.int16
        np.testing.assert_array_equal(values, np.full((4, 3), 7))
        assert stored.meta == {"fill": 7}
    finish_writing()
    entry = cache / fingerprint_key({"n": 1})
    described = json.loads((entry / "meta.json").read_text())
    assert described["key"] == entry.name
    assert json.loads((entry / "fingerprint.json").read_text()) == {"n": 1}
    assert described["arrays"] == {"values": {"shape": [4, 3], "dtype": "<i2"}}
    assert described["meta"] == {"fill": 7}


def test_another_fingerprint_is_another_entry(cache, tmp_path):
    counter = tmp_path / "counter"
    load_or_build({"n": 1}, counting_builder(counter, fill=1), warn=pytest.fail)
    other = load_or_build({"n": 2}, counting_builder(counter, fill=2), warn=pytest.fail)
    assert lines(counter) == 2
    np.testing.assert_array_equal(other.arrays["values"], np.full((4, 3), 2))


def two_class_bmps(folder: Path) -> Path:
    """Classes ant (pixels 10) and bee (pixels 200), one BMP each: its size never depends on its pixels."""
    for name, value in (("ant", 10), ("bee", 200)):
        (folder / name).mkdir(parents=True)
        write_bmp(folder / name / "0.bmp", value)
    return folder


def test_a_second_process_reuses_the_cache_without_decoding(cache, tmp_path):
    folder = two_class_bmps(tmp_path / "data")
    counter, out = tmp_path / "counter", tmp_path / "out.npy"
    old = run_load(folder, counter, out)
    # Other pixels in a file of the same size and time: only a process that decodes again can see them.
    image = folder / "ant" / "0.bmp"
    stat = image.stat()
    write_bmp(image, 99)
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert image.stat().st_size == stat.st_size
    np.testing.assert_array_equal(run_load(folder, counter, out), old)
    assert lines(counter) == 1
    assert old[list_folder(folder).class_names.index("ant")].max() == 10


def test_a_changed_file_is_decoded_again(cache, tmp_path):
    folder = two_class_bmps(tmp_path / "data")
    counter, out = tmp_path / "counter", tmp_path / "out.npy"
    run_load(folder, counter, out)
    image = folder / "ant" / "0.bmp"
    stat = image.stat()
    write_bmp(image, 99)
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert run_load(folder, counter, out)[0].max() == 99
    Image.fromarray(np.full((9, 8, 3), 55, dtype=np.uint8)).save(image)  # another size, same time
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert run_load(folder, counter, out)[0].max() == 55
    assert lines(counter) == 3


def test_two_processes_racing_on_a_cold_cache_decode_once(cache, tmp_path):
    folder = write_classes(tmp_path / "data", {"ant": 5, "bee": 5})
    counter = tmp_path / "counter"
    ready = [tmp_path / "ready-0", tmp_path / "ready-1"]
    processes = [
        load_in_process(folder, counter, tmp_path / "out-0.npy", ready[0], ready[1]),
        load_in_process(folder, counter, tmp_path / "out-1.npy", ready[1], ready[0]),
    ]
    assert [process.wait(timeout=120) for process in processes] == [0, 0]
    assert lines(counter) == 1
    np.testing.assert_array_equal(np.load(tmp_path / "out-0.npy"), np.load(tmp_path / "out-1.npy"))


KILLED = """
import os, signal, sys
from tuner.data.cache import load_or_build

def build(sink):
    values = sink.array("values", (1000,), "int64")
    values[:500] = 1
    os.kill(os.getpid(), signal.SIGKILL)

load_or_build({"n": 1}, build, warn=print)
"""


def test_a_killed_builder_leaves_nothing_that_is_read_and_a_later_load_works(cache, tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILLED], timeout=120)
    assert killed.returncode == -9
    key = fingerprint_key({"n": 1})
    [temporary] = cache.glob(f".{key}.tmp-*")
    assert (temporary / "values.bin").exists()
    assert not (cache / key).exists()
    counter = tmp_path / "counter"
    stored = load_or_build({"n": 1}, counting_builder(counter, shape=(1000,), fill=3), warn=pytest.fail)
    np.testing.assert_array_equal(stored.arrays["values"], np.full(1000, 3))
    assert lines(counter) == 1
    assert not temporary.exists()


@pytest.mark.parametrize("damage", ["truncate", "no meta.json", "bad meta.json", "no array"])
def test_a_broken_entry_is_built_again(cache, tmp_path, damage):
    counter = tmp_path / "counter"
    load_or_build({"n": 1}, counting_builder(counter), warn=pytest.fail)
    finish_writing()
    entry = cache / fingerprint_key({"n": 1})
    if damage == "truncate":
        os.truncate(entry / "values.bin", 10)
    elif damage == "no meta.json":
        (entry / "meta.json").unlink()
    elif damage == "bad meta.json":
        (entry / "meta.json").write_text("{")
    else:
        (entry / "values.bin").unlink()
    stored = load_or_build({"n": 1}, counting_builder(counter, fill=5), warn=pytest.fail)
    np.testing.assert_array_equal(stored.arrays["values"], np.full((4, 3), 5))
    assert lines(counter) == 2
    finish_writing()
    assert sorted(path.name for path in cache.iterdir()) == sorted([entry.name, f"{entry.name}.lock"])


def test_a_builder_error_propagates_and_leaves_no_temporary(cache):
    def build(sink):
        sink.array("values", (10,), "uint8")
        raise RuntimeError("builder failed")

    with pytest.raises(RuntimeError, match="builder failed"):
        load_or_build({"n": 1}, build, warn=pytest.fail)
    assert_only_the_lock_is_left(cache)


def test_a_cache_folder_that_cannot_be_made_warns_once_and_decodes_in_memory(tmp_path, monkeypatch):
    folder = write_classes(tmp_path / "data", {"ant": 3, "bee": 2})
    listing = list_folder(folder)

    def build(sink):
        return decode_folder(listing, (7, 9), "rgb", "error", sink)

    monkeypatch.setenv("TUNER_CACHE", str(tmp_path / "good"))
    cached = load_or_build(listing.fingerprint((7, 9), "rgb"), build, warn=pytest.fail)
    # Under a regular file mkdir fails with ENOTDIR, even for root, whom a chmod does not stop.
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TUNER_CACHE", str(tmp_path / "a-file" / "cache"))
    warnings: list[str] = []
    stored = load_or_build(listing.fingerprint((7, 9), "rgb"), build, warn=warnings.append)
    assert warnings == [
        f"cannot write the image cache at {tmp_path / 'a-file' / 'cache'} (Not a directory); decoding in memory"
    ]
    for name in ("images", "labels"):
        assert not isinstance(stored.arrays[name], np.memmap)
        np.testing.assert_array_equal(stored.arrays[name], cached.arrays[name])
    assert stored.meta == cached.meta


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a folder whatever its mode")
def test_a_read_only_cache_folder_warns_once_and_decodes_in_memory(cache, tmp_path):
    cache.mkdir(mode=0o500)
    warnings: list[str] = []
    stored = load_or_build({"n": 1}, counting_builder(tmp_path / "counter"), warn=warnings.append)
    assert warnings == [f"cannot write the image cache at {cache} (Permission denied); decoding in memory"]
    np.testing.assert_array_equal(stored.arrays["values"], np.full((4, 3), 7))
    assert list(cache.iterdir()) == []


# Files may not grow past 64 KiB in this process: the 1 MiB array cannot be reserved, as on a full disk.
LIMITED = """
import json, resource, sys
import numpy as np
from tuner.data.cache import load_or_build

def build(sink):
    sink.array("values", (1024, 1024), "uint8")[...] = 9
    return {}

resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
warnings = []
stored = load_or_build({"n": 1}, build, warn=warnings.append)
print(json.dumps({"warnings": warnings, "memmap": isinstance(stored.arrays["values"], np.memmap),
                  "all nine": bool((stored.arrays["values"] == 9).all())}))
"""


def test_no_room_for_an_array_warns_once_and_leaves_no_partial_file(cache):
    assert printed_by(LIMITED) == {
        "warnings": [f"cannot write the image cache at {cache} (File too large); decoding in memory"],
        "memmap": False,
        "all nine": True,
    }
    assert_only_the_lock_is_left(cache)


# An entry whose meta.json cannot be written: the caller already has its arrays when the writer thread fails.
UNWRITABLE_META = """
import json, resource, signal
import numpy as np
from tuner.data.cache import finish_writing, load_or_build

def build(sink):
    sink.array("values", (1024,), "uint8")[...] = 9
    return {"text": "x" * 100_000}

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
warnings = []
stored = load_or_build({"n": 1}, build, warn=warnings.append)
finish_writing()
print(json.dumps({"warnings": warnings, "all nine": bool((stored.arrays["values"] == 9).all())}))
"""


def test_an_entry_that_cannot_be_committed_warns_and_leaves_the_arrays_and_no_temporary(cache):
    assert printed_by(UNWRITABLE_META) == {
        "warnings": [f"cannot write the image cache at {cache} (File too large); the next run decodes again"],
        "all nine": True,
    }
    assert_only_the_lock_is_left(cache)


# Builds an entry and leaves at once with os._exit, as ``tuner`` does once TensorFlow is loaded.
EXITS_AT_ONCE = """
import os
from tuner.data.cache import finish_writing, load_or_build

def build(sink):
    sink.array("values", (64, 1024, 1024), "uint8")[...] = 5
    return {"fill": 5}

load_or_build({"n": 1}, build, warn=print)
finish_writing()
os._exit(0)
"""


def test_finish_writing_puts_the_entry_on_disk_before_os_exit(cache, tmp_path):
    done = subprocess.run([sys.executable, "-c", EXITS_AT_ONCE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counter = tmp_path / "counter"
    stored = load_or_build({"n": 1}, counting_builder(counter, shape=(64, 1024, 1024), fill=9), warn=pytest.fail)
    assert lines(counter) == 0
    assert stored.meta == {"fill": 5}
    assert int(stored.arrays["values"][-1, -1, -1]) == 5


def test_a_full_disk_warns_once_and_leaves_no_partial_file(tmp_path, monkeypatch):
    small = os.environ.get("TUNER_TEST_SMALL_FS")
    if not small:
        pytest.skip("no small file system to fill: set TUNER_TEST_SMALL_FS to a writable folder on one (a tmpfs)")
    root = Path(small) / f"tuner-cache-{os.getpid()}"
    monkeypatch.setenv("TUNER_CACHE", str(root))
    status = os.statvfs(small)
    larger = status.f_bavail * status.f_frsize + 2**20
    warnings: list[str] = []
    stored = load_or_build({"n": 1}, counting_builder(tmp_path / "counter", shape=(larger,)), warn=warnings.append)
    assert warnings == [f"cannot write the image cache at {root} (No space left on device); decoding in memory"]
    assert not isinstance(stored.arrays["values"], np.memmap)
    assert_only_the_lock_is_left(root)


def test_a_disabled_cache_writes_nothing(cache, tmp_path):
    stored = load_or_build({"n": 1}, counting_builder(tmp_path / "counter"), enabled=False, warn=pytest.fail)
    np.testing.assert_array_equal(stored.arrays["values"], np.full((4, 3), 7))
    assert not isinstance(stored.arrays["values"], np.memmap)
    assert not cache.exists()


@pytest.mark.parametrize(("umask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775)])
def test_files_and_folders_get_the_users_umask(cache, tmp_path, umask, file_mode, folder_mode):
    previous = os.umask(umask)
    try:
        load_or_build({"n": 1}, counting_builder(tmp_path / "counter"), warn=pytest.fail)
        finish_writing()
    finally:
        os.umask(previous)
    entry = cache / fingerprint_key({"n": 1})
    for folder in (cache, entry):
        assert folder.stat().st_mode & 0o777 == folder_mode
    for file in (entry / "values.bin", entry / "meta.json", cache / f"{entry.name}.lock"):
        assert file.stat().st_mode & 0o777 == file_mode
