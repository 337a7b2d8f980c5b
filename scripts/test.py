"""``make test``'s pytest run: the fault suite in one pytest process beside the rest of the suite in another.

The fault suite (``tests/faults``) runs real processes through outages and kills whose lengths are part of
what it checks (a 30 s PostgreSQL cut, a 31 s Vault seal, 10 kills 5 s apart): for ~10 minutes it mostly
waits on those clocks, while the rest of the suite is CPU-bound. One after the other they took ~24 minutes
on a 2-core machine; side by side, ~11. They share nothing: the fault stacks start their own Redis,
OpenBao, simulator and API processes on free ports, and use their own PostgreSQL databases and RabbitMQ
vhosts, as the rest of the suite does.

The rest of the suite prints as it runs; the fault suite's output is kept in a file and printed after it.
The exit status is the first non-zero one of the two. With arguments, this is plain ``pytest ARGS``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
FAULTS = "tests/faults"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv: list[str]) -> int:
    if argv:
        return subprocess.call([*PYTEST, *argv], cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped CI job stops both runs too
    with tempfile.NamedTemporaryFile(prefix="sintra-faults-", suffix=".log", delete=False) as log:
        faults_log = Path(log.name)
    with faults_log.open("wb") as out:
        faults = subprocess.Popen([*PYTEST, "--durations=20", FAULTS], cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    print(f"fault suite ({FAULTS}) running beside the rest; its output follows the rest's "
          f"(meanwhile in {faults_log})", flush=True)
    rest = subprocess.Popen([*PYTEST, "--durations=25", f"--ignore={FAULTS}"], cwd=ROOT, start_new_session=True)
    try:
        rest_code = rest.wait()
        faults_code = faults.wait()
    except BaseException:
        _stop(rest)
        _stop(faults)
        raise
    print(f"\n{'=' * 30} fault suite ({FAULTS}) {'=' * 30}", flush=True)
    sys.stdout.buffer.write(faults_log.read_bytes())
    sys.stdout.flush()
    faults_log.unlink()
    print(f"\nrest of the suite: exit {rest_code}; fault suite: exit {faults_code}", flush=True)
    return rest_code or faults_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
