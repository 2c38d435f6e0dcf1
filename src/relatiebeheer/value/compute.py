"""Set-based computation of the per-account metrics.

One SQL aggregate over the plain orders (the single pass of
``SELECT account_id, SUM(revenue), … GROUP BY account_id``, with FILTER sums for the
periods, read from the covering index ``order_plain_money_idx``), two small queries for
credit notes and orders after the day, the cost entries and an aggregate over contact
time, then NumPy for the rest: never one query per account. A whole-book recompute runs
these reads side by side (``run_reads``), the order pass in account id ranges.

Definitions (as of a day D, in Europe/Amsterdam):

* orders: orders that are not credit notes and not cancelled; credit notes lower
  revenue and profit but are not orders. Profit = revenue − cost of goods.
* revenue/profit 12 months: dates in ``core.periods.last_12_months(D)``; this year:
  1 January of D's year to D; last year: the calendar year before.
* customer value (per year) = revenue − cost of goods − cost entries − contact
  minutes / 60 × the hourly cost, of that calendar year (this year: up to D).
* simple CLV over the relationship so far: v = net revenue / orders, m = the account's
  margin (else the default margin), W = v × m, A = orders, CLV = W × A = net revenue × m,
  each rounded to cents once (half up), exactly as ``core.clv.simple_clv``. The period n
  is the relationship in whole years, rounded up (at least 1): de Bijenkorf's first
  order 23 months ago gives "per 2 years". CLV per year = CLV / n.
* investment: cost entries since the first order, compared with the CLV.
* RFM: R = days since the last order, F = orders, M = net revenue, scored by
  ``core.rfm`` (accounts without orders: segment ``no_orders``).
* pyramid: by profit of the last 12 months, cut-offs of ``core.value.PYRAMID_CUTOFFS``
  (top 1 %, next 4 %, next 15 %, the rest; no order in 12 months: inactive); ties by
  account id.
* prediction: BG/NBD and Gamma-Gamma (``core.btyd``) on order days and the revenue of
  repeat order days, fitted on the whole book; expected orders in 52 weeks, P(alive),
  and predicted CLV = expected orders × expected order value × margin, discounted
  weekly at the organisation's discount rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import partial
from typing import Any

import numpy as np
from django.db import connection
from django.utils import timezone

from relatiebeheer.core import btyd
from relatiebeheer.core.periods import last_12_months
from relatiebeheer.core.rfm import rfm_scores, segment_for
from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.relations.models import Account, Interaction
from relatiebeheer.sales.models import CostEntry, Order

from . import reads as db
from .models import AccountMetrics

PYRAMID_SHARES = (0.01, 0.05, 0.20)  # cumulative: top, large, medium (core.value)


def round_half_up_div(numerator: np.ndarray, denominator) -> np.ndarray:
    """Integer division rounded half away from zero (the money rule), element-wise."""
    numerator = np.asarray(numerator, dtype=np.int64)
    denominator = np.asarray(denominator, dtype=np.int64)
    sign = np.where((numerator < 0) ^ (denominator < 0), -1, 1)
    n, d = np.abs(numerator), np.abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


@dataclass
class Computed:
    as_of: date
    account_ids: np.ndarray
    columns: dict[str, np.ndarray]
    stats: dict = field(default_factory=dict)
    prediction: dict = field(default_factory=dict)
    seconds: float = 0.0
    fit_seconds: float = 0.0
    read_processes: int = 0  # child processes that read (SQLite, whole book)
    read_connections: int = 1  # connections read on at once


ORDER_COLUMNS = [
    "account_id",
    "revenue_total",
    "cost_total",
    "orders",
    "first_order",
    "last_order",
    "revenue_12m",
    "cost_12m",
    "orders_12m",
    "revenue_ty",
    "cost_ty",
    "revenue_ly",
    "cost_ly",
    "margin_revenue",
]


def _period_starts(as_of: date) -> dict[str, date]:
    start_12m, _ = last_12_months(as_of)
    return {"12m": start_12m, "ty": date(as_of.year, 1, 1), "ly": date(as_of.year - 1, 1, 1)}


def _plain_orders(alias: str = "") -> str:
    """SQL condition for plain orders: not a credit note, not cancelled.

    Written exactly as the condition of the partial index ``order_plain_money_idx`` (a
    literal, not a parameter), so both databases read the orders' money from that index
    alone.
    """
    credit, status = db.col(Order, "credit_of"), db.col(Order, "status")
    return f"{alias}{credit} IS NULL AND NOT ({alias}{status} = '{Order.Status.CANCELLED}')"


def order_sums(
    as_of: date, account_ids: list[int] | None = None, id_range: tuple[int, int] | None = None
) -> np.ndarray:
    """The one pass over the plain orders (of ``account_ids``, or of ids in ``id_range``).

    The baseline aggregate (SUM, COUNT, MIN, MAX per account) plus conditional sums
    for three period starts, over the covering index of plain orders (no table
    lookups). Rows: account, revenue, cost, count, first and last day (day numbers),
    revenue, cost and count since the 12-month start, revenue and cost since 1 January,
    and since 1 January last year, and the revenue of the orders that carry cost of
    goods (for the observed margin; their cost is the whole cost, as the others add
    none), as one integer array (converted where it was read,
    which may be a child process). Orders dated after ``as_of`` are still in;
    ``order_corrections`` takes them out.
    """
    o = db.table(Order)
    acc, rev, cost, day = (
        db.col(Order, "account"),
        db.col(Order, "revenue"),
        db.col(Order, "cost_of_goods"),
        db.col(Order, "date"),
    )
    starts = _period_starts(as_of)

    # FILTER skips the aggregate step for rows outside the period (SQLite ≥ 3.30, as
    # Django requires): measured 0.95 s against 1.10 s for SUM(x * (date >= ?)).
    def sum_since(column):
        return f"COALESCE(SUM({column}) FILTER (WHERE {day} >= %s), 0)"

    def count_since():
        return f"COUNT(*) FILTER (WHERE {day} >= %s)"

    extra, extra_params = db.in_clause(acc, account_ids)
    if id_range is not None:
        extra += f" AND {acc} >= %s AND {acc} < %s"
        extra_params += list(id_range)
    sql = f"""
        SELECT {acc}, SUM({rev}), SUM({cost}), COUNT(*),
               {db.day_number(f"MIN({day})")}, {db.day_number(f"MAX({day})")},
               {sum_since(rev)}, {sum_since(cost)}, {count_since()},
               {sum_since(rev)}, {sum_since(cost)},
               {sum_since(rev)}, {sum_since(cost)},
               COALESCE(SUM({rev}) FILTER (WHERE {cost} <> 0), 0)
        FROM {o} WHERE {_plain_orders()}{extra}
        GROUP BY {acc}
    """
    params = [
        starts["12m"], starts["12m"], starts["12m"],
        starts["ty"], starts["ty"],
        starts["ly"], starts["ly"],
        *extra_params,
    ]  # fmt: skip
    return db.fetch_ints(sql, params, len(ORDER_COLUMNS))


def order_corrections(as_of: date, account_ids: list[int] | None = None) -> dict[str, np.ndarray]:
    """The few rows ``order_sums`` does not get right by itself, from two small indexed
    queries: credit notes up to ``as_of`` (they lower revenue and cost but are not
    orders) and plain orders dated after it (counted by the pass; they count nowhere).
    Rows: account, day number, revenue, cost, and for credit notes whether the order
    they correct counts for the observed margin (a plain order up to ``as_of`` that
    carries cost of goods: 1, else 0)."""
    o = db.table(Order)
    acc, rev, cost, day, credit, status = (
        db.col(Order, "account"),
        db.col(Order, "revenue"),
        db.col(Order, "cost_of_goods"),
        db.col(Order, "date"),
        db.col(Order, "credit_of"),
        db.col(Order, "status"),
    )
    pk = db.col(Order, "id")
    extra, extra_params = db.in_clause(acc, account_ids)
    c_extra, _params = db.in_clause(f"c.{acc}", account_ids)
    cancelled = f"'{Order.Status.CANCELLED}'"
    credited_counts = (
        f"CASE WHEN p.{cost} <> 0 AND p.{credit} IS NULL AND NOT (p.{status} = {cancelled}) "
        f"AND p.{day} <= %s THEN 1 ELSE 0 END"
    )
    credit_notes = db.fetch_ints(
        f"SELECT c.{acc}, {db.day_number(f'c.{day}')}, c.{rev}, c.{cost}, {credited_counts} "
        f"FROM {o} c JOIN {o} p ON p.{pk} = c.{credit} "
        f"WHERE c.{credit} IS NOT NULL AND NOT (c.{status} = {cancelled}) AND c.{day} <= %s"
        f"{c_extra}",
        [as_of, as_of, *extra_params],
        5,
    )
    future_orders = db.fetch_ints(
        f"SELECT {acc}, {db.day_number(day)}, {rev}, {cost} FROM {o} "
        f"WHERE {_plain_orders()} AND {day} > %s{extra}",
        [as_of, *extra_params],
        4,
    )
    return {"credit_notes": credit_notes, "future_orders": future_orders}


def order_aggregates(
    as_of: date,
    account_ids: list[int] | None = None,
    *,
    sums: list[np.ndarray] | None = None,
    corrections: dict | None = None,
) -> dict[str, np.ndarray]:
    """Totals, counts, first/last order and period sums (cents) per account.

    Cancelled orders count nowhere, nor do orders dated after ``as_of``; credit notes
    lower revenue and cost but are not orders. ``order_sums`` (in parts, for ranges of
    accounts) and ``order_corrections`` read; pass their results when they were read
    elsewhere, e.g. in parallel.
    """
    parts = [order_sums(as_of, account_ids)] if sums is None else sums
    if corrections is None:
        corrections = order_corrections(as_of, account_ids)
    table = np.concatenate(parts) if parts else np.empty((0, len(ORDER_COLUMNS)), np.int64)
    table = table[np.argsort(table[:, 0], kind="stable")]  # PostgreSQL: any order
    columns = table.T
    result = {name: columns[i].copy() for i, name in enumerate(ORDER_COLUMNS[:4])}
    result["first_order"] = columns[4].astype("datetime64[D]")
    result["last_order"] = columns[5].astype("datetime64[D]")
    result["revenue_12m"], result["cost_12m"], result["orders_12m"] = (
        columns[i].copy() for i in (6, 7, 8)
    )
    # "Since last year" minus "since this year" is last year; "since this year" is this year.
    since_ty_rev, since_ty_cost, since_ly_rev, since_ly_cost = (
        columns[i].copy() for i in (9, 10, 11, 12)
    )
    result["revenue_ty"], result["cost_ty"] = since_ty_rev, since_ty_cost
    result["revenue_ly"], result["cost_ly"] = (
        since_ly_rev - since_ty_rev,
        since_ly_cost - since_ty_cost,
    )
    # The observed margin's sums (see core.clv.clv_margin): the orders that carry cost
    # of goods, net of their own credit notes. Orders without cost add no cost, so the
    # plain orders' whole cost is theirs.
    result["margin_revenue"] = columns[13].copy()
    result["margin_cost"] = result["cost_total"].copy()
    credit_notes, future_orders = corrections["credit_notes"], corrections["future_orders"]
    if credit_notes.size:
        # An account with only credit notes (returns) is not in the pass: add it.
        result = _with_accounts(result, credit_notes[:, 0])
        _apply(result, credit_notes[:, :4], as_of, sign=+1, orders=False)
        counted = credit_notes[credit_notes[:, 4] == 1]
        pos = np.searchsorted(result["account_id"], counted[:, 0])
        np.add.at(result["margin_revenue"], pos, counted[:, 2])
        np.add.at(result["margin_cost"], pos, counted[:, 3])
    if future_orders.size:
        _apply(result, future_orders, as_of, sign=-1, orders=True)
        pos = np.searchsorted(result["account_id"], future_orders[:, 0])
        carries_cost = future_orders[:, 3] != 0
        np.add.at(result["margin_revenue"], pos[carries_cost], -future_orders[carries_cost, 2])
        np.add.at(result["margin_cost"], pos, -future_orders[:, 3])
        _recount_edges(result, np.unique(future_orders[:, 0]).tolist(), as_of)
    return result


def _with_accounts(result: dict, account_ids: np.ndarray) -> dict:
    """``result`` with a zero row (no first or last order) for each account not in it."""
    missing = np.setdiff1d(account_ids, result["account_id"])
    if not missing.size:
        return result
    ids = np.union1d(result["account_id"], missing)
    positions = np.searchsorted(ids, result["account_id"])
    grown = {"account_id": ids}
    for name, values in result.items():
        if name == "account_id":
            continue
        fill = np.datetime64("NaT") if values.dtype.kind == "M" else 0
        grown[name] = np.full(ids.size, fill, dtype=values.dtype)
        grown[name][positions] = values
    return grown


def _apply(result: dict, rows: np.ndarray, as_of: date, *, sign: int, orders: bool) -> None:
    """Add (``sign`` +1) or take out (−1) these rows' money (account, day number, revenue,
    cost), and with ``orders`` their count, in the totals and in the period sums their
    dates fall in."""
    accounts, days, revenue, cost = rows.T
    pos = np.searchsorted(result["account_id"], accounts)
    days = days.astype("datetime64[D]")
    starts = _period_starts(as_of)
    since = {key: days >= np.datetime64(start, "D") for key, start in starts.items()}
    everything = np.ones(pos.size, dtype=bool)
    periods = {
        "total": everything,
        "12m": since["12m"],
        "ty": since["ty"],
        "ly": since["ly"] & ~since["ty"],
    }
    for column, values in (("revenue", revenue), ("cost", cost)):
        signed = sign * values
        for period, mask in periods.items():
            np.add.at(result[f"{column}_{period}"], pos[mask], signed[mask])
    if orders:
        np.add.at(result["orders"], pos, sign)
        np.add.at(result["orders_12m"], pos[since["12m"]], sign)


def _recount_edges(result: dict, affected: list[int], as_of: date) -> None:
    """First and last order up to ``as_of`` again, for accounts with orders after it."""
    o = db.table(Order)
    acc, day = db.col(Order, "account"), db.col(Order, "date")
    with connection.cursor() as cursor:
        for chunk_start in range(0, len(affected), 500):
            chunk = affected[chunk_start : chunk_start + 500]
            cursor.execute(
                f"SELECT {acc}, {db.day_number(f'MIN({day})')}, {db.day_number(f'MAX({day})')} "
                f"FROM {o} WHERE {_plain_orders()} AND {day} <= %s "
                f"AND {acc} IN ({', '.join(['%s'] * len(chunk))}) GROUP BY {acc}",
                [as_of, *chunk],
            )
            found = {row[0]: row[1:] for row in cursor.fetchall()}
            edges = [found.get(account_id, (None, None)) for account_id in chunk]
            # One conversion and one scatter per chunk, not a NumPy call per account.
            rows = np.searchsorted(result["account_id"], chunk)
            result["first_order"][rows] = db.days_from_numbers([first for first, _ in edges])
            result["last_order"][rows] = db.days_from_numbers([last for _, last in edges])


def cost_entries(as_of: date, account_ids: list[int] | None = None) -> dict[str, np.ndarray]:
    """Every cost entry up to ``as_of``: account, day (day numbers) and cents.

    The entries themselves rather than sums: what counts "since the first order"
    depends on the first order, which the order pass reads at the same time, and
    entries hardly share an account and day, so grouping by them on the server cost
    more than it saved (measured 0.29 s against 0.11 s for 200,000 entries). NumPy sums
    them per account afterwards.
    """
    c = db.table(CostEntry)
    acc, day, amount = (
        db.col(CostEntry, "account"),
        db.col(CostEntry, "date"),
        db.col(CostEntry, "amount"),
    )
    extra, extra_params = db.in_clause(acc, account_ids)
    table = db.fetch_ints(
        f"SELECT {acc}, {db.day_number(day)}, {amount} FROM {c} WHERE {day} <= %s{extra}",
        [as_of, *extra_params],
        3,
    )
    return {
        "account_id": table[:, 0].copy(),
        "day": table[:, 1].astype("datetime64[D]"),
        "cents": table[:, 2].copy(),
    }


def contact_minutes(as_of: date, account_ids: list[int] | None = None) -> dict[str, np.ndarray]:
    """Minutes of contact time per account, this calendar year (to D) and last year."""
    i = db.table(Interaction)
    acc, at, minutes = (
        db.col(Interaction, "account"),
        db.col(Interaction, "occurred_at"),
        db.col(Interaction, "duration_minutes"),
    )
    zone = timezone.get_default_timezone()
    starts = [
        datetime.combine(date(y, 1, 1), dtime(), tzinfo=zone) for y in (as_of.year - 1, as_of.year)
    ]
    end = datetime.combine(as_of + timedelta(days=1), dtime(), tzinfo=zone)
    extra, extra_params = db.in_clause(acc, account_ids)
    table = db.fetch_ints(
        f"""SELECT {acc},
               COALESCE(SUM({minutes}) FILTER (WHERE {at} >= %s), 0),
               COALESCE(SUM({minutes}) FILTER (WHERE {at} < %s), 0)
            FROM {i} WHERE {at} >= %s AND {at} < %s{extra} GROUP BY {acc}""",
        [starts[1], starts[1], starts[0], end, *extra_params],
        3,
    )
    names = ("account_id", "this_year", "last_year")
    return {name: table[:, i].copy() for i, name in enumerate(names)}


def _scatter(index_of: dict, ids: np.ndarray, values: np.ndarray, size: int, fill=0) -> np.ndarray:
    out = np.full(size, fill, dtype=values.dtype if values.size else np.int64)
    if ids.size:
        positions = np.searchsorted(index_of["ids"], ids)
        out[positions] = values
    return out


def account_margins(account_ids: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Account ids in order and each one's margin in basis points (−1: none set)."""
    a = db.table(Account)
    pk, margin = db.col(Account, "id"), db.col(Account, "margin")
    extra, extra_params = db.in_clause(pk, account_ids)
    table = db.fetch_ints(
        f"SELECT {pk}, COALESCE(CAST(ROUND({margin} * 100) AS BIGINT), -1) FROM {a} "
        f"WHERE 1 = 1{extra}",
        extra_params,
        2,
    )
    table = table[np.argsort(table[:, 0], kind="stable")]  # compute() searches the ids
    return table[:, 0].copy(), table[:, 1].copy()


def _read_everything(as_of: date, account_ids: list[int] | None) -> tuple[dict[str, Any], int, int]:
    """Every read of a recompute; for the whole book, several at once (``run_reads``).

    The pass over the orders is cut into account id ranges (two per worker, so that
    the workers finish together). On SQLite those, with the costs and contact time, go
    to child processes while this process reads the rest; on PostgreSQL every read
    runs on a thread, each range as one plain server process (see
    ``db.on_own_connection``).
    """
    workers = db.parallel_reads() if account_ids is None else 1
    reads: dict[str, Callable[[], Any]] = {}
    sqlite = connection.vendor == "sqlite"
    if workers > 1:
        for part, id_range in enumerate(db.account_id_ranges(2 * workers)):
            reads[f"orders{part}"] = partial(order_sums, as_of, id_range=id_range)
    else:
        reads["orders"] = partial(order_sums, as_of, account_ids)
    reads["costs"] = partial(cost_entries, as_of, account_ids)
    reads["minutes"] = partial(contact_minutes, as_of, account_ids)
    reads["corrections"] = partial(order_corrections, as_of, account_ids)
    reads["accounts"] = partial(account_margins, account_ids)
    forked = ()
    if sqlite:
        forked = tuple(n for n in reads if n.startswith("orders") or n in ("costs", "minutes"))
    return db.run_reads(reads, workers, in_processes=forked)


def compute(
    as_of: date | None = None,
    account_ids: list[int] | None = None,
    *,
    run_stats=None,
    score: bool = True,
) -> Computed:
    """All metrics for every account (or just ``account_ids``, scored against ``run_stats``).

    ``score=False`` skips RFM and pyramid scoring (the money figures only).
    """
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    settings = OrganisationSettings.load()
    reads, read_processes, read_connections = _read_everything(as_of, account_ids)
    ids, margins = reads["accounts"]
    n = ids.size
    default_bp = int(settings.default_margin * 100)
    index = {"ids": ids}

    agg = order_aggregates(
        as_of,
        account_ids,
        sums=[part for name, part in reads.items() if name.startswith("orders")],
        corrections=reads["corrections"],
    )
    keep = np.isin(agg["account_id"], ids)
    agg = {k: v[keep] for k, v in agg.items()}
    col = {}
    for name in (
        "revenue_total",
        "cost_total",
        "orders",
        "revenue_12m",
        "cost_12m",
        "orders_12m",
        "revenue_ty",
        "cost_ty",
        "revenue_ly",
        "cost_ly",
        "margin_revenue",
        "margin_cost",
    ):
        col[name] = _scatter(index, agg["account_id"], agg[name], n)
    margin_bp, margin_source = choose_margins(
        margins, col["margin_revenue"], col["margin_cost"], default_bp
    )
    first = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    last = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if agg["account_id"].size:
        positions = np.searchsorted(ids, agg["account_id"])
        first[positions], last[positions] = agg["first_order"], agg["last_order"]

    # Costs: this year, last year, since the first order.
    costs = reads["costs"]
    keep = np.isin(costs["account_id"], ids)
    pos = np.searchsorted(ids, costs["account_id"][keep])
    cost_days, cost_cents = costs["day"][keep], costs["cents"][keep]
    this_year = np.datetime64(date(as_of.year, 1, 1), "D")
    last_year = np.datetime64(date(as_of.year - 1, 1, 1), "D")
    costs_ty, costs_ly, costs_since = (np.zeros(n, dtype=np.int64) for _ in range(3))
    in_ty = cost_days >= this_year
    in_ly = (cost_days >= last_year) & ~in_ty
    since = ~np.isnat(first[pos]) & (cost_days >= first[pos])
    np.add.at(costs_ty, pos[in_ty], cost_cents[in_ty])
    np.add.at(costs_ly, pos[in_ly], cost_cents[in_ly])
    np.add.at(costs_since, pos[since], cost_cents[since])

    minutes = reads["minutes"]
    keep = np.isin(minutes["account_id"], ids)
    minutes_ty = _scatter(index, minutes["account_id"][keep], minutes["this_year"][keep], n)
    minutes_ly = _scatter(index, minutes["account_id"][keep], minutes["last_year"][keep], n)
    hourly = int(settings.hourly_cost * 100)
    contact_ty = round_half_up_div(minutes_ty * hourly, 60)
    contact_ly = round_half_up_div(minutes_ly * hourly, 60)

    orders = col["orders"]
    has_orders = orders > 0
    safe_orders = np.where(has_orders, orders, 1)
    revenue = col["revenue_total"]
    aov = np.where(has_orders, round_half_up_div(revenue, safe_orders), 0)
    w = np.where(has_orders, round_half_up_div(revenue * margin_bp, safe_orders * 10000), 0)
    clv = np.where(has_orders, round_half_up_div(revenue * margin_bp, 10000), 0)
    today = np.datetime64(as_of, "D")
    relationship_days = np.where(
        has_orders, (today - first).astype("timedelta64[D]").astype(np.int64) + 1, 0
    )
    period_years = np.where(
        has_orders, np.maximum(1, np.ceil(relationship_days / 365.25)).astype(np.int64), 0
    )
    clv_per_year = np.where(has_orders, round_half_up_div(clv, np.maximum(period_years, 1)), 0)
    recency = np.where(has_orders, (today - last).astype("timedelta64[D]").astype(np.int64), 0)
    recency = np.maximum(recency, 0)

    columns = {
        "account_id": ids,
        "orders": orders,
        "orders_12m": col["orders_12m"],
        "first_order": first,
        "last_order": last,
        "revenue_total": revenue,
        "profit_total": revenue - col["cost_total"],
        "revenue_12m": col["revenue_12m"],
        "profit_12m": col["revenue_12m"] - col["cost_12m"],
        "revenue_this_year": col["revenue_ty"],
        "revenue_last_year": col["revenue_ly"],
        "value_this_year": col["revenue_ty"] - col["cost_ty"] - costs_ty - contact_ty,
        "value_last_year": col["revenue_ly"] - col["cost_ly"] - costs_ly - contact_ly,
        "costs_since_first_order": costs_since,
        "margin_bp": margin_bp,
        "margin_source": margin_source,
        "average_order_value": aov,
        "profit_per_order": w,
        "period_years": period_years,
        "clv": clv,
        "clv_per_year": clv_per_year,
        "recency_days": recency,
        "has_orders": has_orders,
    }
    for name in ("p_alive", "expected_orders_52w", "predicted_clv"):
        columns[name] = np.full(n, np.nan)  # filled by predict()
    stats = run_stats
    if account_ids is None:
        scores = rfm_scores(recency, orders, revenue)
        columns["rfm_r"], columns["rfm_f"], columns["rfm_m"] = (
            scores.recency,
            scores.frequency,
            scores.monetary,
        )
        columns["segment"] = scores.segments()
        columns["pyramid_level"], cutoffs = pyramid_levels(
            ids, columns["profit_12m"], col["orders_12m"] > 0
        )
        stats = {
            "pyramid_cutoffs": cutoffs,
            "as_of": as_of.isoformat(),
            "customers_with_orders": int(has_orders.sum()),
        }
    elif score:
        columns.update(score_against_snapshot(columns, stats or {}))
    return Computed(
        as_of=as_of,
        account_ids=ids,
        columns=columns,
        stats=stats or {},
        seconds=time.perf_counter() - started,
        read_processes=read_processes,
        read_connections=read_connections,
    )


MARGIN_LIMIT_BP = 99999  # core.clv.MARGIN_LIMIT in basis points


def choose_margins(
    agreed_bp: np.ndarray, revenue: np.ndarray, cost: np.ndarray, default_bp: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each account's CLV margin (basis points) and its source: ``core.clv.clv_margin``
    element-wise. ``agreed_bp`` is −1 where no margin was agreed; ``revenue`` and
    ``cost`` are the sums of the orders that carry cost of goods, net of their credit
    notes (cents). The observed margin ``(revenue − cost) / revenue`` is rounded half up
    to a basis point and kept within ±999,99 %; it counts when that revenue is positive.
    """
    agreed = agreed_bp >= 0
    observed = ~agreed & (revenue > 0)
    safe = np.where(observed, revenue, 1)
    observed_bp = np.clip(
        round_half_up_div((revenue - cost) * 10000, safe), -MARGIN_LIMIT_BP, MARGIN_LIMIT_BP
    )
    margin_bp = np.where(agreed, agreed_bp, np.where(observed, observed_bp, default_bp))
    source = np.where(agreed, "agreed", np.where(observed, "observed", "default")).astype(object)
    return margin_bp.astype(np.int64), source


def pyramid_levels(
    ids: np.ndarray, profit: np.ndarray, active: np.ndarray
) -> tuple[np.ndarray, list[int]]:
    """Pyramid level per account by 12-month profit (``core.value.customer_pyramid`` rules).

    Returns the levels and the profit cut-offs (cents) of the lowest top/large/medium
    member, for scoring single accounts later against the same population.
    """
    levels = np.full(ids.size, "inactive", dtype=object)
    active_idx = np.flatnonzero(active)
    if active_idx.size == 0:
        return levels, []
    # Rank by profit descending, then by id ascending.
    order = active_idx[np.lexsort((ids[active_idx], -profit[active_idx]))]
    count = order.size
    bounds = [math.ceil(share * count) for share in PYRAMID_SHARES]
    names = ["top", "large", "medium"]
    start = 0
    cutoffs = []
    for name, end in zip(names, bounds, strict=True):
        levels[order[start:end]] = name
        cutoffs.append(int(profit[order[end - 1]]) if end > start else None)
        start = max(start, end)
    levels[order[start:]] = "small"
    return levels, cutoffs


def score_against_snapshot(columns: dict, stats: dict) -> dict:
    """RFM scores and pyramid level for a few accounts, against the current snapshot.

    Counting uses the snapshot rows of the other accounts, so a refreshed account is
    ranked among the same population the last full recompute ranked.
    """
    m = db.table(AccountMetrics)
    orders, revenue, recency = columns["orders"], columns["revenue_total"], columns["recency_days"]
    size = orders.size
    r_scores = np.zeros(size, dtype=np.int8)
    f_scores = np.zeros(size, dtype=np.int8)
    m_scores = np.zeros(size, dtype=np.int8)
    o_col, rev_col, rec_col = (
        db.col(AccountMetrics, "orders"),
        db.col(AccountMetrics, "revenue_total"),
        db.col(AccountMetrics, "recency_days"),
    )
    acc_col = db.col(AccountMetrics, "account")
    with connection.cursor() as cursor:
        for i in np.flatnonzero(orders > 0):
            cursor.execute(
                f"""SELECT COUNT(*),
                           SUM(CASE WHEN {rec_col} > %s THEN 1 ELSE 0 END),
                           SUM(CASE WHEN {o_col} < %s THEN 1 ELSE 0 END),
                           SUM(CASE WHEN {rev_col} < %s THEN 1 ELSE 0 END)
                    FROM {m} WHERE {o_col} > 0 AND {acc_col} <> %s""",
                [int(recency[i]), int(orders[i]), int(revenue[i]), int(columns["account_id"][i])],
            )
            others, worse_r, worse_f, worse_m = (v or 0 for v in cursor.fetchone())
            population = others + 1
            r_scores[i] = 1 + (5 * worse_r) // population
            f_scores[i] = 1 + (5 * worse_f) // population
            m_scores[i] = 1 + (5 * worse_m) // population
    segments = np.array(
        [
            segment_for(int(r), int(f), int(m)).value
            for r, f, m in zip(r_scores, f_scores, m_scores, strict=True)
        ],
        dtype=object,
    )
    cutoffs = stats.get("pyramid_cutoffs") or []
    levels = np.full(size, "inactive", dtype=object)
    active = columns["orders_12m"] > 0
    for i in np.flatnonzero(active):
        level = "small"
        for name, cutoff in zip(["top", "large", "medium"], cutoffs, strict=False):
            if cutoff is not None and columns["profit_12m"][i] >= cutoff:
                level = name
                break
        levels[i] = level
    return {
        "rfm_r": r_scores,
        "rfm_f": f_scores,
        "rfm_m": m_scores,
        "segment": segments,
        "pyramid_level": levels,
    }


def btyd_summary(as_of: date, account_ids: list[int] | None = None):
    """Per account: distinct order days, first/last order day and repeat-day revenue (SQL)."""
    o = db.table(Order)
    acc, rev, day = db.col(Order, "account"), db.col(Order, "revenue"), db.col(Order, "date")
    extra, extra_params = db.in_clause(f"o.{acc}", account_ids)
    where = f"{_plain_orders('o.')} AND o.{day} <= %s"
    sql = f"""
        SELECT o.{acc}, COUNT(DISTINCT o.{day}),
               {db.day_number(f"MIN(o.{day})")}, {db.day_number(f"MAX(o.{day})")},
               SUM(o.{rev}), SUM(CASE WHEN o.{day} = f.first_day THEN o.{rev} ELSE 0 END)
        FROM {o} o
        JOIN (SELECT {acc} AS account, MIN({day}) AS first_day FROM {o}
              WHERE {_plain_orders()} AND {day} <= %s GROUP BY {acc}) f
          ON f.account = o.{acc}
        WHERE {where}{extra}
        GROUP BY o.{acc}
    """
    params = [as_of, as_of, *extra_params]
    table = db.fetch_ints(sql, params, 6)
    if not table.size:
        return None
    ids, n_days, first, last, revenue, first_revenue = table.T
    first, last = first.astype("datetime64[D]"), last.astype("datetime64[D]")
    end = np.datetime64(as_of, "D")
    frequency = n_days - 1
    recency = (last - first).astype(np.int64) / 7.0
    age = (end - first).astype(np.int64) / 7.0
    repeat_revenue = (revenue - first_revenue).astype(np.float64)
    monetary = (
        np.divide(repeat_revenue, frequency, out=np.zeros(ids.size), where=frequency > 0) / 100.0
    )
    monetary = np.maximum(monetary, 0.0)
    return ids, frequency, recency, age, monetary


def predict(computed: Computed, *, params: dict | None = None) -> None:
    """Add P(alive), expected orders (52 weeks) and predicted CLV to ``computed``.

    With ``params`` (from the last full run) it scores; without, it fits the book first.
    When the book is too small to fit, it records why and leaves the columns empty.
    """
    started = time.perf_counter()
    n = computed.account_ids.size
    for name in ("p_alive", "expected_orders_52w", "predicted_clv"):
        computed.columns[name] = np.full(n, np.nan)
    account_ids = None if params is None else [int(x) for x in computed.account_ids]
    summary = btyd_summary(computed.as_of, account_ids)
    if summary is None:
        computed.prediction = params or {"available": False, "reason": "no_orders"}
        return
    ids, frequency, recency, age, monetary = summary
    try:
        if params is None:
            bg = btyd.fit_bgnbd(frequency, recency, age)
            gg = btyd.fit_gamma_gamma(frequency, monetary)
            params = {
                "available": True,
                "bgnbd": {
                    "r": bg.r,
                    "alpha": bg.alpha,
                    "a": bg.a,
                    "b": bg.b,
                    "log_likelihood": bg.log_likelihood,
                },
                "gamma_gamma": {
                    "p": gg.p,
                    "q": gg.q,
                    "gamma": gg.gamma,
                    "log_likelihood": gg.log_likelihood,
                },
                "customers": int(ids.size),
                "repeat_buyers": int((frequency > 0).sum()),
            }
        if not params.get("available"):
            computed.prediction = params
            return
        bg = btyd.BGNBDParams(**params["bgnbd"])
        gg = btyd.GammaGammaParams(**params["gamma_gamma"])
    except btyd.BTYDError as exc:
        computed.prediction = {
            "available": False,
            "reason": getattr(exc, "code", "fit_failed"),
            "detail": str(exc),
            "min_repeat_buyers": btyd.MIN_REPEAT_BUYERS,
            "min_customers": btyd.MIN_CUSTOMERS,
            "repeat_buyers": int((frequency > 0).sum()),
            "customers": int(ids.size),
        }
        computed.fit_seconds = time.perf_counter() - started
        return
    rate = float(OrganisationSettings.load().discount_rate) / 100
    expected, _value, clv_value = btyd.predicted_clv(
        bg, gg, frequency, recency, age, monetary, horizon_weeks=52, margin=1.0, discount_rate=rate
    )
    alive = btyd.p_alive(bg, frequency, recency, age)
    positions = np.searchsorted(computed.account_ids, ids)
    margins = computed.columns["margin_bp"][positions] / 10000.0
    computed.columns["p_alive"][positions] = alive
    computed.columns["expected_orders_52w"][positions] = expected
    # The model works in floats; its estimate becomes cents here, rounded half up.
    computed.columns["predicted_clv"][positions] = np.floor(clv_value * margins * 100.0 + 0.5)
    computed.prediction = params
    computed.fit_seconds = time.perf_counter() - started


# For other set-based readers of the orders (reports.stats): the same fast integer
# reads and the same plain-order condition that the covering index is built on.
plain_orders = _plain_orders

__all__ = [
    "Computed",
    "btyd_summary",
    "compute",
    "plain_orders",
    "predict",
    "pyramid_levels",
    "round_half_up_div",
]
