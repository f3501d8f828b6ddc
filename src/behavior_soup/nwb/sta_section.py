"""The NWB section of a recording's spike-triggered averages.

- the recording's spike times in the file's ``units`` table (columns ``unit_name`` and
  ``trial_id``), read from the trial's ``spikes`` file;
- ``sta/<unit>``: one row per unit in the ``receptive_fields`` table of the ``ecephys`` module:
  the summary (spikes used and excluded, peak delay, RF fit, SNR), the ``(D, H, W)`` maps
  ``sta``, ``sta_centered`` (and ``zscore``) and the ``(D,)`` ``temporal_profile``, with a
  ``units`` column pointing at the unit's row of the units table.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import BehaviorSoupError
from ..sta.loaders import load_spikes
from .registry import TrialTarget, register_nwb_section

_MAPS = ("sta", "sta_centered", "zscore")


def _spike_rows(t: TrialTarget, names: list[str]) -> dict[str, int]:
    """Add the recording's spike times to the units table; unit name -> its row."""
    nwb = t.builder.nwb
    rec = dict(t.ctx.model_params.get("sta") or {})
    try:
        spikes = load_spikes(t.ctx.file_path("spikes"), rec.get("allow_pickle", False))
    except (BehaviorSoupError, OSError) as exc:
        t.report.missing.append(f"spike times (the units table): {exc}")
        return {}
    if nwb.units is None:
        from pynwb.misc import Units

        resolution = t.builder.params.spike_resolution
        if resolution is None:
            t.builder.missing_metadata.append("spike time resolution (spike_resolution=1 / sampling rate, s)")
        nwb.units = Units(
            name="units",
            description="spike times of the recordings' units, from their spikes files",
            resolution=resolution if resolution is not None else -1.0,
        )
        nwb.add_unit_column("unit_name", "the unit's name in the spikes file")
        nwb.add_unit_column("trial_id", "the recording's trial")
    rows: dict[str, int] = {}
    for name in sorted(spikes, key=str):
        unit = str(name)
        nwb.add_unit(spike_times=np.sort(np.asarray(spikes[name], dtype=np.float64)) + t.offset, unit_name=unit,
                     trial_id=t.ctx.trial_id)  # fmt: skip
        rows[unit] = len(nwb.units) - 1
    missing = [n for n in names if n not in rows]
    if missing:
        t.report.missing.append(f"spike times of units {missing} (not in the spikes file)")
    return rows


@register_nwb_section(
    "sta",
    claims=lambda key: key.startswith("sta/"),
    missing="no spike-triggered averages (df.sta.compute)",
    applies=lambda ctx: "sta" in ctx.model_params,
    order=70,
)
def write_sta(t: TrialTarget, keys: list[str]) -> None:
    """The units' spike times and one receptive-field row per computed unit."""
    from hdmf.common import DynamicTable

    results: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for key in keys:
        d = t.ctx.read(key)
        t.provenance(key)
        summary = json.loads(str(d["summary"]))
        results.append((str(summary["unit"]), d, summary))
    rows = _spike_rows(t, [u for u, _, _ in results])
    table = DynamicTable(
        name=t.name("receptive_fields"),
        description=f"spike-triggered averages of the units of {t.ctx.label}, one row per unit",
    )
    maps = [m for m in _MAPS if all(m in d for _, d, _ in results)]
    scalar_cols = [c for c in results[0][2] if c != "unit"]
    rf_cols = sorted(set().union(*(d.get("rf", {}) for _, d, _ in results)) - {"x", "y", "sigma_x", "sigma_y", "r2"})
    table.add_column("unit", "the unit's name")
    for c in scalar_cols:
        table.add_column(c, f"summary: {c.replace('_', ' ')} (see behavior_soup.sta.compute.summarize)")
    for c in rf_cols:
        table.add_column(f"rf_{c}", f"the Gaussian receptive-field fit's {c}")
    for m in maps:
        table.add_column(m, f"(delays, height, width) {m.replace('_', ' ')} map, the spike's own frame first")
    table.add_column("temporal_profile", "(delays,) centred STA at the peak pixel")
    linked = bool(rows) and all(u in rows for u, _, _ in results)
    if linked:
        table.add_column("units", "the unit's row of the units table", table=t.builder.nwb.units)
    for unit, d, summary in results:
        row: dict[str, Any] = {"unit": unit, **{c: summary[c] for c in scalar_cols}}
        row |= {f"rf_{c}": float(d.get("rf", {}).get(c, np.nan)) for c in rf_cols}
        row |= {m: np.asarray(d[m], dtype=np.float32) for m in maps}
        row["temporal_profile"] = np.asarray(d["temporal_profile"], dtype=np.float64)
        if linked:
            row["units"] = rows[unit]
        table.add_row(**row)
    t.builder.module("ecephys", "spike-triggered averages and receptive fields of the recorded units").add(table)
