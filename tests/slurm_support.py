"""A real single-node Slurm on this machine, on loopback only, for tests/test_slurm.py.

Debian's ``slurm-wlm`` and ``munge``: a munge key and socket, a ``slurm.conf`` whose one
node is this host at 127.0.0.1 (no cgroups, ``proctrack/linuxproc``, ``select/cons_tres``
over the machine's CPUs), and ``slurmctld``/``slurmd`` in the foreground as root, all in a
temporary folder and on free ports, so nothing of the machine's own configuration is
read or changed. ``CommunicationParameters=NoCtldInAddrAny,NoInAddrAny`` makes both
daemons listen on 127.0.0.1 instead of every address. Commands and jobs find the
cluster through ``SLURM_CONF``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd")
START_BOUND_S = 120  # a bound for a stuck start, not a timing check


@dataclass
class SlurmCluster:
    """A running test cluster: its configuration file, environment and daemon pids."""

    conf: Path
    folder: Path
    env: dict[str, str]
    pids: dict[str, int]

    def run(self, *command: str, timeout: float = 60) -> str:
        done = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout, check=True
        )
        return done.stdout


def missing_reason() -> str | None:
    """Why a Slurm test cannot run here, or None."""
    found = {name: shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin") for name in DAEMONS}
    absent = [name for name, path in found.items() if path is None]
    if absent:
        return (
            f"Slurm test needs {', '.join(absent)} (Debian: apt-get install slurm-wlm munge; "
            ".ci/run installs them)"
        )
    if os.geteuid() != 0:
        return "Slurm test starts slurmd as root; run it as root (as CI does)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + START_BOUND_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tails = "\n".join(f"--- {p}\n{p.read_text()[-2000:]}" for p in logs if p.is_file())
    raise RuntimeError(f"test Slurm: {what} did not happen\n{tails}")


def write_config(folder: Path, cpus: int, memory_mb: int) -> Path:
    """slurm.conf for one node, this host, at 127.0.0.1; files under ``folder``."""
    host = socket.gethostname().split(".")[0]
    ctld_port, slurmd_port = _free_port(), _free_port()
    lines = {
        "ClusterName": "dsimtest",
        "SlurmctldHost": f"{host}(127.0.0.1)",
        "SlurmUser": "root",
        "SlurmdUser": "root",
        "AuthType": "auth/munge",
        "CredType": "cred/munge",
        "AuthInfo": f"socket={folder / 'munge' / 'munge.socket'}",
        "CommunicationParameters": "NoCtldInAddrAny,NoInAddrAny",
        "SlurmctldPort": str(ctld_port),
        "SlurmdPort": str(slurmd_port),
        "StateSaveLocation": str(folder / "state"),
        "SlurmdSpoolDir": str(folder / "spool"),
        "SlurmctldPidFile": str(folder / "slurmctld.pid"),
        "SlurmdPidFile": str(folder / "slurmd.pid"),
        "SlurmctldLogFile": str(folder / "log" / "slurmctld.log"),
        "SlurmdLogFile": str(folder / "log" / "slurmd.log"),
        "ProctrackType": "proctrack/linuxproc",
        "TaskPlugin": "task/none",
        "JobAcctGatherType": "jobacct_gather/none",
        "AccountingStorageType": "accounting_storage/none",
        "SchedulerType": "sched/backfill",
        "SelectType": "select/cons_tres",
        "SelectTypeParameters": "CR_Core",
        "MpiDefault": "none",
        "SwitchType": "switch/none",
        "MailProg": "/bin/true",
        "ReturnToService": "2",
        "SlurmdTimeout": "300",
        "InactiveLimit": "0",
        "KillWait": "5",
    }
    text = "\n".join(f"{k}={v}" for k, v in lines.items())
    text += (
        f"\nNodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN"
        f"\nPartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP\n"
    )
    conf = folder / "slurm.conf"
    conf.write_text(text)
    return conf


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@contextmanager
def slurm_cluster(folder: Path, cpus: int | None = None) -> Iterator[SlurmCluster]:
    """Start munged, slurmctld and slurmd under ``folder``; cancel all jobs and stop them after."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o711)  # munged wants its socket's folders traversable, not writable, by others
    for sub in ("munge", "state", "spool", "log"):
        (folder / sub).mkdir(exist_ok=True)
    (folder / "munge").chmod(0o711)
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    cpus = cpus or os.cpu_count() or 1
    conf = write_config(folder, cpus, memory_mb=2000)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    munge = folder / "munge"
    logs = [folder / "log" / "slurmctld.log", folder / "log" / "slurmd.log", munge / "munged.log"]
    commands = {
        "munged": [
            "munged",
            "--foreground",
            "--force",
            f"--socket={munge / 'munge.socket'}",
            f"--key-file={key}",
            f"--log-file={munge / 'munged.log'}",
            f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'munged.seed'}",
        ],
        "slurmctld": ["slurmctld", "-D", "-i", "-f", str(conf)],
        "slurmd": ["slurmd", "-D", "-f", str(conf)],
    }
    processes: list[subprocess.Popen] = []
    out = open(folder / "log" / "daemons.out", "w")  # closed below
    try:
        for name in DAEMONS:
            processes.append(
                subprocess.Popen(
                    commands[name],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            if name == "munged":
                _wait_for((munge / "munge.socket").exists, "munged's socket", logs)
        pids = {name: process.pid for name, process in zip(DAEMONS, processes, strict=True)}
        cluster = SlurmCluster(conf, folder, env, pids)

        def node_idle() -> bool:
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"test Slurm: {process.args[0]} exited; see {folder}/log")
            try:
                state = cluster.run("sinfo", "--noheader", "--format=%T", timeout=20)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                return False
            return state.strip() == "idle"

        _wait_for(node_idle, "the node coming up idle", logs)
        yield cluster
    finally:
        if processes and processes[1].poll() is None:
            subprocess.run(
                ["scancel", "--full", "--partition=test"], env=env, capture_output=True, timeout=60
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                queue = subprocess.run(
                    ["squeue", "--noheader"], env=env, capture_output=True, text=True, timeout=30
                )
                if queue.returncode != 0 or not queue.stdout.strip():
                    break
                time.sleep(0.5)
        for process in reversed(processes):
            _stop(process)
        out.close()
