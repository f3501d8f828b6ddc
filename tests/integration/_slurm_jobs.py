"""A job for the SLURM tests (imported by their workers, so it lives in a module), and a script
that runs it over some trials of a table as one SLURM job would:

    python -m tests.integration._slurm_jobs <table> <repeats> <trial_id> [<trial_id> ...]
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import numpy as np

import behavior_soup as bs
from behavior_soup.jobs import TrialContext, register_job, register_task
from behavior_soup.provenance import Provenance

JOB = "slurm_test_sleep"


@register_job(JOB, "behavior")
def sleepy(ctx: TrialContext, params: dict) -> dict:
    """Note the start in ``params["marker"]``, sleep ``params["seconds"]``, then write
    ``test/sleepy`` (1000 values: the trial id plus 0..999, the repeat, and the first GPU the
    job was given in ``CUDA_VISIBLE_DEVICES``, -1 for none)."""
    if params.get("marker"):
        Path(params["marker"], f"{ctx.trial_id}-{ctx.animal_id}.started").write_text(socket.gethostname())
    time.sleep(float(params.get("seconds", 0)))
    gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0]
    data = {
        "v": np.arange(1000, dtype=np.int64) + ctx.trial_id,
        "repeat": np.int64(params.get("repeat", 0)),
        "gpu": np.int64(gpu if gpu.isdigit() else -1),
    }
    ctx.write("test/sleepy", data, Provenance(JOB, dict(params)).finish())
    return {"host": socket.gethostname()}


@register_task("slurm_test_task")
def probe_task(table: str) -> dict:
    """A table-level task: add a note to every row of ``table`` (under its lock, like a training
    task registering its model) and say where it ran, with the settings it found."""
    from behavior_soup._torch import torch

    df = bs.load_df(table)
    df["notes"] = "trained on " + socket.gethostname()
    df.behavior.save(merge=True)
    return {
        "pid": os.getpid(),
        "torch_threads": torch().get_num_threads(),
        "lock": os.environ.get("BEHAVIOR_SOUP_LOCK"),
        "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }


def main(table: str, repeats: str, *trial_ids: str) -> None:
    df = bs.load_df(table)
    rows = df[df["trial_id"].isin([int(t) for t in trial_ids])]
    for k in range(int(repeats)):
        out = df.behavior.run_job(JOB, {"seconds": 0.0, "repeat": k}, rows=rows, progress=False)
        assert (out["status"] == "done").all(), out


if __name__ == "__main__":
    main(*sys.argv[1:])
