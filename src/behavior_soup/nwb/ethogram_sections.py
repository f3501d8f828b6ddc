"""NWB sections of a trial's ethograms, labels and MoSeq syllables (ndx-ethogram).

Each ethogram is written twice: as bouts (an ndx-ethogram ``EthogramBouts``, one row per
continuous run of a behavior, drawing its labels from a shared ``Ethogram`` catalogue) and
frame by frame (a ``TimeSeries`` ``<name>_frames`` of the stored ``(T, C)`` array, its
``comments`` the JSON list of the column names). In the ``behavior`` module:

| result | bouts (labeling method) | frames |
| --- | --- | --- |
| ``<mode>/ethogram`` | ``ethogram_<mode>`` (automated) | ``ethogram_<mode>_frames`` int8 0/1 |
| ``<mode>/cleaned`` | ``ethogram_<mode>_cleaned`` (curated) | ``ethogram_<mode>_cleaned_frames`` |
| ``<mode>/sequence`` | | ``ethogram_<mode>_probabilities`` float32 |
| ``behavior/labels`` | ``ethogram_labels`` (manual), with ``observation_intervals`` where frames are -1 | ``ethogram_labels_frames`` int8 |
| ``moseq/<model>`` | ``syllables_<model>`` (automated, exclusive) | ``syllables_<model>_index`` int32, plus ``centroid_<model>``, ``heading_<model>``, ``latent_state_<model>`` |

The first behavior is DeepEthogram's background (none of the others); it has bouts too, so
the bouts alone give back the whole array.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._version import __version__
from ..ethogram.modes import MODES
from ..moseq.registry import list_models
from .pose_sections import spatial
from .registry import TrialTarget, describe_params, register_nwb_section

_STAGES = {"ethogram": ("automated", ""), "cleaned": ("curated", "_cleaned")}


def runs(values: np.ndarray) -> list[tuple[int, int, Any]]:
    """Runs of equal values: ``(first frame, frame after the last, value)``.

    Parameters
    ----------
    values
        ``(T,)`` array.

    Returns
    -------
    list of tuple
        In frame order, covering ``0 .. T``.
    """
    v = np.asarray(values)
    if not len(v):
        return []
    edges = np.flatnonzero(v[1:] != v[:-1]) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(v)]])
    return [(int(a), int(b), v[a]) for a, b in zip(starts, stops)]


def _bouts(
    t: TrialTarget,
    name: str,
    events: list[tuple[int, int, str]],
    method: str,
    what: str,
    prov: dict[str, Any],
    catalogue: Any,
    **links: Any,
) -> None:
    """An EthogramBouts table of ``(start frame, stop frame, label)`` events (none if empty)."""
    import ndx_ethogram

    if not events:
        t.report.skipped[f"{name} bouts"] = "no bouts: every frame is background"
        return
    fps = t.rate(what)
    versions = prov.get("versions") or {}
    software = f"behavior_soup {versions.get('behavior_soup', __version__)}"
    if "keypoint-moseq" in versions:
        software += f", keypoint-moseq {versions['keypoint-moseq']}"
    bouts = ndx_ethogram.EthogramBouts(
        name=t.name(name),
        description=f"{what} of {t.ctx.label} as bouts: one row per continuous run of a behavior",
        labeling_method=method,
        source_software=software,
        parameters=describe_params(prov),
        ethogram=catalogue,
        **{k: v for k, v in links.items() if v is not None},
    )
    for start, stop, label in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        bouts.add_row(start_time=t.offset + start / fps, stop_time=t.offset + stop / fps, label=label)
    t.builder.behavior().add(bouts)


def _frames(t: TrialTarget, name: str, data: np.ndarray, columns: Sequence[str], what: str, unit: str) -> None:
    from pynwb import TimeSeries

    t.extent(len(data))
    t.builder.behavior().add(
        TimeSeries(
            name=t.name(name),
            description=f"{what} of {t.ctx.label}, one row per video frame; columns {list(columns)}",
            comments=json.dumps(list(columns)),
            data=data,
            unit=unit,
            rate=t.rate(what),
            starting_time=t.offset,
        )
    )


def _label_events(array: np.ndarray, behaviors: Sequence[str]) -> list[tuple[int, int, str]]:
    return [(a, b, str(behaviors[c])) for c in range(array.shape[1]) for a, b, v in runs(array[:, c] == 1) if v]


def _is_ethogram_key(key: str) -> bool:
    parts = key.split("/")
    return len(parts) == 2 and parts[0] in MODES and parts[1] in ("ethogram", "cleaned", "sequence")


@register_nwb_section(
    "ethogram",
    claims=_is_ethogram_key,
    missing="no ethogram (df.behavior.infer)",
    applies=lambda ctx: bool(ctx.videos),
    order=40,
)
def write_ethograms(t: TrialTarget, keys: list[str]) -> None:
    """Predicted and cleaned ethograms as bouts and frames; sequence probabilities as frames."""
    for key in keys:
        mode, stage = key.split("/")
        d = t.ctx.read(key)
        prov = t.provenance(key)
        behaviors = [str(b) for b in d["behaviors"]]
        if stage == "sequence":
            probs = np.asarray(d["probabilities"], dtype=np.float32)
            _frames(t, f"ethogram_{mode}_probabilities", probs, behaviors, f"{mode}-mode class probabilities", "n.a.")
            continue
        method, tail = _STAGES[stage]
        array = np.asarray(d["array"], dtype=np.int8)
        what = f"{mode}-mode {'cleaned ' if tail else ''}ethogram"
        _frames(
            t, f"ethogram_{mode}{tail}_frames", array, behaviors, f"the {what} (1: the behavior is present)", "n.a."
        )
        catalogue = t.builder.catalogue(behaviors, exclusive=False)
        _bouts(t, f"ethogram_{mode}{tail}", _label_events(array, behaviors), method, f"the {what}", prov, catalogue)


@register_nwb_section("labels", claims=lambda key: key == "behavior/labels", order=50)
def write_labels(t: TrialTarget, keys: list[str]) -> None:
    """Hand labels as bouts (over the labelled frames only) and frames (-1 unlabelled)."""
    from pynwb.epoch import TimeIntervals

    d = t.ctx.read(keys[0])
    prov = t.provenance(keys[0])
    behaviors = [str(b) for b in d["behaviors"]]
    array = np.asarray(d["array"], dtype=np.int8)
    _frames(
        t, "ethogram_labels_frames", array, behaviors, "the hand labels (1 present, 0 absent, -1 unlabelled)", "n.a."
    )
    observed = None
    labelled = (array >= 0).all(axis=1)
    if not labelled.all():
        fps = t.rate("labels")
        observed = TimeIntervals(
            name=t.name("ethogram_labels_observed"), description=f"the labelled frames of {t.ctx.label}"
        )
        for a, b, v in runs(labelled):
            if v:
                observed.add_row(start_time=t.offset + a / fps, stop_time=t.offset + b / fps)
        t.builder.behavior().add(observed)
    catalogue = t.builder.catalogue(behaviors, exclusive=False)
    _bouts(
        t, "ethogram_labels", _label_events(array, behaviors), "manual", "the hand labels", prov, catalogue,
        observation_intervals=observed,
    )  # fmt: skip


@register_nwb_section(
    "moseq",
    claims=lambda key: key.startswith("moseq/"),
    missing="no syllables (row.moseq.infer)",
    applies=lambda ctx: bool(ctx.videos),
    order=60,
)
def write_syllables(t: TrialTarget, keys: list[str]) -> None:
    """MoSeq syllables as exclusive bouts and per-frame indices, with centroid, heading and latents."""
    from pynwb import TimeSeries

    mod = t.builder.behavior()
    models = list_models(t.ctx.table_path)
    for key in keys:
        model = key.split("/", 1)[1]
        d = t.ctx.read(key)
        prov = t.provenance(key)
        params = prov.get("params", {})
        syll = np.asarray(d["syllable"], dtype=np.int32)
        n = max(int(models.get(model, {}).get("n_syllables") or 0), int(syll.max()) + 1 if len(syll) else 0)
        catalogue = t.builder.catalogue([str(i) for i in range(n)], exclusive=True, model=model)
        _frames(t, f"syllables_{model}_index", syll, ["syllable"], f"syllables of MoSeq model {model!r}", "n.a.")
        pose = t.builder.pose_object(str(params.get("pose_model", "")), str(params.get("view", "")), t.suffix)
        events = [(a, b, str(int(v))) for a, b, v in runs(syll)]
        _bouts(t, f"syllables_{model}", events, "automated", f"MoSeq {model!r} syllables", prov, catalogue,
               source_pose=pose)  # fmt: skip
        timing = {"rate": t.rate("syllables"), "starting_time": t.offset}
        mod.add(
            spatial("position", t.name(f"centroid_{model}"), "xy", np.asarray(d["centroid"], dtype=np.float32),
                    "pixels", f"centroid keypoint-MoSeq estimated with model {model!r}",
                    "(0,0) is the top-left corner of the video frame", timing)
        )  # fmt: skip
        mod.add(
            spatial("compass", t.name(f"heading_{model}"), "heading", np.asarray(d["heading"], dtype=np.float32),
                    "radians", f"heading keypoint-MoSeq estimated with model {model!r}",
                    "keypoint-MoSeq's egocentric alignment angle in image coordinates", timing)
        )  # fmt: skip
        mod.add(
            TimeSeries(
                name=t.name(f"latent_state_{model}"),
                description=f"the continuous latent state (pose PCs) of MoSeq model {model!r}",
                data=np.asarray(d["latent_state"], dtype=np.float32),
                unit="n.a.",
                **timing,
            )
        )
