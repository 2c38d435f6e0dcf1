"""API latency under an open-loop load, against the production server, on SQLite.

Requirement: with 100k accounts and 2M orders on SQLite, the API's account list and
account detail at a fixed open-loop rate of 100 requests/s for 30 s have p99 < 100 ms.
Reported: p50 and p99 at 100 requests/s, the highest rate held with p99 < 100 ms
(steps of 10 s: 200, 300, … requests/s), and the same for a bare "hello" Django view
served the same way (``bench/hello_app.py``), as the baseline of the ratios — the
machine matters less for a ratio than for an absolute figure.

Both are served by ``relatiebeheer serve`` (gunicorn gthread; ``--workers``/``--threads``
as given, default 2 × 4) on a free port, one server at a time. The data set lives in
its own database under ``bench/out/var`` (``RELATIEBEHEER_VAR``; git-ignored), made with
``relatiebeheer generate`` and reused while its size and seed match.

Requests authenticate with personal API tokens: a sales manager (sees every account)
and account manager ``am001`` (sees their own portfolio). The account-list mix is 40 %
first page, 30 % a search (``q=`` one of a few common words), 30 % a filter by manager;
details ask for random accounts the user may see.

Usage (from the repository root)::

    .venv/bin/python -m bench.bench_api            # full: ~8 minutes, 100k/2M data set
    .venv/bin/python -m bench.bench_api --quick    # smoke run: small data, seconds per step

Results: a table on stdout and ``bench/out/api.json`` (``api-quick.json`` for --quick).
Exit status 1 when an API endpoint misses p99 < 100 ms at 100 requests/s (full run).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

from bench.common import (
    OUT,
    RELATIEBEHEER,
    Server,
    StepResult,
    bench_env,
    machine,
    open_loop,
    rate_steps,
    run,
    timed,
    write_json,
)

P99_LIMIT_MS = 100.0
COMMON_WORDS = ["amsterdam", "mode", "bakkerij", "rotterdam", "jansen", "groep"]

# Run in the bench's own environment: API users, their tokens and the ids to ask for.
SETUP_SCRIPT = r"""
import json, random, sys
import django
django.setup()
from relatiebeheer.relations.models import Account
from relatiebeheer.users.models import ApiToken, Role, User

sales, _ = User.objects.get_or_create(
    username="bench-sales", defaults={"role": Role.SALES_MANAGER, "first_name": "Bench"}
)
if sales.role != Role.SALES_MANAGER:
    sales.role = Role.SALES_MANAGER
    sales.save(update_fields=["role"])
am = User.objects.get(username="am001")
ApiToken.objects.filter(name="bench", revoked_at__isnull=True).update(revoked_at=django.utils.timezone.now())
_t, sales_token = ApiToken.issue(user=sales, name="bench")
_t, am_token = ApiToken.issue(user=am, name="bench")
rng = random.Random(1)
all_ids = list(Account.objects.values_list("id", flat=True))
own_ids = list(Account.objects.filter(manager=am).values_list("id", flat=True))
managers = list(User.objects.filter(username__regex=r"^am[0-9]+$").values_list("id", flat=True))
json.dump({
    "sales_token": sales_token, "am_token": am_token, "am_id": am.pk,
    "sales_ids": rng.sample(all_ids, min(5000, len(all_ids))),
    "am_ids": rng.sample(own_ids, min(5000, len(own_ids))),
    "manager_ids": managers, "accounts": len(all_ids), "am_accounts": len(own_ids),
}, sys.stdout)
"""


def prepare_data(var: Path, *, accounts: int, orders: int, seed: int, fresh: bool) -> dict:
    """Make the bench database with the generator unless the one there matches."""
    marker = var / "generated.json"
    wanted = {"accounts": accounts, "orders": orders, "seed": seed}
    env = bench_env(var)
    if not fresh and marker.exists() and json.loads(marker.read_text()).get("options") == wanted:
        print(f"Data set: reusing {var} ({accounts:,} accounts, {orders:,} orders)")
        run([RELATIEBEHEER, "migrate", "-v0"], env, quiet=True)  # the schema may have moved on
        return json.loads(marker.read_text())
    print(
        f"Data set: generating {accounts:,} accounts and {orders:,} orders in {var} …", flush=True
    )
    if var.exists():
        shutil.rmtree(var)
    var.mkdir(parents=True)
    timings: dict[str, float] = {}
    with timed("migrate", timings):
        run([RELATIEBEHEER, "migrate", "-v0"], env, quiet=True)
    with timed("generate", timings):
        output = run(
            [RELATIEBEHEER, "generate", "--accounts", str(accounts), "--orders", str(orders),
             "--seed", str(seed)],
            env,
        )  # fmt: skip
    info = {"options": wanted, "timings": timings, "generate_output": output}
    marker.write_text(json.dumps(info, indent=2))
    return info


def setup_users(var: Path) -> dict:
    out = run(
        [sys.executable, "-c", SETUP_SCRIPT],
        bench_env(var, DJANGO_SETTINGS_MODULE="relatiebeheer.config.settings"),
        quiet=True,
    )
    return json.loads(out)


def list_mix(token: str, manager_ids: list[int], seed: int):
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def request(i: int):
        roll = rng.random()
        if roll < 0.4:
            return "/api/v1/accounts", headers
        if roll < 0.7:
            return f"/api/v1/accounts?q={rng.choice(COMMON_WORDS)}", headers
        return f"/api/v1/accounts?manager={rng.choice(manager_ids)}", headers

    return request


def detail_mix(token: str, ids: list[int], seed: int):
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    return lambda i: (f"/api/v1/accounts/{rng.choice(ids)}", headers)


def hello_mix(seed: int):
    return lambda i: ("/hello", {})


def _show(rate: float, duration: float, result: StepResult, ok: bool) -> None:
    print(
        f"  {rate:>6.0f}/s {duration:>4.0f} s  p50 {result.p50_ms:>8.1f} ms  "
        f"p99 {result.p99_ms:>8.1f} ms  errors {result.errors:>5}  "
        f"late p99 {result.late_p99_ms:>6.1f} ms  {'held' if ok else 'NOT held'}",
        flush=True,
    )


def scenario(env: dict, label: str, make, args, *, ready: str, warm: list) -> dict:
    """On a fresh server: the fixed rate for the long run, then steps up (10 s each) until
    p99 reaches the limit. If even the fixed rate fails, steps down (½, ¼, 1/10 of it) on
    a restarted server to find what it does hold (not with --quick)."""
    print(f"\n{label}", flush=True)
    steps: list[StepResult] = []
    held = 0.0
    with Server(env, workers=args.workers, threads=args.threads, ready_path=ready) as server:
        server.warm_up(warm)
        up = [args.rate, *rate_steps(args.rate + 100, args.max_rate)]
        for rate in up:
            duration = args.fixed_duration if rate == args.rate else args.step_duration
            result = open_loop(
                server.base_url, make(int(rate)), rate=rate, duration=duration, label=label
            )
            steps.append(result)
            ok = result.held(P99_LIMIT_MS)
            _show(rate, duration, result, ok)
            if not ok:
                break
            held = rate
            time.sleep(1.0)  # let the last answers come in
        if not held and not args.quick:
            for rate in (args.rate / 2, args.rate / 4, args.rate / 10):
                server.restart()
                server.warm_up(warm)
                result = open_loop(
                    server.base_url,
                    make(int(rate)),
                    rate=rate,
                    duration=args.step_duration,
                    label=label,
                )
                steps.append(result)
                ok = result.held(P99_LIMIT_MS)
                _show(rate, args.step_duration, result, ok)
                if ok:
                    held = rate
                    break
    return {
        "label": label,
        "load_average": machine()["load_average"],
        "fixed": steps[0].as_dict(),
        "max_rate_held": held,
        "steps": [s.as_dict() for s in steps],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small data, short steps")
    parser.add_argument("--accounts", type=int, default=None)
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rate", type=float, default=100.0, help="the fixed rate (requests/s)")
    parser.add_argument(
        "--fixed-duration", type=float, default=None, help="seconds at the fixed rate (30)"
    )
    parser.add_argument("--step-duration", type=float, default=None, help="seconds per step (10)")
    parser.add_argument("--max-rate", type=float, default=None, help="highest step (3000)")
    parser.add_argument("--regenerate", action="store_true", help="make the data set again")
    parser.add_argument("--only", choices=["hello", "api"], default=None)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="the bench's RELATIEBEHEER_VAR (bench/out/var)"
    )
    parser.add_argument("--out", default=None, help="result file name in bench/out (api.json)")
    parser.add_argument(
        "--settings",
        default="relatiebeheer.config.settings",
        help="DJANGO_SETTINGS_MODULE of the API server (for experiments)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.accounts = args.accounts or (2_000 if quick else 100_000)
    args.orders = args.orders or (20_000 if quick else 2_000_000)
    args.fixed_duration = args.fixed_duration or (2.0 if quick else 30.0)
    args.step_duration = args.step_duration or (1.0 if quick else 10.0)
    args.max_rate = args.max_rate or (args.rate + 100 if quick else 3000.0)

    started = time.perf_counter()
    var = args.data_dir or OUT / ("var-quick" if quick else "var")
    OUT.mkdir(parents=True, exist_ok=True)
    data = prepare_data(
        var, accounts=args.accounts, orders=args.orders, seed=args.seed, fresh=args.regenerate
    )
    users = setup_users(var)
    print(f"Users: bench-sales sees {users['accounts']:,} accounts, am001 {users['am_accounts']:,}")

    results: dict[str, dict] = {}
    if args.only in (None, "hello"):
        results["hello"] = scenario(
            bench_env(var, DJANGO_SETTINGS_MODULE="bench.hello_app"), "hello (baseline)",
            hello_mix, args, ready="/hello", warm=[("/hello", {})] * 20,
        )  # fmt: skip
    if args.only in (None, "api"):
        who = {
            "sales manager": (users["sales_token"], users["sales_ids"], users["manager_ids"]),
            "account manager": (users["am_token"], users["am_ids"], [users["am_id"]]),
        }
        for person, (token, ids, managers) in who.items():
            lists, details = list_mix(token, managers, 0), detail_mix(token, ids, 0)
            warm = [lists(i) for i in range(10)] + [details(i) for i in range(10)]
            results[f"list/{person}"] = scenario(
                bench_env(var, DJANGO_SETTINGS_MODULE=args.settings), f"account list as {person}",
                lambda seed, t=token, m=managers: list_mix(t, m, seed), args,
                ready="/api/v1/accounts", warm=warm,
            )  # fmt: skip
            results[f"detail/{person}"] = scenario(
                bench_env(var, DJANGO_SETTINGS_MODULE=args.settings), f"account detail as {person}",
                lambda seed, t=token, i=ids: detail_mix(t, i, seed), args,
                ready="/api/v1/accounts", warm=warm,
            )  # fmt: skip

    report(results, args)
    path = write_json(
        args.out or ("api-quick.json" if quick else "api.json"),
        {
            "requirement": f"p99 < {P99_LIMIT_MS:.0f} ms at {args.rate:.0f} requests/s (open loop)",
            "data": {"accounts": args.accounts, "orders": args.orders, "seed": args.seed,
                     "generate": data.get("timings")},
            "server": {"command": "relatiebeheer serve", "workers": args.workers,
                       "threads": args.threads, "settings": args.settings},
            "durations": {"fixed": args.fixed_duration, "step": args.step_duration},
            "machine": machine(),
            "seconds": round(time.perf_counter() - started, 1),
            "results": results,
        },
    )  # fmt: skip
    print(f"\nWritten to {path} ({time.perf_counter() - started:.0f} s in all)")
    missed = [
        key for key, r in results.items()
        if key != "hello" and not StepResult(**r["fixed"]).held(P99_LIMIT_MS)
    ]  # fmt: skip
    return 1 if missed and not quick else 0


def report(results: dict[str, dict], args) -> None:
    hello = results.get("hello")
    head = (
        f"\n{'endpoint':<36}{'rate/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'max/s p99<100':>15}{'p50 ×':>8}{'p99 ×':>8}{'max ×':>8}"
    )
    print(head)
    print("-" * (len(head) - 1))
    for result in results.values():
        fixed = result["fixed"]
        ratios = ["", "", ""]
        if hello and result is not hello:
            h = hello["fixed"]
            ratios = [
                f"{fixed['p50_ms'] / h['p50_ms']:.1f}" if h["p50_ms"] else "",
                f"{fixed['p99_ms'] / h['p99_ms']:.1f}" if h["p99_ms"] else "",
                f"{result['max_rate_held'] / hello['max_rate_held']:.2f}"
                if hello["max_rate_held"]
                else "",
            ]
        top = result["max_rate_held"]
        top_text = f"{top:.0f}" if top else f"<{args.rate / 10:.0f}"
        if all(StepResult(**step).held(P99_LIMIT_MS) for step in result["steps"]):
            top_text = f"≥{top:.0f}"  # never failed up to --max-rate
        print(
            f"{result['label']:<36}{fixed['rate']:>8.0f}{fixed['p50_ms']:>9.1f}{fixed['p99_ms']:>9.1f}"
            f"{fixed['errors']:>8}{top_text:>15}{ratios[0]:>8}{ratios[1]:>8}{ratios[2]:>8}"
        )
    print("(× = ratio to the hello baseline: latency at the fixed rate, and highest rate held)")


if __name__ == "__main__":
    sys.exit(main())
