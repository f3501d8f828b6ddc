"""Which library draws a window: a registry of drawing backends, each with a check of whether it
can draw here, and the automatic choice (fastplotlib where a usable GPU/Vulkan adapter exists,
matplotlib otherwise, said in the log)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import MissingDependencyError

__all__ = ["BACKENDS", "WindowBackend", "open_window", "usable_backend"]

log = logging.getLogger(__name__)

BackendName = Literal["auto", "fastplotlib", "matplotlib"]


@dataclass(frozen=True)
class WindowBackend:
    """A drawing library and its windows.

    Attributes
    ----------
    name
        The backend's name.
    check
        Returns None where the backend can draw here, else why not (one line).
    windows
        Window kind (``"ethogram"``, ``"pose"``, ``"sta"``, ``"syllables"``) -> ``"module:Class"``
        of the window, constructed with the kind's data and ``size=``.
    """

    name: str
    check: Callable[[], str | None]
    windows: dict[str, str]


def _load_triton_first() -> None:
    """Load triton (which torch imports with torchvision or ``torch.compile``), where it is
    installed, before any Vulkan driver: Mesa's software one (lavapipe) and triton each carry
    their own LLVM, and loading triton's after lavapipe has compiled shaders kills the process
    (a segmentation fault when torchvision is first imported after a window was drawn)."""
    if importlib.util.find_spec("triton") is not None:
        with contextlib.suppress(Exception):
            importlib.import_module("triton")


def _fpl_check() -> str | None:
    if importlib.util.find_spec("fastplotlib") is None:
        return "fastplotlib is not installed; install the 'viz' extra: pip install 'behavior_soup[viz]'"
    _load_triton_first()  # before fastplotlib, whose import already opens the Vulkan driver
    try:
        import fastplotlib  # noqa: F401
        import wgpu
    except ImportError as exc:  # installed, but no canvas backend (no Jupyter, no GUI toolkit)
        return f"fastplotlib cannot start here ({' '.join(str(exc).split())})"
    try:
        adapters = wgpu.gpu.enumerate_adapters_sync()
    except Exception as exc:  # wgpu raises its own errors where no driver loads
        return f"no wgpu adapter could be listed ({type(exc).__name__}: {exc})"
    kinds = [a.info.get("backend_type", "?") for a in adapters]
    if not any(k in ("Vulkan", "Metal", "D3D12") for k in kinds):
        return (
            f"expected a Vulkan, Metal or D3D12 adapter for fastplotlib, found {kinds or 'none'} "
            "(on Linux without a GPU: apt-get install mesa-vulkan-drivers)"
        )
    return None


def _mpl_check() -> str | None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # a core dependency, but say so if it is broken
        return f"matplotlib cannot be imported ({exc})"
    return None


#: Backend name -> :class:`WindowBackend`, in order of preference.
BACKENDS: dict[str, WindowBackend] = {
    "fastplotlib": WindowBackend(
        "fastplotlib",
        _fpl_check,
        {
            "ethogram": "behavior_soup.viz.fpl:FplEthogramWindow",
            "pose": "behavior_soup.viz.fpl_panels:FplPoseWindow",
            "syllables": "behavior_soup.viz.fpl_panels:FplSyllableWindow",
            "sta": "behavior_soup.viz.fpl_panels:FplStaWindow",
        },
    ),
    "matplotlib": WindowBackend(
        "matplotlib",
        _mpl_check,
        {
            "ethogram": "behavior_soup.viz.mpl:MplEthogramWindow",
            "pose": "behavior_soup.viz.mpl_panels:MplPoseWindow",
            "syllables": "behavior_soup.viz.mpl_panels:MplSyllableWindow",
            "sta": "behavior_soup.viz.mpl_panels:MplStaWindow",
        },
    ),
}

_CHECKED: dict[str, str | None] = {}


def usable_backend(backend: BackendName = "auto") -> str:
    """The backend that will draw: ``backend`` itself if it can draw here, or for ``"auto"`` the
    first in :data:`BACKENDS` that can (the reasons the others cannot are logged).

    Parameters
    ----------
    backend
        ``"auto"``, ``"fastplotlib"`` or ``"matplotlib"``.

    Returns
    -------
    str
        The backend's name.

    Raises
    ------
    ValueError
        If ``backend`` is not a registered name or ``"auto"``.
    MissingDependencyError
        If the named backend (or, for ``"auto"``, every backend) cannot draw here.
    """
    if backend != "auto" and backend not in BACKENDS:
        raise ValueError(f"expected backend 'auto' or one of {list(BACKENDS)}, got {backend!r}")
    names = list(BACKENDS) if backend == "auto" else [backend]
    reasons = []
    for name in names:
        if name not in _CHECKED:
            _CHECKED[name] = BACKENDS[name].check()
        why = _CHECKED[name]
        if why is None:
            if reasons:
                log.warning("drawing with %s: %s", name, "; ".join(reasons))
            return name
        reasons.append(f"{name} cannot draw here: {why}")
    raise MissingDependencyError("; ".join(reasons))


def open_window(kind: str, data: Any, *, backend: BackendName = "auto", size: tuple[int, int] | None = None) -> Any:
    """Construct a window of ``kind`` on ``data`` with the chosen backend.

    Parameters
    ----------
    kind
        A window kind of the backends (``"ethogram"``, ``"pose"``, ``"syllables"``, ``"sta"``).
    data
        What the window shows (an :class:`~behavior_soup.viz.session.EthogramSession`, or the
        panel's data object).
    backend
        As for :func:`usable_backend`.
    size
        ``(width, height)`` in pixels; the window's default when None.

    Returns
    -------
    object
        The window; ``.show()`` displays it in Jupyter.
    """
    name = usable_backend(backend)
    spec = BACKENDS[name].windows.get(kind)
    if spec is None:
        raise ValueError(f"expected a window kind among {sorted(BACKENDS[name].windows)}, got {kind!r}")
    module, cls = spec.split(":")
    window = getattr(importlib.import_module(module), cls)
    return window(data) if size is None else window(data, size=size)
