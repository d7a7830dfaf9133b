"""Decoded arrays kept on disk once, as read-only memory maps every process on the machine shares.

An entry is a folder ``<root>/<key>/`` named for the fingerprint of what was read. It is built in a temporary
sibling and renamed into place, so a reader sees a whole entry or none; one process builds it while the others
wait on a lock and then map what it wrote. The builder's process gets its arrays as soon as they are filled: a
thread flushes, renames and unlocks the entry meanwhile, and ``finish_writing`` waits for it. The cache is only
a cache: any trouble with it (no permission, a full disk, a read-only file system) costs a warning and a decode
in memory, never a failed run.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from tuner.rundir.files import CREATE_MODE, make_folder, sync_file, sync_folder, write_json

_T = TypeVar("_T")

FORMAT = 1  # of an entry's layout; a change makes old entries miss instead of being misread

# Entries this process built and is still writing to disk; non-daemon, so a normal exit waits for them.
_writing: list[threading.Thread] = []


class Sink(Protocol):
    """Where a builder puts its arrays: it asks for each one, then fills it in place."""

    def array(self, name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        """A writable array of ``shape`` and ``dtype``, kept under ``name``."""
        ...


@dataclass(frozen=True)
class Stored:
    """What a builder made: its arrays (read-only memory maps when cached) and its JSON-able meta."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


class _CacheUnusableError(Exception):
    """The cache folder cannot be created or written; the caller decodes in memory instead."""

    def __init__(self, folder: Path, error: OSError) -> None:
        super().__init__(folder, error)
        self.folder = folder
        self.reason = os.strerror(error.errno) if error.errno else str(error)


def cache_root() -> Path:
    """``$TUNER_CACHE``, else ``$XDG_CACHE_HOME/tuner``, else ``~/.cache/tuner``."""
    if os.environ.get("TUNER_CACHE"):
        return Path(os.environ["TUNER_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "tuner"
    return Path.home() / ".cache" / "tuner"


def fingerprint_key(fingerprint: Mapping[str, Any]) -> str:
    """The sha256 of the fingerprint's canonical JSON: equal inputs, equal keys, in any process."""
    canonical = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def finish_writing() -> None:
    """Wait until every entry this process built is on disk: needed before ``os._exit``, which waits for no thread."""
    while _writing:
        _writing.pop().join()


def load_or_build(
    fingerprint: Mapping[str, Any],
    build: Callable[[Sink], dict[str, Any]],
    *,
    enabled: bool = True,
    warn: Callable[[str], None],
) -> Stored:
    """The cached entry for ``fingerprint``, built by ``build`` on a miss; in memory when disabled or unwritable.

    Only the builder's own errors propagate; a cache problem calls ``warn`` once and builds in memory.
    """
    if not enabled:
        return _build_in_memory(build)
    root = cache_root()
    key = fingerprint_key(fingerprint)
    stored = _read(root / key)
    if stored is not None:
        return stored
    try:
        return _build_cached(root, key, fingerprint, build, warn)
    except _CacheUnusableError as problem:
        warn(f"cannot write the image cache at {problem.folder} ({problem.reason}); decoding in memory")
        return _build_in_memory(build)


class _MemorySink:
    """Arrays in memory, for a cache that is off or cannot be written."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        """A fresh uninitialised array: the builder fills all of it."""
        self.arrays[name] = np.empty(shape, dtype=dtype)
        return self.arrays[name]


class _FileSink:
    """Arrays as raw files in an entry being built, their space reserved up front."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.arrays: dict[str, np.ndarray] = {}
        self.layout: dict[str, dict[str, Any]] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        """A writable map of a new file; ENOSPC shows here, not as a SIGBUS when a page is first written."""
        if not name.isidentifier() or name in self.arrays:
            raise ValueError(f"array name {name!r} must be a new identifier")
        size = math.prod(shape) * np.dtype(dtype).itemsize
        path = self.folder / f"{name}.bin"
        try:
            handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, CREATE_MODE)
            try:
                if size:
                    os.posix_fallocate(handle, 0, size)
            finally:
                os.close(handle)
            # mmap cannot map nothing: an empty array needs no file behind it.
            array = np.memmap(path, dtype=dtype, mode="r+", shape=shape) if size else np.empty(shape, dtype=dtype)
        except OSError as error:
            raise _CacheUnusableError(self.folder.parent, error) from error
        self.arrays[name] = array
        self.layout[name] = {"shape": list(shape), "dtype": np.dtype(dtype).str}
        return array


def _build_in_memory(build: Callable[[Sink], dict[str, Any]]) -> Stored:
    """Run the builder into plain arrays."""
    sink = _MemorySink()
    meta = build(sink)
    return Stored(arrays=sink.arrays, meta=meta)


def _build_cached(
    root: Path,
    key: str,
    fingerprint: Mapping[str, Any],
    build: Callable[[Sink], dict[str, Any]],
    warn: Callable[[str], None],
) -> Stored:
    """Build the entry under the key's lock, unless a process that held it first already did.

    The arrays are returned once filled; a thread writes the entry to disk and then releases the lock, so a
    process waiting on it still finds a whole entry, and one killed meanwhile leaves only a temporary.
    """
    entry = root / key
    lock = _lock(root, key)
    try:
        stored = _read(entry)
        if stored is not None:
            return stored
        # Holding the lock, every temporary for this key is a dead builder's, and a broken entry is ours to clear.
        _remove_leftovers(root, key)
        temporary = root / f".{key}.tmp-{os.getpid()}-{secrets.token_hex(6)}"
        try:
            _cache_step(root, lambda: temporary.mkdir())
            sink = _FileSink(temporary)
            meta = build(sink)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        writer = threading.Thread(
            target=_write_and_unlock,
            args=(root, lock, sink, temporary, entry, fingerprint, meta, warn),
            name=f"tuner-cache-{key[:8]}",
        )
        writer.start()
        lock = None  # the writer releases it
        _writing.append(writer)
    finally:
        if lock is not None:
            os.close(lock)  # releases the lock
    # The maps stay valid across the rename: the caller reads what a process that finds the entry maps.
    for array in sink.arrays.values():
        array.flags.writeable = False
    return Stored(arrays=dict(sink.arrays), meta=meta)


def _lock(root: Path, key: str) -> int:
    """A descriptor holding an exclusive lock on ``<root>/<key>.lock``; the kernel drops it if the process dies."""
    _cache_step(root, lambda: make_folder(root))
    # Read-only is enough for flock, so a lock file another user created still opens.
    handle = _cache_step(root, lambda: os.open(root / f"{key}.lock", os.O_RDONLY | os.O_CREAT, CREATE_MODE))
    try:
        _cache_step(root, lambda: fcntl.flock(handle, fcntl.LOCK_EX))
    except BaseException:
        os.close(handle)
        raise
    return handle


def _write_and_unlock(
    root: Path,
    lock: int,
    sink: _FileSink,
    temporary: Path,
    entry: Path,
    fingerprint: Mapping[str, Any],
    meta: dict[str, Any],
    warn: Callable[[str], None],
) -> None:
    """Commit a built entry and release its lock; a failure removes the temporary (the caller's maps stay valid)."""
    try:
        _cache_step(root, lambda: _commit(sink, temporary, entry, fingerprint, meta))
    except _CacheUnusableError as problem:
        shutil.rmtree(temporary, ignore_errors=True)
        warn(f"cannot write the image cache at {problem.folder} ({problem.reason}); the next run decodes again")
    finally:
        os.close(lock)


def _cache_step(root: Path, step: Callable[[], _T]) -> _T:
    """Run one step of writing the cache, an OSError in it turned into the cache being unusable."""
    try:
        return step()
    except OSError as error:
        raise _CacheUnusableError(root, error) from error


def _remove_leftovers(root: Path, key: str) -> None:
    """Delete dead builders' temporaries and a broken entry for ``key``; a failure here is left for later."""
    entry = root / key
    if entry.exists():
        spoiled = root / f".{key}.tmp-spoiled-{secrets.token_hex(6)}"
        try:
            os.rename(entry, spoiled)
        except OSError:
            return
    for leftover in root.glob(f".{key}.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _commit(
    sink: _FileSink, temporary: Path, entry: Path, fingerprint: Mapping[str, Any], meta: dict[str, Any]
) -> None:
    """Flush the arrays and meta.json to disk, then rename the folder into place and flush that too.

    fsync writes the pages the maps changed (Linux shares one page cache between them and the file); unlike
    ``memmap.flush`` (msync) it releases the GIL while the disk works.
    """
    for name, array in sink.arrays.items():
        if isinstance(array, np.memmap):
            sync_file(temporary / f"{name}.bin")
    # What was read, for whoever looks; a reader trusts the key (a sha256 of it) and never parses this.
    write_json(temporary / "fingerprint.json", fingerprint)
    write_json(temporary / "meta.json", {"format": FORMAT, "key": entry.name, "arrays": sink.layout, "meta": meta})
    sync_folder(temporary)
    os.rename(temporary, entry)
    sync_folder(entry.parent)


def _read(entry: Path) -> Stored | None:
    """The entry as read-only maps, or None when it is missing or not whole (wrong sizes, bad meta.json).

    The folder's name is the fingerprint's sha256, so a meta.json naming that key describes what was read;
    the fingerprint itself (a line per file of a large folder) is not read back.
    """
    try:
        described = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        if described["format"] != FORMAT or described["key"] != entry.name:
            return None
        arrays = {name: _mapped(entry / f"{name}.bin", layout) for name, layout in described["arrays"].items()}
        return Stored(arrays=arrays, meta=described["meta"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _mapped(path: Path, layout: Mapping[str, Any]) -> np.ndarray:
    """A read-only map of one array file, which must hold exactly the bytes its layout says."""
    shape, dtype = tuple(int(size) for size in layout["shape"]), np.dtype(layout["dtype"])
    size = math.prod(shape) * dtype.itemsize
    if path.stat().st_size != size:
        raise ValueError(f"{path} holds {path.stat().st_size} bytes, not {size}")
    if not size:
        empty = np.empty(shape, dtype=dtype)
        empty.flags.writeable = False
        return empty
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)
