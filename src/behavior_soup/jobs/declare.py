"""Accessor methods as declarations: a row job over a table, or over one row.

An accessor names the job, its :class:`~behavior_soup.params.Params` class and which rows it
runs on by default; :func:`table_job` and :func:`row_job` make the method. The method's
signature is the parameter object's fields followed by the runner's options, so
``help(df.pose.track)`` and ``df.pose.track?`` show every parameter; calling it builds and
checks the parameters (a bad value raises here, before any row runs), resolves them against
the table (:meth:`Params.resolve`), runs the job through :func:`run_rows` or :func:`run_row`
and refreshes the table.

Examples
--------
>>> class PoseDataFrameAccessor:  # doctest: +SKIP
...     track = table_job("pose_track", TrackingParams, rows=trials_with_view, summary="Tracking of every trial.")
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..params import Params
from .runner import run_row, run_rows

__all__ = ["row_job", "table_job", "table_task"]

RowsOf = Callable[[pd.DataFrame, Params], pd.DataFrame]

_TABLE_OPTIONS = {
    "rows": (None, "the rows to run on (default: {rows})"),
    "backend": ("local", '"local", "subprocess" or "dask" (see :mod:`behavior_soup.jobs.runner`)'),
    "progress": (True, "show a progress bar over rows"),
    "n_workers": (None, "parallel workers for the subprocess and dask backends"),
    "client": (None, "a dask.distributed Client to run on"),
    "lock_timeout": (None, "seconds to wait for the table's and outputs' locks"),
    "skip_done": (False, "leave out the rows already done with these parameters (a rerun after failures)"),
}
_ROW_OPTIONS = {k: _TABLE_OPTIONS[k] for k in ("backend", "lock_timeout")}


def _signature(params: type[Params], options: dict[str, tuple[Any, str]]) -> inspect.Signature:
    hints = {}
    try:
        import typing

        hints = typing.get_type_hints(params)
    except Exception:  # annotations that do not resolve at runtime: shown without types
        pass
    out = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
    for f in dataclasses.fields(params):
        out.append(
            inspect.Parameter(
                f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=f.default, annotation=hints.get(f.name, f.type)
            )
        )
    out += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=d) for k, (d, _) in options.items()]
    return inspect.Signature(out)


def _doc(summary: str, params: type[Params], options: dict[str, tuple[Any, str]], returns: str, rows: str) -> str:
    opts = "\n".join(f"{k}\n    {text.format(rows=rows)}" for k, (_, text) in options.items())
    return f"{summary}\n\nParameters\n----------\n{params.doc()}\n{opts}\n\nReturns\n-------\n{returns}\n"


def _split(sig: inspect.Signature, options: dict, args: tuple, kwargs: dict) -> tuple[Any, dict, dict]:
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    self = values.pop("self")
    opts = {k: values.pop(k) for k in options}
    return self, values, opts


def table_job(
    job: str, params: type[Params], *, rows: RowsOf | None = None, rows_doc: str = "every trial", summary: str = ""
) -> Callable[..., pd.DataFrame]:
    """A DataFrame accessor method running ``job`` over rows (``rows(df, p)`` by default, or
    every row). The accessor keeps its table as ``self._df``.

    Parameters
    ----------
    job
        The registered job the method runs.
    params
        The job's :class:`~behavior_soup.params.Params` class; its fields become the method's
        parameters, followed by the keyword-only runner options ``rows``, ``backend``,
        ``progress``, ``n_workers``, ``client`` and ``lock_timeout``.
    rows
        ``rows(df, p) -> DataFrame``: the rows to run on when the caller gives none (``p`` the
        resolved parameters); ``None`` runs on every row.
    rows_doc
        What ``rows`` selects, for the method's docstring.
    summary
        First paragraph of the method's docstring; by default one naming ``job``.

    Returns
    -------
    callable
        The method, with a signature and a numpydoc docstring built from ``params``; it
        returns :func:`~behavior_soup.jobs.run_rows`'s summary DataFrame.
    """
    sig = _signature(params, _TABLE_OPTIONS)

    def method(*args: Any, **kwargs: Any) -> pd.DataFrame:
        self, values, opts = _split(sig, _TABLE_OPTIONS, args, kwargs)
        df = self._df
        p = params(**values).resolve(df)
        subset = opts.pop("rows")
        if subset is None:
            subset = rows(df, p) if rows is not None else df
        return run_rows(df, job, p, rows=subset, **opts)

    method.__signature__ = sig  # type: ignore[attr-defined]
    method.__name__ = method.__qualname__ = job
    method.__doc__ = _doc(
        summary or f"Run the {job!r} job over the table's trials.",
        params,
        _TABLE_OPTIONS,
        "pandas.DataFrame\n    One row per trial: uuid, ids, status, duration_s, error.",
        rows_doc,
    )
    return method


def row_job(job: str, params: type[Params], *, summary: str = "") -> Callable[..., dict[str, Any]]:
    """A row (Series) accessor method running ``job`` on that trial. The accessor keeps its
    row as ``self._row``.

    Parameters
    ----------
    job
        The registered job the method runs.
    params
        The job's :class:`~behavior_soup.params.Params` class; its fields become the method's
        parameters, followed by the keyword-only options ``backend`` and ``lock_timeout``.
    summary
        First paragraph of the method's docstring; by default one naming ``job``.

    Returns
    -------
    callable
        The method, with a signature and a numpydoc docstring built from ``params``; it
        returns :func:`~behavior_soup.jobs.run_row`'s summary dict.
    """
    sig = _signature(params, _ROW_OPTIONS)

    def method(*args: Any, **kwargs: Any) -> dict[str, Any]:
        self, values, opts = _split(sig, _ROW_OPTIONS, args, kwargs)
        p = params(**values).resolve(self._row)
        return run_row(self._row, job, p, **opts)

    method.__signature__ = sig  # type: ignore[attr-defined]
    method.__name__ = method.__qualname__ = job
    method.__doc__ = _doc(
        summary or f"Run the {job!r} job on this trial.",
        params,
        _ROW_OPTIONS,
        "dict\n    The run's summary row: uuid, ids, status, duration_s, error.",
        "",
    )
    return method


_TASK_OPTIONS = {k: _TABLE_OPTIONS[k] for k in ("rows", "backend", "progress", "n_workers", "client", "lock_timeout")}
_TASK_OPTIONS["backend"] = ("local", '"local", "subprocess" or "dask" (one worker; see :func:`run_task`)')
TaskArgs = Callable[[pd.DataFrame, Params, float | None], dict[str, Any]]


def table_task(
    task: str,
    params: type[Params],
    *,
    args: TaskArgs,
    rows: RowsOf | None = None,
    check: Callable[[pd.DataFrame, Params], None] | None = None,
    rows_doc: str = "every trial",
    summary: str = "",
    returns: str = "dict\n    The task's summary.",
) -> Callable[..., Any]:
    """A DataFrame accessor method running the table-level ``task`` on rows of the table.

    The task receives ``contexts`` (the rows, as :class:`TrialContext` dicts), ``params``
    (the checked parameters as a dict), ``progress`` and what ``args`` adds. The method
    raises :class:`~behavior_soup.errors.JobError` carrying the task's error if it fails,
    refreshes the table, and returns the task's summary with ``run`` added (backend, host,
    pid, start and duration: where it ran).

    Parameters
    ----------
    task
        The registered task the method runs.
    params
        The task's :class:`~behavior_soup.params.Params` class; its fields become the
        method's parameters, followed by the keyword-only options ``rows``, ``backend``,
        ``progress``, ``n_workers``, ``client`` and ``lock_timeout``.
    args
        ``args(df, p, lock_timeout) -> dict``: the task's other arguments (table path, output
        folder, ...).
    rows
        ``rows(df, p) -> DataFrame``: the rows when the caller gives none; ``None``: every row.
    check
        ``check(rows, p)``: cheap checks of the rows chosen, raising before the task starts.
    rows_doc
        What ``rows`` selects, for the docstring.
    summary
        First paragraph of the method's docstring.
    returns
        The docstring's ``Returns`` section body.

    Returns
    -------
    callable
        The method, with a signature and a numpydoc docstring built from ``params``.
    """
    from dataclasses import asdict

    from .. import store
    from ..errors import JobError
    from ..locking import check_timeout
    from .context import TrialContext
    from .runner import rows_of, run_task, where_it_ran

    sig = _signature(params, _TASK_OPTIONS)

    def method(*a: Any, **kw: Any) -> Any:
        self, values, opts = _split(sig, _TASK_OPTIONS, a, kw)
        df = self._df
        p = params(**values).resolve(df)
        subset = opts["rows"]
        if subset is None:
            subset = rows(df, p) if rows is not None else df
        else:
            subset = rows_of(df, subset)
        if check is not None:
            check(subset, p)
        info = store.table_info(df)
        lock_timeout = opts["lock_timeout"]
        check_timeout(lock_timeout)
        contexts = [asdict(TrialContext.from_row(r, info, lock_timeout=lock_timeout)) for _, r in subset.iterrows()]
        task_params = {
            "contexts": contexts,
            "params": p.to_dict(),
            "progress": bool(opts["progress"]),
            **args(df, p, lock_timeout),
        }
        rec = run_task(task, task_params, backend=opts["backend"], n_workers=opts["n_workers"], client=opts["client"])
        store.refresh(df, lock_timeout)
        if rec["status"] != "done":
            raise JobError(f"expected {task!r} to finish, it failed: {rec.get('error')}")
        return {**rec["summary"], "run": where_it_ran(rec)}

    method.__signature__ = sig  # type: ignore[attr-defined]
    method.__name__ = method.__qualname__ = task
    method.__doc__ = _doc(summary or f"Run the {task!r} task on the table.", params, _TASK_OPTIONS, returns, rows_doc)
    return method
