"""The in-memory form of one trial's pose: keypoints of one subject over frames."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataFormatError

__all__ = ["PoseData"]

log = logging.getLogger(__name__)

#: Likelihoods this far outside [0, 1] are rounding (clipped); farther is not a likelihood.
_LIKELIHOOD_SLACK = 1e-5


@dataclass
class PoseData:
    """Keypoints of one subject in one video.

    Attributes
    ----------
    positions
        ``(T, K, 2)`` float64: x and y in pixels of each bodypart per frame; NaN where missing
        (infinite coordinates are made NaN, with likelihood 0).
    likelihood
        ``(T, K)`` float64 in [0, 1]: the detector's confidence (NaN where the source has none);
        values outside [0, 1] are a :class:`~behavior_soup.errors.DataFormatError`.
    bodyparts
        The ``K`` bodypart names, in order.
    individual
        The subject's name in a multi-animal source, else None.
    scorer
        Who made the keypoints: a DLC scorer name, ``"SLEAP"``, a model name, ...
    source
        The format read (``"dlc_h5"``, ``"dlc_csv"``, ``"slp"``, ``"sleap_analysis_h5"``, ``"nwb"``,
        ``"dlc_model"``).
    metadata
        Anything else worth keeping (fps, file name, ...), JSON-able.
    """

    positions: np.ndarray
    likelihood: np.ndarray
    bodyparts: tuple[str, ...]
    individual: str | None = None
    scorer: str = ""
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = np.asarray(self.positions, dtype=np.float64)
        self.likelihood = np.asarray(self.likelihood, dtype=np.float64)
        self.bodyparts = tuple(str(b) for b in self.bodyparts)
        if self.positions.ndim != 3 or self.positions.shape[2] != 2:
            raise DataFormatError(f"expected positions of shape (T, K, 2), got {self.positions.shape}")
        t, k, _ = self.positions.shape
        if self.likelihood.shape != (t, k):
            raise DataFormatError(f"expected likelihood of shape {(t, k)}, got {self.likelihood.shape}")
        if len(self.bodyparts) != k:
            raise DataFormatError(f"expected {k} bodypart names, got {len(self.bodyparts)}: {list(self.bodyparts)}")
        if len(set(self.bodyparts)) != k:
            raise DataFormatError(f"expected unique bodypart names, got {list(self.bodyparts)}")
        lk = self.likelihood
        out = ~np.isnan(lk) & ~((lk >= -_LIKELIHOOD_SLACK) & (lk <= 1 + _LIKELIHOOD_SLACK))
        if out.any():
            f, b = (int(i) for i in np.argwhere(out)[0])
            raise DataFormatError(
                f"expected likelihoods in [0, 1] (or NaN), found {float(lk[f, b])!r} at frame {f}, bodypart "
                f"{self.bodyparts[b]!r} ({int(out.sum())} such values)"
            )
        self.likelihood = np.clip(lk, 0.0, 1.0)  # float32 rounding of a detector's 1.0
        infinite = np.isinf(self.positions).any(axis=2)
        if infinite.any():  # a keypoint at infinity is no keypoint: missing, not "valid"
            log.warning("%d keypoints with infinite coordinates are taken as missing", int(infinite.sum()))
            self.positions = np.where(infinite[..., None], np.nan, self.positions)
            self.likelihood = np.where(infinite, 0.0, self.likelihood)

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    def bodypart(self, name: str) -> np.ndarray:
        """``(T, 2)`` positions of one bodypart.

        Parameters
        ----------
        name
            A name in :attr:`bodyparts`.

        Returns
        -------
        numpy.ndarray
            ``(T, 2)`` float64 x, y in pixels (NaN where missing); a view of :attr:`positions`.

        Raises
        ------
        KeyError
            If there is no such bodypart.
        """
        try:
            return self.positions[:, self.bodyparts.index(name)]
        except ValueError:
            raise KeyError(f"expected a bodypart in {list(self.bodyparts)}, got {name!r}") from None

    def to_dlc_frame(self) -> pd.DataFrame:
        """The DeepLabCut layout: columns ``(scorer, bodyparts, coords[x, y, likelihood])``.

        Returns
        -------
        pandas.DataFrame
            ``T`` rows, ``3 K`` float64 columns under a three-level column index; the scorer is
            :attr:`scorer`, or ``"behavior_soup"`` if that is empty.
        """
        cols = pd.MultiIndex.from_product(
            [[self.scorer or "behavior_soup"], list(self.bodyparts), ["x", "y", "likelihood"]],
            names=["scorer", "bodyparts", "coords"],
        )
        data = np.concatenate([self.positions, self.likelihood[..., None]], axis=2).reshape(self.n_frames, -1)
        return pd.DataFrame(data, columns=cols)

    def to_result(self) -> dict[str, Any]:
        """The arrays written to ``outputs.h5``.

        Returns
        -------
        dict
            ``positions`` ``(T, K, 2)`` float32 px, ``likelihood`` ``(T, K)`` float32,
            ``bodyparts`` ``(K,)`` object array of str.
        """
        return {
            "positions": self.positions.astype(np.float32),
            "likelihood": self.likelihood.astype(np.float32),
            "bodyparts": np.asarray(self.bodyparts, dtype=object),
        }

    @classmethod
    def from_result(cls, data: dict[str, Any], **kw: Any) -> PoseData:
        """The inverse of :meth:`to_result`.

        Parameters
        ----------
        data
            ``positions``, ``likelihood`` and ``bodyparts``, as read from ``outputs.h5``.
        **kw
            The other fields (``individual``, ``scorer``, ``source``, ``metadata``).

        Returns
        -------
        PoseData
            The keypoints, converted to float64.
        """
        return cls(data["positions"], data["likelihood"], tuple(data["bodyparts"]), **kw)
