from __future__ import annotations

from typing import Literal

import pandas as pd

from ..jobs import TrialContext
from ..schema import video_trials
from ..store import ATTRS_KEY, TableInfo, table_info

#: Which library draws a window (see :mod:`behavior_soup.viz.backends`).
DrawBackend = Literal["auto", "fastplotlib", "matplotlib"]


def check_table(obj: pd.DataFrame | pd.Series, accessor: str) -> None:
    """Cheap check for accessor ``__init__``: raise AttributeError (as pandas advises) when
    ``obj`` is not a behavior_soup table or one of its rows."""
    if ATTRS_KEY not in obj.attrs:
        kind = "DataFrame" if isinstance(obj, pd.DataFrame) else "Series"
        raise AttributeError(
            f"'.{accessor}' expected a behavior_soup trial table (from bs.create_df/bs.load_df) or "
            f"one of its rows, got a plain {kind}"
        )
    if isinstance(obj, pd.Series) and "uuid" not in obj.index:
        raise AttributeError(f"'.{accessor}' expected a row of the trial table (with a uuid), got a Series without one")


def info_of(obj: pd.DataFrame | pd.Series) -> TableInfo:
    return table_info(obj)  # type: ignore[arg-type]


def contexts(df: pd.DataFrame, lock_timeout: float | None = None) -> list[TrialContext]:
    """A :class:`TrialContext` per row of ``df`` (a table or a slice of one), in row order."""
    info = info_of(df)
    return [TrialContext.from_row(r, info, lock_timeout=lock_timeout) for _, r in df.iterrows()]


def video_rows(df: pd.DataFrame, params: object = None) -> pd.DataFrame:
    """The rows of ``df`` with at least one video: the default rows of video jobs."""
    return df[video_trials(df)]
