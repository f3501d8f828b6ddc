"""Training the ethogram models: flow generator (no labels), feature extractor and sequence
model (labelled trials), one module each on one skeleton (:class:`.base.Trainer`).

Each is a table-level task (``train_flow_generator``, ``train_feature_extractor``,
``train_sequence``) run through the job runner (:func:`behavior_soup.jobs.run_task`), and
shares the epoch loop, best-epoch selection and resume of :mod:`.base`:

- trials are split into train and validation sets by trial, never by frame, and never all
  labelled trials in one set;
- after every epoch the metrics are appended to ``metrics.csv`` beside the checkpoints, the
  best epoch so far is saved as ``model.pt`` and the resumable state as ``last.pt``;
- a run finding a ``last.pt`` of the same model in ``model_out`` resumes after its epoch;
- ``device="auto"`` uses CUDA when there is a GPU, else the CPU;
- the finished model is registered in the table (:mod:`..models`) for inference.
"""

from .base import SCORE_TOLERANCE, Selection, TrainConfig, Trainer, cosine_lr
from .data import split_trials, stream_mask
from .features import FeatureConfig, FeatureTrainer, train_feature_extractor
from .flow import FlowConfig, FlowTrainer, train_flow_generator
from .sequence import SequenceConfig, SequenceTrainer, train_sequence

__all__ = [
    "SCORE_TOLERANCE",
    "FeatureConfig",
    "FeatureTrainer",
    "FlowConfig",
    "FlowTrainer",
    "Selection",
    "SequenceConfig",
    "SequenceTrainer",
    "TrainConfig",
    "Trainer",
    "cosine_lr",
    "split_trials",
    "stream_mask",
    "train_feature_extractor",
    "train_flow_generator",
    "train_sequence",
]
