"""File-name rules that turn files under ``<raw_root>/<animal>/<session>/`` into trials.

A rule is a template such as ``"{view}_v{trial}{ext}"`` matched against each file's path
relative to its session folder (``/`` separators, so a template may name sub-folders:
``"trial_{trial}/{view}{ext}"``). Placeholders:

``{view}``
    one of the rule's view tokens; ``views`` maps each token to a canonical view
    (``"front"`` or ``"side"``), e.g. ``{"cam0": "front", "cam1": "side"}``.
``{trial}``
    the trial number, any number of digits, parsed as an integer: ``v8``, ``v008`` and
    ``v0008`` are trial 8, and trial 8 never matches ``v18`` or ``v80``.
``{trial:03d}``
    exactly that many digits (``v008`` only).
``{ext}``
    one of the rule's video extensions (case-insensitive).

Anything else in the template is literal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .schema import VIEWS

__all__ = ["NamingRule", "DEFAULT_RULE"]

_PLACEHOLDER = re.compile(r"\{(view|ext|trial)(?::0(\d+)d)?\}")


@dataclass(frozen=True)
class NamingRule:
    """How trial videos are named inside a session folder.

    Parameters
    ----------
    template
        See the module docstring. Must contain ``{view}`` and a ``{trial}`` placeholder.
    views
        Token in the file name -> canonical view name.
    extensions
        Accepted video extensions, with the dot.
    """

    template: str = "{view}_v{trial}{ext}"
    views: Mapping[str, str] = field(default_factory=lambda: {v: v for v in VIEWS})
    extensions: tuple[str, ...] = (".avi", ".mp4", ".mov", ".mkv")

    def __post_init__(self) -> None:
        names = [m.group(1) for m in _PLACEHOLDER.finditer(self.template)]
        if names.count("view") != 1 or names.count("trial") != 1:
            raise ValueError(
                "expected a naming template with exactly one {view} and one {trial} placeholder, "
                f"got {self.template!r}"
            )
        bad = {tok: v for tok, v in self.views.items() if v not in VIEWS}
        if bad or not self.views:
            raise ValueError(f"expected views mapping file tokens to {list(VIEWS)}, got {dict(self.views)!r}")
        if not self.extensions or not all(e.startswith(".") for e in self.extensions):
            raise ValueError(f"expected extensions like ('.avi', '.mp4'), got {self.extensions!r}")
        object.__setattr__(self, "views", dict(self.views))
        object.__setattr__(self, "extensions", tuple(e.lower() for e in self.extensions))
        object.__setattr__(self, "_regex", self._compile())

    def _compile(self) -> re.Pattern[str]:
        parts: list[str] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(self.template):
            parts.append(re.escape(self.template[pos : m.start()]))
            name, width = m.group(1), m.group(2)
            if name == "view":
                toks = sorted(self.views, key=len, reverse=True)
                parts.append("(?P<view>" + "|".join(re.escape(t) for t in toks) + ")")
            elif name == "ext":
                parts.append("(?P<ext>" + "|".join(re.escape(e) for e in self.extensions) + ")")
            else:
                parts.append(rf"(?P<trial>\d{{{int(width)}}})" if width else r"(?P<trial>\d+)")
            pos = m.end()
        parts.append(re.escape(self.template[pos:]))
        return re.compile("".join(parts), re.IGNORECASE if "{ext}" in self.template else 0)

    def match(self, relpath: str) -> tuple[str, int] | None:
        """``(view, trial_id)`` if ``relpath`` (relative to the session folder) is a trial video."""
        m = self._regex.fullmatch(relpath)  # type: ignore[attr-defined]
        if m is None:
            return None
        if "{ext}" not in self.template and not relpath.lower().endswith(self.extensions):
            return None
        token = m.group("view")
        view = self.views.get(token)
        if view is None:  # case-insensitive match of the token
            view = {k.lower(): v for k, v in self.views.items()}[token.lower()]
        return view, int(m.group("trial"))

    def depth(self) -> int:
        """How many folder levels below the session folder the template reaches."""
        return self.template.count("/")

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.template, "views": dict(self.views), "extensions": list(self.extensions)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NamingRule:
        return cls(template=d["template"], views=dict(d["views"]), extensions=tuple(d["extensions"]))


DEFAULT_RULE = NamingRule()
