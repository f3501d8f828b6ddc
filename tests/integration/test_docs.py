"""The Sphinx docs build without a single warning (``-W``), with every accessor method in the
API reference. The notebooks' execution is tested in test_notebooks; here they are rendered
without running them again (``make docs`` runs them)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_api_reference_lists_every_accessor_method():
    import behavior_soup  # noqa: F401  (registers the accessors)

    listed = set(re.findall(r"^   ((?:DataFrame|Series)\.\w+\.\w+)$", (DOCS / "api.rst").read_text(), re.M))
    namespaces = {name.split(".")[1] for name in listed}
    missing = []
    for kind in ("DataFrame", "Series"):
        for ns in namespaces:
            acc = getattr(getattr(pd, kind), ns, None)
            if acc is None:
                continue
            for name, _ in inspect.getmembers(acc):
                if not name.startswith("_") and f"{kind}.{ns}.{name}" not in listed:
                    missing.append(f"{kind}.{ns}.{name}")
    assert missing == []


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    pytest.importorskip("sphinx_autosummary_accessors")
    pytest.importorskip("numpydoc")
    pytest.importorskip("pydata_sphinx_theme")
    out = tmp_path / "html"
    r = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-D", "nb_execution_mode=off",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-4000:]
    assert "DataFrame.behavior.add_item" in (out / "api.html").read_text()
    page = (out / "generated" / "pandas.DataFrame.behavior.to_nwb.html").read_text()
    assert "NwbExportParams" in page
    assert (out / "demo_notebooks" / "scale_out.html").is_file()
    assert "nwb-export" in (out / "file_format.html").read_text()
