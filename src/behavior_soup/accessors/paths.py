"""``df.paths`` and ``row.paths``: absolute paths from the stored relative ones."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .. import schema
from ..jobs.context import TrialContext
from ..paths import check_root, resolve
from ..store import set_info
from ._common import check_table, info_of


@pd.api.extensions.register_dataframe_accessor("paths")
class PathsDataFrameAccessor:
    """Roots of the table and resolution of stored relative paths."""

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, "paths")
        self._df = df

    @property
    def table_path(self) -> Path:
        """The table's HDF5 file."""
        return Path(info_of(self._df).table_path)

    @property
    def raw_root(self) -> Path:
        """The raw-data root the table's video and file paths are relative to, on this machine."""
        return Path(info_of(self._df).raw_root)

    @property
    def output_root(self) -> Path:
        """The folder of the sessions' ``outputs.h5`` files."""
        return Path(info_of(self._df).output_root)

    def set_raw_root(self, path: str | os.PathLike) -> Path:
        """Use another raw-data root for this DataFrame (the data were moved).

        Parameters
        ----------
        path
            The new root; ``~`` is expanded and a relative path is made absolute.

        Returns
        -------
        pathlib.Path
            The absolute root now in force for this DataFrame (the table file is not changed).

        Raises
        ------
        DataRootError
            If ``path`` is not a readable directory.
        """
        root = check_root(path, "raw-data root")
        set_info(self._df, replace(info_of(self._df), raw_root=str(root)))
        return root

    def resolve(self, rel: str, root: str = "raw") -> Path:
        """Absolute path of a stored relative path under the ``"raw"`` or ``"output"`` root.

        Parameters
        ----------
        rel
            A stored relative POSIX path (e.g. a ``<view>_video`` or ``output_path`` cell).
        root
            ``"raw"`` for the raw-data root, ``"output"`` for the output root.

        Returns
        -------
        pathlib.Path
            The root joined with ``rel`` (not checked to exist).

        Raises
        ------
        ValueError
            If ``root`` is neither, or ``rel`` is not a valid relative path.
        """
        if root not in ("raw", "output"):
            raise ValueError(f"expected root 'raw' or 'output', got {root!r}")
        return resolve(self.raw_root if root == "raw" else self.output_root, rel)

    def videos(self, view: str) -> pd.Series:
        """Absolute path of each row's ``view`` video (None where the view is missing).

        Parameters
        ----------
        view
            ``"front"`` or ``"side"``.

        Returns
        -------
        pandas.Series
            This table's index, a :class:`pathlib.Path` or ``None`` per row.

        Raises
        ------
        ValueError
            If ``view`` is not a known view.
        """
        col = self._df[schema.view_column(view)]
        return col.map(lambda rel: resolve(self.raw_root, rel) if rel else None)


@pd.api.extensions.register_series_accessor("paths")
class PathsSeriesAccessor:
    """Absolute paths of one trial's files."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "paths")
        self._row = row

    def _ctx(self) -> TrialContext:
        return TrialContext.from_row(self._row, info_of(self._row))

    def video(self, view: str) -> Path:
        """Absolute path of the trial's ``view`` video (``"front"`` or ``"side"``).

        Parameters
        ----------
        view
            ``"front"`` or ``"side"``.

        Returns
        -------
        pathlib.Path
            The video's path under the raw-data root (not checked to exist).

        Raises
        ------
        MissingViewError
            If the trial has no such view.
        DataRootError
            If the raw-data root does not exist.
        """
        return self._ctx().video_path(view)

    def file(self, role: str) -> Path:
        """Absolute path of the trial's extra file ``role``.

        Parameters
        ----------
        role
            A key of the row's ``files`` column (e.g. ``"stimulus"``).

        Returns
        -------
        pathlib.Path
            The file's path under the raw-data root (not checked to exist).

        Raises
        ------
        ItemNotFoundError
            If the trial has no file for ``role``.
        DataRootError
            If the raw-data root does not exist.
        """
        return self._ctx().file_path(role)

    def outputs(self) -> Path:
        """Absolute path of the trial's session ``outputs.h5``.

        Returns
        -------
        pathlib.Path
            The row's ``output_path`` under the output root (the file may not exist yet).
        """
        return self._ctx().outputs_file
