"""The ethogram networks (torch): flow generators, two-stream feature extractors and the TGMJ
sequence model. Importing this package imports torch; the rest of :mod:`behavior_soup.ethogram`
imports it only when a model is built."""

from .flow import FLOW_GENERATORS, MotionNet, TinyMotionNet, TinyMotionNet3D, build_flow_generator, photometric_loss
from .sequence import TGM, TGMJ
from .two_stream import BACKBONES, HiddenTwoStream, build_backbone, load_backbone_weights

__all__ = [
    "BACKBONES",
    "FLOW_GENERATORS",
    "TGM",
    "TGMJ",
    "HiddenTwoStream",
    "MotionNet",
    "TinyMotionNet",
    "TinyMotionNet3D",
    "build_backbone",
    "build_flow_generator",
    "load_backbone_weights",
    "photometric_loss",
]
