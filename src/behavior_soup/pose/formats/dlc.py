"""DeepLabCut prediction and labelled-data files: ``.h5`` (pandas HDF5) and ``.csv``, single
and multi-animal, read with pandas."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DataFormatError
from ..data import PoseData
from . import pick_individual, register_pose_loader

log = logging.getLogger(__name__)


def _from_dlc_frame(df: pd.DataFrame, path: Path, individual: str | None, source: str) -> PoseData:
    names = list(df.columns.names)
    if df.columns.nlevels not in (3, 4) or names[-2:] != ["bodyparts", "coords"]:
        raise DataFormatError(
            f"expected DeepLabCut columns (scorer, [individuals,] bodyparts, coords) in {path.name!r}, "
            f"got levels {names}"
        )
    scorer = str(df.columns.get_level_values(0)[0])
    df = df.droplevel(0, axis=1)
    ind = None
    if df.columns.nlevels == 3:
        inds = list(dict.fromkeys(df.columns.get_level_values(0)))
        ind = pick_individual(inds, individual, path)
        df = df.xs(ind, axis=1, level=0)
    elif individual is not None:
        raise DataFormatError(f"expected a multi-animal file for individual={individual!r}, got a single-animal one")
    bodyparts = list(dict.fromkeys(df.columns.get_level_values(0)))
    coords = set(df.columns.get_level_values(1))
    if not {"x", "y"} <= coords:
        raise DataFormatError(f"expected coords x and y in {path.name!r}, got {sorted(coords)}")
    n = len(df)
    pos = np.stack([df[b][["x", "y"]].to_numpy(dtype=np.float64) for b in bodyparts], axis=1)
    like = (
        np.stack([df[b]["likelihood"].to_numpy(dtype=np.float64) for b in bodyparts], axis=1)
        if "likelihood" in coords
        else np.full((n, len(bodyparts)), np.nan)
    )
    return PoseData(pos, like, tuple(bodyparts), individual=ind, scorer=scorer, source=source)


def _is_pandas_h5(path: Path) -> bool:
    """An HDF5 file holding a pandas DataFrame (what DeepLabCut writes)."""
    import h5py

    with h5py.File(path, "r", locking=False) as f:
        return any("pandas_type" in g.attrs for g in f.values() if isinstance(g, h5py.Group))


@register_pose_loader("dlc_h5", (".h5", ".hdf5"), sniff=_is_pandas_h5)
def _load_dlc_h5(path: Path, individual: str | None) -> PoseData:
    try:
        with pd.HDFStore(path, mode="r") as st:
            keys = st.keys()
            key = "/df_with_missing" if "/df_with_missing" in keys else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise DataFormatError(
                    f"expected one DataFrame (or 'df_with_missing') in the DeepLabCut file {path.name!r}, found {keys}"
                )
            df = st[key]
    except DataFormatError:
        raise
    except Exception as exc:
        raise DataFormatError(f"expected a DeepLabCut .h5 table in {path.name!r}: {type(exc).__name__}: {exc}") from exc
    return _from_dlc_frame(df, path, individual, "dlc_h5")


def _is_dlc_csv(path: Path) -> bool:
    with open(path, errors="replace") as fh:
        return fh.readline().split(",", 1)[0].strip() == "scorer"


_HEADER_LEVELS = ("scorer", "individuals", "bodyparts", "coords")


def _csv_layout(path: Path) -> tuple[list[str], int]:
    """The header levels and the number of index columns of a DeepLabCut ``.csv``.

    Prediction files and labelled data before DeepLabCut 2.2 have one index column (the frame
    number or the image path ``labeled-data/<video>/<image>``); labelled data since 2.2 has
    three (``labeled-data``, the video folder, the image file). The header rows name their level
    in the first column and leave the other index columns empty, so the first data column of the
    ``coords`` row tells how many index columns there are.
    """
    levels: list[str] = []
    n_index = 0
    with open(path, newline="", errors="replace") as fh:
        for row in csv.reader(fh):
            name = row[0].strip() if row else ""
            if name not in _HEADER_LEVELS or name in levels:
                break
            levels.append(name)
            if name == "coords":
                n_index = next((i for i, cell in enumerate(row) if i > 0 and cell.strip()), 0)
                break
    if levels not in (["scorer", "bodyparts", "coords"], list(_HEADER_LEVELS)):
        raise DataFormatError(
            f"expected DeepLabCut header rows {list(_HEADER_LEVELS)} (individuals only in multi-animal files) "
            f"in {path.name!r}, found {levels}"
        )
    if n_index < 1:
        raise DataFormatError(
            f"expected coords (x, y[, likelihood]) in the 'coords' header row of {path.name!r}, found none"
        )
    return levels, n_index


@register_pose_loader("dlc_csv", (".csv",), sniff=_is_dlc_csv)
def _load_dlc_csv(path: Path, individual: str | None) -> PoseData:
    levels, n_index = _csv_layout(path)
    try:
        df = pd.read_csv(path, header=list(range(len(levels))), index_col=list(range(n_index)))
    except Exception as exc:
        raise DataFormatError(
            f"expected a DeepLabCut .csv with {len(levels)} header rows and {n_index} index column(s) in "
            f"{path.name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    df.columns = df.columns.set_names(levels)
    log.debug("%s: DeepLabCut csv, %d rows, header %s, %d index column(s)", path.name, len(df), levels, n_index)
    return _from_dlc_frame(df, path, individual, "dlc_csv")
