"""Satisfaction: answer submissions under an open-loop load, and the results page.

Requirements:

* answer submission over distinct invitations: at least 300 submissions/s on SQLite
  against the production server (``relatiebeheer serve``: gunicorn gthread, 2 workers
  × 4 threads by default), p99 reported;
* the results page of a survey with 100,000 answers: under 200 ms server time.

Each submission is a real ``POST /satisfaction/a/<token>/`` with the four answers of the
default survey, every one with its own invitation's token (so each request resolves a
token, counts it in the database rate limiter, locks and completes an invitation,
stores a response and its answers; about 5 % are unhappy and open a follow-up task and
a mail in the outbox). A submission is counted as done when the server answers 302
(the thank-you redirect). The load is an open loop: requests go out on schedule at
the given rate whatever the server does, and latency counts from the schedule.

Server time of the results page is measured in a process of its own with Django's
test client against the same database (the view and its queries, as a sales manager
who sees every account), and, for reference, over HTTP against the production server.

The data set (``bench/out/var-sat``, git-ignored): ``relatiebeheer generate`` accounts
and orders, the metric snapshot (revenue weighting), 100,000 answers over twelve months
from 25,000 responses of the default survey, and fresh invitations for the load.

Usage (from the repository root)::

    .venv/bin/python -m bench.bench_satisfaction            # full: about 3 minutes
    .venv/bin/python -m bench.bench_satisfaction --quick    # smoke run

Results: stdout and ``bench/out/satisfaction.json``. Exit status 1 when a requirement is
missed (full run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

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

RATE_REQUIRED = 300.0
RESULTS_LIMIT_MS = 200.0

SETUP = r"""
import json, random, secrets, sys
from datetime import timedelta
from decimal import Decimal
import django
django.setup()
from django.db import transaction
from django.utils import timezone
from relatiebeheer.core import survey_scores as scores
from relatiebeheer.relations.models import Account, Contact, ConsentRecord
from relatiebeheer.satisfaction.answering.form import form_questions
from relatiebeheer.satisfaction.answering.tokens import hash_token
from relatiebeheer.satisfaction.counts import check_answer_counts
from relatiebeheer.satisfaction.defaults import default_survey
from relatiebeheer.satisfaction.models import (
    Answer, AnswerToken, Invitation, Response, SatisfactionSettings,
)
from relatiebeheer.users.models import Role, User

answers_wanted, invitations_wanted = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(7)
config = SatisfactionSettings.load()
config.rate_limit_per_token = 30
config.save()
survey = default_survey()
questions = form_questions(survey)
scored = [q for q in questions if q.kind == "four_point"]
text_q = [q for q in questions if q.kind == "open_text"][0]
contacts = {}
for contact_id, account_id in Contact.objects.exclude(email="").values_list("id", "account_id"):
    contacts.setdefault(account_id, contact_id)
account_ids = sorted(contacts)
now = timezone.now()
existing = Answer.objects.filter(survey=survey).count()
if existing < answers_wanted:
    per_response = len(questions)
    n = (answers_wanted - existing) // per_response
    batch = 2000
    for start in range(0, n, batch):
        with transaction.atomic():
            invs, resps, stamps = [], [], []
            for i in range(start, min(n, start + batch)):
                account = rng.choice(account_ids)
                when = now - timedelta(days=rng.randrange(365), minutes=rng.randrange(600))
                invs.append(Invitation(survey=survey, account_id=account, contact_id=contacts[account],
                                       source="auto", created_at=when - timedelta(days=3),
                                       completed_at=when))
                stamps.append(when)
            Invitation.objects.bulk_create(invs)
            for inv, when in zip(invs, stamps):
                resps.append(Response(invitation=inv, survey=survey, account_id=inv.account_id,
                                      contact_id=inv.contact_id, submitted_at=when))
            Response.objects.bulk_create(resps)
            rows = []
            for resp in resps:
                base = rng.choices([4, 3, 2, 1], weights=[40, 48, 9, 3])[0]
                local = timezone.localtime(resp.submitted_at)
                month = local.date().replace(day=1)
                for q in scored:
                    value = min(4, base + (rng.random() < 0.2))
                    rows.append(Answer(response=resp, question=q, survey=survey,
                                       account_id=resp.account_id, kind=q.kind,
                                       tags_text=q.tags_text, submitted_at=resp.submitted_at,
                                       month=month, value_int=value,
                                       score=scores.score_value(scores.FOUR_POINT, value),
                                       unhappy=value <= 2))
                rows.append(Answer(response=resp, question=text_q, survey=survey,
                                   account_id=resp.account_id, kind="open_text", tags_text="",
                                   submitted_at=resp.submitted_at, month=month,
                                   value_text=rng.choice(["", "", "", "Prima", "Snel geholpen"])))
            Answer.objects.bulk_create(rows, batch_size=1000)
    with transaction.atomic():  # bulk rows bypass the live counts: the figure check repairs them
        check_answer_counts(repair=True, survey_ids=[survey.pk])
# Fresh invitations for the load, each with its own token (raw tokens only in the file).
tokens = []
with transaction.atomic():
    invs = [Invitation(survey=survey, account_id=a, contact_id=contacts[a], source="api",
                       created_at=now)
            for a in (rng.choice(account_ids) for _ in range(invitations_wanted))]
    Invitation.objects.bulk_create(invs, batch_size=2000)
    rows = []
    for inv in invs:
        raw = secrets.token_urlsafe(32)
        tokens.append(raw)
        rows.append(AnswerToken(invitation=inv, kind="invitation", token_hash=hash_token(raw),
                                issued_at=now, expires_at=now + timedelta(days=30)))
    AnswerToken.objects.bulk_create(rows, batch_size=2000)
sales, _ = User.objects.get_or_create(username="bench-sales", defaults={"role": Role.SALES_MANAGER})
json.dump({
    "survey_id": survey.pk,
    "questions": [{"id": q.pk, "kind": q.kind} for q in questions],
    "answers": Answer.objects.filter(survey=survey).count(),
    "tokens": tokens,
    "sales_id": sales.pk,
}, sys.stdout)
"""

RESULTS_TIMING = r"""
import json, sys, time, statistics
import django
django.setup()
from django.test import Client
from relatiebeheer.users.models import User

survey_id, runs = int(sys.argv[1]), int(sys.argv[2])
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(User.objects.get(username="bench-sales"))
url = f"/satisfaction/surveys/{survey_id}/results/"
client.get(url)  # warm: templates, catalogues, page cache
times = []
for _ in range(runs):
    started = time.perf_counter()
    response = client.get(url)
    times.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200
api = []
for _ in range(max(3, runs // 4)):
    started = time.perf_counter()
    assert client.get(f"/api/v1/surveys/{survey_id}/results").status_code == 200
    api.append((time.perf_counter() - started) * 1000)
times.sort()
json.dump({"runs": runs, "median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
           "max_ms": max(times),
           "api_median_ms": statistics.median(api)}, sys.stdout)
"""


def prepare(var: Path, *, accounts: int, orders: int, answers: int, invitations: int, fresh: bool):
    env = bench_env(var)
    marker = var / "generated.json"
    wanted = {"accounts": accounts, "orders": orders}
    if fresh or not marker.exists() or json.loads(marker.read_text()) != wanted:
        if var.exists():
            shutil.rmtree(var)
        var.mkdir(parents=True)
        print(f"Data set: {accounts:,} accounts, {orders:,} orders in {var} …", flush=True)
        run([RELATIEBEHEER, "migrate", "-v0"], env, quiet=True)
        run(
            [RELATIEBEHEER, "generate", "--accounts", str(accounts), "--orders", str(orders),
             "--seed", "1"],
            env, quiet=True,
        )  # fmt: skip
        run([RELATIEBEHEER, "recompute"], env, quiet=True)
        marker.write_text(json.dumps(wanted))
    else:
        run([RELATIEBEHEER, "migrate", "-v0"], env, quiet=True)
    run([RELATIEBEHEER, "collectstatic", "--noinput", "-v0"], env, quiet=True)  # pages need it
    started = time.perf_counter()
    out = run(
        [sys.executable, "-c", SETUP, str(answers), str(invitations)],
        bench_env(var, DJANGO_SETTINGS_MODULE="relatiebeheer.config.settings"),
        quiet=True,
    )
    data = json.loads(out)
    print(
        f"  {data['answers']:,} answers; {len(data['tokens']):,} fresh invitations "
        f"({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    return data


def bodies(questions: list[dict], n: int, seed: int = 3) -> list[bytes]:
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        base = rng.choices([4, 3, 2, 1], weights=[45, 50, 4, 1])[0]
        form = {}
        for q in questions:
            if q["kind"] == "open_text":
                form[f"q{q['id']}"] = rng.choice(["", "Prima geholpen", "Duidelijk, dank"])
            else:
                form[f"q{q['id']}"] = str(base)
        out.append(urlencode(form).encode())
    return out


async def _post_loop(host, port, paths, payloads, rate, duration, timeout=10.0):
    """Open-loop POSTs: request i at start + i/rate, each on a pooled keep-alive connection."""
    from bench.common import _Connection, _read_response

    loop = asyncio.get_running_loop()
    idle: list = []
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    n = min(len(paths), max(1, round(rate * duration)))

    async def one(i: int, scheduled: float) -> None:
        body = payloads[i % len(payloads)]
        raw = (
            f"POST {paths[i]} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        status = "error"
        try:
            async with asyncio.timeout(timeout):
                conn = idle.pop() if idle else None
                result = None
                if conn is not None:
                    try:
                        conn.writer.write(raw)
                        await conn.writer.drain()
                        result = await _read_response(conn.reader)
                    except (ConnectionError, asyncio.IncompleteReadError):
                        conn.close()
                        conn = None
                if conn is None:
                    conn = _Connection(*await asyncio.open_connection(host, port))
                    conn.writer.write(raw)
                    await conn.writer.drain()
                    result = await _read_response(conn.reader)
                code, keep = result
                status = str(code)
                (idle.append(conn) if keep else conn.close())
        except TimeoutError:
            status = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = "error"
        finally:
            latencies.append(loop.time() - scheduled)
            statuses[status] = statuses.get(status, 0) + 1

    start = loop.time() + 0.05
    tasks = []
    pending: set = set()
    max_backlog = max(50, int(rate * 3))
    for i in range(n):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(pending) > max_backlog:
            # Seconds behind: the rate is not held; stop piling on (the rest count as
            # not sent) so that the next step starts on a server that has caught up.
            statuses["not sent"] = n - i
            break
        task = asyncio.create_task(one(i, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
        tasks.append(task)
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = loop.time() - start
    for conn in idle:
        conn.close()
    return latencies, statuses, elapsed


def submit_step(base_url, tokens, payloads, rate, duration) -> dict:
    host, port = base_url.split("://", 1)[1].rsplit(":", 1)
    paths = [f"/satisfaction/a/{t}/" for t in tokens]
    latencies, statuses, elapsed = asyncio.run(
        _post_loop(host, int(port), paths, payloads, rate, duration)
    )
    ms = [x * 1000 for x in latencies]
    done = statuses.get("302", 0)
    return {
        "rate": rate,
        "sent": len(ms) + statuses.get("not sent", 0),
        "submitted": done,
        "throughput": round(done / max(elapsed, 1e-9), 1),
        "p50_ms": round(percentile(ms, 50), 1),
        "p90_ms": round(percentile(ms, 90), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
        "statuses": statuses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--duration", type=float, default=None, help="seconds per rate (20)")
    parser.add_argument("--rates", default=None, help="comma-separated rates (300,400,500,600)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--only", choices=["results", "submissions"], default=None)
    args = parser.parse_args(argv)
    quick = args.quick
    duration = args.duration or (2.0 if quick else 20.0)
    rates = [float(r) for r in (args.rates or ("300" if quick else "300,400,500,600")).split(",")]
    answers = 4_000 if quick else 100_000
    accounts = 300 if quick else 5_000
    orders = 3_000 if quick else 50_000
    invitations = 0 if args.only == "results" else int(sum(rates) * duration * 1.05) + 100
    var = OUT / ("var-sat-quick" if quick else "var-sat")
    started = time.perf_counter()
    data = prepare(
        var,
        accounts=accounts,
        orders=orders,
        answers=answers,
        invitations=invitations,
        fresh=args.regenerate,
    )
    env = bench_env(var, DJANGO_SETTINGS_MODULE="relatiebeheer.config.settings")

    page = {"median_ms": float("nan"), "p95_ms": float("nan"), "max_ms": float("nan")}
    page.update(api_median_ms=float("nan"))
    if args.only != "submissions":
        print("\nResults page (server time, Django test client, 100k answers)", flush=True)
        runs = 5 if quick else 30
        page = json.loads(
            run(
                [sys.executable, "-c", RESULTS_TIMING, str(data["survey_id"]), str(runs)],
                env,
                quiet=True,
            )
        )
    print(
        f"  median {page['median_ms']:.1f} ms  p95 {page['p95_ms']:.1f} ms  max {page['max_ms']:.1f} ms"
        f"  (API {page['api_median_ms']:.1f} ms)",
        flush=True,
    )

    print("\nAnswer submissions (open loop, distinct invitations, production server)", flush=True)
    payloads = bodies(data["questions"], 500)
    tokens = data["tokens"]
    steps = []
    if args.only == "results":
        rates = []
    with Server(
        bench_env(var), workers=args.workers, threads=args.threads, ready_path="/login/"
    ) as server:
        offset = 0
        for rate in rates:
            n = int(rate * duration)
            step = submit_step(
                server.base_url, tokens[offset : offset + n], payloads, rate, duration
            )
            offset += n
            steps.append(step)
            print(
                f"  {rate:>5.0f}/s: {step['submitted']:>6} stored, {step['throughput']:>6.1f}/s, "
                f"p50 {step['p50_ms']:>7.1f} ms, p99 {step['p99_ms']:>7.1f} ms, "
                f"statuses {step['statuses']}",
                flush=True,
            )
            time.sleep(3.0)
    at_required = next(
        (step for step in steps if step["rate"] == RATE_REQUIRED),
        {"submitted": 0, "sent": 1, "throughput": 0, "p99_ms": None},
    )
    held = [s["rate"] for s in steps if s["submitted"] >= 0.999 * s["sent"] and s["p99_ms"] < 1000]
    ok_submit = (
        at_required["submitted"] >= 0.999 * at_required["sent"]
        and at_required["throughput"] >= 0.98 * RATE_REQUIRED
    )
    ok_page = page["median_ms"] < RESULTS_LIMIT_MS
    path = write_json(
        "satisfaction-quick.json" if quick else "satisfaction.json",
        {
            "requirements": {
                "submissions_per_second": RATE_REQUIRED,
                "results_page_server_ms": RESULTS_LIMIT_MS,
            },
            "data": {"accounts": accounts, "orders": orders, "answers": data["answers"]},
            "server": {
                "command": "relatiebeheer serve",
                "workers": args.workers,
                "threads": args.threads,
            },
            "machine": machine(),
            "results_page": page,
            "submissions": steps,
            "max_rate_all_stored_p99_under_1s": max(held) if held else 0,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    print(
        f"\n300/s: {'held' if ok_submit else 'NOT held'} (p99 {at_required['p99_ms']} ms); "
        f"results page: {'under' if ok_page else 'OVER'} {RESULTS_LIMIT_MS:.0f} ms. "
        f"Written to {path}"
    )
    return 0 if quick or (ok_submit and ok_page) else 1


if __name__ == "__main__":
    sys.exit(main())
