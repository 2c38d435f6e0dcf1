"""A process killed with SIGKILL in the middle of a large import leaves the database as
it was — while staging the rows, and inside the merge transaction itself.

The import runs as a real ``relatiebeheer import`` process on its own SQLite database
(a fresh var directory), so the kill is exactly what a crash or an OOM kill does.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RELATIEBEHEER = str(Path(sys.executable).parent / "relatiebeheer")
ROWS = 150_000


def _run(env, *args, check=True):
    return subprocess.run(
        [RELATIEBEHEER, *args], env=env, capture_output=True, text=True, check=check, timeout=600
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    var = tmp_path_factory.mktemp("kill-var")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["RELATIEBEHEER_VAR"] = str(var)
    _run(env, "migrate", "-v0")
    accounts = var / "accounts.csv"
    accounts.write_text(
        "Relatienummer;Naam;Plaats\n" + "".join(f"K{i};Klant {i};Utrecht\n" for i in range(200)),
        encoding="utf-8",
    )
    _run(env, "import", "accounts", str(accounts))
    orders = var / "orders.csv"
    with open(orders, "w", encoding="utf-8") as out:
        out.write("Factuurnummer;Debiteurnummer;Factuurdatum;Bedrag excl. btw\n")
        for i in range(ROWS):
            out.write(
                f"F{i};K{i % 200};{1 + i % 28:02d}-{1 + i % 12:02d}-2025;{i % 5000},{i % 100:02d}\n"
            )
    return env, var, orders


def _state(var: Path):
    with sqlite3.connect(var / "relatiebeheer.sqlite3", timeout=30) as db:
        orders = db.execute("SELECT COUNT(*) FROM sales_order").fetchone()[0]
        accounts = db.execute("SELECT COUNT(*), SUM(version) FROM relations_account").fetchone()
        job = db.execute(
            "SELECT status, phase, rows_done FROM imports_importjob ORDER BY id DESC LIMIT 1"
        ).fetchone()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return orders, accounts, job, tables


def _kill_when(env, orders: Path, var: Path, ready, pause: str = ""):
    env = {**env, "RELATIEBEHEER_TEST_PAUSE": pause}
    process = subprocess.Popen(
        [RELATIEBEHEER, "import", "orders", str(orders)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert process.poll() is None, "the import finished before it could be killed"
            job = _state(var)[2]
            if job and ready(job):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the import never reached the point to kill it")
        if pause:
            time.sleep(5)  # let the statements before the pause run; it holds the process
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode


def test_killed_while_staging_leaves_the_database_as_it_was(world):
    env, var, orders = world
    before = _state(var)
    # Held after its first batch is staged (progress is written at most twice a second,
    # so rows_done may still read 0 there); killed 5 s into the hold.
    code = _kill_when(env, orders, var, lambda job: job[1] == "checking", "import.staging:120")
    assert code == -signal.SIGKILL
    after = _state(var)
    assert after[0] == before[0] == 0
    assert after[1] == before[1]
    assert not any(name.startswith("imp_stage") for name in after[3])


def test_killed_inside_the_merge_transaction_leaves_the_database_as_it_was(world):
    env, var, orders = world
    before = _state(var)
    code = _kill_when(env, orders, var, lambda job: job[1] == "importing", pause="import.merge:120")
    assert code == -signal.SIGKILL
    after = _state(var)
    assert after[0] == 0 and after[1] == before[1]
    # The interrupted job is reported as such, and the same file then imports cleanly.
    result = _run(env, "import", "orders", str(orders))
    assert f"{ROWS} created" in result.stdout
    assert _state(var)[0] == ROWS
