"""Recompute of the per-account metrics versus a bare SQL aggregate over the same orders.

Requirement (issue "Customer value and CLV"): with 100k accounts and 2M orders, the
SQL-side metrics recompute — snapshot writes included — takes at most 2 × the time of

    SELECT account_id, SUM(revenue), SUM(cost), COUNT(*), MIN(date), MAX(date)
    FROM orders GROUP BY account_id

measured on the same table in the same run; the predicted-CLV fit is timed separately;
peak memory < 1 GB. On SQLite and on PostgreSQL.

Usage: python -m bench recompute [--quick] [--postgres URL] [--repeat N]
The SQLite data set is the one bench_api.py makes (bench/out/var); the PostgreSQL one is
generated into the database named by --postgres (default postgres://postgres@127.0.0.1:5432/rb_bench)
when it is missing or different.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench.common import OUT, RELATIEBEHEER, ROOT, bench_env, machine, run, write_json

INNER = r"""
import json, resource, statistics, sys, time, tracemalloc
import django
django.setup()
from django.db import connection
from django.utils import timezone
from relatiebeheer.sales.models import Order
from relatiebeheer.reports.stats import refresh_dashboard_figures
from relatiebeheer.value.compute import compute, predict
from relatiebeheer.value.services import _store_snapshot

repeat = int(sys.argv[1])
q = connection.ops.quote_name
t = q(Order._meta.db_table)
col = lambda name: q(Order._meta.get_field(name).column)
baseline_sql = (
    f"SELECT {col('account')}, SUM({col('revenue')}), SUM({col('cost_of_goods')}), COUNT(*), "
    f"MIN({col('date')}), MAX({col('date')}) FROM {t} GROUP BY {col('account')}"
)

def baseline():
    with connection.cursor() as cursor:
        cursor.execute(baseline_sql)
        return len(cursor.fetchall())

def recompute():
    # The snapshot part of metrics_recompute (without the prediction fit, timed below,
    # and the period figures that follow it, timed on their own).
    started = time.perf_counter()
    computed = compute(timezone.localdate())
    run = _store_snapshot(computed, actor=None, started=started, marks_upto=0)
    return run.accounts

def fit():
    computed = compute(timezone.localdate())
    started = time.perf_counter()
    predict(computed)
    return time.perf_counter() - started, computed.prediction

def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started

baseline(); recompute()  # warm the caches the same way for both
pairs = []
for _ in range(repeat):
    b = timed(baseline)
    r = timed(recompute)
    pairs.append((b, r))
tracemalloc.start()
recompute()
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
fit_seconds, prediction = fit()
period_figures_s = timed(refresh_dashboard_figures)
orders = Order.objects.count()
print(json.dumps({
    "vendor": connection.vendor,
    "orders": orders,
    "baseline_s": [p[0] for p in pairs],
    "recompute_s": [p[1] for p in pairs],
    "ratio": statistics.median(p[1] / p[0] for p in pairs),
    "peak_python_mb": peak / 2**20,
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "fit_s": fit_seconds,
    "period_figures_s": period_figures_s,
    "prediction": {k: v for k, v in prediction.items() if k in ("available", "customers", "repeat_buyers", "reason", "bgnbd")},
}))
"""


def measure(env: dict, repeat: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", INNER, str(repeat)],
        env={**env, "DJANGO_SETTINGS_MODULE": "relatiebeheer.config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError("the recompute measurement failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure_postgres(url: str, accounts: int, orders: int, seed: int) -> dict:
    """Generate the data set into the PostgreSQL database ``url`` unless it is there."""
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    marker = OUT / f"postgres-{name}.json"
    wanted = {"accounts": accounts, "orders": orders, "seed": seed}
    var = OUT / "var-postgres"
    var.mkdir(parents=True, exist_ok=True)
    env = {**bench_env(var), "DATABASE_URL": url}
    exists = subprocess.run(
        ["psql", admin, "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True, text=True, check=False,
    ).stdout.strip() == "1"  # fmt: skip
    if exists and marker.exists() and json.loads(marker.read_text()) == wanted:
        run([RELATIEBEHEER, "migrate", "-v0"], env, quiet=True)
        return env
    subprocess.run(
        ["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True
    )
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    run([RELATIEBEHEER, "migrate", "-v0"], env, quiet=True)
    run(
        [
            RELATIEBEHEER,
            "generate",
            "--accounts",
            str(accounts),
            "--orders",
            str(orders),
            "--seed",
            str(seed),
        ],
        env,
    )
    marker.write_text(json.dumps(wanted))
    return env


def show(label: str, result: dict) -> None:
    b = sorted(result["baseline_s"])[len(result["baseline_s"]) // 2]
    r = sorted(result["recompute_s"])[len(result["recompute_s"]) // 2]
    print(
        f"  {label:<10} orders {result['orders']:>9,}  baseline {b:6.2f} s  recompute {r:6.2f} s  "
        f"ratio {result['ratio']:.2f} (≤ 2.00)  peak {result['peak_python_mb']:.0f} MB Python / "
        f"{result['max_rss_mb']:.0f} MB RSS  fit {result['fit_s']:.2f} s  "
        f"period figures {result.get('period_figures_s', 0):.2f} s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small data set (smoke run)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/rb_bench")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--accounts", type=int, default=None, help="a book of this size (orders: 20 each)"
    )
    args = parser.parse_args(argv)
    accounts, orders = (2_000, 40_000) if args.quick else (100_000, 2_000_000)
    if args.accounts:
        accounts, orders = args.accounts, args.accounts * 20

    from bench.bench_api import prepare_data

    size = "quick" if args.quick else (f"{accounts}" if args.accounts else "")
    var = OUT / (f"var-{size}" if size else "var")
    prepare_data(var, accounts=accounts, orders=orders, seed=1, fresh=False)
    results = {"sqlite": measure(bench_env(var), args.repeat)}
    show("SQLite", results["sqlite"])
    if not args.no_postgres:
        url = args.postgres + (f"_{size}" if size else "")
        env = ensure_postgres(url, accounts, orders, seed=1)
        results["postgresql"] = measure(env, args.repeat)
        show("PostgreSQL", results["postgresql"])
    path = write_json(
        f"recompute-{size}.json" if size else "recompute.json",
        {"machine": machine(), **results},
    )
    print(f"  written to {Path(path).relative_to(ROOT)}")
    failed = [k for k, v in results.items() if v["ratio"] > 2.0 or v["max_rss_mb"] > 1024]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
