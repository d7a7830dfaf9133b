"""Files written so that a reader, a kill or a power cut never sees half of one.

Every write goes to a temporary sibling, is flushed to disk, renamed over the target, and the rename itself is
flushed with the folder: after a power cut the target holds the old text or the new one, never nothing.
Files get the mode a plain ``open(path, "w")`` gives them (0666 less the umask), so a shared run directory
stays readable to the group and others the umask lets in.

A write the file system refuses (full, read-only, not this user's) becomes one ``TunerError`` line in
``writing_in``, wherever below it the write was (keras-tuner, Keras and h5py raise plain ``OSError``s).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import pwd
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tuner.errors import NoSpaceError, NotWritableError, TunerError

CREATE_MODE = 0o666  # what open(path, "w") asks for; the kernel takes the umask off it


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so readers never see half a file and a crash loses none."""
    make_folder(path.parent)
    # Ending in .tmp: a reader globbing for *.json never picks up a temporary a kill left behind.
    temporary = path.with_name(f".{path.name}.{unique()}.tmp")
    try:
        # O_EXCL: the name is this call's alone. The kernel applies the umask (or the folder's default ACL).
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, CREATE_MODE)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON."""
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def save_atomic(path: Path, save: Callable[[Path], Any]) -> None:
    """Let a library's ``save(path)`` write a temporary sibling (same suffix), then rename it into place.

    The library chooses how it creates the file, so its mode is set to the umask's afterwards.
    """
    make_folder(path.parent)
    # Libraries pick the format by the whole suffix (Keras' ".weights.h5"), so the temporary keeps all of it.
    stem, _, suffixes = path.name.partition(".")
    temporary = path.with_name(f".{stem}.{unique()}.tmp.{suffixes}" if suffixes else f".{stem}.{unique()}.tmp")
    try:
        save(temporary)
        os.chmod(temporary, CREATE_MODE & ~current_umask())
        sync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def unique() -> str:
    """A part for a temporary's name that no other process or thread uses: the process id and a random part."""
    return f"{os.getpid()}.{secrets.token_hex(6)}"


def make_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents (mode 0777 less the umask), each entry flushed in its parent."""
    if folder.is_dir():
        return
    make_folder(folder.parent)
    try:
        folder.mkdir()
    except FileExistsError:  # another writer made it first (or it is a file, which the write then reports)
        return
    sync_folder(folder.parent)


def share_folder(folder: Path) -> None:
    """Give a folder a library created with a fixed mode (keras-tuner's 0755) the mode the umask asks for."""
    mode = 0o777 & ~current_umask()
    if folder.stat().st_mode & 0o777 != mode:
        os.chmod(folder, mode)


def sync_file(path: Path) -> None:
    """Flush a file's data to disk."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk, so a rename or a new name in it survives a power cut."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    except OSError as error:
        if error.errno != errno.EINVAL:  # a file system that cannot flush folders (some network and FUSE ones)
            raise
    finally:
        os.close(handle)


def current_umask() -> int:
    """This process's umask, read without changing it (Linux reports it in /proc/self/status)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return _umask_at_first_use()
    for line in status.splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    return _umask_at_first_use()


@functools.cache
def _umask_at_first_use() -> int:
    """The umask where /proc cannot tell it: reading it means setting it, so that is done once, then cached."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


NO_SPACE = {errno.ENOSPC: "no space left", errno.EDQUOT: "disk quota exceeded"}
NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def refused(error: BaseException) -> bool:
    """Whether ``error`` is the file system refusing a write (full, read-only, not this user's)."""
    return isinstance(error, OSError) and (error.errno in NO_SPACE or error.errno in NOT_WRITABLE)


@contextlib.contextmanager
def writing_in(run_dir: Path) -> Iterator[None]:
    """Turn a write the file system refuses anywhere inside into one line naming the folder, and its exit code."""
    try:
        yield
    except OSError as error:
        if not refused(error):
            raise
        raise refusal(error, run_dir) from None


def refusal(error: OSError, run_dir: Path) -> TunerError:
    """The one-line error for a refused write: a full device names the run directory, the others the folder."""
    resume = "run the same command to resume"
    if error.errno in NO_SPACE:
        return NoSpaceError(
            f"{NO_SPACE[error.errno]} on the device of {run_dir}; the files written so far are whole and kept;"
            f" free some space and {resume}"
        )
    folder = Path(os.fsdecode(error.filename)).parent if error.filename else run_dir
    reason = "read-only file system" if error.errno == errno.EROFS else f"permission denied{_owned_by(folder)}"
    return NotWritableError(f"cannot write in {folder}: {reason}; the files in it are kept; once it can be, {resume}")


def _owned_by(folder: Path) -> str:
    """`` (it belongs to NAME)`` when ``folder`` (or its nearest existing parent) is another user's, else nothing."""
    existing = next((path for path in (folder, *folder.parents) if path.exists()), folder)
    try:
        owner = existing.stat().st_uid
    except OSError:
        return ""
    if owner == os.geteuid():
        return ""
    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = f"uid {owner}"
    return f" (it belongs to {name})"
