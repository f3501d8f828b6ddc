"""What a job gets to know about its trial: a small picklable snapshot of the row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import outputs, schema
from ..errors import DataRootError, ItemNotFoundError, MissingViewError
from ..paths import resolve
from ..provenance import Provenance
from ..store import TableInfo


@dataclass(frozen=True)
class TrialContext:
    """One trial row plus the roots needed to find its files.

    Plain strings and dicts only, so it travels to subprocesses and dask workers.
    """

    uuid: str
    animal_id: str
    session_id: str
    trial_id: int
    exp_type: str
    videos: Mapping[str, str]
    files: Mapping[str, str]
    model_params: Mapping[str, Any]
    output_path: str
    raw_root: str
    output_root: str
    table_path: str
    lock_timeout: float | None = None
    progress: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: pd.Series | Mapping[str, Any], info: TableInfo, **kw: Any) -> TrialContext:
        """The context of one trial-table row.

        Parameters
        ----------
        row
            A row of the trial table (a ``pandas.Series`` or a mapping with the schema's
            columns).
        info
            The table's info (roots and table path), e.g. ``df.behavior.info``.
        **kw
            The remaining fields: ``lock_timeout``, ``progress``, ``extra``.

        Returns
        -------
        TrialContext
            The row's ids, non-empty video paths by view, files, model parameters and output
            path, with the table's raw-data root, output root and table path.
        """
        return cls(
            uuid=str(row["uuid"]),
            animal_id=str(row["animal_id"]),
            session_id=str(row["session_id"]),
            trial_id=int(row["trial_id"]),
            exp_type=str(row["exp_type"]),
            videos={v: str(row[schema.view_column(v)]) for v in schema.VIEWS if row[schema.view_column(v)]},
            files=dict(row["files"] or {}),
            model_params=dict(row["model_params"] or {}),
            output_path=str(row["output_path"]),
            raw_root=info.raw_root,
            output_root=info.output_root,
            table_path=info.table_path,
            **kw,
        )

    @property
    def label(self) -> str:
        return f"{self.animal_id}/{self.session_id}/trial {self.trial_id}"

    def _raw(self, rel: str) -> Path:
        root = Path(self.raw_root)
        if not root.is_dir():
            raise DataRootError(
                f"expected the raw-data root {self.raw_root!r} to exist, found nothing there; "
                "load the table with raw_root= pointing at the moved data"
            )
        return resolve(root, rel)

    def video_path(self, view: str) -> Path:
        """Absolute path of the trial's ``view`` video.

        Parameters
        ----------
        view
            A camera view in :data:`behavior_soup.schema.VIEWS`.

        Returns
        -------
        pathlib.Path
            The video's stored relative path under the raw-data root (not checked to exist).

        Raises
        ------
        MissingViewError
            If the trial has no such view.
        ValueError
            If ``view`` is not a known view.
        DataRootError
            If the raw-data root does not exist.
        """
        schema.view_column(view)
        rel = self.videos.get(view)
        if not rel:
            raise MissingViewError(f"expected a {view!r} video for {self.label}, found views {sorted(self.videos)}")
        return self._raw(rel)

    def file_path(self, role: str) -> Path:
        """Absolute path of the trial's extra file ``role`` (e.g. ``"stimulus"``).

        Parameters
        ----------
        role
            A key of the row's ``files`` column.

        Returns
        -------
        pathlib.Path
            The file's stored relative path under the raw-data root (not checked to exist).

        Raises
        ------
        ItemNotFoundError
            If the trial has no file for ``role``.
        DataRootError
            If the raw-data root does not exist.
        """
        rel = self.files.get(role)
        if not rel:
            raise ItemNotFoundError(f"expected a {role!r} file for {self.label}, found roles {sorted(self.files)}")
        return self._raw(rel)

    @property
    def outputs_file(self) -> Path:
        return resolve(self.output_root, self.output_path)

    def write(self, key: str, data: Mapping[str, Any], provenance: Provenance) -> None:
        """Write a result for this trial into its session's ``outputs.h5``.

        Parameters
        ----------
        key
            Slash-separated result key, e.g. ``"behavior/video_stats"``; a previous result with
            the same key is replaced.
        data
            Name -> array, scalar, string, ``pandas.DataFrame`` or nested mapping.
        provenance
            The finished provenance of the result, recorded with it.
        """
        self.write_many({key: (data, provenance)})

    def write_many(self, results: Mapping[str, tuple[Mapping[str, Any], Provenance]]) -> None:
        """Write several results for this trial all-or-nothing (see
        :func:`behavior_soup.outputs.write_results`).

        Parameters
        ----------
        results
            Key -> ``(data, provenance)``, each as for :meth:`write`; no key may lie below
            another.
        """
        outputs.write_results(
            self.outputs_file,
            trial_id=self.trial_id,
            uuid=self.uuid,
            results=results,
            session=(self.animal_id, self.session_id),
            lock_timeout=self.lock_timeout,
        )

    def keys(self) -> list[str]:
        """The sorted keys of this trial's stored results (empty when it has none; see
        :func:`behavior_soup.outputs.list_results`).

        Returns
        -------
        list of str
            E.g. ``["behavior/video_stats", "fast/ethogram"]``.
        """
        return outputs.list_results(
            self.outputs_file, trial_id=self.trial_id, uuid=self.uuid, lock_timeout=self.lock_timeout
        )

    def provenance(self, key: str) -> dict[str, Any]:
        """The provenance of a result of this trial (see :func:`behavior_soup.outputs.read_provenance`).

        Parameters
        ----------
        key
            The result's key, e.g. ``"behavior/video_stats"``.

        Returns
        -------
        dict
            The result's attributes (``job``, ``params``, ``versions``, ``started``,
            ``duration_s``, ``status``, ...), ``params`` and ``versions`` decoded from JSON.
        """
        return outputs.read_provenance(
            self.outputs_file, trial_id=self.trial_id, uuid=self.uuid, key=key, lock_timeout=self.lock_timeout
        )

    def read(self, key: str) -> Any:
        """Read a result of this trial (see :func:`behavior_soup.outputs.read_result`).

        Parameters
        ----------
        key
            The result's key, e.g. ``"behavior/video_stats"``, or a key below it naming one of
            its members.

        Returns
        -------
        numpy.ndarray, pandas.DataFrame, scalar or dict
            A dataset as an array, a DataFrame group as a DataFrame, a group as a dict of its
            members.
        """
        return outputs.read_result(
            self.outputs_file, trial_id=self.trial_id, uuid=self.uuid, key=key, lock_timeout=self.lock_timeout
        )
