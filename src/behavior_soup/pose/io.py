"""Import pose estimates made elsewhere and export to NWB: see :mod:`.formats` (one module per
format, each registering a name, suffixes, a sniffer and a loader)."""

from .formats import POSE_LOADERS, PoseFormat, detect_format, load_pose, register_pose_loader
from .formats.nwb import export_nwb

__all__ = ["POSE_LOADERS", "PoseFormat", "detect_format", "export_nwb", "load_pose", "register_pose_loader"]
