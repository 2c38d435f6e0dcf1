"""Server time of the main web pages at 100k accounts and 2M orders (SQLite).

Requirements: the account list (first page, with a search) and the account page
p50 < 50 ms and p99 < 150 ms; the management dashboard < 300 ms; the customer-value page
reported. Server time is measured as the latency of requests sent one after another
(closed loop, no queueing) to the production server, next to the bare "hello" view of
bench/hello_app.py served the same way, whose latency is the fixed cost of a request.

Usage: python -m bench web [--requests N] [--quick]
Results: a table and bench/out/web.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.request

from bench.bench_api import COMMON_WORDS, prepare_data
from bench.common import (
    OUT,
    RELATIEBEHEER,
    Server,
    bench_env,
    machine,
    percentile,
    run,
    write_json,
)

SETUP = r"""
import json, random
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from relatiebeheer.relations.models import Account
from relatiebeheer.users.models import Role, User
from relatiebeheer.reports.stats import refresh_dashboard_figures
from relatiebeheer.value.models import AccountMetrics
from relatiebeheer.value.services import metrics_recompute

def session_for(user):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key

sales, _ = User.objects.get_or_create(username="bench-sales", defaults={"role": Role.SALES_MANAGER})
am = User.objects.get(username="am001")
if not AccountMetrics.objects.exists():
    metrics_recompute(with_prediction=False)
refresh_dashboard_figures()
rng = random.Random(2)
ids = list(Account.objects.filter(customer_since__isnull=False).values_list("id", flat=True))
own = list(Account.objects.filter(manager=am).values_list("id", flat=True))
print(json.dumps({"sales": session_for(sales), "am": session_for(am),
                  "ids": rng.sample(ids, min(500, len(ids))), "own": rng.sample(own, min(200, len(own)))}))
"""


def fetch(base: str, path: str, session: str | None) -> float:
    headers = {"Cookie": f"sessionid={session}"} if session else {}
    request = urllib.request.Request(base + path, headers=headers)  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
    return (time.perf_counter() - started) * 1000


def measure(base: str, paths, session, n: int) -> dict:
    for path in paths[:5]:
        fetch(base, path, session)  # warm up
    times = [fetch(base, paths[i % len(paths)], session) for i in range(n)]
    return {
        "p50_ms": round(percentile(times, 50), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "n": n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    accounts, orders = (2_000, 40_000) if args.quick else (100_000, 2_000_000)
    var = OUT / ("var-quick" if args.quick else "var")
    prepare_data(var, accounts=accounts, orders=orders, seed=1, fresh=False)
    env = bench_env(var)
    # Pages link hashed static files (as in production): collect them for this var dir.
    run([RELATIEBEHEER, "collectstatic", "--noinput", "-v0"], env, quiet=True)
    info = json.loads(
        run(
            [sys.executable, "-c", SETUP],
            {**env, "DJANGO_SETTINGS_MODULE": "relatiebeheer.config.settings"},
            quiet=True,
        )
        .strip()
        .splitlines()[-1]
    )
    rng = random.Random(3)
    n = 60 if args.quick else args.requests
    results = {}
    with Server(
        env=bench_env(var, DJANGO_SETTINGS_MODULE="bench.hello_app"), ready_path="/hello"
    ) as hello:
        results["hello (baseline)"] = measure(hello.base_url, ["/hello"], None, n)
    with Server(env=env, ready_path="/login/") as server:
        base = server.base_url
        searches = [f"/accounts/?q={w}" for w in COMMON_WORDS] + [
            f"/accounts/?q={w[:4]}" for w in COMMON_WORDS
        ]
        cases = {
            "account list, first page (sales manager)": (["/accounts/"], info["sales"]),
            "account list, search (sales manager)": (searches, info["sales"]),
            "account list, search (account manager)": (searches, info["am"]),
            "account page (sales manager)": (
                [f"/accounts/{pk}/" for pk in info["ids"]],
                info["sales"],
            ),
            "account page (account manager)": (
                [f"/accounts/{pk}/" for pk in info["own"]],
                info["am"],
            ),
            "management dashboard": (["/reports/"], info["sales"]),
            "customer value page": (["/value/"], info["sales"]),
        }
        for label, (paths, session) in cases.items():
            rng.shuffle(paths)
            results[label] = measure(
                base,
                paths,
                session,
                n if "dashboard" not in label and "value" not in label else max(20, n // 10),
            )
    print(f"\n  {'page':<44} {'p50 ms':>8} {'p99 ms':>8}")
    for label, r in results.items():
        print(f"  {label:<44} {r['p50_ms']:>8} {r['p99_ms']:>8}")
    write_json(
        "web-quick.json" if args.quick else "web.json", {"machine": machine(), "results": results}
    )
    targets = [(k, v) for k, v in results.items() if k.startswith(("account list", "account page"))]
    missed = [k for k, v in targets if v["p50_ms"] >= 50 or v["p99_ms"] >= 150]
    missed += [k for k, v in results.items() if k == "management dashboard" and v["p99_ms"] >= 300]
    if missed:
        print("  missed:", ", ".join(missed))
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    raise SystemExit(main())
