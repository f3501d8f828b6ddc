"""The demo notebooks run top to bottom: their code cells, in order, in a fresh interpreter.

Each notebook checks its own results with ``assert`` (e.g. the STA against the true kernels),
so a notebook that runs but computes the wrong thing fails here too.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "demo_notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["quickstart.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    nb = json.loads(path.read_text())
    assert nb["nbformat"] == 4
    code = [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] for c in nb["cells"] if c["cell_type"] == "code"), "clear outputs"
    script = tmp_path / f"{path.stem}.py"
    script.write_text("\n\n".join(code) + "\n")
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    if path.stem == "quickstart":
        assert "correlation with the true kernel" in r.stdout
