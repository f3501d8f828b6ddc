"""From named bodyparts to one subject state per frame (position, head angle, speeds).

A registry of methods, each declaring the bodyparts it needs:

- ``head_from_ears``: position = midpoint of the ears; head angle = the direction
  perpendicular to the ear axis in which the left ear is on the animal's left, for a camera
  looking down on the animal (image not mirrored).
- ``centroid``: position = mean of the chosen (default: all) bodyparts present in a frame.

Then, in :func:`process_tracking`: likelihood below a threshold -> missing; gaps up to
``max_gap`` frames interpolated linearly (never across longer gaps); Savitzky-Golay or
median smoothing of each keypoint over runs of valid frames; pixels -> cm; speed,
acceleration and angular velocity from central differences.

Angles are in radians in image coordinates (x right, y down): 0 points along +x and
positive angles turn toward +y (clockwise on screen), wrapped to (-pi, pi].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .._arrays import true_runs
from ..errors import DataFormatError
from .data import PoseData

__all__ = ["TRACKING_METHODS", "TrackingMethod", "interpolate_gaps", "process_tracking", "register_tracking_method"]

Smoothing = Literal["savgol", "median", "none"]
MethodFunc = Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class TrackingMethod:
    """A registered tracking method.

    Attributes
    ----------
    name
        Registry key.
    requires
        Bodyparts it needs (empty: any, chosen by the caller).
    func
        ``func(points) -> {"x", "y"[, "angle"]}`` with ``points`` bodypart -> ``(T, 2)`` px.
    """

    name: str
    requires: tuple[str, ...]
    func: MethodFunc


TRACKING_METHODS: dict[str, TrackingMethod] = {}


def register_tracking_method(name: str, requires: tuple[str, ...] = ()) -> Callable[[MethodFunc], MethodFunc]:
    """Decorator registering a tracking method that needs bodyparts ``requires``."""

    def deco(func: MethodFunc) -> MethodFunc:
        TRACKING_METHODS[name] = TrackingMethod(name, tuple(requires), func)
        return func

    return deco


@register_tracking_method("head_from_ears", ("leftear", "rightear"))
def head_from_ears(points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    left, right = points["leftear"], points["rightear"]
    mid = (left + right) / 2
    d = left - right  # the ear axis, from the right ear to the left ear
    # seen from above in image coordinates (y down), the animal's left is 90 degrees
    # counter-clockwise on screen from its heading u: d ~ (u_y, -u_x), so u ~ (-d_y, d_x)
    return {"x": mid[:, 0], "y": mid[:, 1], "angle": np.arctan2(d[:, 0], -d[:, 1])}


@register_tracking_method("centroid")
def centroid(points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    stack = np.stack(list(points.values()), axis=1)  # (T, K, 2)
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(stack).any(axis=2)
        n = ok.sum(axis=1)
        s = np.where(ok[..., None], stack, 0).sum(axis=1)
        mean = np.where(n[:, None] > 0, s / np.maximum(n, 1)[:, None], np.nan)
    return {"x": mean[:, 0], "y": mean[:, 1]}


def interpolate_gaps(x: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly fill interior NaN gaps of at most ``max_gap`` frames in a ``(T,)`` array."""
    x = np.asarray(x, dtype=np.float64).copy()
    nan = np.isnan(x)
    if max_gap <= 0 or not nan.any() or nan.all():
        return x
    idx = np.arange(len(x))
    filled = np.interp(idx, idx[~nan], x[~nan])
    for a, b in true_runs(nan):
        if a > 0 and b < len(x) and b - a <= max_gap:
            x[a:b] = filled[a:b]
    return x


def _smooth(x: np.ndarray, how: Smoothing, window: int, polyorder: int) -> np.ndarray:
    if how == "none" or window <= 1:
        return x
    from scipy.ndimage import median_filter
    from scipy.signal import savgol_filter

    out = x.copy()
    for a, b in true_runs(~np.isnan(x)):
        seg = x[a:b]
        if len(seg) < window:
            continue
        if how == "savgol":
            out[a:b] = savgol_filter(seg, window, min(polyorder, window - 1))
        else:
            out[a:b] = median_filter(seg, size=window, mode="nearest")
    return out


def _derivative(x: np.ndarray, fps: float) -> np.ndarray:
    out = np.full_like(x, np.nan)
    for a, b in true_runs(~np.isnan(x)):
        if b - a >= 2:
            out[a:b] = np.gradient(x[a:b]) * fps
    return out


def _resolve_bodyparts(
    pose: PoseData, method: TrackingMethod, bodyparts: Mapping[str, str] | list[str] | None
) -> dict[str, str]:
    """Method bodypart name -> name in ``pose``."""
    found = list(pose.bodyparts)
    if not method.requires:
        names = list(bodyparts) if bodyparts is not None else found
        missing = [b for b in names if b not in found]
        if missing:
            raise DataFormatError(f"expected bodyparts {names} for {method.name!r}, found {found} (missing {missing})")
        return {b: b for b in names}
    alias = dict(bodyparts or {}) if not isinstance(bodyparts, list) else {}
    wanted = {b: alias.get(b, b) for b in method.requires}
    missing = [w for w in wanted.values() if w not in found]
    if missing:
        raise DataFormatError(
            f"expected bodyparts {list(method.requires)} for method {method.name!r}, found {found}; "
            f"missing {missing}. If your model names them differently, pass "
            f"bodyparts={{{', '.join(repr(b) + ': ...' for b in method.requires)}}}"
        )
    return wanted


def process_tracking(
    pose: PoseData,
    method: str = "head_from_ears",
    *,
    fps: float,
    px_per_cm: float | None = None,
    likelihood_threshold: float = 0.6,
    max_gap: int = 5,
    smooth: Smoothing = "savgol",
    window: int = 7,
    polyorder: int = 2,
    bodyparts: Mapping[str, str] | list[str] | None = None,
) -> pd.DataFrame:
    """One subject state per frame from a trial's keypoints.

    Parameters
    ----------
    pose
        The keypoints.
    method
        A name in :data:`TRACKING_METHODS`.
    fps
        Frame rate (> 0), for times and derivatives.
    px_per_cm
        Pixels per centimetre from a calibration; None keeps pixels.
    likelihood_threshold
        Keypoints whose likelihood is below this are treated as missing (NaN likelihoods
        are kept).
    max_gap
        Longest gap (frames) filled by linear interpolation; longer gaps stay missing.
    smooth, window, polyorder
        ``"savgol"`` (Savitzky-Golay of ``polyorder``), ``"median"`` or ``"none"``, over an odd
        ``window`` of frames, applied to each keypoint over runs of valid frames.
    bodyparts
        For a method with required bodyparts: a mapping from its names to the pose's names
        (``{"leftear": "left_ear", ...}``); for ``centroid``: the bodyparts to average.

    Returns
    -------
    pandas.DataFrame
        ``T`` rows: ``time_s``, ``x``, ``y`` (cm, or px without calibration), ``speed``
        (units/s), ``acceleration`` (units/s^2), ``valid`` (bool), and for methods with an
        angle ``head_angle`` (rad, wrapped) and ``angular_velocity`` (rad/s). ``df.attrs``
        holds the units and parameters.

    Raises
    ------
    DataFormatError
        Bodyparts missing for the method, or a needed bodypart with no valid frame.
    ValueError
        Bad parameters.
    """
    if method not in TRACKING_METHODS:
        raise ValueError(f"expected method in {sorted(TRACKING_METHODS)}, got {method!r}")
    if not (fps and np.isfinite(fps) and fps > 0):
        raise ValueError(f"expected fps > 0, got {fps!r}")
    if px_per_cm is not None and not (np.isfinite(px_per_cm) and px_per_cm > 0):
        raise ValueError(f"expected px_per_cm > 0 or None, got {px_per_cm!r}")
    if smooth not in ("savgol", "median", "none"):
        raise ValueError(f"expected smooth in ('savgol', 'median', 'none'), got {smooth!r}")
    if smooth != "none" and (window < 3 or window % 2 == 0):
        raise ValueError(f"expected an odd smoothing window >= 3, got {window!r}")
    if not 0 <= likelihood_threshold <= 1:
        raise ValueError(f"expected 0 <= likelihood_threshold <= 1, got {likelihood_threshold!r}")
    if max_gap < 0:
        raise ValueError(f"expected max_gap >= 0, got {max_gap!r}")
    spec = TRACKING_METHODS[method]
    names = _resolve_bodyparts(pose, spec, bodyparts)
    points: dict[str, np.ndarray] = {}
    for mname, pname in names.items():
        k = pose.bodyparts.index(pname)
        xy = pose.positions[:, k].copy()
        like = pose.likelihood[:, k]
        xy[like < likelihood_threshold] = np.nan
        xy[np.isnan(xy).any(axis=1)] = np.nan
        if np.isnan(xy).all():
            raise DataFormatError(
                f"expected valid frames of bodypart {pname!r}, found none (all NaN or likelihood < {likelihood_threshold})"
            )
        for c in range(2):
            xy[:, c] = _smooth(interpolate_gaps(xy[:, c], max_gap), smooth, window, polyorder)
        points[mname] = xy
    state = spec.func(points)
    scale = 1.0 / px_per_cm if px_per_cm else 1.0
    x, y = state["x"] * scale, state["y"] * scale
    vx, vy = _derivative(x, fps), _derivative(y, fps)
    speed = np.hypot(vx, vy)
    out = {
        "time_s": np.arange(pose.n_frames) / fps,
        "x": x,
        "y": y,
        "speed": speed,
        "acceleration": _derivative(speed, fps),
    }
    if "angle" in state:
        ang = state["angle"]
        unwrapped = ang.copy()
        ok = ~np.isnan(ang)
        unwrapped[ok] = np.unwrap(ang[ok])
        out["head_angle"] = ang
        out["angular_velocity"] = _derivative(unwrapped, fps)
    out["valid"] = ~(np.isnan(x) | np.isnan(y))
    df = pd.DataFrame(out)
    df.attrs.update(
        method=method,
        units="cm" if px_per_cm else "px",
        bodyparts=names,
        fps=float(fps),
        px_per_cm=px_per_cm,
        likelihood_threshold=likelihood_threshold,
        max_gap=max_gap,
        smooth=smooth,
        window=window,
    )
    return df
