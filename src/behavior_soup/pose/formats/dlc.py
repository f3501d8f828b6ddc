"""DeepLabCut prediction and labelled-data files: ``.h5`` (pandas HDF5) and ``.csv``, single
and multi-animal, read with pandas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DataFormatError
from ..data import PoseData
from . import pick_individual, register_pose_loader


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


@register_pose_loader("dlc_csv", (".csv",), sniff=_is_dlc_csv)
def _load_dlc_csv(path: Path, individual: str | None) -> PoseData:
    with open(path) as fh:
        head = [fh.readline().split(",", 1)[0].strip() for _ in range(4)]
    n_header = 4 if head[1] == "individuals" else 3
    try:
        df = pd.read_csv(path, header=list(range(n_header)), index_col=0)
    except Exception as exc:
        raise DataFormatError(f"expected a DeepLabCut .csv in {path.name!r}: {exc}") from exc
    df.columns = df.columns.set_names(["scorer", "individuals", "bodyparts", "coords"][-n_header:])
    return _from_dlc_frame(df, path, individual, "dlc_csv")
