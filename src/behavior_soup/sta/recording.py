"""Electrophysiology trials in the table, the ``sta`` job, and reading its results."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import checks, items, store
from ..errors import DataFormatError, ItemNotFoundError
from ..jobs import TrialContext, register_job
from ..params import Params, param
from ..paths import resolve
from ..provenance import Provenance
from .compute import PRECISIONS, Precision, StaResult, compute_sta, summarize
from .loaders import load_spikes, load_stimulus

log = logging.getLogger(__name__)

__all__ = ["add_recording", "read_sta", "sta_summary", "unit_key"]

ResultKind = Literal["sta", "centered", "zscore", "temporal_profile"]
_KINDS = {"sta": "sta", "centered": "sta_centered", "zscore": "zscore", "temporal_profile": "temporal_profile"}


def unit_key(unit: str) -> str:
    """Group name of a unit under ``<trial>/sta/``.

    Parameters
    ----------
    unit
        The unit's name (or number; converted with ``str``).

    Returns
    -------
    str
        The name with every character outside ``A-Za-z0-9_.-`` replaced by ``_``, and ``_``
        prepended if it would start with ``.``.
    """
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(unit))
    return name if not name.startswith(".") else "_" + name


def _abs(root: Path, p: str | os.PathLike) -> Path:
    return Path(p) if Path(p).is_absolute() else resolve(root, str(p))


def add_recording(
    df: pd.DataFrame,
    animal_id: str,
    session_id: str,
    trial_id: int,
    *,
    stimulus: str | os.PathLike,
    spikes: str | os.PathLike,
    fps: float,
    stimulus_onset: float = 0.0,
    pixel_size: float | None = None,
    block_size: int | tuple[int, int] | None = None,
    stimulus_key: str | None = None,
    allow_pickle: bool = False,
    notes: str = "",
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """Add an electrophysiology trial: a stimulus movie and the spike trains recorded during it.

    Both files are loaded once here and checked (format, rank, NaNs, onset inside the movie,
    non-empty units) so a bad recording is refused before it enters the table.

    Parameters
    ----------
    df
        The trial table (made by :func:`behavior_soup.create_df` or :func:`behavior_soup.load_df`).
    animal_id, session_id, trial_id
        The trial's identity.
    stimulus, spikes
        Paths relative to the raw-data root (or absolute inside it); formats in
        :data:`behavior_soup.sta.loaders.STIMULUS_LOADERS` / ``SPIKE_LOADERS``.
    fps
        Stimulus frame rate (Hz).
    stimulus_onset
        Time of the first stimulus frame on the spike clock (s).
    pixel_size
        Size of one stimulus pixel on the retina/screen (e.g. µm), for RF sizes in real units.
    block_size
        Screen pixels per stimulus check (int or (rows, cols)), recorded with the trial.
    stimulus_key
        Name of the stimulus array in files holding several (see
        :func:`~behavior_soup.sta.loaders.load_stimulus`).
    allow_pickle
        Allow pickle files (unpickling runs code).
    notes
        Free text stored with the trial.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    pandas.DataFrame
        The row added.

    Raises
    ------
    ValueError
        ``fps`` or ``pixel_size`` not a positive number, or ``stimulus_onset`` not a finite
        number (a bool or a string is refused).
    DataFormatError
        A file that cannot be loaded as a stimulus or spike trains, a stimulus with NaN or
        inf, an empty unit, or no spike of any unit during the stimulus.
    FileNotFoundError
        A file does not exist.
    """
    info = store.table_info(df)
    root = Path(info.raw_root)
    fps = checks.number(above=0)(fps, "fps")
    stimulus_onset = checks.number()(stimulus_onset, "stimulus_onset")
    pixel_size = checks.optional(checks.number(above=0))(pixel_size, "pixel_size")
    stim = load_stimulus(_abs(root, stimulus), stimulus_key, allow_pickle)
    if stim.dtype.kind == "f" and not np.isfinite(stim).all():
        bad = int(np.flatnonzero(~np.isfinite(stim).reshape(len(stim), -1).all(axis=1))[0])
        raise DataFormatError(
            f"expected finite stimulus values in {str(stimulus)!r}, found NaN or inf (first in frame {bad})"
        )
    units = load_spikes(_abs(root, spikes), allow_pickle)
    empty = [u for u, t in units.items() if t.size == 0]
    if empty or not units:
        raise DataFormatError(f"expected spikes in every unit of {str(spikes)!r}, found empty units {empty}")
    end = stimulus_onset + stim.shape[0] / fps
    span = f"{min(float(t.min()) for t in units.values()):g} s to {max(float(t.max()) for t in units.values()):g} s"
    silent = [u for u, t in units.items() if not ((t >= stimulus_onset) & (t < end)).any()]
    if len(silent) == len(units):
        raise DataFormatError(
            f"expected spikes of {str(spikes)!r} during the stimulus ({stimulus_onset:g} s to {end:g} s: onset plus "
            f"{stim.shape[0]} frames at {fps:g} Hz), found every spike outside it (spikes span {span}); check "
            "stimulus_onset, fps and the spike times' unit (seconds)"
        )
    if silent:
        log.warning("units %s of %s have no spike during the stimulus; their STAs will fail", silent, spikes)
    params = {
        "sta": {
            "fps": float(fps),
            "stimulus_onset": float(stimulus_onset),
            "n_frames": int(stim.shape[0]),
            "shape": [int(stim.shape[1]), int(stim.shape[2])],
            "pixel_size": pixel_size,
            "block_size": block_size,
            "stimulus_key": stimulus_key,
            "allow_pickle": bool(allow_pickle),
            "units": list(units),
        }
    }
    return items.add_row(
        df,
        animal_id,
        session_id,
        trial_id,
        exp_type="ephys",
        files={"stimulus": stimulus, "spikes": spikes},
        model_params=params,
        notes=notes,
        lock_timeout=lock_timeout,
    )


def _recording(ctx: TrialContext) -> dict[str, Any]:
    rec = ctx.model_params.get("sta")
    if not isinstance(rec, Mapping):
        raise ItemNotFoundError(
            f"expected {ctx.label} to be a recording added with df.sta.add_recording, found no 'sta' parameters"
        )
    return dict(rec)


def _units(v: object, name: str) -> tuple | None:
    if v is None:
        return None
    return checks.names(
        lambda u, n: u if isinstance(u, (str, int, np.integer)) and not isinstance(u, bool) else _bad(u, n)
    )(v, name)


def _bad(u: object, name: str) -> None:
    raise ValueError(f"expected {name} to be a unit name or number, got {u!r}")


@dataclass(frozen=True)
class StaParams(Params):
    """Parameters of the STA job (``row.sta.compute``, ``df.sta.compute``)."""

    n_delays: int = param(20, checks.integer(min=1), "frames per STA window, the spike's own frame first")
    units: tuple | None = param(None, _units, "unit names (or numbers) to compute; None: all")
    n_shuffles: int = param(
        20, checks.integer(min=0), "circularly shifted spike trains for the z-scored null (0: none)"
    )
    seed: int = param(0, checks.integer(min=0), "seed of the shuffles")
    precision: Precision = param(
        "mixed", checks.one_of(PRECISIONS), '"mixed" (float32 blocks summed in float64) or "float64"'
    )


@register_job("sta", "sta", params=StaParams)
def sta_job(ctx: TrialContext, p: StaParams) -> dict[str, Any]:
    """Spike-triggered averages of a recording's units -> ``sta/<unit>``.

    Each unit's result holds ``sta``, ``sta_centered`` (and ``zscore`` with shuffles) as
    ``(D, H, W)`` float32, ``temporal_profile`` ``(D,)`` float64, ``summary`` (JSON text of
    :func:`~behavior_soup.sta.compute.summarize`) and ``rf`` (the Gaussian fit).

    Parameters
    ----------
    ctx
        The trial, a recording added with :func:`add_recording`.
    p
        The job's parameters.

    Returns
    -------
    dict
        ``{"units": [unit names computed], "n_spikes": {unit: spikes used}}``.

    Raises
    ------
    ItemNotFoundError
        The trial is not a recording added with :func:`add_recording`, or ``p.units`` names
        unknown units.
    DataFormatError
        A file cannot be loaded, or a unit has no spike inside the movie (see
        :func:`~behavior_soup.sta.compute.compute_sta`).
    """
    rec = _recording(ctx)
    stim = load_stimulus(ctx.file_path("stimulus"), rec.get("stimulus_key"), rec.get("allow_pickle", False))
    spikes = load_spikes(ctx.file_path("spikes"), rec.get("allow_pickle", False))
    if p.units is not None:
        lookup = {str(u): u for u in spikes} | {f"unit_{u}": u for u in spikes}
        names = {str(u): lookup.get(str(u), lookup.get(f"unit_{u}")) for u in p.units}
        missing = [u for u, n in names.items() if n is None]
        if missing:
            raise ItemNotFoundError(f"expected units among {list(spikes)}, got unknown {missing}")
        spikes = {n: spikes[n] for n in names.values()}
    prov = Provenance("sta", {**p.to_dict(), "recording": rec})
    results = compute_sta(
        stim,
        spikes,
        fps=rec["fps"],
        onset=rec["stimulus_onset"],
        n_delays=p.n_delays,
        n_shuffles=p.n_shuffles,
        seed=p.seed,
        precision=p.precision,
    )
    prov.finish()
    to_write = {f"sta/{unit_key(u)}": (_as_data(u, r, rec["fps"]), prov) for u, r in results.items()}
    ctx.write_many(to_write)
    return {"units": list(results), "n_spikes": {u: r.n_spikes for u, r in results.items()}}


def _as_data(unit: str, r: StaResult, fps: float) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sta": r.sta.astype(np.float32),
        "sta_centered": r.sta_centered.astype(np.float32),
        "temporal_profile": r.temporal_profile,
        "summary": json.dumps(summarize(unit, r, fps)),
        "rf": r.rf,
    }
    if r.zscore is not None:
        data["zscore"] = r.zscore.astype(np.float32)
    return data


def read_sta(ctx: TrialContext, unit: Any, kind: ResultKind = "sta") -> np.ndarray:
    """A stored result of one unit: ``(D, H, W)`` float32 maps or the ``(D,)`` profile.

    Parameters
    ----------
    ctx
        The trial.
    unit
        The unit's name, or its number for units named ``unit_<n>``.
    kind
        ``"sta"``, ``"centered"`` (mean frame subtracted), ``"zscore"`` or
        ``"temporal_profile"``.

    Returns
    -------
    numpy.ndarray
        ``(D, H, W)`` float32 for the maps, ``(D,)`` float64 for ``"temporal_profile"``.

    Raises
    ------
    ValueError
        An unknown ``kind``.
    ItemNotFoundError
        No STA computed for ``unit`` in this trial.
    OutputsError
        ``kind="zscore"`` for a result computed without shuffles, or a damaged file.
    """
    if kind not in _KINDS:
        raise ValueError(f"expected kind in {list(_KINDS)}, got {kind!r}")
    stored = [k.split("/", 1)[1] for k in ctx.keys() if k.startswith("sta/")]
    for cand in (unit_key(unit), unit_key(f"unit_{unit}")):
        if cand in stored:
            return np.asarray(ctx.read(f"sta/{cand}/{_KINDS[kind]}"))
    raise ItemNotFoundError(
        f"expected a computed STA for unit {unit!r} of {ctx.label}, found units {stored}; run row.sta.compute() first"
    )


def sta_summary(contexts: Sequence[TrialContext]) -> pd.DataFrame:
    """One row per computed unit: ids, spikes used and excluded, peak delay, RF fit, SNR.

    Parameters
    ----------
    contexts
        The trials to summarise; those without STA results add no rows.

    Returns
    -------
    pandas.DataFrame
        ``uuid``, ``animal_id``, ``session_id``, ``trial_id`` and the columns of
        :func:`~behavior_soup.sta.compute.summarize`, one row per unit; with no results, an
        empty frame of the main columns.
    """
    rows = []
    for ctx in contexts:
        for key in ctx.keys():
            if key.startswith("sta/"):
                s = json.loads(str(ctx.read(f"{key}/summary")))
                rows.append(
                    {
                        "uuid": ctx.uuid,
                        "animal_id": ctx.animal_id,
                        "session_id": ctx.session_id,
                        "trial_id": ctx.trial_id,
                        **s,
                    }
                )
    cols = ["uuid", "animal_id", "session_id", "trial_id", "unit", "n_spikes", "peak_delay", "rf_x", "rf_y", "snr"]
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=cols)
