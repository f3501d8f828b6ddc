"""File locks and crash-safe replacement of files.

Two kinds of lock guard every read-modify-write (chosen with :func:`set_lock_kind` or the
``BEHAVIOR_SOUP_LOCK`` environment variable, which workers of a cluster inherit):

``"flock"`` (default)
    An ``fcntl``/``flock`` lock on ``<file>.lock`` (filelock's ``FileLock``): released by the
    kernel when its holder dies, so a killed job never leaves a file locked. Right on local
    disks and on NFSv4, Lustre or GPFS mounted with working locks (``flock``/``localflock``
    mounts lock only within one node: use ``"soft"`` there).
``"soft"``
    The existence of ``<file>.lock`` (filelock's ``SoftFileLock``), which works on any shared
    filesystem.  All processes working on one table must use one kind (workers of the dask
    backend get this process's). The file holds its holder's host and pid: a lock whose holder died on this host
    is broken at once; one left by a dead process on another host stays until it is older than
    :data:`SOFT_LOCK_STALE_S` (or is removed by hand).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from .errors import LockError, LockTimeoutError

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "LOCK_KINDS",
    "SOFT_LOCK_STALE_S",
    "LockKind",
    "atomic_write",
    "check_timeout",
    "lock_kind",
    "locked",
    "pid_alive",
    "set_lock_kind",
]

#: Seconds to wait for another process to release a lock before giving up.
DEFAULT_LOCK_TIMEOUT = 60.0

#: Seconds after which a soft lock (or a temporary file) left by a process on another host is
#: taken to be stale: no write holds a lock this long.
SOFT_LOCK_STALE_S = 3600.0

#: Seconds after which an empty lock file counts as no lock for the soft kind: soft locks are
#: written with their holder's name from the start (see ``OwnedSoftLock``), so an empty one is
#: an flock lock's file left behind, or a soft one whose holder died while creating it.
_EMPTY_STALE_S = 5.0

LockKind = Literal["flock", "soft"]
LOCK_KINDS: tuple[str, ...] = ("flock", "soft")
_ENV = "BEHAVIOR_SOUP_LOCK"

_LOCKS: dict[tuple[str, str], object] = {}
_LOCKS_GUARD = threading.Lock()
_HOST = socket.gethostname().replace("-", "_") or "host"


def lock_kind() -> str:
    """The kind of lock in use: ``BEHAVIOR_SOUP_LOCK`` if set, else ``"flock"``.

    Returns
    -------
    str
        ``"flock"`` or ``"soft"``.

    Raises
    ------
    ValueError
        If ``BEHAVIOR_SOUP_LOCK`` names another kind.
    """
    kind = os.environ.get(_ENV, "flock").strip().lower() or "flock"
    if kind not in LOCK_KINDS:
        raise ValueError(f"expected {_ENV} to be one of {list(LOCK_KINDS)}, got {kind!r}")
    return kind


def set_lock_kind(kind: LockKind) -> None:
    """Use ``kind`` of lock in this process and in the processes it starts (it is set as
    ``BEHAVIOR_SOUP_LOCK``; the dask backend passes it on to its workers).

    Parameters
    ----------
    kind
        ``"flock"`` or ``"soft"`` (see the module docs).

    Raises
    ------
    ValueError
        If ``kind`` is neither.

    Examples
    --------
    >>> import behavior_soup as bs
    >>> bs.set_lock_kind("soft")   # doctest: +SKIP
    """
    if kind not in LOCK_KINDS:
        raise ValueError(f"expected a lock kind among {list(LOCK_KINDS)}, got {kind!r}")
    os.environ[_ENV] = kind


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


def _soft_lock_class():
    import errno

    from filelock import SoftFileLock

    class OwnedSoftLock(SoftFileLock):
        """A soft lock whose file names its holder from the instant it exists (written under a
        private name, then hard-linked into place: atomic on NFS too), broken when that holder
        is gone."""

        def _acquire(self) -> None:
            lock = Path(self.lock_file)
            if lock.is_dir():
                raise IsADirectoryError(errno.EISDIR, "a folder is in the lock's place", str(lock))
            _break_if_stale(lock)
            mine = lock.with_name(f"{lock.name}.{_HOST}.{os.getpid()}.{threading.get_ident()}")
            mine.write_text(f"{_HOST} {os.getpid()}\n")
            try:
                os.link(mine, lock)
            except FileExistsError:
                return  # held: filelock polls again
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                super()._acquire()  # no hard links here: create, then name the holder
                if self._context.lock_file_fd is not None:
                    os.write(self._context.lock_file_fd, f"{_HOST} {os.getpid()}\n".encode())
                return
            finally:
                with contextlib.suppress(FileNotFoundError):
                    mine.unlink()
            self._context.lock_file_fd = os.open(lock, os.O_RDONLY)

    return OwnedSoftLock


def _is_stale(lock_file: Path) -> bool:
    try:
        text = lock_file.read_text()
        age = time.time() - lock_file.stat().st_mtime
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError):
        return False
    if not text.strip():  # an flock kind's file (they stay, empty), or one whose holder died creating it
        return age > _EMPTY_STALE_S
    host, _, pid = text.strip().partition(" ")
    if host == _HOST and pid.isdigit():
        return not pid_alive(int(pid))
    return age > SOFT_LOCK_STALE_S  # another host's: by age only


def _break_if_stale(lock_file: Path) -> None:
    """Remove ``lock_file`` if its holder is gone. The decision is taken again while holding
    ``<lock>.break`` (made with an atomic ``mkdir``), so two waiters that both saw a stale lock
    cannot remove the fresh one a third has taken meanwhile."""
    if not _is_stale(lock_file):
        return
    guard = lock_file.with_name(lock_file.name + ".break")
    try:
        os.mkdir(guard)
    except FileExistsError:
        with contextlib.suppress(OSError):  # a breaker that died: its guard goes after a minute
            if time.time() - guard.stat().st_mtime > 60:
                os.rmdir(guard)
        return
    except OSError:
        return
    try:
        if _is_stale(lock_file):
            with contextlib.suppress(FileNotFoundError):
                lock_file.unlink()
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(guard)


def _lock_for(path: Path):
    kind = lock_kind()
    key = str(lock_path(path).absolute())
    with _LOCKS_GUARD:
        lock = _LOCKS.get((kind, key))
        if lock is None:
            # one object per path: re-entrant within a thread, exclusive across threads
            # (thread-local state) and processes (flock released when a process dies, or the
            # soft lock's file)
            if kind == "soft":
                lock = _soft_lock_class()(key, thread_local=True)
            else:
                from filelock import FileLock

                lock = FileLock(key, thread_local=True)
            _LOCKS[(kind, key)] = lock
    return lock


@contextlib.contextmanager
def locked(path: str | os.PathLike, timeout: float | None = None, what: str = "file") -> Iterator[None]:
    """Hold the lock of ``path`` (``<path>.lock``) for the duration of the ``with`` block.

    The lock is re-entrant within a thread and exclusive across threads and processes (of
    every host, on a shared filesystem); its kind is :func:`lock_kind`.

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
        ``.<name>.tmp-<host>-<pid>-<random hex>`` beside ``dst`` (``-`` in the host name
        written as ``_``).
    """
    return dst.with_name(f".{dst.name}.tmp-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}")


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

    A temporary file of this host is removed when its writer process no longer exists; one of
    another host (on a shared filesystem) only when it is older than :data:`SOFT_LOCK_STALE_S`,
    since whether its writer lives cannot be seen from here.

    Parameters
    ----------
    dst
        The file whose temporary files (``.<name>.tmp-*`` beside it) are looked for.

    Returns
    -------
    int
        The number of temporary files removed.
    """
    removed = 0
    for tmp in dst.parent.glob(f".{dst.name}.tmp-*"):
        parts = tmp.name[len(f".{dst.name}.tmp-") :].split("-")
        if len(parts) == 3 and parts[1].isdigit():
            host, pid = parts[0], int(parts[1])
        elif len(parts) == 2 and parts[0].isdigit():  # written before temporary names held the host
            host, pid = _HOST, int(parts[0])
        else:
            continue
        if host == _HOST:
            if pid == os.getpid() or pid_alive(pid):
                continue
        else:
            try:
                if time.time() - tmp.stat().st_mtime <= SOFT_LOCK_STALE_S:
                    continue
            except FileNotFoundError:
                continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host is alive (a zombie, dead but not yet reaped, is
    not).

    Parameters
    ----------
    pid
        The process id.

    Returns
    -------
    bool
        False when no such process runs; True when it does, or when that cannot be told.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's, alive
        return True
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1] != "Z"
    return True
