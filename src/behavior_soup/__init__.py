"""behavior_soup: a pandas pseudo-database for animal-behavior experiments.

>>> import behavior_soup as bs                                   # doctest: +SKIP
>>> df = bs.create_df("~/exp/behavior.h5", raw_root="/data/behavior")
>>> df.behavior.add_item(animal_id="m1")
>>> df = bs.load_df("~/exp/behavior.h5", raw_root="/mnt/moved/behavior")

Importing this package is cheap: heavy stacks (torch, jax, deeplabcut, dask) are imported
only by the functions that need them.
"""

from __future__ import annotations

import logging

from . import accessors as _accessors  # noqa: F401  registers the pandas accessors
from . import cluster, nwb
from ._version import __version__
from .errors import (
    BehaviorSoupError,
    DataFormatError,
    DataRootError,
    DeviceError,
    InvalidIdError,
    ItemExistsError,
    ItemNotFoundError,
    JobError,
    LockTimeoutError,
    MissingDependencyError,
    MissingViewError,
    ModelError,
    OutputsError,
    StaleTableError,
    TableFormatError,
    VideoError,
)
from .jobs import builtin as _builtin_jobs  # noqa: F401  registers the core jobs
from .locking import set_lock_kind
from .naming import NamingRule
from .paths import get_parent_raw_data_path, set_parent_raw_data_path
from .schema import register_exp_type
from .store import create_df, load_df, save_df

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "BehaviorSoupError",
    "DataFormatError",
    "DataRootError",
    "DeviceError",
    "InvalidIdError",
    "ItemExistsError",
    "ItemNotFoundError",
    "JobError",
    "LockTimeoutError",
    "MissingDependencyError",
    "MissingViewError",
    "ModelError",
    "NamingRule",
    "OutputsError",
    "StaleTableError",
    "TableFormatError",
    "VideoError",
    "__version__",
    "cluster",
    "nwb",
    "create_df",
    "get_parent_raw_data_path",
    "load_df",
    "register_exp_type",
    "save_df",
    "set_lock_kind",
    "set_parent_raw_data_path",
]
