"""Row jobs and tasks on a real one-node SLURM (``scripts/local_slurm.py``) through
dask-jobqueue: results equal to ``local``, a cancelled job's rows failed and rerun, two SLURM
jobs writing one session at once. Skipped, saying why, where SLURM cannot start here."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.accessors._common import contexts
from behavior_soup.pose.jobs import read_tracking
from behavior_soup.sample_data import DLC_SCORER
from behavior_soup.sta.recording import read_sta

from . import _slurm_jobs

ROOT = Path(__file__).resolve().parents[2]


def _local_slurm():
    spec = importlib.util.spec_from_file_location("local_slurm", ROOT / "scripts" / "local_slurm.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["local_slurm"] = mod  # its dataclass looks itself up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    pytest.importorskip("dask_jobqueue")
    ls = _local_slurm()
    why = ls.why_not()
    if why:
        pytest.skip(why)
    before = os.environ.get("SLURM_CONF")
    try:
        cluster = ls.start(tmp_path_factory.mktemp("slurm"))
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"a local SLURM did not start: {exc}")
    yield cluster
    cluster.stop()
    if before is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = before


@pytest.fixture
def client_of(slurm, tmp_path):
    """``client_of(jobs)``: a dask client on a new SLURMCluster of ``jobs`` one-core jobs (with
    ``gpus`` GPUs each), its workers up; all closed after the test."""
    from dask.distributed import Client

    made = []

    def make(jobs: int, memory: str = "4GB", gpus: int = 0):
        cluster = bs.cluster.slurm(
            cores=1,
            memory=memory,
            gpus=gpus,
            walltime="00:15:00",
            jobs=jobs,
            log_directory=str(tmp_path / "slurm-logs"),
            scheduler_options={"dashboard_address": None},
        )
        client = Client(cluster)
        made.append((client, cluster))
        client.wait_for_workers(jobs, timeout=120)
        return client

    yield make
    for client, cluster in made:
        client.close()
        cluster.close()


def _jobs() -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def _results(df, sta_units=("unit_0", "unit_1")) -> dict:
    out = {}
    for c in contexts(df):
        keys = c.read
        if c.videos:
            out[(c.label, "stats")] = keys("behavior/video_stats")["front"]["motion"]
            out[(c.label, "track")] = read_tracking(c, "head_from_ears").to_numpy(dtype=float)
            out[(c.label, "probs")] = keys("fast/sequence")["probabilities"]
            out[(c.label, "eth")] = keys("fast/ethogram")["array"]
        else:
            for u in sta_units:
                out[(c.label, u)] = read_sta(c, u)
    return out


def test_row_jobs_on_slurm_equal_local(table, raw_copy, sample, tmp_path, client_of):
    table.behavior.add_item("m1", exp_type="openfield")
    for _, row in table.iterrows():
        pose = raw_copy / "m1" / row["session_id"] / "pose" / f"front_v{int(row['trial_id']):03d}{DLC_SCORER}.h5"
        assert row.pose.load(pose)["status"] == "done"
    e = sample.ephys
    table.sta.add_recording(
        "r1", "s1", 1, stimulus=e["stimulus"], spikes=e["spikes"], fps=e["fps"], stimulus_onset=e["stimulus_onset"]
    )
    from behavior_soup.ethogram.build import untrained_models
    from behavior_soup.sample_data import BEHAVIORS

    fe, seq = untrained_models(tmp_path / "models", "fast", BEHAVIORS, size=64)
    videos = table[table["front_video"] != ""]

    def run_all(**kw) -> None:
        assert (table.behavior.run_job("video_stats", rows=videos, progress=False, **kw)["status"] == "done").all()
        assert (table.pose.track(smooth="none", progress=False, **kw)["status"] == "done").all()
        assert (
            table.sta.compute(n_delays=5, n_shuffles=0, units=[0, 1], progress=False, **kw)["status"] == "done"
        ).all()
        out = table.behavior.infer(
            mode="fast", feature_extractor=str(fe), sequence=str(seq), device="cpu", progress=False, **kw
        )
        assert (out["status"] == "done").all(), out["error"].tolist()

    run_all()
    local = _results(table)
    client = client_of(2)
    run_all(backend="dask", client=client)
    on_slurm = _results(table)
    assert local.keys() == on_slurm.keys() and len(local) == 3 * 4 + 2
    for k, a in local.items():
        b = on_slurm[k]
        if k[1] == "probs":  # torch on 1 thread in a job, 2 here: float sums in another order
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-5, err_msg=str(k))
        elif k[1] == "eth":  # equal wherever the probability is not at the threshold itself
            p = local[(k[0], "probs")]
            firm = np.abs(p - 0.5) > 1e-4
            assert np.array_equal(a[firm], b[firm]), k
        else:
            np.testing.assert_array_equal(b, a, err_msg=str(k))
    runs = table["behavior_run"].tolist() + table["sta_run"].tolist()
    assert {r["backend"] for r in runs if r} == {"dask"}
    assert len(_jobs()) == 2, "the two SLURM jobs are still up for the next work"


def test_a_cancelled_job_leaves_failed_rows_and_a_rerun_runs_only_those(table, tmp_path, client_of, monkeypatch):
    monkeypatch.setenv("BEHAVIOR_SOUP_WORKER_LOST_S", "5")
    table.behavior.add_item("m1")
    table.behavior.add_item("m2")
    marker = tmp_path / "started"
    marker.mkdir()
    params = {"seconds": 3.0, "marker": str(marker)}
    client = client_of(1)
    (job_id,) = _jobs()
    out: dict = {}
    runner = threading.Thread(
        target=lambda: out.setdefault(
            "summary", table.behavior.run_job(_slurm_jobs.JOB, params, backend="dask", client=client, progress=False)
        )
    )
    runner.start()
    deadline = time.time() + 60
    while len(list(marker.iterdir())) < 2 and time.time() < deadline:  # the first row done, the second running
        time.sleep(0.1)
    subprocess.run(["scancel", job_id], check=True)
    runner.join(timeout=120)
    assert not runner.is_alive(), "the run ends once its worker is gone"
    summary = out["summary"]
    done, failed = summary[summary["status"] == "done"], summary[summary["status"] == "failed"]
    assert len(done) >= 1 and len(failed) >= 4 and len(done) + len(failed) == len(table) == 6
    assert failed["error"].str.contains("dask worker was lost").all(), failed["error"].tolist()
    assert (table.set_index("uuid").loc[failed["uuid"], "behavior_status"] == "failed").all()
    for c in contexts(table):  # nothing half-written: a result only where the row is done
        keys = c.read("test/sleepy") if c.uuid in set(done["uuid"]) else None
        if keys is None:
            with pytest.raises(bs.OutputsError):
                c.read("test/sleepy")
        else:
            assert np.array_equal(keys["v"], np.arange(1000) + c.trial_id)
    first_runs = {u: table.set_index("uuid").at[u, "behavior_run"]["started"] for u in done["uuid"]}
    client2 = client_of(1)
    again = table.behavior.run_job(
        _slurm_jobs.JOB, params, backend="dask", client=client2, progress=False, skip_done=True
    )
    assert sorted(again["uuid"]) == sorted(failed["uuid"]) and (again["status"] == "done").all()
    assert (table["behavior_status"] == "done").all()
    for u, started in first_runs.items():
        assert table.set_index("uuid").at[u, "behavior_run"]["started"] == started, "done rows did not run again"


def test_two_slurm_jobs_write_one_session_at_once(table, slurm, tmp_path):
    table.behavior.add_item("m1")
    assert set(table["session_id"]) == {table["session_id"].iloc[0]} and len(table) == 3
    path = str(contexts(table)[0].table_path)
    ids = []
    for trials in (["1", "2"], ["3"]):
        cmd = f"cd {ROOT} && {sys.executable} -m tests.integration._slurm_jobs {path} 8 {' '.join(trials)}"
        res = subprocess.run(
            ["sbatch", "--parsable", "-o", str(tmp_path / "job-%j.out"), "--wrap", cmd],
            capture_output=True,
            text=True,
            check=True,
        )
        ids.append(res.stdout.strip().split(";")[0])
    deadline = time.time() + 180
    while set(ids) & set(_jobs()) and time.time() < deadline:
        time.sleep(0.5)
    assert not set(ids) & set(_jobs()), "both jobs ended"
    logs = {p.name: p.read_text() for p in tmp_path.glob("job-*.out")}
    assert all("Error" not in text and "Traceback" not in text for text in logs.values()), logs
    df = bs.load_df(path)
    assert (df["behavior_status"] == "done").all(), df["behavior_run"].tolist()
    assert {r["params"]["repeat"] for r in df["behavior_run"]} == {7}
    for c in contexts(df):
        d = c.read("test/sleepy")
        assert np.array_equal(d["v"], np.arange(1000) + c.trial_id) and int(d["repeat"]) == 7
    session = contexts(df)[0].outputs_file.parent
    assert not [p for p in session.rglob("*") if ".tmp-" in p.name], "no temporary file left"


def test_a_table_level_task_runs_in_a_slurm_job_with_its_settings(table, client_of, monkeypatch):
    from behavior_soup.jobs import run_task

    table.behavior.add_item("m1")
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "soft")  # the client's choice reaches the job
    path = str(contexts(table)[0].table_path)
    rec = run_task("slurm_test_task", {"table": path}, backend="dask", client=client_of(1))
    assert rec["status"] == "done", rec.get("traceback")
    assert rec["summary"]["pid"] != os.getpid() and rec["summary"]["lock"] == "soft"
    assert rec["summary"]["torch_threads"] == 1, "WorkerSettings(threads=cores) from the job script"
    assert (bs.load_df(path)["notes"].str.startswith("trained on ")).all()


def test_gpu_jobs_get_their_own_gpus_from_the_allocation(table, slurm, client_of, monkeypatch):
    """Two one-GPU jobs (``bs.cluster.slurm(gpus=1)``) on a node with two: SLURM gives each its
    own device, and the row jobs and the task they run see their job's device, not the
    client's. The node's GPUs are stand-ins SLURM books as GPUs; nothing computes on them."""
    from behavior_soup.jobs import run_task

    if slurm.gpus < 2:
        pytest.skip(f"expected a SLURM node with 2 GPUs, got {slurm.gpus}: {slurm.no_gpus_why}")
    table.behavior.add_item("m1")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")  # the client's own device does not travel
    client = client_of(2, gpus=1)
    pids, gpus = client.run(os.getpid), client.run(os.getenv, "CUDA_VISIBLE_DEVICES")
    gpu_of = {pids[worker]: gpus[worker] for worker in pids}  # worker pid -> its device
    assert sorted(gpu_of.values()) == ["0", "1"], "one device each, as SLURM allocated"
    out = table.behavior.run_job(_slurm_jobs.JOB, {"seconds": 1.0}, backend="dask", client=client, progress=False)
    assert (out["status"] == "done").all(), out["error"].tolist()
    runs = table.set_index("uuid")["behavior_run"]
    for c in contexts(table):
        assert int(c.read("test/sleepy")["gpu"]) == int(gpu_of[runs[c.uuid]["pid"]])
    rec = run_task("slurm_test_task", {"table": str(contexts(table)[0].table_path)}, backend="dask", client=client)
    assert rec["status"] == "done", rec.get("traceback")
    assert rec["summary"]["gpus"] == gpu_of[rec["summary"]["pid"]]


def test_moseq_fit_and_infer_on_slurm(tmp_path, client_of):
    """``df.moseq.fit`` as a task in a SLURM job (a stall of the dask worker, h5py's lock
    held by a frame dask's stack sampler kept, once made this run past 600 s), then
    ``df.moseq.infer`` on SLURM equal to local inference with that model."""
    pytest.importorskip("keypoint_moseq")
    from behavior_soup.sample_data import make_sample_data

    sd = make_sample_data(tmp_path / "raw", n_animals=1, n_trials=3, n_frames=300, ephys=False)
    df = bs.create_df(tmp_path / "t" / "table.h5", raw_root=sd.root)
    df.behavior.add_item("m1", exp_type="table")
    for _, row in df.iterrows():
        pose = sd.root / "m1" / row["session_id"] / "pose" / f"front_v{int(row['trial_id']):03d}{DLC_SCORER}.h5"
        assert row.pose.load(pose, name="dlc")["status"] == "done"
    client = client_of(1, "6GB")
    fit = df.moseq.fit(
        name="m", pose_model="dlc", kappa_ar=1e4, ar_iters=5, kappa_full=1e3, full_iters=5, progress=False,
        backend="dask", client=client,
    )  # fmt: skip
    assert fit["status"] == "done" and df.moseq.model("m")["n_frames"] == 900
    assert fit["run"]["backend"] == "dask" and fit["run"]["pid"] in set(client.run(os.getpid).values())
    assert (df.moseq.infer(model="m", num_iters=10, progress=False)["status"] == "done").all()
    local = [row.moseq.result("m") for _, row in df.iterrows()]
    out = df.moseq.infer(model="m", num_iters=10, progress=False, backend="dask", client=client)
    assert (out["status"] == "done").all(), out["error"].tolist()
    for a, (_, row) in zip(local, df.iterrows()):
        b = row.moseq.result("m")
        assert np.array_equal(a["syllable"], b["syllable"])
        np.testing.assert_allclose(
            b[["centroid_x", "centroid_y", "heading"]], a[["centroid_x", "centroid_y", "heading"]], atol=1e-6
        )
    assert {r["backend"] for r in df["moseq_run"]} == {"dask"}
    assert set(client.run(os.getpid).values()) == {r["pid"] for r in df["moseq_run"]}, "inferred in the SLURM job"


def test_ethogram_training_runs_in_a_slurm_job_and_registers_its_models(table, client_of):
    """The three fast-mode trainings as tasks on a SLURM worker (``backend="dask"`` with its
    client); their models are registered in the table and run here."""
    table.behavior.add_item("m1", exp_type="openfield")
    assert (table.behavior.load_labels(progress=False)["status"] == "done").all()
    client = client_of(1)
    on_slurm = dict(mode="fast", device="cpu", progress=False, backend="dask", client=client)
    flow = table.flow_generator.train(
        model_out="models/flow", epochs=1, input_size=(32, 64), networks="lite", **on_slurm
    )
    fe = table.feature_extractor.train(model_out="models/fe", epochs=1, steps_per_epoch=2, **on_slurm)
    seq = table.sequence.train(model_out="models/seq", epochs=2, **on_slurm)
    registered = table.flow_generator.models().set_index("kind")
    folder = Path(table.behavior.info.table_path).parent
    for kind, summary in (("flow_generator", flow), ("feature_extractor", fe), ("sequence", seq)):
        assert registered.loc[kind, "model_id"] == summary["model_id"]
        assert (folder / registered.loc[kind, "path"]).is_file()
        assert summary["run"]["backend"] == "dask" and summary["run"]["pid"] != os.getpid()
    worker_pids = set(client.run(os.getpid).values())
    assert {s["run"]["pid"] for s in (flow, fe, seq)} <= worker_pids, "trained in the SLURM job's worker"
    out = table.behavior.infer(mode="fast", device="cpu", progress=False)  # here, with the models trained there
    assert (out["status"] == "done").all(), out["error"].tolist()


def test_dlc_training_runs_in_a_slurm_job_and_its_model_runs_here(table, sample, client_of):
    """``df.pose.train`` as a task on a SLURM worker: the model is trained there (one short
    epoch from random weights), recorded with the node and process that trained it, and runs
    here on a trial."""
    pytest.importorskip("deeplabcut")
    from behavior_soup.pose.dlc import make_dlc_project
    from behavior_soup.sample_data import BODYPARTS

    table.behavior.add_item("m1", exp_type="openfield")
    sess = sample.root / "m1" / sample.sessions[0]
    trial = sample.trials[0]
    keypoints = sample.truth("m1", sample.sessions[0], trial)["keypoints"]
    labels = {str(sess / f"front_v{trial:03d}.mp4"): (np.arange(0, 40, 2), keypoints[:40:2])}
    cfg = make_dlc_project(Path(table.behavior.info.table_path).parent / "dlc", "slurm", "bs", labels, BODYPARTS)
    model = table.pose.register_model(cfg)
    client = client_of(1, "6GB")
    ev = table.pose.train(model.name, epochs=1, batch_size=8, device="cpu", backend="dask", client=client)
    worker_pids = set(client.run(os.getpid).values())
    assert ev["run"]["backend"] == "dask" and ev["run"]["pid"] in worker_pids, "trained in the SLURM job's worker"
    assert ev["evaluated_epochs"] == 1 and np.isfinite(ev["test_rmse_px"])
    from behavior_soup.pose.models import get_model

    run = get_model(table.behavior.info.table_path, model.name).train_run
    assert run["status"] == "done" and run["pid"] == ev["run"]["pid"] and run["host"] == ev["run"]["host"]
    assert (Path(cfg).parent / ev["snapshot"]).is_file()
    row = table[table["trial_id"] == trial].iloc[0]
    r = row.pose.infer(model.name, views=["front"], device="cpu")  # here, with the model trained there
    assert r["status"] == "done", r["error"]
    assert row.pose.result(model.name, "front").positions.shape == (len(keypoints), len(BODYPARTS), 2)
