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

from .. import checks
from .._arrays import true_runs
from ..errors import DataFormatError
from ..params import Params, param
from ..schema import VIEWS, validate_id
from .data import PoseData

__all__ = [
    "TRACKING_METHODS",
    "TrackingMethod",
    "TrackingParams",
    "interpolate_gaps",
    "process_tracking",
    "register_tracking_method",
]

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
    """Decorator registering a tracking method that needs bodyparts ``requires``.

    Parameters
    ----------
    name
        Registry key; a method already registered under it is replaced.
    requires
        Bodyparts the method needs, by the names it uses (the caller may map them to the
        pose's names); empty: any bodyparts, chosen by the caller.

    Returns
    -------
    callable
        The decorator; it records ``func`` in :data:`TRACKING_METHODS` and returns it unchanged.
    """

    def deco(func: MethodFunc) -> MethodFunc:
        TRACKING_METHODS[name] = TrackingMethod(name, tuple(requires), func)
        return func

    return deco


@register_tracking_method("head_from_ears", ("leftear", "rightear"))
def head_from_ears(points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Position and head angle from the two ears (see the module docstring).

    Parameters
    ----------
    points
        ``"leftear"`` and ``"rightear"`` -> ``(T, 2)`` float64 x, y in pixels (NaN: missing).

    Returns
    -------
    dict of str to numpy.ndarray
        ``x``, ``y``: ``(T,)`` midpoint of the ears in pixels; ``angle``: ``(T,)`` head angle
        in radians in (-pi, pi]. NaN where an ear is missing.
    """
    left, right = points["leftear"], points["rightear"]
    mid = (left + right) / 2
    d = left - right  # the ear axis, from the right ear to the left ear
    # seen from above in image coordinates (y down), the animal's left is 90 degrees
    # counter-clockwise on screen from its heading u: d ~ (u_y, -u_x), so u ~ (-d_y, d_x)
    return {"x": mid[:, 0], "y": mid[:, 1], "angle": np.arctan2(d[:, 0], -d[:, 1])}


@register_tracking_method("centroid")
def centroid(points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Position as the mean of the bodyparts present in each frame.

    Parameters
    ----------
    points
        Bodypart -> ``(T, 2)`` float64 x, y in pixels (NaN: missing).

    Returns
    -------
    dict of str to numpy.ndarray
        ``x``, ``y``: ``(T,)`` float64 in pixels, NaN in frames where no bodypart is present.
    """
    stack = np.stack(list(points.values()), axis=1)  # (T, K, 2)
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(stack).any(axis=2)
        n = ok.sum(axis=1)
        s = np.where(ok[..., None], stack, 0).sum(axis=1)
        mean = np.where(n[:, None] > 0, s / np.maximum(n, 1)[:, None], np.nan)
    return {"x": mean[:, 0], "y": mean[:, 1]}


def interpolate_gaps(x: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly fill interior NaN gaps of at most ``max_gap`` frames in a ``(T,)`` array.

    Parameters
    ----------
    x
        ``(T,)`` values (converted to float64); NaN marks missing frames.
    max_gap
        Longest run of missing frames to fill; ``0`` or less fills nothing.

    Returns
    -------
    numpy.ndarray
        ``(T,)`` float64, a copy: gaps between two valid frames filled, leading and trailing
        gaps and longer gaps left NaN.
    """
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
    p = TrackingParams(
        method=method,
        px_per_cm=px_per_cm,
        likelihood_threshold=likelihood_threshold,
        max_gap=max_gap,
        smooth=smooth,
        window=window,
        polyorder=polyorder,
        bodyparts=bodyparts,
        fps=fps,
    )
    if p.fps is None:
        raise ValueError(f"expected fps > 0 (a finite number), got {fps!r}")
    method, fps, px_per_cm, smooth = p.method, p.fps, p.px_per_cm, p.smooth
    spec = TRACKING_METHODS[method]
    names = _resolve_bodyparts(pose, spec, bodyparts)
    points: dict[str, np.ndarray] = {}
    for mname, pname in names.items():
        k = pose.bodyparts.index(pname)
        xy = pose.positions[:, k].copy()
        like = pose.likelihood[:, k]
        xy[like < likelihood_threshold] = np.nan
        xy[~np.isfinite(xy).all(axis=1)] = np.nan  # an inf keypoint is as missing as a NaN one
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


def _method(v: object, name: str) -> str:
    return checks.one_of(sorted(TRACKING_METHODS))(v, name)


def _bodyparts(v: object, name: str) -> dict[str, str] | list[str] | None:
    if v is None:
        return None
    if isinstance(v, Mapping):
        return checks.mapping(checks.text(), checks.text())(v, name)
    return list(checks.names(checks.text())(v, name))


@dataclass(frozen=True)
class TrackingParams(Params):
    """Parameters of tracking processing (``row.pose.track``, ``df.pose.track``, the
    ``pose_track`` job); see :func:`process_tracking` for what each does."""

    method: str = param("head_from_ears", _method, "a name in TRACKING_METHODS")
    source: str = param("imported", lambda v, n: validate_id(v, n), "the pose to process: an import or model name")
    view: str = param("front", checks.one_of(VIEWS), "the camera view of that pose")
    px_per_cm: float | None = param(None, checks.optional(checks.number(above=0)), "pixels per cm; None keeps px")
    likelihood_threshold: float = param(0.6, checks.number(0, 1), "keypoints below this likelihood are missing")
    max_gap: int = param(5, checks.integer(min=0), "longest gap (frames) filled by interpolation")
    smooth: Smoothing = param(
        "savgol", checks.one_of(("savgol", "median", "none"), aliases={None: "none"}), '"savgol", "median" or "none"'
    )
    window: int = param(7, checks.integer(min=1), "smoothing window, frames (odd, >= 3 when smoothing)")
    bodyparts: Mapping[str, str] | list[str] | None = param(
        None, _bodyparts, "method names -> the pose's names, or the bodyparts to average (centroid)"
    )
    fps: float | None = param(None, checks.optional(checks.number(above=0)), "frame rate; None: the view's video")
    polyorder: int = param(2, checks.integer(min=0), "Savitzky-Golay polynomial order (< window)")

    def validate(self) -> None:
        if self.smooth != "none" and (self.window < 3 or self.window % 2 == 0):
            raise ValueError(f"expected window to be an odd smoothing window >= 3, got {self.window}")
        if self.smooth == "savgol" and self.polyorder >= self.window:
            raise ValueError(
                f"expected polyorder < window for Savitzky-Golay smoothing, got {self.polyorder} >= {self.window}"
            )
