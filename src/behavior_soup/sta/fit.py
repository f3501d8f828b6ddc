"""Receptive-field centre and size from a 2-D Gaussian fit."""

from __future__ import annotations

import warnings

import numpy as np

NAN_FIT = {
    "x": float("nan"),
    "y": float("nan"),
    "sigma_x": float("nan"),
    "sigma_y": float("nan"),
    "theta": float("nan"),
    "amplitude": float("nan"),
    "offset": float("nan"),
    "r2": float("nan"),
}


def gaussian_2d(
    xy: tuple[np.ndarray, np.ndarray],
    amplitude: float,
    x0: float,
    y0: float,
    sx: float,
    sy: float,
    theta: float,
    offset: float,
) -> np.ndarray:
    """Rotated elliptical Gaussian evaluated at ``xy = (x, y)`` (flattened).

    Parameters
    ----------
    xy
        ``(x, y)``: column and row coordinates, arrays of the same shape (float64).
    amplitude
        Peak height above ``offset``.
    x0, y0
        Centre (column, row).
    sx, sy
        Standard deviations along the rotated axes.
    theta
        Rotation of the axes, in radians.
    offset
        Constant baseline.

    Returns
    -------
    numpy.ndarray
        The Gaussian at each point, the shape of ``x`` (float64).
    """
    x, y = xy
    c, s = np.cos(theta), np.sin(theta)
    xr = (x - x0) * c + (y - y0) * s
    yr = -(x - x0) * s + (y - y0) * c
    return offset + amplitude * np.exp(-0.5 * ((xr / sx) ** 2 + (yr / sy) ** 2))


def fit_gaussian_2d(image: np.ndarray) -> dict[str, float]:
    """Fit a rotated 2-D Gaussian to ``image`` ``(H, W)``.

    The sign of the largest-magnitude pixel sets the polarity (an OFF field is fitted as
    ``-image``). ``x`` is the column and ``y`` the row coordinate, in pixels.

    Parameters
    ----------
    image
        ``(H, W)`` map, any real dtype (converted to float64), e.g. the STA at its peak delay.

    Returns
    -------
    dict
        ``x, y, sigma_x, sigma_y, theta, amplitude, offset, r2`` (floats; all NaN when the
        image has fewer than 7 pixels or the fit fails; ``r2`` is NaN for a constant image).
        ``amplitude`` and ``offset`` carry the polarity.
    """
    from scipy.optimize import curve_fit

    img = np.asarray(image, dtype=np.float64)
    h, w = img.shape
    if h * w < 7:  # fewer pixels than parameters (full-field stimuli)
        return dict(NAN_FIT)
    peak = np.unravel_index(int(np.argmax(np.abs(img))), img.shape)
    sign = 1.0 if img[peak] >= 0 else -1.0
    z = sign * img
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    xy = (xx.ravel(), yy.ravel())
    p0 = [z[peak] - np.median(z), float(peak[1]), float(peak[0]), 1.5, 1.5, 0.0, float(np.median(z))]
    bounds = (
        [0, -0.5, -0.5, 0.3, 0.3, -np.pi, -np.inf],
        [np.inf, w - 0.5, h - 0.5, max(h, w), max(h, w), np.pi, np.inf],
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            popt, _ = curve_fit(gaussian_2d, xy, z.ravel(), p0=p0, bounds=bounds, maxfev=4000)
    except (RuntimeError, ValueError):
        return dict(NAN_FIT)
    resid = z.ravel() - gaussian_2d(xy, *popt)
    ss = float(((z - z.mean()) ** 2).sum())
    amp, x0, y0, sx, sy, theta, off = (float(v) for v in popt)
    return {
        "x": x0,
        "y": y0,
        "sigma_x": sx,
        "sigma_y": sy,
        "theta": theta,
        "amplitude": sign * amp,
        "offset": sign * off,
        "r2": 1.0 - float((resid**2).sum()) / ss if ss > 0 else float("nan"),
    }
