"""A recompute killed with SIGKILL half-way leaves the previous snapshot intact.

The recompute runs as a real ``relatiebeheer recompute`` process on its own SQLite
database and is killed inside the transaction that replaces the snapshot, after the
old rows were deleted and the new ones written — the worst moment to die.
"""

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RELATIEBEHEER = str(Path(sys.executable).parent / "relatiebeheer")


def _run(env, *args):
    return subprocess.run(
        [RELATIEBEHEER, *args], env=env, capture_output=True, text=True, check=True, timeout=600
    )


def _snapshot(var: Path):
    with sqlite3.connect(var / "relatiebeheer.sqlite3", timeout=30) as db:
        runs = db.execute("SELECT COUNT(*), MAX(id) FROM value_metricsrun").fetchone()
        rows = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT run_id), MIN(run_id), SUM(revenue_12m_cents)"
            " FROM value_accountmetrics"
        ).fetchone()
    return runs, rows


def test_recompute_killed_inside_its_transaction_keeps_the_previous_snapshot(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["RELATIEBEHEER_VAR"] = str(tmp_path)
    _run(env, "migrate", "-v0")
    generate = ["generate", "--accounts", "200", "--orders", "2000", "--seed", "3"]
    _run(env, *generate, "--today", "2026-06-30")
    _run(env, "recompute")
    before = _snapshot(tmp_path)
    assert before[1][0] == 200 and before[1][1] == 1  # one complete run

    # More accounts, so the interrupted run would have written a different snapshot.
    _run(env, *generate, "--append", "--today", "2026-06-30")
    process = subprocess.Popen(
        [RELATIEBEHEER, "recompute"],
        env={**env, "RELATIEBEHEER_TEST_PAUSE": "recompute.written:120"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stderr:
            if "paused at recompute.written" in line:
                break
        else:
            pytest.fail("the recompute ended before it reached the point to kill it")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL

    assert _snapshot(tmp_path) == before  # the old rows, all of them, nothing of the new run

    _run(env, "recompute")  # and the next recompute simply works
    runs, rows = _snapshot(tmp_path)
    assert runs[0] == 2 and rows[0] == 400 and rows[1] == 1 and rows[2] == runs[1]
