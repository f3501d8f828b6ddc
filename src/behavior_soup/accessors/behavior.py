"""``df.behavior``, ``row.behavior`` and ``row.outputs``: managing trials and running jobs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import items, outputs, schema, store
from ..ethogram import api as ethogram_api
from ..ethogram.jobs import DEFAULT_LABEL_TEMPLATE, check_label_files, read_ethogram, read_labels, write_labels
from ..ethogram.labels import Labels, labels_from_array
from ..ethogram.modes import Mode
from ..jobs import TrialContext, run_job, run_row, run_rows
from ..jobs.runner import Backend
from ._common import check_table, info_of


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
class BehaviorDataFrameAccessor:
    """Table-level operations: add/remove trials, save, run jobs over rows."""

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
        """
        return items.add_items(self._df, animal_id, session_id, trial_id, **kwargs)

    def add_row(self, animal_id: str, session_id: str, trial_id: int, **kwargs: Any) -> pd.DataFrame:
        """Add one trial with explicitly given files; see :func:`behavior_soup.items.add_row`."""
        return items.add_row(self._df, animal_id, session_id, trial_id, **kwargs)

    def remove_item(
        self,
        animal_id: str | None = None,
        session_id: str | None = None,
        trial_id: int | None = None,
        **kwargs: Any,
    ) -> pd.DataFrame:
        """Remove trials (``remove_outputs=True`` also deletes their results); see
        :func:`behavior_soup.items.remove_items`. Returns the rows removed."""
        return items.remove_items(self._df, animal_id, session_id, trial_id, **kwargs)

    def save(self, merge: bool = False, lock_timeout: float | None = None) -> pd.DataFrame:
        """Save in-memory edits; refuses if the file changed since loading unless ``merge``."""
        return store.save_df(self._df, merge=merge, lock_timeout=lock_timeout)

    def reload(self) -> pd.DataFrame:
        """Replace this DataFrame's contents with the table on disk (unsaved edits are lost)."""
        return store.reload(self._df)

    def refresh(self) -> pd.DataFrame:
        """Take changes made on disk (e.g. run statuses) while keeping unsaved edits."""
        return store.refresh(self._df)

    @property
    def info(self) -> store.TableInfo:
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
        """
        info = info_of(self._df)
        rows = self._df[self._df["exp_type"] != "ephys"] if rows is None else rows
        ctxs = [TrialContext.from_row(r, info) for _, r in rows.iterrows()]
        behaviors = check_label_files(ctxs, template)
        out = run_job(ctxs, "labels_load", {"template": template, "behaviors": list(behaviors)}, progress=progress)
        store.refresh(self._df)
        return out

    def infer(
        self,
        mode: Mode = "fast",
        *,
        feature_extractor: str | os.PathLike | None = None,
        sequence: str | os.PathLike | None = None,
        rows: pd.DataFrame | None = None,
        min_bout: int = 1,
        device: str = "auto",
        batch_size: int = 32,
        reuse_features: bool = False,
        backend: Backend = "local",
        progress: bool = True,
        n_workers: int | None = None,
        client: Any = None,
    ) -> pd.DataFrame:
        """Ethograms for every video trial (or ``rows``): features, sequence model, per-class
        thresholds and minimum bout length, written to ``outputs.h5`` ``<trial>/<mode>/...``
        (see :func:`behavior_soup.ethogram.infer.infer_trial`). Models default to the ones
        trained last for ``mode`` in this table. Returns one summary row per trial."""
        params = ethogram_api.behavior_params(
            self._df,
            mode,
            feature_extractor,
            sequence,
            min_bout=min_bout,
            device=device,
            batch_size=batch_size,
            reuse_features=reuse_features,
        )
        return ethogram_api.infer_rows(
            self._df,
            "behavior_infer",
            params,
            rows=rows,
            backend=backend,
            progress=progress,
            n_workers=n_workers,
            client=client,
        )

    def status(self, namespace: str = "behavior") -> pd.DataFrame:
        """Run status of every row in ``namespace``: status, job, start, duration, error."""
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
    ) -> pd.DataFrame:
        """Run a registered job over all rows (or ``rows``, a subset of this table).

        Statuses are recorded in the table file and this DataFrame is refreshed. Returns one
        summary row per trial (see :func:`behavior_soup.jobs.run_job`).
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
        )


@pd.api.extensions.register_series_accessor("behavior")
class BehaviorSeriesAccessor:
    """Row-level operations on one trial."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "behavior")
        self._row = row

    def context(self, **kw: Any) -> TrialContext:
        return TrialContext.from_row(self._row, info_of(self._row), **kw)

    def run_job(
        self,
        job: str,
        params: Mapping[str, Any] | None = None,
        *,
        backend: Backend = "local",
        lock_timeout: float | None = None,
    ) -> dict[str, Any]:
        """Run a registered job on this trial. Returns its summary row as a dict; the status is
        recorded in the table file (reload or ``df.behavior.refresh()`` to see it)."""
        return run_row(self._row, job, params, backend=backend, lock_timeout=lock_timeout)

    def set_labels(self, values: Labels | np.ndarray | Sequence[int], behaviors: Sequence[str] | None = None) -> Labels:
        """Store this trial's ground-truth labels from arrays: ``(T,)`` behavior indices (-1:
        unlabelled) or ``(T, C)`` 1/0/-1 with ``behaviors`` (background first), or a
        :class:`~behavior_soup.ethogram.Labels`. The frame count must match the video's."""
        if not isinstance(values, Labels):
            if behaviors is None:
                raise ValueError("expected behaviors= (background first) with an array of labels, got None")
            values = labels_from_array(np.asarray(values), tuple(behaviors))
        write_labels(self.context(), values, {"source": "array"})
        return values

    def labels(self) -> Labels:
        """This trial's stored ground-truth labels."""
        return read_labels(self.context())

    def infer(
        self,
        mode: Mode = "fast",
        *,
        feature_extractor: str | os.PathLike | None = None,
        sequence: str | os.PathLike | None = None,
        min_bout: int = 1,
        device: str = "auto",
        batch_size: int = 32,
        reuse_features: bool = False,
        backend: Backend = "local",
    ) -> dict[str, Any]:
        """This trial's ethogram (see ``df.behavior.infer``). Returns the run summary: status,
        and for a failure the error (the traceback is in the table's run record)."""
        params = ethogram_api.behavior_params(
            self._row,
            mode,
            feature_extractor,
            sequence,
            min_bout=min_bout,
            device=device,
            batch_size=batch_size,
            reuse_features=reuse_features,
        )
        return run_row(self._row, "behavior_infer", params, backend=backend)

    def ethogram(
        self, mode: Mode = "fast", stage: Literal["ethogram", "sequence", "features"] = "ethogram"
    ) -> pd.DataFrame:
        """This trial's result for ``mode`` as a DataFrame, one column per behavior: the
        ethogram (int8 0/1), or the ``sequence`` or ``features`` stage's probabilities."""
        return read_ethogram(self.context(), mode, stage)


@pd.api.extensions.register_series_accessor("outputs")
class OutputsSeriesAccessor:
    """Read one trial's results from its session ``outputs.h5``."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "outputs")
        self._row = row

    def _ctx(self) -> TrialContext:
        return TrialContext.from_row(self._row, info_of(self._row))

    @property
    def path(self) -> os.PathLike:
        return self._ctx().outputs_file

    def keys(self) -> list[str]:
        """Keys of the results stored for this trial."""
        c = self._ctx()
        return outputs.list_results(c.outputs_file, trial_id=c.trial_id, uuid=c.uuid)

    def read(self, key: str) -> Any:
        """A result: array, DataFrame, or dict of them (see :func:`behavior_soup.outputs.read_result`)."""
        return self._ctx().read(key)

    def provenance(self, key: str) -> dict[str, Any]:
        """Parameters, package versions, start time, duration and status of a result."""
        return self._ctx().provenance(key)
