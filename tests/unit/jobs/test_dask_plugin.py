"""The dask backend turns off its workers' stack sampling, which deadlocks h5py readers."""

from __future__ import annotations

import threading
import time

import h5py
import pytest

from behavior_soup.jobs import TrialContext, register_job

distributed = pytest.importorskip("dask.distributed")


def _read_like_keypoint_moseq(group: h5py.Group) -> dict:
    # keypoint-moseq's checkpoint reader: zip stops on the keys, leaving the values iterator
    # part way (it holds h5py's lock until this frame is freed)
    values = map(lambda d: d[()], group.values())
    return dict(zip(group.keys(), values))


@register_job("test_h5py_read_loop", "behavior")
def _read_loop(ctx: TrialContext, params: dict) -> dict:
    n, t0 = 0, time.monotonic()
    with h5py.File(params["path"], "r") as f:
        while time.monotonic() - t0 < params["seconds"]:
            _read_like_keypoint_moseq(f["g"])
            n += 1
    return {"reads": n}


@pytest.fixture
def h5(tmp_path):
    path = tmp_path / "g.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("g")
        g["a"], g["b"] = 1, 2.0
    return str(path)


def _sampling(dask_worker) -> list[str]:
    return sorted(k for k in dask_worker.periodic_callbacks if k.startswith("profile"))


@pytest.mark.timeout(180)
def test_h5py_reads_on_a_dask_worker_do_not_stall_it(table, h5):
    """Without the plugin this loop stalled the worker within 3 s here (its event loop
    waiting for h5py's lock, held by a frame the sampler kept); the run must end."""
    table.behavior.add_item("m1")
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc,
        distributed.Client(lc) as client,
    ):
        assert list(client.run(_sampling).values()) == [["profile", "profile-cycle"]]  # dask's default
        out: dict = {}
        runner = threading.Thread(
            target=lambda: out.setdefault(
                "summary",
                table.behavior.run_job(
                    "test_h5py_read_loop",
                    {"path": h5, "seconds": 4.0},
                    rows=table.iloc[:2],
                    backend="dask",
                    client=client,
                    progress=False,
                ),
            ),
            daemon=True,
        )
        runner.start()
        runner.join(timeout=90)
        assert not runner.is_alive(), "the dask worker stalled"
        assert (out["summary"]["status"] == "done").all(), out["summary"]["error"].tolist()
        assert all(r["summary"]["reads"] > 100 for r in table["behavior_run"].iloc[:2])
        assert all(v == [] for v in client.run(_sampling).values())
        lc.scale(2)  # a worker that joins later gets the plugin from the scheduler
        client.wait_for_workers(2, timeout=60)
        assert all(v == [] for v in client.run(_sampling).values()) and len(client.run(_sampling)) == 2


def test_the_backends_own_cluster_samples_no_stacks():
    from behavior_soup.jobs.backends import dask_client

    with dask_client(1) as client:
        assert list(client.run(_sampling).values()) == [[]]
