"""Pose: DeepLabCut training and inference, import of DLC/SLEAP/NWB pose files, and tracking.

Plain functions (:func:`load_pose`, :func:`export_nwb`, :func:`process_tracking`,
:func:`register_model`, :func:`train_dlc`, :func:`analyze_video`) and the row jobs used by the
``df.pose`` / ``row.pose`` accessors. DeepLabCut is imported only when training or inferring.
"""

from .data import PoseData
from .io import POSE_LOADERS, detect_format, export_nwb, load_pose, register_pose_loader
from .jobs import read_pose, read_tracking, train_model
from .models import DlcModel, get_model, list_models, read_dlc_config, register_model, update_model
from .tracking import TRACKING_METHODS, TrackingMethod, interpolate_gaps, process_tracking, register_tracking_method

__all__ = [
    "POSE_LOADERS",
    "TRACKING_METHODS",
    "DlcModel",
    "PoseData",
    "TrackingMethod",
    "detect_format",
    "export_nwb",
    "get_model",
    "interpolate_gaps",
    "list_models",
    "load_pose",
    "process_tracking",
    "read_dlc_config",
    "read_pose",
    "read_tracking",
    "register_model",
    "register_pose_loader",
    "register_tracking_method",
    "train_model",
    "update_model",
]
