"""The training tasks, under the name they have always had; they live in :mod:`.training`
(one module per model kind on one skeleton)."""

from .training import split_trials, train_feature_extractor, train_flow_generator, train_sequence

__all__ = ["split_trials", "train_feature_extractor", "train_flow_generator", "train_sequence"]
