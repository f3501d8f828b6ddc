"""File locks and crash-safe replacement of files."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import LockError, LockTimeoutError

__all__ = ["atomic_write", "check_timeout", "locked", "DEFAULT_LOCK_TIMEOUT"]

#: Seconds to wait for another process to release a lock before giving up.
DEFAULT_LOCK_TIMEOUT = 60.0

_LOCKS: dict[str, object] = {}
_LOCKS_GUARD = threading.Lock()


def check_timeout(timeout: object, name: str = "lock_timeout") -> float:
    """A lock timeout: ``None`` (the default, :data:`DEFAULT_LOCK_TIMEOUT`) or a finite
    number of seconds >= 0.

    Parameters
    ----------
    timeout
        The value given.
    name
        The parameter's name, for the message.

    Returns
    -------
    float
        The timeout in seconds.

    Raises
    ------
    ValueError
        If ``timeout`` is negative, not finite, or not a number (a bool included).
    """
    from . import checks

    return DEFAULT_LOCK_TIMEOUT if timeout is None else checks.number(min=0)(timeout, name)


def lock_path(path: Path) -> Path:
    """The lock file of ``path``.

    Parameters
    ----------
    path
        The file to lock.

    Returns
    -------
    pathlib.Path
        ``<path>.lock``, in the same directory.
    """
    return path.with_name(path.name + ".lock")


def _lock_for(path: Path):
    from filelock import FileLock

    key = str(lock_path(path).absolute())
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            # one object per path: re-entrant within a thread, exclusive across threads
            # (thread-local file descriptors) and processes (flock, released when a process dies)
            lock = _LOCKS[key] = FileLock(key, thread_local=True)
    return lock


@contextlib.contextmanager
def locked(path: str | os.PathLike, timeout: float | None = None, what: str = "file") -> Iterator[None]:
    """Hold the lock of ``path`` (``<path>.lock``) for the duration of the ``with`` block.

    The lock is re-entrant within a thread and exclusive across threads and processes.

    Parameters
    ----------
    path
        The file to lock.
    timeout
        Seconds to wait for the lock; ``None`` means :data:`DEFAULT_LOCK_TIMEOUT`.
    what
        What the file is, for the error message.

    Yields
    ------
    None
        While the lock is held; it is released when the block exits.

    Raises
    ------
    ValueError
        If ``timeout`` is negative or not finite.
    LockTimeoutError
        If another process or thread holds it for more than ``timeout`` seconds.
    LockError
        If the lock file cannot be created or opened (a folder in its place, no permission).
    """
    from filelock import Timeout

    path = Path(path)
    timeout = check_timeout(timeout)
    lock = _lock_for(path)
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise LockTimeoutError(
            f"expected to lock the {what} {str(path)!r} within {timeout:g} s, but another writer "
            f"still holds {str(lock_path(path))!r}; retry later or pass a longer lock_timeout"
        ) from exc
    except OSError as exc:  # raised at once, not retried: a folder in its place, no permission
        lp = lock_path(path)
        found = f"a folder at {str(lp)!r}" if lp.is_dir() else f"{type(exc).__name__}: {exc}"
        raise LockError(
            f"expected the lock of the {what} {str(path)!r} to be a file it can open, found {found}"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported (e.g. Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_path_for(dst: Path) -> Path:
    """A unique temporary name in the same directory as ``dst`` (same filesystem).

    Parameters
    ----------
    dst
        The file the temporary one will replace.

    Returns
    -------
    pathlib.Path
        ``.<name>.tmp-<pid>-<random hex>`` beside ``dst``.
    """
    return dst.with_name(f".{dst.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def atomic_write(dst: str | os.PathLike, writer: Callable[[Path], None], fsync: bool = True) -> None:
    """Write ``dst`` through ``writer(tmp_path)`` then move it into place atomically.

    The file is written under a temporary name beside ``dst``, flushed to disk, and renamed
    over ``dst`` with :func:`os.replace`. A crash at any point leaves either the old or the new
    file, never a partial one. On an exception the temporary file is removed.

    Parameters
    ----------
    dst
        The file to write or replace.
    writer
        Called once with the temporary path; must create the file there.
    fsync
        Whether to flush the file and its directory to disk (the directory only where
        supported).

    Raises
    ------
    BaseException
        Whatever ``writer``, the flush or the rename raised, after removing the temporary file.
    """
    dst = Path(dst)
    tmp = temp_path_for(dst)
    try:
        writer(tmp)
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if fsync:
        _fsync_dir(dst.parent)


def remove_stale_temps(dst: Path) -> int:
    """Remove temporary files of ``dst`` left by processes that died mid-write.

    Only files whose writer process no longer exists are removed. Returns how many.

    Parameters
    ----------
    dst
        The file whose temporary files (``.<name>.tmp-<pid>-*`` beside it) are looked for.

    Returns
    -------
    int
        The number of temporary files removed.
    """
    removed = 0
    for tmp in dst.parent.glob(f".{dst.name}.tmp-*"):
        try:
            pid = int(tmp.name.rsplit("-", 2)[-2])
        except ValueError:
            continue
        if pid == os.getpid() or _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True
