"""Ethograms: per-frame behavior labels, and turning model probabilities into ethograms.

:mod:`.labels` reads and checks ground-truth labels (any behavior names, a background class,
unlabelled frames); :mod:`.postprocess` fits per-class thresholds, applies them with a minimum
bout length, and scores predictions (per-class F1 and accuracy). Neither needs torch.
"""

from .labels import UNLABELED, Labels, check_same_behaviors, labels_from_array, read_label_csv
from .postprocess import apply_thresholds, class_metrics, fit_thresholds, min_bout_length, postprocess

__all__ = [
    "UNLABELED",
    "Labels",
    "apply_thresholds",
    "check_same_behaviors",
    "class_metrics",
    "fit_thresholds",
    "labels_from_array",
    "min_bout_length",
    "postprocess",
    "read_label_csv",
]
