"""Parameter objects: frozen dataclasses whose fields check themselves.

A job's parameters are one :class:`Params` subclass, defined beside the job in its topic
module. Each field is declared with :func:`param`, naming the check that turns what a user
passed into the value the job uses (or raises "expected X, got Y" naming the field). The
accessor methods, the job runner and the job itself all build the same object, so a bad
value fails at the call, before any row runs, and every backend sees the same checked values.

Examples
--------
>>> from dataclasses import dataclass
>>> from behavior_soup.params import Params, param
>>> from behavior_soup import checks
>>> @dataclass(frozen=True)
... class Smooth(Params):
...     window: int = param(7, checks.integer(min=3, odd=True), "frames")
>>> Smooth(window=4)
Traceback (most recent call last):
...
ValueError: expected window to be an odd integer >= 3, got 4
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["Params", "param"]

Check = Callable[[Any, str], Any]
P = TypeVar("P", bound="Params")


def param(default: Any, check: Check | None = None, doc: str = "") -> Any:
    """A :class:`Params` field: its default, the check run on every value given, and a line
    of documentation.

    Parameters
    ----------
    default
        The field's default value (run through ``check`` too, when an instance is built).
    check
        ``check(value, name) -> value`` returning the canonical value or raising (see
        :mod:`behavior_soup.checks`); ``None`` takes values as they are.
    doc
        One line describing the field, with units; shown by :meth:`Params.doc`.

    Returns
    -------
    dataclasses.Field
        The field, with ``check`` and ``doc`` in its ``metadata``.
    """
    return dataclasses.field(default=default, metadata={"check": check, "doc": doc})


@dataclasses.dataclass(frozen=True)
class Params:
    """Base of parameter objects (see the module docstring)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            if check is not None:
                object.__setattr__(self, f.name, check(getattr(self, f.name), f.name))
        self.validate()

    def validate(self) -> None:
        """Checks across fields; subclasses override (raise ValueError)."""

    def resolve(self: P, obj: Any) -> P:
        """These parameters made concrete for a table or row ``obj`` (e.g. model paths
        resolved against the table's folder, a model checked to be registered); called by
        the accessor methods before any row runs. The default returns ``self``.

        Parameters
        ----------
        obj
            The table (``pandas.DataFrame``) or row (``pandas.Series``) the job will run on.

        Returns
        -------
        Params
            Parameters of the same class; the default returns ``self``.
        """
        return self

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON-able values (recorded with every run).

        Returns
        -------
        dict
            Field name -> value, with mappings turned into dicts with ``str`` keys and tuples
            into lists (recursively).
        """
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def names(cls) -> list[str]:
        """The field names.

        Returns
        -------
        list of str
            The names of the dataclass fields, in declaration order.
        """
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls: type[P], values: Mapping[str, Any] | Params | None) -> P:
        """Build from a mapping (e.g. parameters recorded as JSON), refusing unknown names.

        Parameters
        ----------
        values
            Field name -> value; another :class:`Params` (taken through :meth:`to_dict`); or
            ``None`` for all defaults. An instance of this class is returned as it is.

        Returns
        -------
        Params
            An instance of this class, its fields checked.

        Raises
        ------
        TypeError
            If ``values`` names a field this class does not have.
        ValueError
            If a value fails its field's check.
        """
        if isinstance(values, cls):
            return values
        values = dict(values.to_dict() if isinstance(values, Params) else (values or {}))
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise TypeError(f"expected parameters of {cls.__name__} among {cls.names()}, got unknown {unknown}")
        return cls(**values)

    @classmethod
    def doc(cls) -> str:
        """numpydoc ``Parameters`` entries for the fields.

        Returns
        -------
        str
            For each field, its name on one line, then its documentation and default indented
            by four spaces (no section header).
        """
        lines = []
        for f in dataclasses.fields(cls):
            lines.append(f"{f.name}")
            text = f.metadata.get("doc") or ""
            lines.append(f"    {text} (default {f.default!r})" if text else f"    Default {f.default!r}.")
        return "\n".join(lines)


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v
