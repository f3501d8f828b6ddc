"""The field checks and the parameter-object base."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from behavior_soup import checks
from behavior_soup.params import Params, param


@pytest.mark.parametrize(
    "check, good, bad",
    [
        (checks.integer(min=1), [1, np.int64(5), np.uint8(3)], [0, 1.0, 2.5, True, np.bool_(True), "3", None]),
        (checks.integer(min=3, odd=True), [3, 5, 101], [1, 4, 6, 3.0]),
        (checks.number(above=0), [0.1, 60, np.float32(60), np.int64(2)], [0, -1, math.inf, math.nan, True, "60", None]),
        (checks.number(0, 1), [0, 0.5, 1], [-0.01, 1.01, math.nan]),
        (checks.optional(checks.number(above=0)), [None, 3.0], [0, "x"]),
        (checks.one_of(("a", "b"), aliases={None: "b"}), ["a", "b", None], ["c", 1, [], {}]),
        (checks.text(), ["x"], ["", 1, None]),
        (checks.path(), ["a/b", Path("a")], ["", None, 3]),
        (checks.names(checks.text()), [["a"], ("a", "b")], ["a", b"a", [], [1], None, {"a"}]),
        (checks.mapping(checks.text(), checks.text()), [{"a": "b"}, {}], [["a"], {"a": 1}]),
    ],
)
def test_checks_accept_and_refuse(check, good, bad):
    for v in good:
        check(v, "p")
    for v in bad:
        with pytest.raises(ValueError, match=r"expected p\b"):
            check(v, "p")


def test_checks_return_canonical_values():
    assert type(checks.integer()(np.int64(3), "p")) is int
    assert checks.number()(np.float32(0.5), "p") == 0.5 and type(checks.number()(1, "p")) is float
    assert checks.one_of(("none", "x"), aliases={None: "none"})(None, "p") == "none"
    assert checks.names()(["a", "b"], "p") == ("a", "b")
    assert checks.path()(Path("/x/y"), "p") == "/x/y"
    with pytest.raises(
        ValueError, match=r"expected p to be a list of names, got 'unit_0' \(write \['unit_0'\] for one\)"
    ):
        checks.names()("unit_0", "p")


@dataclass(frozen=True)
class _P(Params):
    a: int = param(1, checks.integer(min=0), "how many")
    b: str | None = param(None, checks.optional(checks.text()), "a name")

    def validate(self) -> None:
        if self.b == "x" and self.a > 2:
            raise ValueError(f"expected a <= 2 when b is 'x', got {self.a}")


def test_params_check_fields_and_across_fields():
    assert _P(np.int64(2)).a == 2
    with pytest.raises(ValueError, match="expected a to be an integer >= 0, got -1"):
        _P(-1)
    with pytest.raises(ValueError, match="expected a <= 2 when b is 'x', got 3"):
        _P(3, "x")
    p = _P(2, "n")
    assert p.to_dict() == {"a": 2, "b": "n"} and _P.from_mapping(p.to_dict()) == p
    assert _P.from_mapping(p) is p and _P.from_mapping(None) == _P()
    with pytest.raises(TypeError, match=r"expected parameters of _P among \['a', 'b'\], got unknown \['c'\]"):
        _P.from_mapping({"c": 1})
    assert "a\n    how many (default 1)" in _P.doc()
    assert p.resolve(object()) is p
