"""What every result records about how it was made."""

from __future__ import annotations

import functools
import os
import platform
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from ._version import __version__

#: Packages whose versions are recorded with every result (those installed).
CORE_PACKAGES: tuple[str, ...] = ("numpy", "pandas", "h5py", "tables", "av", "scipy")


@functools.cache
def package_version(name: str) -> str | None:
    """The installed version of a distribution, read from its metadata (cached).

    Parameters
    ----------
    name
        The distribution name, e.g. ``"numpy"``.

    Returns
    -------
    str or None
        Its version, or ``None`` if it is not installed.
    """
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of behavior_soup, Python and the installed packages among ``CORE_PACKAGES +
    extra``. Uses installed metadata, so no heavy package is imported.

    Parameters
    ----------
    extra
        More distribution names to record.

    Returns
    -------
    dict of str to str
        ``{"behavior_soup": ..., "python": ..., <package>: <version>}``; packages that are not
        installed are left out.
    """
    out = {"behavior_soup": __version__, "python": platform.python_version()}
    for name in (*CORE_PACKAGES, *extra):
        v = package_version(name)
        if v is not None:
            out[name] = v
    return out


def now_iso() -> str:
    """The current time.

    Returns
    -------
    str
        The current UTC time in ISO-8601 format, with the ``+00:00`` offset.
    """
    return datetime.now(timezone.utc).isoformat()


@dataclass
class Provenance:
    """How a result was made; written as attributes of its ``outputs.h5`` group.

    Attributes
    ----------
    job
        Name of the job (or function) that made it.
    params
        Its parameters (JSON-serialisable).
    started
        ISO-8601 UTC start time.
    duration_s
        Wall time in seconds.
    status
        ``"done"`` for written results.
    versions
        Package versions (see :func:`package_versions`).
    host, pid
        Where it ran.
    """

    job: str
    params: dict[str, Any]
    started: str = field(default_factory=now_iso)
    duration_s: float = 0.0
    status: str = "done"
    versions: dict[str, str] = field(default_factory=package_versions)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    def finish(self, status: str = "done") -> Provenance:
        """Set the duration from the creation time and the status; returns self.

        Parameters
        ----------
        status
            The final status, ``"done"`` for written results.

        Returns
        -------
        Provenance
            This object, updated.
        """
        self.duration_s = time.perf_counter() - self._t0
        self.status = status
        return self

    def to_dict(self) -> dict[str, Any]:
        """The recorded fields as a dict.

        Returns
        -------
        dict
            The dataclass fields (``job``, ``params``, ``started``, ``duration_s``, ``status``,
            ``versions``, ``host``, ``pid``), without the private start timer.
        """
        d = asdict(self)
        d.pop("_t0")
        return d
