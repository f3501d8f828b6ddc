"""keypoint-moseq changes process-wide settings on import; the library puts them back."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from behavior_soup.errors import MissingDependencyError
from behavior_soup.moseq import _kpms

SCRIPT = """
import logging, warnings, json
import matplotlib
logging.getLogger().setLevel(logging.INFO)
before = (logging.getLogger().level, warnings.formatwarning, matplotlib.rcParams["figure.dpi"], len(warnings.filters))
from behavior_soup.moseq._kpms import load
load()
import jax, plotly.io as pio
after = (logging.getLogger().level, warnings.formatwarning, matplotlib.rcParams["figure.dpi"], len(warnings.filters))
assert before == after, (before, after)
assert pio.renderers.default != "iframe", pio.renderers.default
assert jax.config.jax_enable_x64
print("ok")
"""


def test_import_leaves_logging_warnings_and_plotting_alone():
    pytest.importorskip("keypoint_moseq")
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-2000:]


def test_missing_keypoint_moseq_names_the_extra(monkeypatch):
    monkeypatch.setattr(_kpms, "_MODULE", None)
    monkeypatch.setitem(sys.modules, "keypoint_moseq", None)
    with pytest.raises(MissingDependencyError, match=r"behavior_soup\[moseq\]"):
        _kpms.load()


CACHE_SCRIPT = """
import os, sys, jax
from behavior_soup.moseq._kpms import load
load(sys.argv[1])
print(jax.config.jax_compilation_cache_dir)
"""


def test_cache_env_names_the_compilation_cache_instead_of_the_output_root(tmp_path):
    pytest.importorskip("keypoint_moseq")
    env = {**os.environ, _kpms.CACHE_ENV: str(tmp_path / "shared cache")}
    r = subprocess.run([sys.executable, "-c", CACHE_SCRIPT, str(tmp_path / "outputs" / "jax_cache")],
                       capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == str(tmp_path / "shared cache")
    assert (tmp_path / "shared cache").is_dir() and not (tmp_path / "outputs").exists()
