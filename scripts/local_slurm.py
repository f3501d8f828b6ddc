"""A one-node SLURM on this machine, for the cluster tests and ``benchmarks/scaling.py``.

Needs root and Debian's ``slurm-wlm`` and ``munge`` (``apt-get install slurm-wlm munge``).
:func:`start` writes a munge key if there is none and starts ``munged`` if it is not running,
writes a ``slurm.conf`` for this host alone (its CPUs and memory, ``proctrack/linuxproc``,
``task/none``, no cgroups) in a folder of its own, and starts ``slurmctld`` and ``slurmd`` on
it; :meth:`LocalSlurm.stop` stops only the daemons it started. Clients find the cluster through
``SLURM_CONF``, which :func:`start` sets in this process (and so in the processes it starts).

The node also has GPUs as SLURM sees them (``Gres=gpu:2`` by default): stand-in device files in
the folder (character devices with the null device's numbers; nothing behind them computes).
SLURM books, counts and hands them out as it does real ones, so a job's ``--gres=gpu:<n>``, two
jobs getting different devices and the ``CUDA_VISIBLE_DEVICES`` each is given are tested here;
work on a GPU is not.

    python scripts/local_slurm.py start /tmp/slurm   # prints the SLURM_CONF to export
    python scripts/local_slurm.py stop /tmp/slurm
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from behavior_soup.locking import pid_alive

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "srun")


def why_not() -> str | None:
    """Why a local SLURM cannot start here, or None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "a local SLURM needs root (its daemons run as root here)"
    missing = [b for b in (*DAEMONS, *CLIENTS) if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]
    if missing:
        return f"expected SLURM and munge installed (apt-get install slurm-wlm munge), missing {missing}"
    return None


def _which(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _memory_mb() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 1024


def _running(name: str) -> bool:
    """Whether a live (not zombie) process is called ``name``."""
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
    return any(pid_alive(int(pid)) for pid in out.stdout.split())


@dataclass
class LocalSlurm:
    """A started local SLURM: its folder, config and the daemons this process started."""

    folder: Path
    conf: Path
    host: str
    cpus: int
    started: list[str] = field(default_factory=list)
    #: GPUs the node offers (stand-ins), and why none where it offers none
    gpus: int = 0
    no_gpus_why: str = ""

    def env(self) -> dict[str, str]:
        """The variables a client needs (``SLURM_CONF``)."""
        return {"SLURM_CONF": str(self.conf)}

    def stop(self) -> None:
        """Cancel this cluster's jobs and stop the daemons :func:`start` started (SIGTERM, then
        SIGKILL for any still up after 10 s, with the job steps they leave)."""
        env = {**os.environ, **self.env()}
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([_which("scancel"), "--full", "--user", "root"], env=env, capture_output=True, timeout=10)
            deadline = time.time() + 15
            while time.time() < deadline:
                q = subprocess.run([_which("squeue"), "-h"], env=env, capture_output=True, text=True, timeout=10)
                if q.returncode != 0 or not q.stdout.strip():
                    break
                time.sleep(0.3)
        pids = []
        for name in reversed(self.started):
            with contextlib.suppress(OSError, ValueError):
                pid = int((self.folder / f"{name}.pid").read_text().strip())
                os.kill(pid, signal.SIGTERM)
                pids.append(pid)
        deadline = time.time() + 10
        while time.time() < deadline and any(pid_alive(p) for p in pids):
            time.sleep(0.2)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if "slurmd" in self.started:  # steps of its jobs outlive a killed slurmd
            subprocess.run(["pkill", "-9", "-x", "slurmstepd"], capture_output=True)
        self.started.clear()


def _stand_in_gpus(folder: Path, n: int) -> str:
    """Make ``n`` stand-in GPU device files and the ``gres.conf`` naming them; returns why not
    ("" when made). SLURM accepts only character or block devices as a GPU's file."""
    if n <= 0:
        return "no GPUs asked for"
    dev = folder / "dev"
    dev.mkdir(parents=True, exist_ok=True)
    null = os.stat("/dev/null").st_rdev
    try:
        for i in range(n):
            path = dev / f"gpu{i}"
            if not path.exists():
                os.mknod(path, 0o600 | stat.S_IFCHR, null)
    except OSError as exc:
        return f"expected to make stand-in GPU device files in {dev}, got {exc}"
    (folder / "gres.conf").write_text(f"Name=gpu File={dev}/gpu[0-{n - 1}]\n")
    return ""


def _conf(folder: Path, host: str, cpus: int, memory_mb: int, gpus: int = 0) -> str:
    gres = ("GresTypes=gpu\n", f" Gres=gpu:{gpus}") if gpus else ("", "")
    return f"""ClusterName=local
{gres[0]}SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
KillWait=5
InactiveLimit=0
MinJobAge=30
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb}{gres[1]} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
"""


def start(folder: str | os.PathLike, timeout: float = 30.0, gpus: int = 2) -> LocalSlurm:
    """Start a one-node SLURM whose files live in ``folder``; sets ``SLURM_CONF`` here.

    The node offers ``gpus`` stand-in GPUs, or none where their device files cannot be made
    (``LocalSlurm.no_gpus_why`` says why).

    Raises
    ------
    RuntimeError
        If it cannot start (the reason, and the end of the daemons' logs).
    """
    why = why_not()
    if why:
        raise RuntimeError(why)
    folder = Path(folder).absolute()
    for sub in ("state", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    conf = folder / "slurm.conf"
    no_gpus_why = _stand_in_gpus(folder, gpus)
    gpus = 0 if no_gpus_why else gpus
    conf.write_text(_conf(folder, host, cpus, max(256, int(_memory_mb() * 0.8)), gpus))
    cluster = LocalSlurm(folder, conf, host, cpus, gpus=gpus, no_gpus_why=no_gpus_why)
    env = {**os.environ, **cluster.env()}
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        key.write_bytes(os.urandom(1024))
        shutil.chown(key, "munge", "munge")
        key.chmod(0o400)
    if not _running("munged"):
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        subprocess.run(["runuser", "-u", "munge", "--", _which("munged")], check=True, capture_output=True)
    running = [n for n in ("slurmctld", "slurmd") if _running(n)]
    if running:
        raise RuntimeError(
            f"expected no SLURM daemons running already (another SLURM on this machine), found {running}"
        )
    try:
        for name in ("slurmctld", "slurmd"):
            subprocess.run([_which(name), "-f", str(conf)], env=env, check=True, capture_output=True, timeout=30)
            cluster.started.append(name)
    except (OSError, subprocess.SubprocessError) as exc:
        cluster.stop()
        raise RuntimeError(f"expected the SLURM daemons to start, got {exc}") from exc
    os.environ.update(cluster.env())
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() in ("idle", "mix", "alloc"):
            return cluster
        time.sleep(0.5)
    logs = "".join((folder / f).read_text()[-1500:] for f in ("slurmctld.log", "slurmd.log") if (folder / f).exists())
    cluster.stop()
    raise RuntimeError(f"expected the node to come up within {timeout:g} s; the daemons said:\n{logs}")


if __name__ == "__main__":
    cmd, where = sys.argv[1], Path(sys.argv[2])
    if cmd == "start":
        c = start(where)
        print(f"export SLURM_CONF={c.conf}")
    else:
        LocalSlurm(where, where / "slurm.conf", "", 0, ["slurmctld", "slurmd"]).stop()
