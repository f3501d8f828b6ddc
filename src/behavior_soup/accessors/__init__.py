"""pandas accessors: thin wrappers that validate, call one library function, and record.

Importing this module registers ``df.behavior``, ``df.paths``, ``row.behavior``,
``row.paths``, ``row.outputs``, ``df.pose``, ``row.pose``, ``df.sta`` and ``row.sta``.
"""

from . import behavior, paths, pose, sta  # noqa: F401  (registration side effects)
