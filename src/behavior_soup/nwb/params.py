"""What an NWB export takes besides the trials: subject and session metadata, checked once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from .. import checks
from ..params import Params, param

__all__ = ["SESSION_FIELDS", "SUBJECT_FIELDS", "NwbExportParams", "Per"]

#: One NWB file per trial, or one per session (every trial of an animal's session in one file).
Per = Literal["trial", "session"]

#: ``pynwb.file.Subject`` fields an export fills, from ``subject=`` or from table columns of
#: these names (a column wins over nothing, ``subject=`` wins over a column).
SUBJECT_FIELDS: tuple[str, ...] = (
    "species",
    "sex",
    "age",
    "date_of_birth",
    "strain",
    "genotype",
    "weight",
    "description",
)
#: ``pynwb.NWBFile`` fields ``session=`` may set.
SESSION_FIELDS: tuple[str, ...] = (
    "experimenter",
    "institution",
    "lab",
    "experiment_description",
    "keywords",
    "related_publications",
    "session_start_time",
)
_SEXES = ("M", "F", "U", "O")
# ISO 8601 durations (P90D, P12W, P1Y2M), optionally a range "P1D/P3D" or an open one "P90D/"
_DURATION = r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
_AGE = re.compile(rf"{_DURATION}(/({_DURATION})?)?")


def _subject(v: object, name: str) -> dict[str, Any]:
    m = checks.mapping()(v if v is not None else {}, name)
    unknown = sorted(set(m) - set(SUBJECT_FIELDS))
    if unknown:
        raise ValueError(f"expected {name} keys among {list(SUBJECT_FIELDS)}, got unknown {unknown}")
    return {k: check_subject_value(k, val, name) for k, val in m.items() if val is not None}


def check_subject_value(key: str, value: Any, where: str) -> Any:
    """One subject field, checked as NWB wants it.

    Parameters
    ----------
    key
        A name in :data:`SUBJECT_FIELDS`.
    value
        What was given (or found in the table's column ``key``).
    where
        Named in the message (``"subject"`` or ``"column 'sex' of m1/s1/trial 1"``).

    Returns
    -------
    Any
        ``sex`` upper-cased, ``age`` as given, ``date_of_birth`` a timezone-aware datetime,
        the others as text.

    Raises
    ------
    ValueError
        A sex not in M/F/U/O, an age that is not an ISO 8601 duration, a date of birth that is
        not a date.
    """
    if key == "sex":
        s = str(value).strip().upper()
        if s not in _SEXES:
            raise ValueError(f"expected {where} sex one of {list(_SEXES)}, got {value!r}")
        return s
    if key == "age":
        s = str(value).strip()
        if not _AGE.fullmatch(s):
            raise ValueError(f"expected {where} age as an ISO 8601 duration (e.g. 'P90D', 'P12W'), got {value!r}")
        return s
    if key == "date_of_birth":
        return _datetime(value, f"{where} date_of_birth")
    s = str(value).strip()
    if not s:
        raise ValueError(f"expected {where} {key} to be non-empty text, got {value!r}")
    return s


def _datetime(v: Any, name: str) -> datetime:
    if isinstance(v, datetime):
        d = v
    else:
        try:
            d = datetime.fromisoformat(str(v))
        except ValueError:
            raise ValueError(f"expected {name} as an ISO 8601 date or time, got {v!r}") from None
    return d if d.tzinfo is not None else d.replace(tzinfo=timezone.utc)


def _session(v: object, name: str) -> dict[str, Any]:
    m = checks.mapping()(v if v is not None else {}, name)
    unknown = sorted(set(m) - set(SESSION_FIELDS))
    if unknown:
        raise ValueError(f"expected {name} keys among {list(SESSION_FIELDS)}, got unknown {unknown}")
    out: dict[str, Any] = {}
    for k, val in m.items():
        if val is None:
            continue
        if k == "session_start_time":
            out[k] = _datetime(val, f"{name} session_start_time")
        elif k in ("experimenter", "keywords", "related_publications"):
            out[k] = tuple(checks.names(checks.text())([val] if isinstance(val, str) else val, f"{name} {k}"))
        else:
            out[k] = checks.text()(val, f"{name} {k}")
    return out


@dataclass(frozen=True)
class NwbExportParams(Params):
    """How trials become NWB files (see :func:`behavior_soup.nwb.export_trials`)."""

    subject: Mapping[str, Any] = param(
        None, _subject, f"NWB subject fields ({', '.join(SUBJECT_FIELDS)}); default: table columns of those names"
    )
    session: Mapping[str, Any] = param(None, _session, f"NWB file fields ({', '.join(SESSION_FIELDS)})")
    fps: float | None = param(
        None,
        checks.optional(checks.number(above=0)),
        "frame rate (1/s) for trials without a video to read it from",
    )
    spike_resolution: float | None = param(
        None,
        checks.optional(checks.number(above=0)),
        "smallest interval between spike times, s (1 / the acquisition's sampling rate)",
    )
    videos: bool = param(True, checks.one_of((True, False)), "link the trial's videos as external-file ImageSeries")
