"""Loaders for stimulus movies and spike trains, one small function per file format.

Two registries map a file extension to a loader; a new format is one function plus one line::

    @register_stimulus_loader(".tif")
    def _load_tif(path, key): ...

Stimulus loaders return an array ``(T, H, W)`` (or ``(T,)`` for a full-field stimulus); spike
loaders return ``{unit name: spike times in seconds}``. Pickle files run code when loaded, so
the pickle loaders are used only with ``allow_pickle=True``.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError

__all__ = [
    "SPIKE_LOADERS",
    "STIMULUS_LOADERS",
    "load_spikes",
    "load_stimulus",
    "register_spike_loader",
    "register_stimulus_loader",
]

StimulusLoader = Callable[[Path, "str | None"], np.ndarray]
SpikeLoader = Callable[[Path], "dict[str, np.ndarray]"]

STIMULUS_LOADERS: dict[str, StimulusLoader] = {}
SPIKE_LOADERS: dict[str, SpikeLoader] = {}
_PICKLE_EXT = (".pkl", ".pickle")
_STIM_KEYS = ("stimulus", "movie", "stim", "frames")
_SPIKE_KEYS = ("spikes", "spike_times", "units")

log = logging.getLogger(__name__)


def register_stimulus_loader(*exts: str) -> Callable[[StimulusLoader], StimulusLoader]:
    """Decorator registering a stimulus loader for file extensions.

    Parameters
    ----------
    *exts
        Extensions with the dot, e.g. ``".tif"`` (case-insensitive); an existing loader for
        one is replaced.

    Returns
    -------
    callable
        A decorator that registers ``f(path, key) -> numpy.ndarray`` in
        :data:`STIMULUS_LOADERS` and returns it unchanged.
    """

    def deco(f: StimulusLoader) -> StimulusLoader:
        for e in exts:
            STIMULUS_LOADERS[e.lower()] = f
        return f

    return deco


def register_spike_loader(*exts: str) -> Callable[[SpikeLoader], SpikeLoader]:
    """Decorator registering a spike-train loader for file extensions.

    Parameters
    ----------
    *exts
        Extensions with the dot, e.g. ``".csv"`` (case-insensitive); an existing loader for
        one is replaced.

    Returns
    -------
    callable
        A decorator that registers ``f(path) -> {unit name: spike times}`` in
        :data:`SPIKE_LOADERS` and returns it unchanged.
    """

    def deco(f: SpikeLoader) -> SpikeLoader:
        for e in exts:
            SPIKE_LOADERS[e.lower()] = f
        return f

    return deco


def _pick(mapping: Mapping[str, Any], key: str | None, path: Path) -> Any:
    names = [k for k in mapping if not str(k).startswith("__")]
    if key is not None:
        if key not in mapping:
            raise DataFormatError(f"expected a stimulus named {key!r} in {str(path)!r}, found {names}")
        return mapping[key]
    for k in _STIM_KEYS:
        if k in mapping:
            return mapping[k]
    if len(names) == 1:
        return mapping[names[0]]
    raise DataFormatError(
        f"expected one array or one named {list(_STIM_KEYS)} in {str(path)!r}, found {names}; pass stimulus_key="
    )


@register_stimulus_loader(".npy")
def _stim_npy(path: Path, key: str | None) -> np.ndarray:
    return np.load(path, mmap_mode="r", allow_pickle=False)


@register_stimulus_loader(".npz")
def _stim_npz(path: Path, key: str | None) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        return np.asarray(_pick(z, key, path))


@register_stimulus_loader(".h5", ".hdf5")
def _stim_h5(path: Path, key: str | None) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as f:
        datasets = {k: v for k, v in f.items() if isinstance(v, h5py.Dataset)}
        if key is not None and key in f:
            return f[key][()]
        return np.asarray(_pick(datasets, key, path)[()])


def _load_pickle(path: Path) -> Any:
    with open(path, "rb") as fh:
        return pickle.load(fh)


@register_stimulus_loader(*_PICKLE_EXT)
def _stim_pickle(path: Path, key: str | None) -> np.ndarray:
    obj = _load_pickle(path)
    if not isinstance(obj, Mapping):
        return np.asarray(obj)
    return np.asarray(_pick(obj, key, path))


def _units_from_mapping(m: Mapping[Any, Any], path: Path) -> dict[str, np.ndarray]:
    for k in _SPIKE_KEYS:
        if k in m and (
            isinstance(m[k], Mapping) or (isinstance(m[k], (list, np.ndarray)) and len(m[k]) and np.ndim(m[k][0]) == 1)
        ):
            inner = m[k]
            if isinstance(inner, Mapping):
                return {str(u): np.asarray(t, float).ravel() for u, t in inner.items()}
            return {f"unit_{i}": np.asarray(t, float).ravel() for i, t in enumerate(inner)}
    out = {
        str(u): np.asarray(t, float).ravel()
        for u, t in m.items()
        if not str(u).startswith("__") and np.ndim(t) <= 1 and np.asarray(t).dtype.kind in "fiu"
    }
    if not out:
        raise DataFormatError(f"expected spike time arrays (one per unit) in {str(path)!r}, found keys {list(m)}")
    return out


@register_spike_loader(".npy")
def _spikes_npy(path: Path) -> dict[str, np.ndarray]:
    arr = np.load(path, allow_pickle=False)
    if arr.ndim != 1:
        raise DataFormatError(
            f"expected a 1-D array of spike times (one unit) in {str(path)!r}, found shape {arr.shape}"
        )
    return {"unit_0": arr.astype(float)}


@register_spike_loader(".npz")
def _spikes_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return _units_from_mapping({k: z[k] for k in z.files}, path)


@register_spike_loader(".h5", ".hdf5")
def _spikes_h5(path: Path) -> dict[str, np.ndarray]:
    import h5py

    with h5py.File(path, "r") as f:
        group = f
        for k in _SPIKE_KEYS:
            if k in f and isinstance(f[k], h5py.Group):
                group = f[k]
                break
        return _units_from_mapping({k: v[()] for k, v in group.items() if isinstance(v, h5py.Dataset)}, path)


@register_spike_loader(".csv", ".tsv")
def _spikes_csv(path: Path) -> dict[str, np.ndarray]:
    import pandas as pd

    df = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    cols = {c.lower(): c for c in df.columns}
    ucol = next((cols[c] for c in ("unit", "unit_id", "cluster", "cluster_id") if c in cols), None)
    tcol = next((cols[c] for c in ("time", "spike_time", "t", "times", "time_s") if c in cols), None)
    if ucol is None or tcol is None:
        raise DataFormatError(
            f"expected a spike table with columns unit and time in {str(path)!r}, found {list(df.columns)}"
        )
    return {str(u): g[tcol].to_numpy(float) for u, g in df.groupby(ucol, sort=True)}


@register_spike_loader(*_PICKLE_EXT)
def _spikes_pickle(path: Path) -> dict[str, np.ndarray]:
    obj = _load_pickle(path)
    if not isinstance(obj, Mapping):
        raise DataFormatError(f"expected a dict in the pickle {str(path)!r}, found {type(obj).__name__}")
    return _units_from_mapping(obj, path)


def _loader(registry: Mapping[str, Any], path: Path, what: str, allow_pickle: bool) -> Any:
    ext = path.suffix.lower()
    if ext not in registry:
        raise DataFormatError(
            f"expected a {what} file with one of the extensions {sorted(registry)}, got {path.name!r}"
        )
    if ext in _PICKLE_EXT and not allow_pickle:
        raise DataFormatError(
            f"expected a non-pickle {what} file, got {path.name!r}: unpickling runs code, so pass "
            "allow_pickle=True if you trust it"
        )
    if not path.is_file():
        raise FileNotFoundError(f"expected a {what} file at {str(path)!r}, found none")
    return registry[ext]


def load_stimulus(path: str | os.PathLike, key: str | None = None, allow_pickle: bool = False) -> np.ndarray:
    """Load a stimulus movie as ``(T, H, W)`` (a ``(T,)`` full-field stimulus becomes
    ``(T, 1, 1)``). The dtype is kept (``.npy`` files are memory-mapped).

    Parameters
    ----------
    path
        The stimulus file; its extension selects the loader (see :data:`STIMULUS_LOADERS`).
    key
        Name of the array in files holding several (``.npz``, ``.h5``, ``.mat``, pickled
        dicts); default: the one named ``stimulus``, ``movie``, ``stim`` or ``frames``, or the
        only one.
    allow_pickle
        Allow ``.pkl``/``.pickle`` files (unpickling runs code).

    Returns
    -------
    numpy.ndarray
        ``(T, H, W)``, numeric dtype as stored.

    Raises
    ------
    DataFormatError
        Unknown extension, pickle without ``allow_pickle``, an unreadable file, no or several
        candidate arrays without ``key``, wrong rank or dtype, an empty array, or NaNs.
    FileNotFoundError
        No file at ``path``.
    """
    path = Path(path)
    loader = _loader(STIMULUS_LOADERS, path, "stimulus", allow_pickle)
    try:
        arr = loader(path, key)
    except DataFormatError:
        raise
    except Exception as exc:
        raise DataFormatError(
            f"expected a readable stimulus in {str(path)!r}, found {type(exc).__name__}: {exc}"
        ) from exc
    return validate_stimulus(arr, str(path))


def validate_stimulus(arr: Any, where: str = "the stimulus") -> np.ndarray:
    """Check a stimulus array and return it as ``(T, H, W)``.

    Parameters
    ----------
    arr
        ``(T, H, W)`` or ``(T,)`` array-like of a boolean, integer or float dtype.
    where
        Where it came from, for error messages.

    Returns
    -------
    numpy.ndarray
        ``arr`` (not copied), a ``(T,)`` one reshaped to ``(T, 1, 1)``; dtype kept.

    Raises
    ------
    DataFormatError
        A non-numeric dtype, a rank other than 1 or 3, an empty dimension, or NaNs.
    """
    arr = arr if isinstance(arr, np.ndarray) else np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise DataFormatError(f"expected a numeric stimulus in {where}, found dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1, 1)
    if arr.ndim != 3:
        raise DataFormatError(
            f"expected a stimulus of shape (T, H, W) or (T,) in {where}, found shape {arr.shape} (rank {arr.ndim})"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise DataFormatError(f"expected a non-empty stimulus in {where}, found shape {arr.shape}")
    if arr.dtype.kind == "f":
        step = max(1, (1 << 24) // max(1, arr[0].size))
        for i in range(0, arr.shape[0], step):
            if np.isnan(arr[i : i + step]).any():
                bad = i + int(np.flatnonzero(np.isnan(arr[i : i + step]).any(axis=(1, 2)))[0])
                raise DataFormatError(f"expected a stimulus without NaNs in {where}, found NaN in frame {bad}")
    return arr


def load_spikes(path: str | os.PathLike, allow_pickle: bool = False) -> dict[str, np.ndarray]:
    """Load spike trains: ``{unit name: times in seconds}``, each ``(n_spikes,)`` float64.

    Parameters
    ----------
    path
        The spike file; its extension selects the loader (see :data:`SPIKE_LOADERS`). In a
        ``.mat`` file: a cell array of spike-time vectors (1xN or Nx1, one cell per unit, units
        ``unit_0 ... unit_{N-1}``) named ``spikes``, ``spike_times`` or ``units``, or the file's
        only cell array whatever its name; else one numeric vector per unit, by variable name.
    allow_pickle
        Allow ``.pkl``/``.pickle`` files (unpickling runs code).

    Returns
    -------
    dict of str to numpy.ndarray
        Unit name -> ``(n_spikes,)`` float64 spike times in seconds.

    Raises
    ------
    DataFormatError
        Unknown extension, pickle without ``allow_pickle``, an unreadable file, non-numeric
        or NaN times, or several cell arrays in a ``.mat`` file and none named ``spikes``.
    FileNotFoundError
        No file at ``path``.
    """
    path = Path(path)
    loader = _loader(SPIKE_LOADERS, path, "spikes", allow_pickle)
    try:
        units = loader(path)
    except DataFormatError:
        raise
    except Exception as exc:
        raise DataFormatError(
            f"expected readable spike trains in {str(path)!r}, found {type(exc).__name__}: {exc}"
        ) from exc
    for name, t in units.items():
        if np.isnan(t).any():
            raise DataFormatError(
                f"expected spike times without NaN for unit {name!r} in {str(path)!r}, found {int(np.isnan(t).sum())} NaN"
            )
    return units


from . import matlab  # noqa: E402, F401  (registers the .mat loaders)
