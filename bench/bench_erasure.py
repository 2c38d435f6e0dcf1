"""Benchmark: erasing one contact on a generated book, with another writer at work.

A book made by ``relatiebeheer generate`` (default 50,000 accounts and 1,000,000
orders, seed 1) gets a person to erase, with personal data in the places an erasure
must reach: tasks and contact moments that name them, a survey mail in the outbox, a
queued task's arguments. A second process (the *other writer*) then writes a task every
20 ms, each in its own transaction, and records how long each write took; after one
second the erasure runs (``privacy.services.contact_erase``, as a sales manager); one
second after it ended the other writer stops.

Reported per database: the erasure's duration and the other writer's waits while the
erasure ran (the longest, p99, p50, count). Targets (issue 15): erasure < 2 s, no wait
of the other writer over 1 s.

Usage (from the repository root)::

    .venv/bin/python bench/bench_erasure.py                 # 1M orders, SQLite + PostgreSQL
    .venv/bin/python bench/bench_erasure.py --quick         # 100k orders
    .venv/bin/python bench/bench_erasure.py --no-postgres
    .venv/bin/python bench/bench_erasure.py --baseline-src /path/to/old/src   # and the old code

Writes bench/out/erasure.json (erasure-quick.json). Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import OUT, RELATIEBEHEER, bench_env, machine, percentile, run, write_json  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")

PREPARE = r"""
import django, json
django.setup()
from django.db.models import Count
from relatiebeheer.relations.models import Account, Contact, Interaction, Task
from relatiebeheer.users.models import User
from relatiebeheer.outbox.services import mail_enqueue
account = Account.objects.annotate(n=Count("orders")).order_by("-n", "pk").first()
contact = Contact.objects.filter(account=account).order_by("pk").first()
contact.first_name, contact.last_name = "Mei", "Li"
contact.email, contact.phone = "mei.li@bench.example", "+31611111111"
contact.erased_at = None  # a book measured before: the same person again
if hasattr(contact, "erasure_started_at"):
    contact.erasure_started_at = None
contact.save()
for i in range(20):
    Task.objects.create(account=account, title=f"Li terugbellen ({i})",
                        description="Mei Li vroeg naar de lijst")
    moment = Interaction.objects.create(account=account, subject="Gesprek met Mei Li",
                                        notes="mei.li@bench.example")
    moment.contacts.add(contact)
import time
mail_enqueue(key=f"bench:{contact.pk}:{time.time()}", to=contact.email, subject="Beste Mei Li",
             text="Hallo Mei", purpose="surveys", contact=contact)
if not User.objects.filter(username="bench-erase").exists():
    User.objects.create_user(username="bench-erase", password="x" * 16, role="sales_manager")
other = Account.objects.exclude(pk=account.pk).order_by("pk").first()
print(json.dumps({"contact": contact.pk, "account": account.pk, "orders": account.n,
                  "other_account": other.pk}))
"""

WRITER = r"""
import django, json, sys, time
django.setup()
from django.db import transaction
from relatiebeheer.relations.models import Task
account_id, stop_file = int(sys.argv[1]), sys.argv[2]
import os
samples = []
while not os.path.exists(stop_file):
    started = time.time()
    with transaction.atomic():
        Task.objects.create(account_id=account_id, title="bench: other writer")
    samples.append((started, time.time() - started))
    time.sleep(0.02)
Task.objects.filter(title="bench: other writer").delete()
print(json.dumps(samples))
"""

ERASE = r"""
import django, json, sys, time
django.setup()
from relatiebeheer.privacy.services import contact_erase
from relatiebeheer.relations.models import Contact
from relatiebeheer.users.models import User
actor = User.objects.get(username="bench-erase")
contact = Contact.objects.get(pk=int(sys.argv[1]))
from relatiebeheer.privacy import services
steps, last = [], [time.time()]
def step_done(name):
    now = time.time()
    steps.append((name, round(now - last[0], 4)))
    last[0] = now
services._step_done = step_done  # only the new erasure has steps
started = last[0] = time.time()
summary = contact_erase(actor=actor, contact=contact)
ended = time.time()
slowest = sorted(steps, key=lambda s: -s[1])[:5]
print(json.dumps({"started": started, "ended": ended, "summary": summary, "slowest": slowest}))
"""


def prepare(env: dict[str, str], var: Path, *, accounts: int, orders: int) -> None:
    marker = var / "generated.json"
    wanted = {"accounts": accounts, "orders": orders, "db": env.get("DATABASE_URL", "sqlite")}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        run([RELATIEBEHEER, "migrate", "-v0"], env, quiet=True)
        print(f"  reusing the generated book in {var}", flush=True)
        return
    started = time.perf_counter()
    if "DATABASE_URL" in env:
        reset_postgres(env["DATABASE_URL"])
    else:
        shutil.rmtree(var)
        var.mkdir(parents=True)
    run([RELATIEBEHEER, "migrate", "-v0"], env, quiet=True)
    run(
        [RELATIEBEHEER, "generate", "--accounts", str(accounts), "--orders", str(orders),
         "--seed", "1", "--today", "2026-11-27"],
        env,
        quiet=True,
    )  # fmt: skip
    marker.write_text(json.dumps(wanted))
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


def measure(env: dict[str, str], var: Path, erase_src: str | None = None) -> dict:
    """One erasure with the other writer at work; ``erase_src``: run the erasure with the
    code under that ``src`` directory instead (a baseline: the code before this change)."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "relatiebeheer.config.settings"}
    erase_env = env
    if erase_src:
        erase_env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT), erase_src])}
    person = json.loads(run([sys.executable, "-c", PREPARE], env, quiet=True).splitlines()[-1])
    stop = var / "stop-writer"
    stop.unlink(missing_ok=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(person["other_account"]), str(stop)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2.0)  # the writer is up and writing
        erased = json.loads(
            run([sys.executable, "-c", ERASE, str(person["contact"])], erase_env, quiet=True)
            .strip()
            .splitlines()[-1]
        )
        time.sleep(1.0)
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=60)
    samples = json.loads(out.strip().splitlines()[-1])
    during = [
        wait
        for started, wait in samples
        if started + wait >= erased["started"] and started <= erased["ended"]
    ]
    seconds = erased["ended"] - erased["started"]
    return {
        "orders_of_the_account": person["orders"],
        "erasure_s": round(seconds, 3),
        "summary": erased["summary"],
        "writer_writes_during": len(during),
        "writer_wait_max_ms": round(max(during, default=0) * 1000, 1),
        "writer_wait_p99_ms": round(percentile(during, 99) * 1000, 1) if during else None,
        "writer_wait_p50_ms": round(percentile(during, 50) * 1000, 1) if during else None,
        "writer_writes_total": len(samples),
        "slowest_steps": erased.get("slowest"),
        "erasure_under_2s": seconds < 2,
        "writer_waits_under_1s": max(during, default=0) < 1,
    }


def reset_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def postgres_env(var: Path) -> dict[str, str] | None:
    try:
        import psycopg
    except ImportError:
        return None
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        print(f"  PostgreSQL not reachable ({exc}); skipped", flush=True)
        return None
    return {**bench_env(var), "DATABASE_URL": PG_URL.rsplit("/", 1)[0] + "/rb_bench_erasure"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k orders, 5k accounts")
    parser.add_argument("--orders", type=int)
    parser.add_argument("--accounts", type=int)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="generate the books again")
    parser.add_argument(
        "--baseline-src",
        help="also erase with the code in this src directory (e.g. the main branch before "
        "the registry), on the same book, as a baseline",
    )
    args = parser.parse_args(argv)
    orders = args.orders or (100_000 if args.quick else 1_000_000)
    accounts = args.accounts or max(1, orders // 20)
    results: dict[str, dict] = {}
    databases = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    for db in databases:
        var = OUT / "erasure-data" / db
        if args.fresh and var.exists():
            shutil.rmtree(var)
        var.mkdir(parents=True, exist_ok=True)
        print(f"{db}: {accounts:,} accounts, {orders:,} orders", flush=True)
        env = bench_env(var) if db == "sqlite" else postgres_env(var)
        if env is None:
            continue
        prepare(env, var, accounts=accounts, orders=orders)
        results[db] = measure(env, var)
        print(f"  {json.dumps(results[db])}", flush=True)
        if args.baseline_src:
            results[f"{db}-baseline"] = measure(env, var, erase_src=args.baseline_src)
            print(f"  baseline: {json.dumps(results[f'{db}-baseline'])}", flush=True)
    name = "erasure-quick.json" if args.quick else "erasure.json"
    path = write_json(
        name, {"machine": machine(), "orders": orders, "accounts": accounts, "results": results}
    )
    print(f"written: {path}")
    missed = [
        db
        for db, r in results.items()
        if not db.endswith("-baseline")
        and not (r["erasure_under_2s"] and r["writer_waits_under_1s"])
    ]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
