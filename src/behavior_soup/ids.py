"""Validation of the values that name things: experiment types, animal, session and trial ids.

An id becomes a directory name and an HDF5 group name, so the checks here are what keeps
every id usable as both. :data:`EXP_TYPES` lists the accepted experiment types.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .errors import InvalidIdError

__all__ = [
    "EXP_TYPES",
    "MAX_ID_BYTES",
    "MAX_TRIAL_ID",
    "register_exp_type",
    "trial_key",
    "validate_exp_type",
    "validate_id",
    "validate_trial_id",
]

#: Known experiment types. ``""`` means "not given". Extend with :func:`register_exp_type`.
EXP_TYPES: dict[str, str] = {
    "": "not specified",
    "table": "head-fixed reach-to-grab on a table (front and side cameras)",
    "pez": "escape in a pez dispenser arena",
    "openfield": "freely moving animal in an open field",
    "ephys": "electrophysiology recording during a stimulus movie",
}

_BAD_ID = re.compile(r"[/\\\x00-\x1f\x7f]")

#: Longest id in bytes (UTF-8): a file name's limit on common file systems.
MAX_ID_BYTES = 255

#: Largest trial id (the table stores them as int64).
MAX_TRIAL_ID = 2**63 - 1


def register_exp_type(name: str, description: str) -> None:
    """Make ``name`` an accepted ``exp_type``.

    Parameters
    ----------
    name
        Short lowercase name, letters, digits, ``_`` and ``-``.
    description
        One line for ``behavior-soup info`` and error messages.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        raise ValueError(f"expected an exp_type name of lowercase letters, digits, '_' or '-', got {name!r}")
    EXP_TYPES[name] = description


def validate_exp_type(exp_type: str | None) -> str:
    """Check an experiment type against :data:`EXP_TYPES`.

    Parameters
    ----------
    exp_type
        A registered experiment type, or ``None`` for "not given".

    Returns
    -------
    str
        ``exp_type``, or ``""`` if it was ``None``.

    Raises
    ------
    InvalidIdError
        If ``exp_type`` is not a registered type (see :func:`register_exp_type`).
    """
    exp_type = "" if exp_type is None else exp_type
    if not isinstance(exp_type, str) or exp_type not in EXP_TYPES:
        known = [k for k in EXP_TYPES if k]
        raise InvalidIdError(
            f"expected exp_type to be one of {known} (or None), got {exp_type!r}; "
            "add new ones with behavior_soup.schema.register_exp_type()"
        )
    return exp_type


def validate_id(value: Any, what: str) -> str:
    """Check an animal or session id and return it as ``str``.

    An id becomes a directory name and an HDF5 group name, so it must be a non-empty string
    of at most :data:`MAX_ID_BYTES` bytes in UTF-8, without ``/``, ``\\`` or control
    characters (NUL, newline, ...), must not be ``.`` or ``..``, and must not start or end
    with whitespace.

    Parameters
    ----------
    value
        The id: a ``str``, or an integer (converted with ``str``).
    what
        What the id is (e.g. ``"animal_id"``), for error messages.

    Returns
    -------
    str
        The id as a string.

    Raises
    ------
    InvalidIdError
        If ``value`` is not a string or integer (``bool`` is refused), or breaks one of the
        rules above.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, int, np.integer)):
        raise InvalidIdError(f"expected {what} to be a string, got {type(value).__name__} {value!r}")
    text = str(value)
    if not text:
        raise InvalidIdError(f"expected a non-empty {what}, got an empty string")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidIdError(f"expected {what} to be text that UTF-8 can encode, got {text!r}") from exc
    if size > MAX_ID_BYTES:
        raise InvalidIdError(
            f"expected {what} of at most {MAX_ID_BYTES} bytes (it names a folder), got {size} bytes: {text[:40]!r}..."
        )
    if _BAD_ID.search(text):
        raise InvalidIdError(
            f"expected {what} without '/', '\\' or control characters (it names a folder), got {text!r}"
        )
    if text in (".", ".."):
        raise InvalidIdError(f"expected {what} to name a folder, got {text!r}")
    if text != text.strip():
        raise InvalidIdError(f"expected {what} without leading/trailing whitespace, got {text!r}")
    return text


def validate_trial_id(value: Any) -> int:
    """Check a trial id: a non-negative integer (``7``, ``"007"`` and ``np.int64(7)`` are 7).

    Parameters
    ----------
    value
        An integer, or a string of decimal digits.

    Returns
    -------
    int
        The trial id.

    Raises
    ------
    InvalidIdError
        If ``value`` is a ``bool``, a string that is not all ASCII digits, not an integer,
        negative, or above :data:`MAX_TRIAL_ID`.
    """
    if isinstance(value, (bool, np.bool_)):
        raise InvalidIdError(f"expected trial_id to be a non-negative integer, got {value!r}")
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise InvalidIdError(f"expected trial_id to be a non-negative integer, got {value!r}")
        value = int(value)
    if not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_TRIAL_ID:
        raise InvalidIdError(f"expected trial_id to be an integer in [0, {MAX_TRIAL_ID}], got {value!r}")
    return int(value)


def trial_key(trial_id: int) -> str:
    """HDF5 group name of a trial inside its session's ``outputs.h5``: ``trial_<id>``.

    Parameters
    ----------
    trial_id
        The trial id (converted with ``int``).

    Returns
    -------
    str
        ``"trial_<trial_id>"``.
    """
    return f"trial_{int(trial_id)}"
