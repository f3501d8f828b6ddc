"""Viewers and the interactive ethogram cleaner.

The windows are drawn with fastplotlib where a GPU or Vulkan adapter exists (the ``viz``
extra), and with matplotlib otherwise (ipympl in Jupyter), chosen by :func:`open_window`.
Importing :mod:`behavior_soup` imports neither; this package imports them only when a window
is opened.
"""

from __future__ import annotations

from .backends import BACKENDS, WindowBackend, open_window, usable_backend
from .editor import EthogramEditor
from .keys import ACTIONS, KEYS, canonical, help_table
from .session import EthogramSession
from .trial_data import sources_of

__all__ = [
    "ACTIONS",
    "BACKENDS",
    "KEYS",
    "EthogramEditor",
    "EthogramSession",
    "WindowBackend",
    "canonical",
    "help_table",
    "open_window",
    "sources_of",
    "usable_backend",
]
