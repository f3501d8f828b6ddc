"""Lock kinds (flock, soft) and the clean-up of temporary files on a shared filesystem."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from behavior_soup import locking
from behavior_soup.errors import LockTimeoutError


@pytest.fixture(params=["flock", "soft"])
def kind(request, monkeypatch):
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", request.param)
    return request.param


def test_the_lock_kind_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "")  # restored after the test, whatever sets it
    assert locking.lock_kind() == "flock"
    locking.set_lock_kind("soft")
    assert locking.lock_kind() == "soft" and os.environ["BEHAVIOR_SOUP_LOCK"] == "soft"
    with pytest.raises(ValueError, match="expected a lock kind among"):
        locking.set_lock_kind("nfs")  # type: ignore[arg-type]
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "posix")
    with pytest.raises(ValueError, match="expected BEHAVIOR_SOUP_LOCK to be one of"):
        locking.lock_kind()


HOLD = """
import sys, time
from behavior_soup import locking
with locking.locked(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_another_process_holding_the_lock_makes_a_writer_wait_then_time_out(tmp_path, kind):
    target = tmp_path / "f.h5"
    proc = _holder(target, 30)
    try:
        with pytest.raises(LockTimeoutError, match="another writer still holds"):
            with locking.locked(target, timeout=0.3):
                pass
    finally:
        proc.kill()
        proc.wait()
    with locking.locked(target, timeout=5):  # a killed holder's lock is gone (flock) or broken (soft)
        if kind == "soft":
            assert locking.lock_path(target).read_text().split() == [locking._HOST, str(os.getpid())]
    if kind == "soft":
        assert not locking.lock_path(target).exists(), "released: the soft lock's file is removed"


def test_a_soft_lock_of_a_live_or_foreign_holder_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "soft")
    target = tmp_path / "g.h5"
    lock = locking.lock_path(target)
    lock.write_text(f"{locking._HOST} {os.getpid()}\n")  # this very process: alive
    locking._break_if_stale(lock)
    assert lock.exists()
    lock.write_text("otherhost 1\n")  # another host's: kept until it is old
    locking._break_if_stale(lock)
    assert lock.exists()
    old = time.time() - locking.SOFT_LOCK_STALE_S - 10
    os.utime(lock, (old, old))
    locking._break_if_stale(lock)
    assert not lock.exists()


def test_temporary_files_of_other_hosts_are_kept_until_old(tmp_path):
    dst = tmp_path / "t.h5"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    mine_dead = tmp_path / f".t.h5.tmp-{locking._HOST}-{pid}-abcd"
    mine_alive = tmp_path / f".t.h5.tmp-{locking._HOST}-{os.getpid()}-abcd"
    legacy_dead = tmp_path / f".t.h5.tmp-{pid}-abcd"
    foreign = tmp_path / f".t.h5.tmp-node_7-{pid}-abcd"
    foreign_old = tmp_path / f".t.h5.tmp-node_8-{pid}-abcd"
    for f in (mine_dead, mine_alive, legacy_dead, foreign, foreign_old):
        f.write_bytes(b"x")
    old = time.time() - locking.SOFT_LOCK_STALE_S - 10
    os.utime(foreign_old, (old, old))
    assert locking.remove_stale_temps(dst) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine_alive.name, foreign.name])
    assert locking.temp_path_for(dst).name.startswith(f".t.h5.tmp-{locking._HOST}-{os.getpid()}-")


def test_an_empty_lock_file_is_an_old_flock_file_to_the_soft_kind(tmp_path, monkeypatch):
    target = tmp_path / "h.h5"
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "flock")
    with locking.locked(target):
        pass
    lock = locking.lock_path(target)
    assert lock.exists() and lock.read_text() == "", "flock's file stays, empty"
    locking._break_if_stale(lock)
    assert lock.exists(), "a fresh empty file may be a holder that is still writing its name"
    old = time.time() - 10
    os.utime(lock, (old, old))
    monkeypatch.setenv("BEHAVIOR_SOUP_LOCK", "soft")
    with locking.locked(target, timeout=1):
        assert lock.read_text().split()[1] == str(os.getpid())
