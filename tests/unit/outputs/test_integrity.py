"""Results survive kills, full disks and reruns; old sessions are read and converted."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

from behavior_soup import outputs
from behavior_soup.errors import OutputsError
from behavior_soup.provenance import Provenance

from .._child import run_python
from . import _killed_writer


def _prov() -> Provenance:
    return Provenance("test", {"x": 1}).finish()


def _write(path, t, key, data):
    outputs.write_results(path, trial_id=t, uuid=f"u{t}", results={key: (data, _prov())}, session=("m1", "s1"))


def _read(path, t, key):
    return outputs.read_result(path, trial_id=t, uuid=f"u{t}", key=key)


def test_reruns_leave_no_dead_space(tmp_path):
    p = tmp_path / "outputs.h5"
    rng = np.random.default_rng(0)
    big = rng.random(1_000_000)  # 8 MB, incompressible
    _write(p, 1, "big/x", {"a": big})
    _write(p, 1, "small/y", {"a": np.arange(10)})
    one = outputs.trial_file(p, 1).stat().st_size
    for i in range(10):
        _write(p, 1, "big/x", {"a": big + i})
    assert outputs.trial_file(p, 1).stat().st_size <= 1.1 * one
    np.testing.assert_array_equal(_read(p, 1, "big/x")["a"], big + 9)
    assert _read(p, 1, "small/y")["a"].tolist() == list(range(10))


def _logged(log) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {1: [], 2: [], 3: []}
    if log.exists():
        for line in log.read_text().splitlines():
            if not line.startswith("start"):
                t, i = map(int, line.split())
                out[t].append(i)
    return out


def _lines(log) -> tuple[int, int]:
    """Lines in the writers' log, and how many say a write finished."""
    lines = log.read_text().splitlines() if log.exists() else []
    return len(lines), sum(not line.startswith("start") for line in lines)


def test_sigkill_inside_writes_never_loses_a_result(tmp_path):
    """100 kills at random instants of a process rewriting results: every result whose write
    had finished is readable, in that version or a later one."""
    p = tmp_path / "outputs.h5"
    log = tmp_path / "log.txt"
    rng = random.Random(0)
    kills = inside = 0
    mp = multiprocessing.get_context("forkserver")  # a fork of this process would copy its threads' locks
    mp.set_forkserver_preload(["tests.unit.outputs._killed_writer"])
    for _ in range(100):
        done = _logged(log)
        start = max(max(v, default=-1) for v in done.values()) + 1
        lines, finished = _lines(log)
        wait_for = finished + rng.randint(0, 2)  # writes to let finish first, so the kills span the run
        child = mp.Process(target=_killed_writer.writer_loop, args=(str(p), str(log), start), daemon=True)
        child.start()
        deadline = time.time() + 60
        while (_lines(log)[0] == lines or _lines(log)[1] < wait_for) and time.time() < deadline:
            time.sleep(0.002)  # until its first write started and those finished, whatever the disk's speed
        time.sleep(rng.uniform(0.002, 0.12))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        kills += 1
        lines = log.read_text().splitlines() if log.exists() else []
        inside += bool(lines) and lines[-1].startswith("start")  # killed during a write
        done = _logged(log)
        for t, versions in done.items():
            if not versions:
                continue
            a = _read(p, t, "r/a")
            v = int(a["v"][0])
            assert (a["v"] == v).all() and v >= versions[-1] and int(a["meta"]["i"]) == v
            for i in versions[-3:]:  # the b-results of the last versions (each key rewritten every 3)
                b = _read(p, t, f"r/b{i % 3}")
                assert int(b["v"][0]) >= i
            assert outputs.read_provenance(p, trial_id=t, uuid=f"u{t}", key="r/a")["status"] == "done"
    assert kills == 100 and inside >= 50 and sum(len(v) for v in _logged(log).values()) > 30
    _write(p, 1, "r/last", {"v": np.zeros(3)})  # the next writes sweep what killed writers left
    _write(p, 2, "r/last", {"v": np.zeros(3)})
    _write(p, 3, "r/last", {"v": np.zeros(3)})
    assert not [f for f in outputs.trial_dir(p).iterdir() if ".tmp-" in f.name]
    with h5py.File(p) as f:  # the index reaches every trial
        assert sorted(f) == ["trial_1", "trial_2", "trial_3"] and "r/a" in f["trial_2"]


WRITE_BIG = """
    import sys, numpy as np
    from behavior_soup import outputs
    from behavior_soup.errors import OutputsError
    from behavior_soup.provenance import Provenance
    try:
        outputs.write_results(sys.argv[1], trial_id=1, uuid="u1",
                              results={"big/x": ({"a": np.random.default_rng(0).random(600_000)}, Provenance("j", {}))})
    except OutputsError as exc:
        print("OutputsError", exc)
    else:
        print("written")
"""


def test_full_disk_keeps_every_earlier_result(tmp_path):
    p = tmp_path / "outputs.h5"
    _write(p, 1, "keep/a", {"a": np.arange(100)})
    _write(p, 2, "keep/b", {"a": np.arange(5)})

    r = run_python(WRITE_BIG, str(p), fsize=1_000_000)
    assert r.stdout.startswith("OutputsError") and "the previous results are kept" in r.stdout, r.stdout + r.stderr
    assert _read(p, 1, "keep/a")["a"].tolist() == list(range(100))
    assert _read(p, 2, "keep/b")["a"].tolist() == list(range(5))
    assert outputs.list_results(p, trial_id=1, uuid="u1") == ["keep/a"]
    assert not [f for f in outputs.trial_dir(p).iterdir() if ".tmp-" in f.name]


def test_a_write_that_does_not_read_back_is_refused(tmp_path, monkeypatch):
    from behavior_soup.outputs import codec

    p = tmp_path / "outputs.h5"
    _write(p, 1, "keep/a", {"a": np.arange(100)})
    real = codec.read_array  # what a disk that dropped the write would give back
    monkeypatch.setattr(codec, "read_array", lambda node: real(node) + 1 if node.shape == (7,) else real(node))
    with pytest.raises(OutputsError, match="to hold what was written"):
        _write(p, 1, "new/b", {"a": np.zeros(7)})
    monkeypatch.undo()
    assert outputs.list_results(p, trial_id=1, uuid="u1") == ["keep/a"]


def _legacy(path, trials):
    """An outputs.h5 as earlier versions wrote it: each trial a group inside."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "behavior_soup.outputs"
        f.attrs["animal_id"], f.attrs["session_id"] = "m1", "s1"
        for t in trials:
            g = f.create_group(f"trial_{t}")
            g.attrs["uuid"], g.attrs["trial_id"] = f"u{t}", t
            r = g.create_group("behavior").create_group("stats")
            r.attrs["job"], r.attrs["params"], r.attrs["versions"], r.attrs["status"] = "old", "{}", "{}", "done"
            r["n"] = np.arange(t + 1)
            r.create_dataset("label", data="legacy", dtype=h5py.string_dtype())


def test_sessions_of_the_earlier_layout_are_read_then_converted(tmp_path):
    p = tmp_path / "outputs.h5"
    _legacy(p, [1, 2])
    assert _read(p, 2, "behavior/stats")["n"].tolist() == [0, 1, 2]
    assert outputs.read_provenance(p, trial_id=1, uuid="u1", key="behavior/stats")["job"] == "old"
    _write(p, 1, "new/x", {"a": np.ones(2)})  # converts the whole session, then writes
    with h5py.File(p) as f:
        assert f.attrs["layout"] == 2 and sorted(f) == ["trial_1", "trial_2"]
    assert outputs.trial_file(p, 2).is_file()
    assert _read(p, 2, "behavior/stats")["label"] == "legacy"
    assert outputs.list_results(p, trial_id=1, uuid="u1") == ["behavior/stats", "new/x"]


def test_the_index_links_resolve_from_any_folder(tmp_path, monkeypatch):
    p = tmp_path / "sess" / "outputs.h5"
    _write(p, 4, "a/b", {"x": np.arange(3)})
    monkeypatch.chdir(tmp_path.parent)
    with h5py.File(p, "r") as f:
        assert f["trial_4/a/b/x"][()].tolist() == [0, 1, 2] and f["trial_4"].attrs["uuid"] == "u4"


def test_writers_of_different_trials_do_not_wait_for_each_other(tmp_path):
    """Each trial has its own file and lock: four processes write 20 results each, at once."""
    p = tmp_path / "outputs.h5"
    code = textwrap.dedent(
        """
        import sys, numpy as np
        from behavior_soup import outputs
        from behavior_soup.provenance import Provenance
        t = int(sys.argv[2])
        for k in range(20):
            outputs.write_results(sys.argv[1], trial_id=t, uuid=f"u{t}",
                                  results={f"r/k{k}": ({"v": np.full(1000, k)}, Provenance("j", {}))},
                                  session=("m1", "s1"))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(p), str(t)]) for t in range(4)]
    assert [q.wait(120) for q in procs] == [0] * 4
    for t in range(4):
        assert len(outputs.list_results(p, trial_id=t, uuid=f"u{t}")) == 20
    with h5py.File(p) as f:
        assert sorted(f) == [f"trial_{t}" for t in range(4)]
