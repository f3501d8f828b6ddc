"""The packaging files agree with each other and use the current metadata forms."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

#: conda-forge names of PyPI packages whose names differ
_CONDA = {"tables": "pytables"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower()


def test_license_is_an_spdx_expression():
    project = _pyproject()["project"]
    assert isinstance(project["license"], str)  # a table is deprecated (PEP 639)
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    backend = _pyproject()["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77 for r in backend)


def test_environment_yml_has_every_core_dependency():
    env = (ROOT / "environment.yml").read_text()
    conda = {m.group(1).lower() for m in re.finditer(r"^\s*-\s*([A-Za-z0-9_.-]+)\s*$", env, re.M)}
    missing = [d for d in map(_name, _pyproject()["project"]["dependencies"]) if _CONDA.get(d, d) not in conda]
    assert missing == []
    assert re.search(r'-e\s+"?\.\[', env), "environment.yml installs the project itself with pip"


def test_makefile_installs_every_extra_the_tests_use():
    extras = set(_pyproject()["project"]["optional-dependencies"])
    make = (ROOT / "Makefile").read_text()
    used = set(re.search(r'-e "\.\[([a-z,]+)\]"', make).group(1).split(","))
    assert used <= extras
    assert {"test", "pose", "ethogram", "moseq", "viz", "nwb"} <= used
