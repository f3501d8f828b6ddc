"""pandas accessors: thin wrappers that validate, call one library function, and record.

Importing this module registers ``df.behavior``, ``df.paths``, ``row.behavior``,
``row.paths``, ``row.outputs``, ``df.pose``, ``row.pose``, ``df.sta``, ``row.sta``, ``df.flow_generator``,
``df.feature_extractor``, ``df.sequence``, ``row.feature_extractor``, ``row.sequence``, ``df.moseq``,
``row.moseq`` and ``df.analysis``.
"""

from . import analysis, behavior, behavior_row, ethogram, moseq, paths, pose, sta  # noqa: F401  (registration side effects)
