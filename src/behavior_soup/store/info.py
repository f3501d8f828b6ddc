"""Where a trial table lives, as carried by the DataFrames made from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import pandas as pd

from ..errors import TableFormatError
from ..naming import NamingRule

__all__ = ["ATTRS_KEY", "TableInfo", "set_info", "table_info"]

ATTRS_KEY = "behavior_soup"


@dataclass(frozen=True)
class TableInfo:
    """Where a trial table lives and which on-disk revision a DataFrame reflects.

    Attributes
    ----------
    table_path
        Absolute path of the ``.h5`` table file.
    raw_root
        Absolute raw-data root in force (may differ from the one stored in the file).
    output_root
        Absolute root of the per-session ``outputs.h5`` files.
    revision
        Revision number of the table on disk when this DataFrame was loaded or last saved.
    write_id
        Random id of that write; a different id on disk means another process saved.
    naming
        The :class:`~behavior_soup.naming.NamingRule` as a dict.
    """

    table_path: str
    raw_root: str
    output_root: str
    revision: int
    write_id: str
    naming: dict

    @property
    def naming_rule(self) -> NamingRule:
        return NamingRule.from_dict(self.naming)


def table_info(df: pd.DataFrame) -> TableInfo:
    """The :class:`TableInfo` of a DataFrame made by behavior_soup.

    Parameters
    ----------
    df
        A DataFrame made by :func:`create_df` or :func:`load_df` (or a slice of one).

    Returns
    -------
    TableInfo
        Built from ``df.attrs["behavior_soup"]``.

    Raises
    ------
    TableFormatError
        If ``df`` did not come from :func:`create_df` or :func:`load_df`.
    """
    d = df.attrs.get(ATTRS_KEY)
    if not isinstance(d, Mapping):
        raise TableFormatError(
            "expected a DataFrame made by behavior_soup.create_df or load_df (with "
            f"df.attrs[{ATTRS_KEY!r}]), got one without it; use bs.load_df(path)"
        )
    return TableInfo(**d)


def set_info(df: pd.DataFrame, info: TableInfo) -> None:
    """Attach ``info`` to ``df`` (pandas copies ``attrs`` into every slice of it).

    Parameters
    ----------
    df
        The DataFrame, changed in place.
    info
        Stored as a dict in ``df.attrs["behavior_soup"]``.
    """
    df.attrs[ATTRS_KEY] = asdict(info)
