"""Worker processes for ``bench/perf.py``: start and stop them, and read their CPU and memory from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.throughput import Env


def worker_cmd(sintra: bool, processes: int, threads: int, *, gevent: bool = False) -> list[str]:
    """The command line of a Sintra worker (``python -m workers``: ``threads`` jobs at once, greenlets) or of
    a bare dramatiq worker of the given shape (threads; ``gevent``: dramatiq-gevent)."""
    if sintra:
        return [sys.executable, "-m", "workers", "--agent", "emmie", "--processes", str(processes)]
    shape = ["--processes", str(processes), "--threads", str(threads), "--skip-logging"]
    if gevent:
        return [str(Path(sys.executable).with_name("dramatiq-gevent")), "bench.bare_actor", "--queues", "bare", *shape]
    return [sys.executable, "-m", "dramatiq", "bench.bare_actor", "--queues", "bare", *shape]


def start_worker(env: Env, sintra: bool, processes: int, threads: int, *, gevent: bool = False,
                 **extra: str) -> subprocess.Popen[bytes]:
    """Start a worker and wait until its processes have booted (so drains do not time boot)."""
    p = env.start(worker_cmd(sintra, processes, threads, gevent=gevent), SINTRA_WORKER_AGENT="emmie",
                  SINTRA_WORKER_CONCURRENCY=str(threads), **extra)
    deadline = time.monotonic() + 60
    while len(children(p.pid)) < processes and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3 if sintra else 1.5)  # imports, Vault login, broker consumers
    return p


def stop(env: Env, p: subprocess.Popen[bytes]) -> None:
    """Stop one worker (its process group of dramatiq children goes with it)."""
    p.terminate()
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    env.procs.remove(p)


def children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (dramatiq's worker processes)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
