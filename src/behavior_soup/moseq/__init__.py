"""keypoint-MoSeq on the table's keypoints: fitting (:mod:`~behavior_soup.moseq.fit`), the
model registry (:mod:`~behavior_soup.moseq.registry`), syllable inference
(:mod:`~behavior_soup.moseq.infer`) and analysis (:mod:`~behavior_soup.moseq.analysis`).

keypoint-moseq (the ``moseq`` extra) is imported only when a model is fitted or applied, and
then without changing the process's logging, warnings or plotting settings (see
:mod:`behavior_soup.moseq._kpms`); JAX runs in float64, which the model needs.
"""

from __future__ import annotations

from .params import FitParams, InferParams, KappaScanParams

__all__ = ["FitParams", "InferParams", "KappaScanParams"]
