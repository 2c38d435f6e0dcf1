"""Set-based computation of the per-account metrics.

One SQL aggregate over the orders (the same single pass as
``SELECT account_id, SUM(revenue), … GROUP BY account_id``, with conditional sums for
the periods), small aggregates over costs and contact time, then NumPy for the rest:
never one query per account.

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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

import numpy as np
from django.db import connection
from django.utils import timezone

from relatiebeheer.core import btyd
from relatiebeheer.core.periods import last_12_months
from relatiebeheer.core.rfm import rfm_scores, segment_for
from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.relations.models import Account, Interaction
from relatiebeheer.sales.models import CostEntry, Order

from .models import AccountMetrics

PYRAMID_SHARES = (0.01, 0.05, 0.20)  # cumulative: top, large, medium (core.value)


def _col(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in_clause(column: str, ids: list[int] | None) -> tuple[str, list]:
    if ids is None:
        return "", []
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _days(values) -> np.ndarray:
    """Dates from the database (ISO strings on SQLite, dates on PostgreSQL) → day numbers."""
    array = np.array([v if v is not None else "NaT" for v in values], dtype="datetime64[D]")
    return array


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
]


def order_aggregates(as_of: date, account_ids: list[int] | None = None) -> dict[str, np.ndarray]:
    """Totals, counts, first/last order and period sums (cents) per account.

    The one pass over all orders is the baseline aggregate (SUM, COUNT, MIN, MAX per
    account) plus conditional sums for three period starts. The few rows that are not
    plain orders — credit notes (not counted as orders), cancelled and future-dated
    orders (not counted at all) — come from three small indexed queries and are
    corrected for in NumPy, so the big scan carries no extra filters.
    """
    o = _table(Order)
    acc, rev, cost, day, credit, status, pk = (
        _col(Order, "account"),
        _col(Order, "revenue"),
        _col(Order, "cost_of_goods"),
        _col(Order, "date"),
        _col(Order, "credit_of"),
        _col(Order, "status"),
        _col(Order, "id"),
    )
    start_12m, _ = last_12_months(as_of)
    this_year, last_year = date(as_of.year, 1, 1), date(as_of.year - 1, 1, 1)
    starts = {"12m": start_12m, "ty": this_year, "ly": last_year}
    if connection.vendor == "sqlite":
        # SQLite evaluates a comparison to 0/1; a product is cheaper than CASE per row.
        def sum_since(column):
            return f"SUM({column} * ({day} >= %s))"

        def count_since():
            return f"SUM({day} >= %s)"
    else:

        def sum_since(column):
            return f"COALESCE(SUM({column}) FILTER (WHERE {day} >= %s), 0)"

        def count_since():
            return f"COUNT(*) FILTER (WHERE {day} >= %s)"

    extra, extra_params = _in_clause(acc, account_ids)
    where = f"WHERE 1 = 1{extra}"
    sql = f"""
        SELECT {acc}, SUM({rev}), SUM({cost}), COUNT(*), MIN({day}), MAX({day}),
               {sum_since(rev)}, {sum_since(cost)}, {count_since()},
               {sum_since(rev)}, {sum_since(cost)},
               {sum_since(rev)}, {sum_since(cost)}
        FROM {o} {where}
        GROUP BY {acc}
    """
    params = [
        starts["12m"], starts["12m"], starts["12m"],
        starts["ty"], starts["ty"],
        starts["ly"], starts["ly"],
        *extra_params,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        exceptions = {}
        for condition, condition_params in (
            (f"{credit} IS NOT NULL", []),
            (f"{status} = %s", [Order.Status.CANCELLED]),
            (f"{day} > %s", [as_of]),
        ):
            cursor.execute(
                f"SELECT {pk}, {acc}, {day}, {rev}, {cost}, {credit} IS NOT NULL, {status} "
                f"FROM {o} WHERE {condition}{extra}",
                [*condition_params, *extra_params],
            )
            for row in cursor.fetchall():
                exceptions[row[0]] = row[1:]
    if not rows:
        return {name: np.array([], dtype=np.int64) for name in ORDER_COLUMNS}
    rows.sort(key=lambda row: row[0])  # PostgreSQL's hash aggregate returns any order
    columns = list(zip(*rows, strict=True))
    result = {}
    for name, values in zip(ORDER_COLUMNS[:4], columns[:4], strict=True):
        result[name] = np.array(values, dtype=np.int64)
    result["first_order"], result["last_order"] = _days(columns[4]), _days(columns[5])
    result["revenue_12m"], result["cost_12m"], result["orders_12m"] = (
        np.array(columns[i], dtype=np.int64) for i in (6, 7, 8)
    )
    # "Since last year" minus "since this year" is last year; "since this year" is this year.
    since_ty_rev, since_ty_cost = (
        np.array(columns[9], dtype=np.int64),
        np.array(columns[10], dtype=np.int64),
    )
    since_ly_rev, since_ly_cost = (
        np.array(columns[11], dtype=np.int64),
        np.array(columns[12], dtype=np.int64),
    )
    result["revenue_ty"], result["cost_ty"] = since_ty_rev, since_ty_cost
    result["revenue_ly"], result["cost_ly"] = (
        since_ly_rev - since_ty_rev,
        since_ly_cost - since_ty_cost,
    )
    if exceptions:
        _correct_for_exceptions(result, exceptions, as_of, starts, account_ids)
    return result


def _correct_for_exceptions(
    result: dict, exceptions: dict, as_of: date, starts: dict, account_ids
) -> None:
    """Take credit notes out of the order counts and cancelled or future rows out of everything."""
    ids, days, revenue, cost, is_credit, statuses = (
        list(v) for v in zip(*exceptions.values(), strict=True)
    )
    ids = np.array(ids, dtype=np.int64)
    days = _days(days)
    revenue, cost = np.array(revenue, dtype=np.int64), np.array(cost, dtype=np.int64)
    is_credit = np.array([bool(v) for v in is_credit])
    excluded = np.array([s == Order.Status.CANCELLED for s in statuses]) | (
        days > np.datetime64(as_of, "D")
    )
    pos = np.searchsorted(result["account_id"], ids)
    since = {key: days >= np.datetime64(start, "D") for key, start in starts.items()}
    ly_only = since["ly"] & ~since["ty"]

    def subtract(column, mask, values):
        np.subtract.at(result[column], pos[mask], values[mask])

    ones = np.ones(ids.size, dtype=np.int64)
    for column, values in (("revenue", revenue), ("cost", cost)):
        subtract(f"{column}_total", excluded, values)
        subtract(f"{column}_12m", excluded & since["12m"], values)
        subtract(f"{column}_ty", excluded & since["ty"], values)
        subtract(f"{column}_ly", excluded & ly_only, values)
    not_an_order = excluded | is_credit
    subtract("orders", not_an_order, ones)
    subtract("orders_12m", not_an_order & since["12m"], ones)

    # First/last order: recount exactly for the accounts where a non-order sits on an edge.
    on_edge = not_an_order & (
        (days <= result["first_order"][pos]) | (days >= result["last_order"][pos])
    )
    affected = sorted(set(result["account_id"][pos[on_edge]].tolist()))
    if not affected:
        return
    o = _table(Order)
    acc, day, credit, status = (_col(Order, n) for n in ("account", "date", "credit_of", "status"))
    with connection.cursor() as cursor:
        for chunk_start in range(0, len(affected), 500):
            chunk = affected[chunk_start : chunk_start + 500]
            cursor.execute(
                f"SELECT {acc}, MIN({day}), MAX({day}) FROM {o} "
                f"WHERE {credit} IS NULL AND {status} <> %s AND {day} <= %s "
                f"AND {acc} IN ({', '.join(['%s'] * len(chunk))}) GROUP BY {acc}",
                [Order.Status.CANCELLED, as_of, *chunk],
            )
            found = {row[0]: row[1:] for row in cursor.fetchall()}
            edges = [found.get(account_id, (None, None)) for account_id in chunk]
            # One conversion and one scatter per chunk, not a NumPy call per account.
            rows = np.searchsorted(result["account_id"], chunk)
            result["first_order"][rows] = _days([first for first, _ in edges])
            result["last_order"][rows] = _days([last for _, last in edges])


def cost_aggregates(as_of: date, account_ids: list[int] | None = None):
    """Cost entries per account: (account ids, dates, cents) up to ``as_of``."""
    c = _table(CostEntry)
    acc, day, amount = (
        _col(CostEntry, "account"),
        _col(CostEntry, "date"),
        _col(CostEntry, "amount"),
    )
    extra, extra_params = _in_clause(acc, account_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {acc}, {day}, SUM({amount}) FROM {c} WHERE {day} <= %s{extra} GROUP BY {acc}, {day}",
            [as_of, *extra_params],
        )
        rows = cursor.fetchall()
    if not rows:
        return (
            np.array([], dtype=np.int64),
            np.array([], dtype="datetime64[D]"),
            np.array([], dtype=np.int64),
        )
    ids, days, cents = zip(*rows, strict=True)
    return np.array(ids, dtype=np.int64), _days(days), np.array(cents, dtype=np.int64)


def contact_minutes(as_of: date, account_ids: list[int] | None = None) -> dict[str, np.ndarray]:
    """Minutes of contact time per account, this calendar year (to D) and last year."""
    i = _table(Interaction)
    acc, at, minutes = (
        _col(Interaction, "account"),
        _col(Interaction, "occurred_at"),
        _col(Interaction, "duration_minutes"),
    )
    zone = timezone.get_default_timezone()
    starts = [
        datetime.combine(date(y, 1, 1), dtime(), tzinfo=zone) for y in (as_of.year - 1, as_of.year)
    ]
    end = datetime.combine(as_of + timedelta(days=1), dtime(), tzinfo=zone)
    extra, extra_params = _in_clause(acc, account_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {acc},
                   SUM(CASE WHEN {at} >= %s THEN {minutes} ELSE 0 END),
                   SUM(CASE WHEN {at} < %s THEN {minutes} ELSE 0 END)
                FROM {i} WHERE {at} >= %s AND {at} < %s{extra} GROUP BY {acc}""",
            [starts[1], starts[1], starts[0], end, *extra_params],
        )
        rows = cursor.fetchall()
    if not rows:
        empty = np.array([], dtype=np.int64)
        return {"account_id": empty, "this_year": empty, "last_year": empty}
    ids, this_year, last_year = zip(*rows, strict=True)
    return {
        "account_id": np.array(ids, dtype=np.int64),
        "this_year": np.array([v or 0 for v in this_year], dtype=np.int64),
        "last_year": np.array([v or 0 for v in last_year], dtype=np.int64),
    }


def _scatter(index_of: dict, ids: np.ndarray, values: np.ndarray, size: int, fill=0) -> np.ndarray:
    out = np.full(size, fill, dtype=values.dtype if values.size else np.int64)
    if ids.size:
        positions = np.searchsorted(index_of["ids"], ids)
        out[positions] = values
    return out


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
    accounts_qs = (
        Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=account_ids)
    )
    account_rows = list(accounts_qs.order_by("pk").values_list("pk", "margin"))
    ids = np.array([pk for pk, _m in account_rows], dtype=np.int64)
    n = ids.size
    default_bp = int(settings.default_margin * 100)
    margin_bp = np.array(
        [int(m * 100) if m is not None else default_bp for _pk, m in account_rows], dtype=np.int64
    )
    index = {"ids": ids}

    agg = order_aggregates(as_of, account_ids)
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
    ):
        col[name] = _scatter(index, agg["account_id"], agg[name], n)
    first = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    last = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if agg["account_id"].size:
        positions = np.searchsorted(ids, agg["account_id"])
        first[positions], last[positions] = agg["first_order"], agg["last_order"]

    # Costs: this year, last year, since the first order.
    cost_ids, cost_days, cost_cents = cost_aggregates(as_of, account_ids)
    this_year = np.datetime64(date(as_of.year, 1, 1), "D")
    last_year = np.datetime64(date(as_of.year - 1, 1, 1), "D")
    costs_ty = np.zeros(n, dtype=np.int64)
    costs_ly = np.zeros(n, dtype=np.int64)
    costs_since = np.zeros(n, dtype=np.int64)
    if cost_ids.size:
        keep = np.isin(cost_ids, ids)
        cost_ids, cost_days, cost_cents = cost_ids[keep], cost_days[keep], cost_cents[keep]
        pos = np.searchsorted(ids, cost_ids)
        np.add.at(costs_ty, pos[cost_days >= this_year], cost_cents[cost_days >= this_year])
        in_ly = (cost_days >= last_year) & (cost_days < this_year)
        np.add.at(costs_ly, pos[in_ly], cost_cents[in_ly])
        since = ~np.isnat(first[pos]) & (cost_days >= first[pos])
        np.add.at(costs_since, pos[since], cost_cents[since])

    minutes = contact_minutes(as_of, account_ids)
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
    )


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
    m = _table(AccountMetrics)
    orders, revenue, recency = columns["orders"], columns["revenue_total"], columns["recency_days"]
    size = orders.size
    r_scores = np.zeros(size, dtype=np.int8)
    f_scores = np.zeros(size, dtype=np.int8)
    m_scores = np.zeros(size, dtype=np.int8)
    o_col, rev_col, rec_col = (
        _col(AccountMetrics, "orders"),
        _col(AccountMetrics, "revenue_total"),
        _col(AccountMetrics, "recency_days"),
    )
    acc_col = _col(AccountMetrics, "account")
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
    o = _table(Order)
    acc, rev, day, credit, status = (
        _col(Order, "account"),
        _col(Order, "revenue"),
        _col(Order, "date"),
        _col(Order, "credit_of"),
        _col(Order, "status"),
    )
    extra, extra_params = _in_clause(f"o.{acc}", account_ids)
    where = f"o.{credit} IS NULL AND o.{status} <> %s AND o.{day} <= %s"
    sql = f"""
        SELECT o.{acc}, COUNT(DISTINCT o.{day}), MIN(o.{day}), MAX(o.{day}),
               SUM(o.{rev}), SUM(CASE WHEN o.{day} = f.first_day THEN o.{rev} ELSE 0 END)
        FROM {o} o
        JOIN (SELECT {acc} AS account, MIN({day}) AS first_day FROM {o}
              WHERE {credit} IS NULL AND {status} <> %s AND {day} <= %s GROUP BY {acc}) f
          ON f.account = o.{acc}
        WHERE {where}{extra}
        GROUP BY o.{acc}
    """
    params = [Order.Status.CANCELLED, as_of, Order.Status.CANCELLED, as_of, *extra_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    ids, n_days, first, last, revenue, first_revenue = zip(*rows, strict=True)
    ids = np.array(ids, dtype=np.int64)
    n_days = np.array(n_days, dtype=np.int64)
    first, last = _days(first), _days(last)
    end = np.datetime64(as_of, "D")
    frequency = n_days - 1
    recency = (last - first).astype(np.int64) / 7.0
    age = (end - first).astype(np.int64) / 7.0
    repeat_revenue = np.array(revenue, dtype=np.float64) - np.array(first_revenue, dtype=np.float64)
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


__all__ = ["Computed", "btyd_summary", "compute", "predict", "pyramid_levels", "round_half_up_div"]
