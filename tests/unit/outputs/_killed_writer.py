"""The writer the kill test starts over and over, from a forkserver: a fork of the test
process itself would copy its threads' locks (JAX, torch, dask) in whatever state they are."""

from __future__ import annotations

import os

import numpy as np

from behavior_soup import outputs
from behavior_soup.provenance import Provenance


def writer_loop(path: str, log: str, start: int) -> None:
    """Rewrite three trials' results forever, logging each completed write (then fsync)."""
    i = start
    while True:
        for t in (1, 2, 3):
            with open(log, "a") as fh:
                fh.write(f"start {t} {i}\n")
                fh.flush()
            data = {"v": np.full(150_000, i, np.int64), "meta": {"i": i, "names": ["a", "b"]}}
            outputs.write_results(
                path,
                trial_id=t,
                uuid=f"u{t}",
                results={
                    "r/a": (data, Provenance("test", {"x": 1}).finish()),
                    f"r/b{i % 3}": ({"v": np.full(500, i)}, Provenance("test", {"x": 1}).finish()),
                },
                session=("m1", "s1"),
            )
            with open(log, "a") as fh:
                fh.write(f"{t} {i}\n")
                fh.flush()
                os.fsync(fh.fileno())
        i += 1
