"""The demo notebooks run top to bottom in a Jupyter kernel (nbclient), as a user runs them.

Each notebook checks its own results with ``assert`` (e.g. the STA against the true kernels,
the dask results against the local ones), so a notebook that runs but computes the wrong
thing fails here too.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "demo_notebooks").glob("*.ipynb"))
#: text each notebook's outputs must show
EXPECTED = {
    "analysis": "behaviors vs syllables: NMI",
    "behavior": "retrained on the cleaned labels",
    "moseq": "syllables vs the true behaviors: NMI",
    "quickstart": "correlation with the true kernel",
    "scale_out": "the dask results equal the local ones",
    "pose": "NWB round trip: same 4 bodyparts",
    "sta": "correlation with the true kernel",
    "trials": "opened elsewhere: 6 trials",
}


def test_there_are_notebooks():
    assert [p.stem for p in NOTEBOOKS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    raw = json.loads(path.read_text())
    assert raw["nbformat"] == 4
    cells = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert cells and all(c["outputs"] == [] and c["execution_count"] is None for c in cells), "clear outputs"
    nb = nbformat.reads(path.read_text(), as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    text = "".join(
        out.get("text", "") + "".join(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert EXPECTED[path.stem] in text
