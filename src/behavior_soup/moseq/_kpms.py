"""Importing keypoint-moseq without letting it change the rest of the process.

``import keypoint_moseq`` (0.8.1) turns on ``jax_enable_x64`` (which the model needs: float32
breaks the full keypoint-SLDS), sets the root logger to ERROR, replaces
``warnings.formatwarning``, adds a warnings filter, and sets plotly's default renderer and
matplotlib's ``figure.dpi``. :func:`load` imports it once and puts back everything but the
x64 switch. Its calls print to the console and draw tqdm bars; :func:`quiet` sends that to
this package's logger (the bars are kept when ``progress`` is asked for).

JAX compiles the model's functions for every new array shape, and compilation dominates small
fits (about 200 s of 350 s for 4 x 3000 frames here). :func:`load` therefore points JAX's
persistent compilation cache at a folder (by default ``<output root>/moseq/jax_cache``; the
environment variable ``BEHAVIOR_SOUP_JAX_CACHE`` names another, e.g. a node's local disk or one
cache for every project), so a second fit or inference of the same shapes, in any process,
skips it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._console import captured
from ..errors import require

__all__ = ["CACHE_ENV", "load", "quiet"]

#: environment variable naming JAX's compilation cache folder instead of the output root's
CACHE_ENV = "BEHAVIOR_SOUP_JAX_CACHE"

log = logging.getLogger("behavior_soup.moseq")

_MODULE: Any = None
_CACHE: str | None = None


def _global_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "root_level": logging.getLogger().level,
        "formatwarning": warnings.formatwarning,
        "filters": list(warnings.filters),
    }
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        state["dpi"] = mpl.rcParams["figure.dpi"]
    pio = sys.modules.get("plotly.io")
    if pio is not None:
        state["renderer"] = pio.renderers.default
    return state


def _restore(state: dict[str, Any]) -> None:
    logging.getLogger().setLevel(state["root_level"])
    warnings.formatwarning = state["formatwarning"]
    warnings.filters[:] = state["filters"]
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        mpl.rcParams["figure.dpi"] = state.get("dpi", mpl.rcParamsDefault["figure.dpi"])
    pio = sys.modules.get("plotly.io")
    if pio is not None:
        pio.renderers.default = state.get("renderer", "plotly_mimetype+notebook")


def load(cache_dir: str | os.PathLike | None = None) -> Any:
    """The ``keypoint_moseq`` module, imported with the process's logging, warnings, plotly and
    matplotlib settings left as they were.

    Parameters
    ----------
    cache_dir
        Folder for JAX's persistent compilation cache (created); ``None`` keeps the folder set
        by an earlier call, or none. ``BEHAVIOR_SOUP_JAX_CACHE``, when set, names the folder
        instead.

    Returns
    -------
    module
        ``keypoint_moseq``.

    Raises
    ------
    MissingDependencyError
        If keypoint-moseq is not installed (install the ``moseq`` extra).
    """
    global _MODULE, _CACHE
    if _MODULE is None:
        state = _global_state()
        try:
            with captured(log):
                _MODULE = require("keypoint_moseq", "moseq", "MoSeq fitting and syllable inference")
        finally:
            _restore(state)
    if cache_dir is not None and os.environ.get(CACHE_ENV):
        cache_dir = os.environ[CACHE_ENV]
    if cache_dir is not None and str(cache_dir) != _CACHE:
        import jax

        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(cache_dir))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
        _CACHE = str(cache_dir)
    return _MODULE


@contextlib.contextmanager
def quiet(progress: bool = False) -> Iterator[None]:
    """Run keypoint-moseq calls with their prints logged and the process's global settings kept.

    Parameters
    ----------
    progress
        Let keypoint-moseq's tqdm bars show (on ``sys.stderr``); False logs them instead.

    Yields
    ------
    None
        Inside the block, console output goes to the ``behavior_soup.moseq`` logger.
    """
    state = _global_state()
    try:
        with captured(log, stderr=not progress, level=logging.DEBUG), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        _restore(state)
