"""The whole-book recompute reads on several connections; the figures must not change.

On SQLite the pass over the orders runs in forked child processes, which only happens
in a process without other threads; on PostgreSQL it runs in account id ranges on
threads. Each test runs the real ``relatiebeheer recompute`` on its own database: once
reading in parallel, once one read after another, and the two snapshots must be equal
in every column. ``--as-of`` lies a month before the generated history ends, so orders
dated after it are corrected for as well.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.slow

RELATIEBEHEER = str(Path(sys.executable).parent / "relatiebeheer")


def _run(env, *args, **extra_env):
    return subprocess.run(
        [RELATIEBEHEER, *args],
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout


def _snapshot(var: Path) -> list[tuple]:
    with sqlite3.connect(var / "relatiebeheer.sqlite3", timeout=30) as db:
        names = [row[1] for row in db.execute("PRAGMA table_info(value_accountmetrics)")]
        columns = ", ".join(name for name in names if name != "run_id")
        return db.execute(
            f"SELECT {columns} FROM value_accountmetrics ORDER BY account_id"
        ).fetchall()


def test_parallel_and_serial_reads_give_the_same_snapshot(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["RELATIEBEHEER_VAR"] = str(tmp_path)
    _run(env, "migrate", "-v0")
    _run(env, "generate", "--accounts", "600", "--orders", "12000", "--seed", "5",
         "--today", "2026-06-30")  # fmt: skip
    recompute = ["recompute", "--as-of", "2026-05-31", "--no-prediction"]

    parallel_output = _run(env, *recompute, RECOMPUTE_READ_WORKERS="2")
    parallel = _snapshot(tmp_path)
    serial_output = _run(env, *recompute, RECOMPUTE_READ_WORKERS="1")
    serial = _snapshot(tmp_path)

    assert "read in 2 child processes" in parallel_output  # the forked path really ran
    assert "child processes" not in serial_output
    assert len(serial) == 600
    assert parallel == serial
    # Not a vacuous comparison: there is money in it, and orders after --as-of exist.
    assert sum(row[6] for row in serial) > 0  # revenue_total_cents
    with sqlite3.connect(tmp_path / "relatiebeheer.sqlite3") as db:
        later = db.execute("SELECT COUNT(*) FROM sales_order WHERE date > '2026-05-31'")
        assert later.fetchone()[0] > 0


def test_parallel_and_serial_reads_give_the_same_snapshot_on_postgresql(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("runs in the PostgreSQL run of the suite")
    server, name = url.rsplit("/", 1)
    own = f"{name}_parallel_{os.getpid()}"  # the CI run drops databases named after its own
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{own}"')
        admin.execute(f'CREATE DATABASE "{own}"')
    env = {**os.environ, "DATABASE_URL": f"{server}/{own}", "RELATIEBEHEER_VAR": str(tmp_path)}
    try:
        _run(env, "migrate", "-v0")
        _run(env, "generate", "--accounts", "600", "--orders", "12000", "--seed", "5",
             "--today", "2026-06-30")  # fmt: skip
        recompute = ["recompute", "--as-of", "2026-05-31", "--no-prediction"]

        parallel_output = _run(env, *recompute, RECOMPUTE_READ_WORKERS="2")
        parallel = _pg_snapshot(env["DATABASE_URL"])
        serial_output = _run(env, *recompute, RECOMPUTE_READ_WORKERS="1")
        serial = _pg_snapshot(env["DATABASE_URL"])
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')

    assert "read on 2 connections at once" in parallel_output  # the parallel path ran
    assert "connections at once" not in serial_output
    assert len(serial) == 600
    assert parallel == serial
    assert sum(row[6] for row in serial) > 0  # revenue_total_cents: money in it


def _pg_snapshot(url: str) -> list[tuple]:
    with psycopg.connect(url) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT attname FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped "
                "AND attrelid = 'value_accountmetrics'::regclass ORDER BY attnum"
            )
        ]
        columns = ", ".join(name for name in names if name != "run_id")
        return db.execute(
            f"SELECT {columns} FROM value_accountmetrics ORDER BY account_id"
        ).fetchall()
