"""pandas accessors: thin wrappers that validate, call one library function, and record.

Importing this module registers ``df.behavior``, ``df.paths``, ``row.behavior``,
``row.paths``, ``row.outputs``, ``df.pose``, ``row.pose``, ``df.sta``, ``row.sta``, ``df.flow_generator``,
``df.feature_extractor``, ``df.sequence``, ``row.feature_extractor`` and ``row.sequence``.
"""

from . import behavior, behavior_row, ethogram, paths, pose, sta  # noqa: F401  (registration side effects)
