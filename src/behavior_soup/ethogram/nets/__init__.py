"""The ethogram networks (torch): flow generators, two-stream feature extractors and the TGMJ
sequence model, in two network sets (see :mod:`.sets`): DeepEthogram's networks of record and
the smaller ``lite`` ones. Importing this package imports torch; the rest of
:mod:`behavior_soup.ethogram` imports it only when a model is built."""

from .deepethogram import MotionNet, TinyMotionNet, TinyMotionNet3D
from .deepethogram_streams import BACKBONES_OF_RECORD, DeepEthogramTwoStream, ResNet3d, build_encoder
from .flow import LITE_FLOW_GENERATORS, MotionNetLite, TinyMotionNet3DLite, TinyMotionNetLite, photometric_loss
from .sequence import TGM, TGMJ
from .sets import NETWORK_SETS, NetworkSet, build_flow_generator, get_network_set, register_network_set
from .two_stream import BACKBONES, HiddenTwoStream, build_backbone, load_backbone_weights

__all__ = [
    "BACKBONES",
    "BACKBONES_OF_RECORD",
    "LITE_FLOW_GENERATORS",
    "NETWORK_SETS",
    "TGM",
    "TGMJ",
    "DeepEthogramTwoStream",
    "HiddenTwoStream",
    "MotionNet",
    "MotionNetLite",
    "NetworkSet",
    "ResNet3d",
    "TinyMotionNet",
    "TinyMotionNet3D",
    "TinyMotionNet3DLite",
    "TinyMotionNetLite",
    "build_backbone",
    "build_encoder",
    "build_flow_generator",
    "get_network_set",
    "load_backbone_weights",
    "photometric_loss",
    "register_network_set",
]
