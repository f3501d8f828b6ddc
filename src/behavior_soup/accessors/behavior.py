"""``df.behavior``: managing trials and running jobs over a trial table.

The row accessors ``row.behavior`` and ``row.outputs`` are in
:mod:`behavior_soup.accessors.behavior_row` (registered, and importable from here, on import).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from .. import items, schema, store
from ..ethogram.infer_jobs import EthogramInferParams
from ..ethogram.jobs import DEFAULT_LABEL_TEMPLATE, check_label_files
from ..jobs import run_job, run_rows, run_task
from ..jobs.declare import table_job
from ..jobs.runner import Backend
from ..nwb.params import Per
from ._common import check_table, contexts, info_of, video_rows
from .behavior_row import BehaviorSeriesAccessor, OutputsSeriesAccessor
from .behavior_views import EthogramViewsMixin

__all__ = ["BehaviorDataFrameAccessor", "BehaviorSeriesAccessor", "OutputsSeriesAccessor"]


def _status_view(df: pd.DataFrame, ns: str) -> pd.DataFrame:
    sc, rc = schema.status_column(ns), schema.run_column(ns)
    runs = df[rc]
    return pd.DataFrame(
        {
            "uuid": df["uuid"],
            "animal_id": df["animal_id"],
            "session_id": df["session_id"],
            "trial_id": df["trial_id"],
            "status": df[sc],
            "job": runs.map(lambda r: r.get("job", "")),
            "started": runs.map(lambda r: r.get("started", "")),
            "duration_s": runs.map(lambda r: r.get("duration_s", float("nan"))),
            "error": runs.map(lambda r: r.get("error", "")),
        }
    )


@pd.api.extensions.register_dataframe_accessor("behavior")
class BehaviorDataFrameAccessor(EthogramViewsMixin):
    """Table-level operations: add/remove trials, save, run jobs over rows; the ethogram
    viewer, cleaner, labeller and comparison (:class:`.behavior_views.EthogramViewsMixin`)."""

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, "behavior")
        self._df = df

    def add_item(
        self,
        animal_id: str,
        session_id: str | None = None,
        trial_id: int | None = None,
        **kwargs: Any,
    ) -> pd.DataFrame:
        """Add a whole animal, one session or one trial found under the raw-data root.

        See :func:`behavior_soup.items.add_items` for the keyword arguments (``exp_type``,
        ``on_missing_view``, ``skip_existing``, ...). Saves the table and updates this
        DataFrame in place. Returns the rows added.

        Parameters
        ----------
        animal_id
            The animal: its folder under the raw-data root.
        session_id
            One session of it; ``None`` adds every session.
        trial_id
            One trial of that session; ``None`` adds every trial found.
        **kwargs
            ``exp_type``, ``views``, ``on_missing_view``, ``skip_existing``, ``model_params``,
            ``notes``, ``lock_timeout`` (see :func:`behavior_soup.items.add_items`).

        Returns
        -------
        pandas.DataFrame
            The rows added, with the schema's columns.
        """
        return items.add_items(self._df, animal_id, session_id, trial_id, **kwargs)

    def add_row(self, animal_id: str, session_id: str, trial_id: int, **kwargs: Any) -> pd.DataFrame:
        """Add one trial with explicitly given files; see :func:`behavior_soup.items.add_row`.

        Parameters
        ----------
        animal_id, session_id, trial_id
            The new trial's ids.
        **kwargs
            ``exp_type``, ``videos`` (view -> path), ``files`` (role -> path), ``model_params``,
            ``notes``, ``lock_timeout``; paths are relative to the raw-data root or absolute
            inside it, and must exist.

        Returns
        -------
        pandas.DataFrame
            The row added (one row). The table is saved and this DataFrame updated in place.
        """
        return items.add_row(self._df, animal_id, session_id, trial_id, **kwargs)

    def remove_item(
        self,
        animal_id: str | None = None,
        session_id: str | None = None,
        trial_id: int | None = None,
        **kwargs: Any,
    ) -> pd.DataFrame:
        """Remove trials (``remove_outputs=True`` also deletes their results); see
        :func:`behavior_soup.items.remove_items`. Returns the rows removed.

        Parameters
        ----------
        animal_id, session_id, trial_id
            A whole animal, one session, or one trial (``trial_id`` needs ``session_id``).
        **kwargs
            ``uuid`` (one or a list, instead of the ids), ``remove_outputs``, ``lock_timeout``.

        Returns
        -------
        pandas.DataFrame
            The rows removed. The table is saved and this DataFrame updated in place.
        """
        return items.remove_items(self._df, animal_id, session_id, trial_id, **kwargs)

    def save(self, merge: bool = False, lock_timeout: float | None = None) -> pd.DataFrame:
        """Save in-memory edits; refuses if the file changed since loading unless ``merge``.

        Parameters
        ----------
        merge
            Merge with the table on disk by ``uuid`` when another writer saved meanwhile.
        lock_timeout
            Seconds to wait for the table's lock; ``None`` means the default.

        Returns
        -------
        pandas.DataFrame
            This DataFrame, updated in place to the saved revision.
        """
        return store.save_df(self._df, merge=merge, lock_timeout=lock_timeout)

    def reload(self) -> pd.DataFrame:
        """Replace this DataFrame's contents with the table on disk (unsaved edits are lost).

        Returns
        -------
        pandas.DataFrame
            This DataFrame, holding every row of the table now on disk.
        """
        return store.reload(self._df)

    def refresh(self) -> pd.DataFrame:
        """Take changes made on disk (e.g. run statuses) while keeping unsaved edits.

        Returns
        -------
        pandas.DataFrame
            This DataFrame, updated in place.
        """
        return store.refresh(self._df)

    @property
    def info(self) -> store.TableInfo:
        """The table's file, roots, revision and naming rule (:class:`behavior_soup.store.TableInfo`)."""
        return info_of(self._df)

    def load_labels(
        self,
        template: str = DEFAULT_LABEL_TEMPLATE,
        *,
        rows: pd.DataFrame | None = None,
        progress: bool = True,
    ) -> pd.DataFrame:
        """Load each trial's ground-truth label CSV (DeepEthogram format) into ``outputs.h5``
        ``<trial>/behavior/labels``.

        ``template`` locates a trial's CSV relative to the raw-data root (fields
        ``animal_id``, ``session_id``, ``trial_id``). Every file's behaviors are checked first:
        files that disagree are an error naming the difference, and nothing is written.

        Parameters
        ----------
        template
            Path of a trial's CSV relative to the raw-data root (or absolute).
        rows
            The trials to load; default every trial with a video.
        progress
            Show a progress bar over trials.

        Returns
        -------
        pandas.DataFrame
            One row per trial: ``uuid, animal_id, session_id, trial_id, status, duration_s,
            error``.

        Raises
        ------
        FileNotFoundError
            If a trial's CSV is missing.
        DataFormatError
            If the files disagree on their behaviors.
        """
        rows = self._df[schema.video_trials(self._df)] if rows is None else rows
        ctxs = contexts(rows)
        behaviors = check_label_files(ctxs, template)
        out = run_job(ctxs, "labels_load", {"template": template, "behaviors": list(behaviors)}, progress=progress)
        store.refresh(self._df)
        return out

    infer = table_job(
        "behavior_infer",
        EthogramInferParams,
        rows=video_rows,
        rows_doc="every trial with a video",
        summary="Ethograms for every video trial: features, sequence model, per-class thresholds and minimum "
        "bout length, written to ``outputs.h5`` ``<trial>/<mode>/...`` (see "
        ":func:`behavior_soup.ethogram.infer.infer_trial`). Models default to the ones trained last for "
        "``mode`` in this table.",
    )

    def status(self, namespace: str = "behavior") -> pd.DataFrame:
        """Run status of every row in ``namespace``: status, job, start, duration, error.

        Parameters
        ----------
        namespace
            A status namespace in :data:`behavior_soup.schema.STATUS_NAMESPACES`.

        Returns
        -------
        pandas.DataFrame
            This table's index and columns ``uuid, animal_id, session_id, trial_id, status,
            job, started`` (ISO time), ``duration_s`` (seconds, NaN if not run) and ``error``.
        """
        return _status_view(self._df, namespace)

    def run_job(
        self,
        job: str,
        params: Mapping[str, Any] | None = None,
        *,
        rows: pd.DataFrame | None = None,
        backend: Backend = "local",
        progress: bool = True,
        n_workers: int | None = None,
        client: Any = None,
        lock_timeout: float | None = None,
        skip_done: bool = False,
    ) -> pd.DataFrame:
        """Run a registered job over all rows (or ``rows``, a subset of this table).

        Statuses are recorded in the table file and this DataFrame is refreshed. Returns one
        summary row per trial (see :func:`behavior_soup.jobs.run_job`).

        Parameters
        ----------
        job
            A name in :data:`behavior_soup.jobs.JOBS`.
        params
            The job's parameters (a mapping, or its Params object), checked before any row runs.
        rows
            Rows of this table to run on; default every row.
        backend
            ``"local"``, ``"subprocess"`` or ``"dask"``.
        progress
            Show a progress bar over rows.
        n_workers
            Parallel workers for the subprocess and dask backends.
        client
            A ``dask.distributed.Client`` to run on.
        lock_timeout
            Seconds to wait for the table's and outputs' locks; ``None`` means the default.
        skip_done
            Leave out the rows already done with these parameters (a rerun after failures).

        Returns
        -------
        pandas.DataFrame
            One row per trial: ``uuid, animal_id, session_id, trial_id, status, duration_s,
            error``.
        """
        return run_rows(
            self._df,
            job,
            params,
            rows=rows,
            backend=backend,
            progress=progress,
            n_workers=n_workers,
            client=client,
            lock_timeout=lock_timeout,
            skip_done=skip_done,
        )

    def run_task(
        self,
        task: str,
        params: Mapping[str, Any] | None = None,
        *,
        backend: Literal["local", "subprocess", "dask"] = "local",
        client: Any = None,
    ) -> dict[str, Any]:
        """Run a registered table-level task (see :func:`behavior_soup.jobs.register_task`)
        with ``params``, then refresh this DataFrame with what the task changed in the table.

        Parameters
        ----------
        task
            A name in :data:`behavior_soup.jobs.TASKS`.
        params
            Keyword arguments of the task; JSON-serialisable.
        backend
            ``"local"`` (this process), ``"subprocess"`` (a fresh Python process) or
            ``"dask"`` (a worker of ``client``).
        client
            For ``"dask"``: a ``dask.distributed.Client``; ``None`` starts a local cluster.

        Returns
        -------
        dict
            The run record: status, parameters, times, and the task's summary or the error.
        """
        rec = run_task(task, dict(params or {}), backend=backend, client=client)
        store.refresh(self._df)
        return rec

    def to_nwb(
        self, folder: str | os.PathLike, per: Per = "trial", *, progress: bool = True, **params: Any
    ) -> pd.DataFrame:
        """Export the rows' results to NWB files under ``folder`` (see :mod:`behavior_soup.nwb`).

        Parameters
        ----------
        folder
            Where the files go: ``sub-<animal>/sub-<animal>_ses-<session>[_trial-<id>].nwb``.
        per
            ``"trial"`` (one file per row) or ``"session"`` (one per animal's session, the trials
            end to end, each a row of the file's trials table).
        progress
            Show a progress bar over files.
        **params
            Fields of :class:`~behavior_soup.nwb.NwbExportParams`: ``subject`` (species, sex,
            age, ...; default the table's columns of those names), ``session`` (experimenter,
            institution, session_start_time, ...), ``fps``, ``spike_resolution``, ``videos``.

        Returns
        -------
        pandas.DataFrame
            One row per file: ``path``, ``animal_id``, ``session_id``, ``trials``, ``exported``
            (results written) and ``missing`` (what the file lacks).
        """
        from ..nwb import NwbExportParams, export_table

        p = NwbExportParams.from_mapping(params)
        return export_table(self._df, folder, per=per, params=p, info=info_of(self._df), progress=progress)
