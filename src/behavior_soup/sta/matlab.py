"""MATLAB ``.mat`` stimulus and spike files (v5 through scipy, v7.3 HDF5 through h5py).

A spike file may hold a variable named ``spikes``, ``spike_times`` or ``units``, one variable per
unit, or a cell array of spike-time vectors (one cell per unit) under any name when it is the
file's only cell array, as tutorial data ships (e.g. ``SpTimes``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError
from .loaders import _SPIKE_KEYS, _pick, _units_from_mapping, register_spike_loader, register_stimulus_loader

log = logging.getLogger(__name__)


def _loadmat(path: Path, squeeze: bool = True) -> dict[str, Any]:
    """A ``.mat`` file's variables by name, as :func:`scipy.io.loadmat` gives them (``squeeze``:
    with ``squeeze_me``); MATLAB v7.3 (HDF5) files are read with h5py, unsqueezed."""
    import scipy.io

    try:
        return scipy.io.loadmat(path, squeeze_me=squeeze)
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        import h5py

        with h5py.File(path, "r") as f:
            return {k: _h5_variable(f, v) for k, v in f.items() if isinstance(v, h5py.Dataset)}


def _h5_variable(f: Any, ds: Any) -> Any:
    """A MATLAB v7.3 variable in MATLAB's axis order: a cell array (a dataset of object
    references) as an object array of its cells, text as str, an empty value as an empty array."""
    import h5py

    matlab_class = ds.attrs.get("MATLAB_class", b"")
    matlab_class = matlab_class.decode() if isinstance(matlab_class, bytes) else str(matlab_class)
    if ds.attrs.get("MATLAB_empty", 0):
        return np.zeros((0, 0))
    value = ds[()]
    if h5py.check_dtype(ref=ds.dtype) is not None:
        cells = np.empty(value.shape, dtype=object)
        for idx in np.ndindex(value.shape):
            cells[idx] = _h5_variable(f, f[value[idx]])
        return cells.T
    if matlab_class == "char":
        return "".join(chr(c) for c in np.asarray(value).T.ravel())
    return np.asarray(value).T


@register_stimulus_loader(".mat")
def _stim_mat(path: Path, key: str | None) -> np.ndarray:
    return np.asarray(_pick(_loadmat(path), key, path))


def _is_cell(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype == object


def _describe_cell(arr: np.ndarray) -> str:
    if arr.dtype.kind in "US":
        return f"text {str(arr.ravel()[0])!r}"
    if arr.dtype == object:
        return "a nested cell array"
    if arr.dtype.names:
        return f"a struct with fields {list(arr.dtype.names)}"
    if arr.dtype.kind == "b":
        return "logical values"
    return f"dtype {arr.dtype}"


def _cell_units(cells: np.ndarray, name: str, path: Path) -> dict[str, np.ndarray]:
    """Units ``unit_0 ... unit_{N-1}`` from a 1xN or Nx1 MATLAB cell array of spike-time vectors
    (each cell ``(n, 1)``, ``(1, n)`` or empty)."""
    if cells.ndim > 2 or sum(d > 1 for d in cells.shape) > 1:
        raise DataFormatError(
            f"expected a 1xN or Nx1 cell array of spike-time vectors (one per unit) in the variable {name!r} of "
            f"{str(path)!r}, found a cell array of shape {cells.shape}"
        )
    units = {}
    for i, cell in enumerate(cells.ravel()):
        arr = cell if isinstance(cell, np.ndarray) else np.asarray(cell)
        where = f"cell {i} of the variable {name!r} in {str(path)!r}"
        if arr.size == 0:  # a unit without spikes
            units[f"unit_{i}"] = np.empty(0, dtype=np.float64)
            continue
        if arr.dtype.kind not in "fiu":
            raise DataFormatError(f"expected numeric spike times in {where}, found {_describe_cell(arr)}")
        if sum(d > 1 for d in arr.shape) > 1:
            raise DataFormatError(f"expected a vector of spike times in {where}, found shape {arr.shape}")
        units[f"unit_{i}"] = arr.astype(np.float64).ravel()
    return units


@register_spike_loader(".mat")
def _spikes_mat(path: Path) -> dict[str, np.ndarray]:
    m = _loadmat(path, squeeze=False)
    names = [k for k in m if not str(k).startswith("__")]
    named = next((k for k in _SPIKE_KEYS if k in names), None)
    cells = [k for k in names if _is_cell(m[k])]
    if named is not None and _is_cell(m[named]):
        return _cell_units(m[named], named, path)
    if named is None and len(cells) == 1:  # a cell array under any name, the file's only one
        log.debug("%s: spike times from the cell array %r", path.name, cells[0])
        return _cell_units(m[cells[0]], cells[0], path)
    if named is None and len(cells) > 1:
        raise DataFormatError(
            f"expected one cell array of spike-time vectors (or one variable named {list(_SPIKE_KEYS)}) in "
            f"{str(path)!r}, found the cell arrays {cells}; save the one holding the spike times as 'spikes'"
        )
    return _units_from_mapping(
        {k: np.squeeze(m[k]) if isinstance(m[k], np.ndarray) and not _is_cell(m[k]) else m[k] for k in names}, path
    )
