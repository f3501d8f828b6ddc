"""Keys of the viewers and the cleaner: one registry from key to action, the same for every
drawing backend.

Keys are compared in one spelling: lower case, modifiers first (``"ctrl+z"``), arrows as
``"left"``/``"right"``/``"up"``/``"down"``. Shift is dropped from letters and digits, so ``Q``
and ``q`` are the same key (but ``ctrl+shift+z`` is not ``ctrl+z``). :func:`canonical` turns rendercanvas's (``"ArrowLeft"``,
``("Control",)``) and matplotlib's (``"ctrl+z"``, ``"left"``) spellings into it.

=============  ====================================================
key            action
=============  ====================================================
``1``          insert the current behavior over the selection
``2``          delete the current behavior from the selection
``q`` / ``s``  previous / next behavior
``r``          reset the whole ethogram to the model output
``t``          reset the current behavior to the model output
``y``          save now
``ctrl+z``     undo (``ctrl+y`` or ``ctrl+shift+z``: redo)
``left/right`` one frame back / forward
``down/up``    30 frames back / forward
``b`` / ``n``  previous / next bout of the current behavior
``space``      play / pause
``m``          next ethogram (among the modes present)
``pageup/dn``  previous / next trial
=============  ====================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["ACTIONS", "KEYS", "Action", "action", "canonical", "help_table"]

_NAMES = {
    "arrowleft": "left",
    "arrowright": "right",
    "arrowup": "up",
    "arrowdown": "down",
    " ": "space",
    "pagedown": "pagedown",
    "page_down": "pagedown",
    "pageup": "pageup",
    "page_up": "pageup",
    "control": "ctrl",
}
_MODS = {"control": "ctrl", "ctrl": "ctrl", "shift": "shift", "alt": "alt", "meta": "meta", "cmd": "meta"}
_ORDER = ("ctrl", "alt", "meta", "shift")


def canonical(key: str, modifiers: Iterable[str] = ()) -> str:
    """One spelling of a key press (see the module docs).

    Parameters
    ----------
    key
        The key as the backend names it: ``"1"``, ``"Q"``, ``"ArrowLeft"``, or matplotlib's
        ``"ctrl+z"``.
    modifiers
        Held modifiers as the backend names them (``("Control",)``).

    Returns
    -------
    str
        E.g. ``"q"``, ``"ctrl+z"``, ``"left"``, ``"ctrl+shift+z"``.

    Examples
    --------
    >>> canonical("Z", ("Control",)), canonical("ctrl+z"), canonical("ArrowLeft"), canonical("Q", ("Shift",))
    ('ctrl+z', 'ctrl+z', 'left', 'q')
    """
    mods = {_MODS.get(m.lower(), m.lower()) for m in modifiers}
    parts = key.split("+") if len(key) > 1 and "+" in key else [key]
    name = parts[-1]
    mods |= {_MODS.get(p.lower(), p.lower()) for p in parts[:-1]}
    name = _NAMES.get(name.lower(), name.lower())
    if name in mods or name in ("shift", "ctrl", "alt", "meta"):
        return name
    if len(name) == 1 and name.isalnum() and not mods & {"ctrl", "alt", "meta"}:
        mods.discard("shift")
    return "+".join([m for m in _ORDER if m in mods] + [name])


@dataclass(frozen=True)
class Action:
    """A named thing a key does to a session (:class:`~behavior_soup.viz.session.EthogramSession`)."""

    name: str
    run: Callable[[Any], Any]
    keys: tuple[str, ...]
    edits: bool
    help: str


#: Action name -> :class:`Action`.
ACTIONS: dict[str, Action] = {}
#: Canonical key -> action name.
KEYS: dict[str, str] = {}


def action(name: str, keys: tuple[str, ...], help: str, edits: bool = False) -> Callable:
    """Register a session method as the action ``name`` for ``keys``.

    Parameters
    ----------
    name
        The action's name.
    keys
        Canonical keys that trigger it; a key taken by another action is refused.
    help
        One line for the key table.
    edits
        Whether the action changes the ethogram (refused in a read-only viewer).

    Returns
    -------
    callable
        A decorator registering the function and returning it unchanged.
    """

    def deco(fn: Callable) -> Callable:
        for k in keys:
            if k != canonical(k):
                raise ValueError(f"expected canonical key names, got {k!r} (canonical: {canonical(k)!r})")
            if KEYS.get(k, name) != name:
                raise ValueError(f"expected key {k!r} to be free, it is taken by action {KEYS[k]!r}")
        ACTIONS[name] = Action(name, fn, tuple(keys), edits, help)
        KEYS.update({k: name for k in keys})
        return fn

    return deco


def help_table(editable: bool = True) -> str:
    """The key table of the registered actions, one ``keys: help`` line each."""
    return "\n".join(f"{' / '.join(a.keys):>24}  {a.help}" for a in ACTIONS.values() if editable or not a.edits)
