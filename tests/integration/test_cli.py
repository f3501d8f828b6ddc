import importlib.util
import subprocess
import sys

import pytest


def test_demo_and_info(tmp_path):
    out = tmp_path / "demo"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "behavior_soup.cli",
            "demo",
            "--out",
            "demo",  # relative, as make demo passes it
            "--no-progress",
            "--ethogram-epochs",
            "1",
            "--moseq-iters",
            "0",
            "--dlc-epochs",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    out_text = r.stdout
    assert "behavior: 10 trials added, video_stats on 9/9" in out_text
    assert "sta: STAs of 2 units; correlation with the true kernels" in out_text
    assert "pose: DLC files imported, head tracked on 9/9 trials" in out_text
    assert (
        "ethogram: fast mode (lite networks) trained on 8 trials (1 epochs), ethograms for 9/9; held-out F1" in out_text
    )
    if importlib.util.find_spec("nwbinspector") is not None:
        assert "nwb: 4 session files (10 trials); nwbinspector: 0 violations" in out_text
        assert len(list((out / "nwb").rglob("*.nwb"))) == 4
    # the summary table, one line per stage that ran, and the libraries' console output in a file
    table = out_text[out_text.index("| accessor") : out_text.index("demo finished")].splitlines()
    stages = [line.split("|")[1].strip() for line in table[2:] if line.startswith("|")]
    assert table[0].split("|")[1].strip() == "accessor"
    assert stages[:4] == ["behavior", "sta", "pose", "ethogram"] and "analysis" in stages
    assert "pose (DLC)" not in stages and "moseq" not in stages  # --dlc-epochs 0 --moseq-iters 0
    assert (out / "demo.log").stat().st_size > 0
    r = subprocess.run(
        [sys.executable, "-m", "behavior_soup.cli", "info", str(out / "tables" / "behavior.h5")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "trials       10" in r.stdout and "revision" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "behavior_soup.cli", "info", str(tmp_path / "missing.h5")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "expected a trial table" in r.stderr


@pytest.mark.slow
def test_default_demo_runs_every_stage(tmp_path):
    """The demo as `make demo` runs it (about 5 min here): DLC training and MoSeq included."""
    out = tmp_path / "demo"
    r = subprocess.run(
        [sys.executable, "-m", "behavior_soup.cli", "demo", "--out", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    text = r.stdout
    table = text[text.index("| accessor") : text.index("demo finished")].splitlines()
    stages = [line.split("|")[1].strip() for line in table[2:] if line.startswith("|")]
    expected = ["behavior", "sta", "pose", "pose (DLC)", "ethogram", "moseq", "analysis", "nwb"]
    assert stages == [s for s in expected if s != "moseq" or importlib.util.find_spec("keypoint_moseq")]
    assert "held-out F1" in text and "held-out trial median error" in text and "NMI with the true behaviors" in text


def test_import_is_light():
    code = "import sys, time; t=time.perf_counter(); import behavior_soup; dt=time.perf_counter()-t; print(dt); print(sorted(m for m in ('torch','jax','deeplabcut','dask','tensorflow','matplotlib') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    dt, heavy = r.stdout.splitlines()
    assert heavy == "[]"
    assert float(dt) < 2.0  # < 1 s on the reference machine; slack for loaded CI
