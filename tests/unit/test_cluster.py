"""Worker settings, the SLURM helper's job script, and settings travelling with dask jobs."""

from __future__ import annotations

import os
import sys

import pytest

import behavior_soup as bs
from behavior_soup import cluster
from behavior_soup.jobs import TrialContext, register_job


def test_settings_make_the_environment_and_the_prologue(monkeypatch):
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "soft")
    s = cluster.WorkerSettings(threads=4, jax_cache_dir="/scratch/jax cache", env={"FOO": "1"})
    env = s.environment()
    assert env["BEHAVIOR_SOUP_LOCK"] == "soft" and env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert env["OMP_NUM_THREADS"] == env["BEHAVIOR_SOUP_TORCH_THREADS"] == "4" and env["FOO"] == "1"
    assert "export BEHAVIOR_SOUP_JAX_CACHE='/scratch/jax cache'" in s.prologue()
    assert "OMP_NUM_THREADS" not in cluster.WorkerSettings().environment()
    assert cluster.WorkerSettings(lock="flock").environment()["BEHAVIOR_SOUP_LOCK"] == "flock"


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"threads": 0}, "expected threads to be a positive int"),
        ({"threads": True}, "expected threads to be a positive int"),
        ({"lock": "nfs"}, "expected lock to be one of"),
        ({"env": {"A": 1}}, "expected env to map names to strings"),
    ],
)
def test_bad_settings_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        cluster.WorkerSettings(**kw)


def test_a_worker_takes_the_settings_and_its_allocations_gpus(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("SLURM_JOB_GPUS", "2,3")
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "flock")
    cluster.apply_environment({"BEHAVIOR_SOUP_LOCK": "soft"})
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "2,3" and os.environ["BEHAVIOR_SOUP_LOCK"] == "soft"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    cluster.apply_environment(None)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0", "the scheduler's own setting wins"


def test_this_processes_settings_are_passed_on(monkeypatch):
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "soft")
    monkeypatch.setenv("BEHAVIOR_SOUP_TORCH_THREADS", "3")
    monkeypatch.setenv("HOME_OF_SOMETHING_ELSE", "x")
    env = cluster.worker_environment()
    assert env["BEHAVIOR_SOUP_LOCK"] == "soft" and env["BEHAVIOR_SOUP_TORCH_THREADS"] == "3"
    assert "HOME_OF_SOMETHING_ELSE" not in env


def test_the_slurm_job_script_books_cores_gpus_and_exports_the_settings():
    pytest.importorskip("dask_jobqueue")
    c = bs.cluster.slurm(
        cores=4, memory="8GB", walltime="00:30:00", gpus=1, queue="gpu", scheduler_options={"dashboard_address": None}
    )
    try:
        script = c.job_script()
    finally:
        c.close()
    assert "--cpus-per-task=4" in script and "--gres=gpu:1" in script and "-p gpu" in script
    assert "export OMP_NUM_THREADS=4" in script and "export XLA_PYTHON_CLIENT_PREALLOCATE=false" in script
    assert "--nthreads 1" in script and sys.executable in script
    for bad, match in (
        ({"cores": 0}, "expected cores"),
        ({"gpus": -1}, "expected gpus"),
        ({"jobs": 1.5}, "expected jobs"),
    ):
        with pytest.raises(ValueError, match=match):
            bs.cluster.slurm(**bad)


@register_job("test_env_probe", "behavior")
def _env_probe(ctx: TrialContext, params: dict) -> dict:
    return {"lock": os.environ.get("BEHAVIOR_SOUP_LOCK"), "pid": os.getpid()}


def test_dask_jobs_carry_the_lock_kind_to_their_workers(table, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    table.behavior.add_item("m1")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with distributed.Client(lc) as client:
            monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "soft")  # set here after the worker started
            out = table.behavior.run_job("test_env_probe", backend="dask", client=client, progress=False)
            assert (out["status"] == "done").all()
    runs = table["behavior_run"].tolist()
    assert {r["summary"]["lock"] for r in runs} == {"soft"} and all(r["summary"]["pid"] != os.getpid() for r in runs)
