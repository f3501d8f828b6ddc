import subprocess
import sys


def test_demo_and_info(tmp_path):
    out = tmp_path / "demo"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "behavior_soup.cli",
            "demo",
            "--out",
            str(out),
            "--no-progress",
            "--ethogram-epochs",
            "1",
            "--moseq-iters",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert "video_stats: 9/9 trials done" in r.stdout
    assert "sta: 1/1 recordings done" in r.stdout
    assert "corr with true kernel" in r.stdout
    assert "tracked head_from_ears on 9/9 trials" in r.stdout
    assert "ethograms written for 9/9 trials" in r.stdout and "held-out m3/2024-01-05/trial 3: F1 still" in r.stdout
    if "keypoint-moseq is not installed" not in r.stdout:
        assert "syllables inferred for 9/9 trials" in r.stdout and "normalized mutual information" in r.stdout
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


def test_import_is_light():
    code = "import sys, time; t=time.perf_counter(); import behavior_soup; dt=time.perf_counter()-t; print(dt); print(sorted(m for m in ('torch','jax','deeplabcut','dask','tensorflow','matplotlib') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    dt, heavy = r.stdout.splitlines()
    assert heavy == "[]"
    assert float(dt) < 2.0  # < 1 s on the reference machine; slack for loaded CI
