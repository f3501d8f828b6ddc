import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.errors import JobError
from behavior_soup.jobs import JOBS, register_job, run_job
from behavior_soup.jobs.builtin import frame_stats
from behavior_soup.video import read_video


def test_local_job_records_status_and_results(table, sample):
    table.behavior.add_item("m1")
    summary = table.behavior.run_job("video_stats", progress=False)
    assert summary["status"].tolist() == ["done"] * 3
    assert table["behavior_status"].tolist() == ["done"] * 3  # refreshed in place
    run = table.loc[0, "behavior_run"]
    assert run["job"] == "video_stats" and run["backend"] == "local" and run["duration_s"] > 0 and run["started"]
    disk = bs.load_df(table.paths.table_path)
    assert disk["behavior_status"].tolist() == ["done"] * 3
    row = table.iloc[0]
    stats = row.outputs.read("behavior/video_stats")
    gray = read_video(row.paths.video("front"), pixel_format="gray").astype(np.float32)
    np.testing.assert_allclose(stats["front"]["mean"], gray.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(stats["front"]["motion"][1:], np.abs(np.diff(gray, axis=0)).mean(axis=(1, 2)), rtol=1e-4)
    assert int(stats["n_frames"]) == 60
    truth = sample.truth("m1", "2024-01-05", 1)["labels"]
    still = truth[1:] == 0
    walk = truth[1:] == 1
    assert stats["front"]["motion"][1:][walk].mean() > stats["front"]["motion"][1:][still].mean()
    assert row.outputs.provenance("behavior/video_stats")["job"] == "video_stats"


def test_failing_row_does_not_stop_others(table, raw_copy):
    table.behavior.add_item("m1")
    (raw_copy / "m1" / "2024-01-05" / "front_v002.mp4").write_bytes(b"broken")
    summary = table.behavior.run_job("video_stats", progress=False)
    assert summary["status"].tolist() == ["done", "failed", "done"]
    assert "VideoError" in summary.loc[1, "error"]
    run = table.loc[1, "behavior_run"]
    assert "Traceback" in run["traceback"] and "expected a decodable video" in run["traceback"]
    st = table.behavior.status()
    assert st["status"].tolist() == ["done", "failed", "done"] and "VideoError" in st.loc[1, "error"]
    assert table.iloc[1].outputs.keys() == []


def test_skip_done_reruns_only_what_is_not_done_with_these_parameters(table, raw_copy, sample):
    table.behavior.add_item("m1")
    video = raw_copy / "m1" / "2024-01-05" / "front_v002.mp4"
    good = video.read_bytes()
    video.write_bytes(b"broken")
    assert table.behavior.run_job("video_stats", progress=False)["status"].tolist() == ["done", "failed", "done"]
    started = [r["started"] for r in table["behavior_run"]]
    video.write_bytes(good)
    again = table.behavior.run_job("video_stats", progress=False, skip_done=True)
    assert again["trial_id"].tolist() == [2] and again["status"].tolist() == ["done"]
    assert [r["started"] for r in table["behavior_run"]][::2] == started[::2], "done rows untouched"
    assert table.behavior.run_job("video_stats", progress=False, skip_done=True).empty
    other = table.behavior.run_job("video_stats", {"size": [32, 32]}, progress=False, skip_done=True)
    assert len(other) == 3, "other parameters: every row runs again"


def test_row_accessor_run(table):
    table.behavior.add_item("m2", "2024-01-05", 3)
    out = table.iloc[0].behavior.run_job("video_stats", {"size": [32, 32]})
    assert out["status"] == "done"
    assert bs.load_df(table.paths.table_path).loc[0, "behavior_status"] == "done"
    assert table.iloc[0].outputs.read("behavior/video_stats")["n_frames"] == 60
    assert table.iloc[0].outputs.provenance("behavior/video_stats")["params"] == {"size": [32, 32]}


def test_subprocess_backend(table, raw_copy):
    table.behavior.add_item("m1")
    (raw_copy / "m1" / "2024-01-05" / "side_v003.mp4").write_bytes(b"broken")
    summary = table.behavior.run_job("video_stats", backend="subprocess", n_workers=2, progress=False)
    assert summary["status"].tolist() == ["done", "done", "failed"]
    runs = table["behavior_run"].tolist()
    assert all(r["backend"] == "subprocess" for r in runs)
    assert len({r["pid"] for r in runs[:2]}) == 2  # each row in its own process
    assert "VideoError" in runs[2]["error"]
    assert table.iloc[0].outputs.read("behavior/video_stats")["n_frames"] == 60


def test_dask_backend(table):
    distributed = pytest.importorskip("dask.distributed")
    table.behavior.add_item("m1")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        summary = table.behavior.run_job("video_stats", backend="dask", client=client, progress=False)
    assert summary["status"].tolist() == ["done"] * 3
    assert {r["backend"] for r in table["behavior_run"]} == {"dask"}
    assert table.iloc[2].outputs.read("behavior/video_stats")["n_frames"] == 60


def test_bad_job_arguments(table):
    table.behavior.add_item("m1", "2024-01-05", 1)
    with pytest.raises(JobError, match="expected a registered job name"):
        table.behavior.run_job("nope")
    with pytest.raises(ValueError, match="JSON-serialisable"):
        table.behavior.run_job("video_stats", {"x": object()})
    with pytest.raises(ValueError, match="backend"):
        table.behavior.run_job("video_stats", backend="slurm")
    with pytest.raises(JobError, match="at least one trial"):
        run_job([], "video_stats")
    assert table.loc[0, "behavior_status"] == ""


def test_registry_rejects_foreign_duplicate():
    with pytest.raises(ValueError, match="namespace"):
        register_job("x", "nope")
    assert JOBS["video_stats"].namespace == "behavior"

    def other(ctx, params):
        return None

    other.__module__ = "somewhere.else"
    with pytest.raises(ValueError, match="already registered"):
        register_job("video_stats", "behavior")(other)


def test_frame_stats_direct(sample):
    s = frame_stats(sample.root / "m1" / "2024-01-05" / "front_v001.mp4")
    assert s["mean"].shape == (60,) and s["motion"][0] == 0
