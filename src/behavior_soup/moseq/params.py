"""Parameters of MoSeq fitting (:class:`FitParams`), the kappa scan (:class:`KappaScanParams`)
and syllable inference (:class:`InferParams`), with the checks of their fields.

The hyperparameters keep keypoint-moseq's names and defaults (``kappa``, ``num_states``,
``nlags``, ...); the ones this library adds are the AR-HMM/full-fit split (``kappa_ar``,
``ar_iters``, ``kappa_full``, ``full_iters``), several ``seeds`` and a latent dimension chosen
from the ``variance`` explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import checks
from ..params import Params, param
from ..schema import VIEWS, validate_id

__all__ = ["FitParams", "InferParams", "KappaScanParams"]


def _name(what: str) -> Any:
    return lambda v, n: validate_id(v, what)


def _parts(v: object, name: str) -> tuple[str, ...]:
    return checks.names(checks.text())(v, name)


def _optional_parts(v: object, name: str) -> tuple[str, ...] | None:
    return None if v is None else _parts(v, name)


def _seeds(v: object, name: str) -> tuple[int, ...]:
    if not isinstance(v, (list, tuple)) and not isinstance(v, (str, bytes)):
        try:
            v = (checks.integer(min=0)(v, name),)
        except ValueError:
            pass
    out = checks.names(checks.integer(min=0))(v, name)
    if len(set(out)) != len(out):
        raise ValueError(f"expected {name} without repeats, got {list(out)}")
    return out


_KAPPA = checks.number(above=0, what="a kappa > 0 (a finite number)")


@dataclass(frozen=True)
class _Keypoints(Params):
    """Which keypoints a model is made from, and how they are cleaned."""

    pose_model: str = param("imported", _name("pose source name"), "the pose source: a model's or an import's name")
    view: str = param("front", checks.one_of(VIEWS), "the camera view of the keypoints")
    use_bodyparts: tuple[str, ...] | None = param(None, _optional_parts, "bodyparts to model; None: all")
    anterior: tuple[str, ...] = param(("snout",), _parts, "bodyparts at the front, for the heading")
    posterior: tuple[str, ...] = param(("tailbase",), _parts, "bodyparts at the back, for the heading")
    outlier_scale_factor: float = param(
        6.0, checks.number(above=0), "keypoints farther than this many robust deviations from the medoid are outliers"
    )
    conf_threshold: float = param(0.5, checks.number(min=0, max=1), "confidence below which keypoints are interpolated")
    fps: float | None = param(None, checks.optional(checks.number(above=0)), "frame rate; None: the trials' video's")

    def validate(self) -> None:
        overlap = set(self.anterior) & set(self.posterior)
        if overlap:
            raise ValueError(f"expected anterior and posterior bodyparts to differ, got {sorted(overlap)} in both")
        if self.use_bodyparts is not None:
            missing = [b for b in (*self.anterior, *self.posterior) if b not in self.use_bodyparts]
            if missing:
                raise ValueError(
                    f"expected anterior and posterior bodyparts among use_bodyparts {list(self.use_bodyparts)}, "
                    f"got {missing}"
                )


@dataclass(frozen=True)
class FitParams(_Keypoints):
    """Parameters of a MoSeq fit (``df.moseq.fit``)."""

    name: str = param("moseq", _name("MoSeq model name"), "the name the model is registered under")
    latent_dim: int | None = param(
        None, checks.optional(checks.integer(min=2)), "PCA dimensions modelled; None: the fewest explaining `variance`"
    )
    variance: float = param(0.9, checks.number(above=0, max=1), "variance the latent dimensions explain")
    kappa_ar: float = param(1e6, _KAPPA, "stickiness of the AR-HMM pre-fit")
    ar_iters: int = param(50, checks.integer(min=1), "Gibbs iterations of the AR-HMM pre-fit")
    kappa_full: float = param(1e4, _KAPPA, "stickiness of the full keypoint-SLDS fit")
    full_iters: int = param(500, checks.integer(min=0), "Gibbs iterations of the full fit (0: AR-HMM only)")
    seeds: tuple[int, ...] = param((0,), _seeds, "one chain per seed; the best by expected marginal likelihood is kept")
    num_states: int = param(100, checks.integer(min=2), "most syllables the model may use")
    nlags: int = param(3, checks.integer(min=1), "autoregressive lags")
    seg_length: int | None = param(
        None, checks.optional(checks.integer(min=8)), "frames per segment; None: keypoint-moseq's choice"
    )
    save_every: int = param(25, checks.integer(min=1), "iterations between checkpoint snapshots")
    overwrite: bool = param(False, None, "replace a registered model of the same name")

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.overwrite, bool):
            raise ValueError(f"expected overwrite to be True or False, got {self.overwrite!r}")

    def resolve(self, obj: object) -> FitParams:
        """Check that :attr:`name` is free (or :attr:`overwrite` is set).

        Parameters
        ----------
        obj
            The trial table.

        Returns
        -------
        FitParams
            ``self``.

        Raises
        ------
        ItemExistsError
            If a MoSeq model of that name is registered and ``overwrite`` is False.
        """
        from ..errors import ItemExistsError
        from ..store import table_info
        from .registry import list_models

        if not self.overwrite and self.name in list_models(table_info(obj).table_path):  # type: ignore[arg-type]
            raise ItemExistsError(
                f"expected a new MoSeq model name, got {self.name!r} already registered; "
                "pass overwrite=True to fit it again, or another name"
            )
        return self


@dataclass(frozen=True)
class KappaScanParams(_Keypoints):
    """Parameters of a kappa scan (``df.moseq.kappa_scan``): an AR-HMM per kappa."""

    kappas: tuple[float, ...] = param((1e3, 1e4, 1e5, 1e6, 1e7), checks.names(_KAPPA), "the kappas to try")
    latent_dim: int | None = param(None, checks.optional(checks.integer(min=2)), "as for the fit")
    variance: float = param(0.9, checks.number(above=0, max=1), "as for the fit")
    ar_iters: int = param(50, checks.integer(min=1), "AR-HMM iterations per kappa")
    num_states: int = param(100, checks.integer(min=2), "most syllables the model may use")
    nlags: int = param(3, checks.integer(min=1), "autoregressive lags")
    seed: int = param(0, checks.integer(min=0), "seed of every chain")
    target_ms: float = param(400.0, checks.number(above=0), "the median syllable duration aimed at, in ms")


@dataclass(frozen=True)
class InferParams(Params):
    """Parameters of syllable inference (``row.moseq.infer``, ``df.moseq.infer``)."""

    model: str = param("moseq", _name("MoSeq model name"), "a registered MoSeq model's name (df.moseq.models())")
    num_iters: int = param(500, checks.integer(min=1), "Gibbs iterations of the trial's states")

    def resolve(self, obj: object) -> InferParams:
        """Check that :attr:`model` is registered with the table.

        Parameters
        ----------
        obj
            The trial table, or one of its rows.

        Returns
        -------
        InferParams
            ``self``.

        Raises
        ------
        ItemNotFoundError
            If no MoSeq model of that name is registered.
        """
        from ..store import table_info
        from .registry import get_model

        get_model(table_info(obj).table_path, self.model)  # type: ignore[arg-type]
        return self
