"""The fault suite: issue 8's table, on real processes.

Each scenario runs the real stack (tests/faults/stack.py: API, scheduler, 2 worker processes x 4
threads, a private redis-server, OpenBao, the provider simulator, PostgreSQL behind a cuttable proxy)
through one fault and asserts: every accepted job (200/202) reaches a terminal state within a bound,
0 stuck, 0 lost, 0 duplicated provider side effects (campaigns per job key in the simulator's state),
0 side effects that no succeeded job recorded, 0 messages dramatiq failed outside the runner.
Each prints one ``FAULTS <scenario>: ...`` line; the end of the run repeats them under "fault suite
figures" with the problems found.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/faults            # both brokers
    .venv/bin/python -m pytest -q -p no:cacheprovider tests/faults -k redis   # one

Run directories (logs of every process start, Redis and OpenBao data) are /tmp/sintra-faults-*.
"""
