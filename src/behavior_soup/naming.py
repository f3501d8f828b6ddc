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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
        body, flags = self._compile()
        object.__setattr__(self, "_regex", re.compile(body, flags))
        # the same pattern, one path per line: match_all scans a whole folder listing in one call
        lines = re.compile(f"^(?P<path>{body})$", flags | re.MULTILINE)
        object.__setattr__(self, "_lines", lines)
        object.__setattr__(self, "_groups", tuple(lines.groupindex[g] - 1 for g in ("path", "view", "trial")))
        object.__setattr__(self, "_tokens", {k.lower(): v for k, v in self.views.items()})

    def _compile(self) -> tuple[str, int]:
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
        return "".join(parts), re.IGNORECASE if "{ext}" in self.template else 0

    def _view(self, token: str) -> str:
        view = self.views.get(token)
        return self._tokens[token.lower()] if view is None else view  # type: ignore[attr-defined]

    def match(self, relpath: str) -> tuple[str, int] | None:
        """``(view, trial_id)`` if ``relpath`` (relative to the session folder) is a trial video.

        Parameters
        ----------
        relpath
            A file path relative to the session folder, with ``/`` separators.

        Returns
        -------
        tuple of (str, int) or None
            The canonical view and the trial number, or ``None`` if the whole path does not
            match the template (or, for a template without ``{ext}``, does not end with one of
            the extensions).
        """
        m = self._regex.fullmatch(relpath)  # type: ignore[attr-defined]
        if m is None or ("{ext}" not in self.template and not relpath.lower().endswith(self.extensions)):
            return None
        return self._view(m.group("view")), int(m.group("trial"))

    def match_all(self, relpaths: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The trial videos among ``relpaths``, as columns.

        The same as :meth:`match` on each path, done as one regular-expression scan of the
        whole listing, which keeps folders of thousands of files fast.

        Parameters
        ----------
        relpaths
            File paths relative to the session folder, with ``/`` separators.

        Returns
        -------
        paths, views : numpy.ndarray
            Object arrays of shape ``(n_found,)``: each video's path as given, its canonical view.
        trial_ids : numpy.ndarray
            Shape ``(n_found,)``, int64.
        """
        paths = list(relpaths)
        text = "\n".join(paths)
        if text.count("\n") != max(len(paths) - 1, 0):  # a newline in a file name: match one by one
            hits = [(p, *r) for p in paths if (r := self.match(p)) is not None]
            path, view, trial = (list(c) for c in zip(*hits)) if hits else ([], [], [])
            return np.array(path, dtype=object), np.array(view, dtype=object), np.array(trial, dtype=np.int64)
        found = self._lines.findall(text)  # type: ignore[attr-defined]
        ip, iv, it = self._groups  # type: ignore[attr-defined]
        groups = list(zip(*found)) if found else [()] * self._lines.groups  # type: ignore[attr-defined]
        path, tokens, trial = (np.array(groups[i], dtype=object) for i in (ip, iv, it))
        if "{ext}" not in self.template:
            keep = np.array([p.lower().endswith(self.extensions) for p in path], dtype=bool)
            path, tokens, trial = path[keep], tokens[keep], trial[keep]
        view = tokens.copy()
        for token in set(tokens.tolist()):  # a few distinct tokens: map each to its view once
            view[tokens == token] = self._view(token)
        return path, view, trial.astype(np.int64)

    def depth(self) -> int:
        """How many folder levels below the session folder the template reaches.

        Returns
        -------
        int
            The number of ``/`` in the template (``0`` for files directly in the session folder).
        """
        return self.template.count("/")

    def to_dict(self) -> dict[str, Any]:
        """The rule as a JSON-serialisable dict, the inverse of :meth:`from_dict`.

        Returns
        -------
        dict
            ``{"template": str, "views": dict, "extensions": list}``.
        """
        return {"template": self.template, "views": dict(self.views), "extensions": list(self.extensions)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NamingRule:
        """Rebuild a rule from the dict written by :meth:`to_dict`.

        Parameters
        ----------
        d
            Mapping with the keys ``"template"``, ``"views"`` and ``"extensions"``.

        Returns
        -------
        NamingRule
            The rule.

        Raises
        ------
        ValueError
            If the values do not make a valid rule.
        """
        return cls(template=d["template"], views=dict(d["views"]), extensions=tuple(d["extensions"]))


DEFAULT_RULE = NamingRule()
