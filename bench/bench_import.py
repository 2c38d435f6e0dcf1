"""Benchmark the import of a 1M-row Dutch-notation orders CSV, against baselines and a peer.

Measured in one run, on a fresh database each:

1. **baseline** — a bare ``sqlite3`` ``executemany`` of the same rows, already parsed
   (integers, ISO dates), into a table with ``sales_order``'s schema and indexes, in one
   transaction: the floor no importer can beat;
2. **ours** — ``relatiebeheer import orders FILE`` (a separate process): reading the CSV,
   parsing Dutch amounts and dates, checking every row, resolving the accounts, staging
   and merging; its time is the job's own (no process start-up), its peak memory the
   process's maximum resident set;
3. **peer** — django-import-export 4 (``ModelResource.import_data``) on a 50,000-row
   subset of the same rows (in the notation it reads: ISO dates, decimal points),
   reported as a rows/s ratio;
4. **PostgreSQL** (when reachable): ours through ``COPY`` and a bare ``COPY`` of the
   parsed rows as its baseline.

Usage (from the repository root)::

    .venv/bin/python bench/bench_import.py              # 1M rows
    .venv/bin/python bench/bench_import.py --quick      # 100k rows, 10k peer rows
    .venv/bin/python bench/bench_import.py --rows 300000 --no-postgres

Writes bench/out/import.json (or import-quick.json). Exit status 1 when ours is below
25 % of the baseline's rows/s or its peak memory exceeds 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RELATIEBEHEER = str(Path(sys.executable).parent / "relatiebeheer")
ACCOUNTS = 1000
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def env_for(var: Path, database_url: str = "") -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["RELATIEBEHEER_VAR"] = str(var)
    env["LOG_LEVEL"] = "ERROR"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise RuntimeError(f"{' '.join(args[:3])} failed with {done.returncode}")
    return done.stdout


def make_rows(n: int) -> list[tuple]:
    """The parsed rows: (external id, account number, date, revenue cents, cost cents)."""
    start = date(2020, 1, 1)
    return [
        (
            f"F{i:07d}",
            i % ACCOUNTS,
            start + timedelta(days=i % 2000),
            1000 + (i * 7919) % 900_000,
            (i * 104729) % 500_000,
        )
        for i in range(n)
    ]


def write_dutch_csv(path: Path, rows: list[tuple]) -> None:
    def dutch(cents: int) -> str:
        return f"{cents // 100},{cents % 100:02d}"

    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Factuurnummer;Debiteurnummer;Factuurdatum;Bedrag excl. btw;Kostprijs\n")
        out.writelines(
            f"{ext};K{acc:04d};{d.day:02d}-{d.month:02d}-{d.year};{dutch(rev)};{dutch(cost)}\n"
            for ext, acc, d, rev, cost in rows
        )


def write_plain_csv(path: Path, rows: list[tuple]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("external_id,account,date,revenue,cost_of_goods\n")
        out.writelines(
            f"{ext},K{acc:04d},{d.isoformat()},{rev / 100:.2f},{cost / 100:.2f}\n"
            for ext, acc, d, rev, cost in rows
        )


def order_ddl(db_path: Path) -> list[str]:
    """``sales_order``'s CREATE TABLE and CREATE INDEX statements from a migrated database."""
    with sqlite3.connect(db_path) as db:
        return [
            sql
            for (sql,) in db.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'sales_order' AND sql IS NOT NULL ORDER BY type DESC"
            )
        ]


def baseline_sqlite(ddl: list[str], rows: list[tuple], target: Path) -> float:
    """Bare executemany of parsed rows into a table like sales_order (no FK targets)."""
    target.unlink(missing_ok=True)
    db = sqlite3.connect(target, isolation_level=None)
    # The same settings as the app's connections (config/settings.py).
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "cache_size=-64000",
        "temp_store=MEMORY",
    ):
        db.execute(f"PRAGMA {pragma}")
    for sql in ddl:
        db.execute(
            sql.replace(
                'REFERENCES "relations_account" ("id") DEFERRABLE INITIALLY DEFERRED', ""
            ).replace('REFERENCES "sales_order" ("id") DEFERRABLE INITIALLY DEFERRED', "")
        )
    now = "2026-11-27 00:00:00"
    params = [
        (1, now, now, acc + 1, d.isoformat(), "", ext, "open", rev, cost, "21.00", None, "")
        for ext, acc, d, rev, cost in rows
    ]
    started = time.perf_counter()
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO sales_order (version, created_at, updated_at, account_id, date, number, external_id, status, "
        "revenue_cents, cost_of_goods_cents, vat_rate, credit_of_id, notes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        params,
    )
    db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return seconds


# The child's own peak (VmHWM): ru_maxrss would include this process's memory, which a
# forked child carries until it execs.
LAUNCHER = (
    "import resource, sys\n"
    "from relatiebeheer.cli import main\n"
    "sys.argv = ['relatiebeheer', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
    "    sys.stderr.write('PEAK_KB=' + (peak[0].split()[1] if peak else '0') + '\\n')\n"
)


def ours(env: dict[str, str], csv_path: Path, db_query) -> dict:
    """``relatiebeheer import orders FILE`` in its own process; the job's time, the peak RSS."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, "import", "orders", str(csv_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise RuntimeError(f"the import failed with {done.returncode}")
    peak_kb = int(done.stderr.rsplit("PEAK_KB=", 1)[1].split()[0])
    job_seconds, created, status = db_query(
        "SELECT seconds, created, status FROM imports_importjob ORDER BY id DESC LIMIT 1"
    )
    return {
        "seconds": job_seconds,
        "wall_seconds_with_startup": wall,
        "created": created,
        "status": status,
        "peak_rss_mb": peak_kb / 1024,
        "summary": done.stdout.strip().splitlines()[-2:],
    }


def setup_database(env: dict[str, str], var: Path) -> None:
    run([RELATIEBEHEER, "migrate", "-v0"], env)
    accounts = var / "accounts.csv"
    accounts.write_text(
        "Relatienummer;Naam;Plaats\n"
        + "".join(f"K{i:04d};Klant {i};Utrecht\n" for i in range(ACCOUNTS)),
        encoding="utf-8",
    )
    run([RELATIEBEHEER, "import", "accounts", str(accounts)], env)


PEER_SCRIPT = r"""
import sys, time, json
import django
django.setup()
import tablib
from import_export import fields, resources, widgets
from relatiebeheer.relations.models import Account
from relatiebeheer.sales.models import Order

class OrderResource(resources.ModelResource):
    account = fields.Field(attribute="account", column_name="account",
                           widget=widgets.ForeignKeyWidget(Account, "external_id"))
    class Meta:
        model = Order
        fields = ("external_id", "account", "date", "revenue", "cost_of_goods")
        import_id_fields = ("external_id",)
        use_transactions = True
        skip_diff = True

data = tablib.Dataset().load(open(sys.argv[1], encoding="utf-8").read(), format="csv")
started = time.perf_counter()
result = OrderResource().import_data(data, dry_run=False, raise_errors=True)
seconds = time.perf_counter() - started
print(json.dumps({"rows": len(data), "seconds": seconds, "errors": result.has_errors()}))
"""


def peer(env: dict[str, str], csv_path: Path) -> dict:
    out = run(
        [sys.executable, "-c", PEER_SCRIPT, str(csv_path)],
        {**env, "DJANGO_SETTINGS_MODULE": "relatiebeheer.config.settings"},
    )
    return json.loads(out.strip().splitlines()[-1])


def postgres(rows: list[tuple], csv_path: Path, var: Path) -> dict | None:
    try:
        import psycopg
    except ImportError:
        return None
    name = "imp_bench_import"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"  PostgreSQL not reachable ({exc}); skipped", flush=True)
        return None
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    env = env_for(var / "pg", url)
    (var / "pg").mkdir(exist_ok=True)
    try:
        setup_database(env, var / "pg")
        with psycopg.connect(url) as conn:
            query = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
            result = ours(env, csv_path, query)
            conn.commit()
            ids = dict(conn.execute("SELECT external_id, id FROM relations_account").fetchall())
            conn.execute(
                "CREATE TEMP TABLE baseline (LIKE sales_order INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
            )
            started = time.perf_counter()
            with conn.cursor().copy(
                "COPY baseline (version, created_at, updated_at, account_id, date, number, external_id, status, "
                "revenue_cents, cost_of_goods_cents, vat_rate, notes) FROM STDIN"
            ) as copy:
                for ext, acc, d, rev, cost in rows:
                    copy.write_row(
                        (
                            1,
                            "2026-11-27",
                            "2026-11-27",
                            ids[f"K{acc:04d}"],
                            d,
                            "",
                            ext,
                            "open",
                            rev,
                            cost,
                            "21.00",
                            "",
                        )
                    )
            conn.commit()
            result["baseline_copy_seconds"] = time.perf_counter() - started
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--peer-rows", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.peer_rows = 100_000, 10_000
    var = OUT / ("var-import-quick" if args.quick else "var-import")
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    print(
        f"Import benchmark: {args.rows:,} Dutch-notation order rows, {ACCOUNTS} accounts",
        flush=True,
    )
    rows = make_rows(args.rows)
    csv_path = var / "orders.csv"
    write_dutch_csv(csv_path, rows)
    env = env_for(var)
    setup_database(env, var)
    db_file = var / "relatiebeheer.sqlite3"
    results: dict = {"rows": args.rows, "file_mb": csv_path.stat().st_size / 1e6}

    base = baseline_sqlite(order_ddl(db_file), rows, var / "baseline.sqlite3")
    results["baseline_sqlite"] = {"seconds": base, "rows_per_s": args.rows / base}
    print(
        f"  baseline: bare sqlite3 executemany of parsed rows: {args.rows / base:,.0f} rows/s ({base:.2f} s)",
        flush=True,
    )

    def sqlite_query(sql):
        with sqlite3.connect(db_file) as db:
            return db.execute(sql).fetchone()

    mine = ours(env, csv_path, sqlite_query)
    mine["rows_per_s"] = args.rows / mine["seconds"]
    mine["ratio_to_baseline"] = mine["rows_per_s"] / results["baseline_sqlite"]["rows_per_s"]
    results["ours_sqlite"] = mine
    print(
        f"  ours (SQLite): {mine['rows_per_s']:,.0f} rows/s ({mine['seconds']:.2f} s, parse + check + stage + merge) "
        f"= {mine['ratio_to_baseline']:.0%} of the baseline; peak memory {mine['peak_rss_mb']:.0f} MB",
        flush=True,
    )
    again = ours(env, csv_path, sqlite_query)
    results["ours_sqlite_again"] = {"seconds": again["seconds"], "created": again["created"]}
    print(
        f"  the same file again (all unchanged): {again['seconds']:.2f} s, {again['created']} created",
        flush=True,
    )

    if not args.no_peer:
        peer_var = var / "peer"
        peer_var.mkdir()
        peer_env = env_for(peer_var)
        setup_database(peer_env, peer_var)
        peer_csv = var / "orders-peer.csv"
        write_plain_csv(peer_csv, rows[: args.peer_rows])
        result = peer(peer_env, peer_csv)
        result["rows_per_s"] = result["rows"] / result["seconds"]
        result["ours_ratio"] = mine["rows_per_s"] / result["rows_per_s"]
        results["peer_django_import_export"] = result
        print(
            f"  django-import-export 4.4 on {result['rows']:,} rows: {result['rows_per_s']:,.0f} rows/s "
            f"→ ours is {result['ours_ratio']:.0f}× faster",
            flush=True,
        )

    if not args.no_postgres:
        pg = postgres(rows, csv_path, var)
        if pg is not None:
            pg["rows_per_s"] = args.rows / pg["seconds"]
            pg["baseline_rows_per_s"] = args.rows / pg["baseline_copy_seconds"]
            pg["ratio_to_baseline"] = pg["rows_per_s"] / pg["baseline_rows_per_s"]
            results["ours_postgresql"] = pg
            print(
                f"  ours (PostgreSQL, COPY): {pg['rows_per_s']:,.0f} rows/s ({pg['seconds']:.2f} s); bare COPY of parsed "
                f"rows {pg['baseline_rows_per_s']:,.0f} rows/s → {pg['ratio_to_baseline']:.0%}; peak {pg['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / ("import-quick.json" if args.quick else "import.json")
    target.write_text(json.dumps(results, indent=2, default=str))
    print(f"  written to {target.relative_to(ROOT)}", flush=True)
    ok = mine["ratio_to_baseline"] >= 0.25 and mine["peak_rss_mb"] < 300
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
