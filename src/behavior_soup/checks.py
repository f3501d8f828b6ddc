"""Checks for :func:`behavior_soup.params.param` fields and for arguments at the edges.

Each ``checks.x(...)`` returns a function ``check(value, name) -> value`` that returns the
value in its canonical form (``np.int64(7)`` -> ``7``, ``None`` -> ``"none"`` where that
means the same) or raises ``ValueError``/``TypeError`` saying what was expected and what
was found, naming the parameter.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["integer", "mapping", "names", "number", "one_of", "optional", "path", "text"]

Check = Callable[[Any, str], Any]


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool) or type(v).__name__ == "bool_"


def _bounds(min: Any, max: Any) -> str:
    if min is not None and max is not None:
        return f" in [{min}, {max}]"
    if min is not None:
        return f" >= {min}"
    if max is not None:
        return f" <= {max}"
    return ""


def integer(min: int | None = None, max: int | None = None, odd: bool = False, what: str | None = None) -> Check:
    """An integer (Python or NumPy, not a bool, not a float), within ``[min, max]``; ``what``
    replaces the description in the message.

    Parameters
    ----------
    min, max
        Inclusive bounds, or ``None`` for none.
    odd
        Also require an odd value.
    what
        Description of the expected value for the error message (e.g. ``"a positive frame
        count"``); by default one is built from the bounds.

    Returns
    -------
    Check
        ``check(value, name) -> int``, raising ``ValueError`` for a value outside the rules.
    """
    desc = what or (("an odd integer" if odd else "an integer") + _bounds(min, max))

    def check(v: Any, name: str) -> int:
        if _is_bool(v) or not isinstance(v, numbers.Integral):
            raise ValueError(f"expected {name} to be {desc}, got {v!r}")
        v = int(v)
        if (min is not None and v < min) or (max is not None and v > max) or (odd and v % 2 == 0):
            raise ValueError(f"expected {name} to be {desc}, got {v}")
        return v

    return check


def number(
    min: float | None = None,
    max: float | None = None,
    *,
    above: float | None = None,
    below: float | None = None,
    what: str | None = None,
) -> Check:
    """A finite real number (int, float or NumPy scalar, not a bool) within ``[min, max]``
    and strictly above ``above`` / below ``below``. The message reads "expected fps > 0 (a
    finite number), got 0.0".

    Parameters
    ----------
    min, max
        Inclusive bounds, or ``None`` for none.
    above, below
        Exclusive bounds, or ``None`` for none.
    what
        Description of the expected value for the error message; by default one is built from
        the bounds.

    Returns
    -------
    Check
        ``check(value, name) -> float``, raising ``ValueError`` for a non-finite value or one
        outside the bounds.
    """
    bounds = _bounds(min, max).strip()
    if above is not None:
        bounds += f"{' and' if bounds else ''} > {above}"
    if below is not None:
        bounds += f"{' and' if bounds else ''} < {below}"

    def fail(v: Any, name: str) -> ValueError:
        if what:
            return ValueError(f"expected {name} to be {what}, got {v!r}")
        return ValueError(f"expected {name} {bounds} (a finite number), got {v!r}".replace("  ", " "))

    def check(v: Any, name: str) -> float:
        if _is_bool(v) or not isinstance(v, numbers.Real):
            raise fail(v, name)
        f = float(v)
        if (
            not math.isfinite(f)
            or (min is not None and f < min)
            or (max is not None and f > max)
            or (above is not None and f <= above)
            or (below is not None and f >= below)
        ):
            raise fail(f, name)
        return f

    return check


def optional(inner: Check) -> Check:
    """None, or what ``inner`` accepts.

    Parameters
    ----------
    inner
        The check for values other than ``None``.

    Returns
    -------
    Check
        ``check(value, name)`` returning ``None`` for ``None``, otherwise ``inner(value, name)``.
    """

    def check(v: Any, name: str) -> Any:
        return None if v is None else inner(v, name)

    return check


def one_of(choices: Iterable[Any], aliases: Mapping[Any, Any] | None = None) -> Check:
    """One of ``choices`` (``aliases`` map other accepted spellings, e.g. ``None`` -> ``"none"``).

    Parameters
    ----------
    choices
        The accepted values (compared with ``in``).
    aliases
        Other accepted value -> the choice it stands for.

    Returns
    -------
    Check
        ``check(value, name)`` returning the choice (an alias replaced by its choice), raising
        ``ValueError`` for anything else.
    """
    choices = tuple(choices)

    def check(v: Any, name: str) -> Any:
        try:
            if aliases and v in aliases:
                v = aliases[v]
        except TypeError:  # unhashable: not an alias
            pass
        try:
            ok = v in choices
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"expected {name} in {list(choices)}, got {v!r}")
        return v

    return check


def text(nonempty: bool = True) -> Check:
    """A string (non-empty by default).

    Parameters
    ----------
    nonempty
        Refuse ``""``.

    Returns
    -------
    Check
        ``check(value, name) -> str``, raising ``ValueError`` for a non-string (or an empty one).
    """

    def check(v: Any, name: str) -> str:
        if not isinstance(v, str) or (nonempty and not v):
            raise ValueError(f"expected {name} to be a{' non-empty' if nonempty else ''} string, got {v!r}")
        return v

    return check


def path() -> Check:
    """A file path: a non-empty ``str`` or ``os.PathLike``, returned as ``str``.

    Returns
    -------
    Check
        ``check(value, name) -> str`` (``os.fspath`` of a path-like), raising ``ValueError`` for
        anything else or an empty path.
    """

    def check(v: Any, name: str) -> str:
        import os

        if isinstance(v, os.PathLike):
            v = os.fspath(v)
        if not isinstance(v, str) or not v:
            raise ValueError(f"expected {name} to be a path, got {v!r}")
        return v

    return check


def names(item: Check | None = None, nonempty: bool = True) -> Check:
    """A list or tuple of items (each passed through ``item``); a bare string is refused,
    since it would be taken letter by letter.

    Parameters
    ----------
    item
        Check for each item (named ``<name>[i]`` in messages), or ``None`` to take items as
        they are.
    nonempty
        Refuse an empty sequence.

    Returns
    -------
    Check
        ``check(value, name) -> tuple`` of the checked items, raising ``ValueError`` for a
        string, bytes, a non-sequence or (with ``nonempty``) an empty one.
    """

    def check(v: Any, name: str) -> tuple:
        if isinstance(v, (str, bytes)) or not isinstance(v, Sequence):
            raise ValueError(f"expected {name} to be a list of names, got {v!r} (write [{v!r}] for one)")
        out = tuple(item(x, f"{name}[{i}]") if item else x for i, x in enumerate(v))
        if nonempty and not out:
            raise ValueError(f"expected {name} to name at least one item, got none")
        return out

    return check


def mapping(key: Check | None = None, value: Check | None = None) -> Check:
    """A mapping (returned as a plain dict), keys and values passed through the checks.

    Parameters
    ----------
    key
        Check for each key, or ``None`` to take keys as they are.
    value
        Check for each value (named ``<name>[<key>]`` in messages), or ``None``.

    Returns
    -------
    Check
        ``check(value, name) -> dict`` of the checked items, raising ``ValueError`` for a
        non-mapping.
    """

    def check(v: Any, name: str) -> dict:
        if not isinstance(v, Mapping):
            raise ValueError(f"expected {name} to be a mapping, got {v!r}")
        return {
            (key(k, f"{name} key") if key else k): (value(x, f"{name}[{k!r}]") if value else x) for k, x in v.items()
        }

    return check
