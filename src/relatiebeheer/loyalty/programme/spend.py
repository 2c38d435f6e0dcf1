"""Net spend per account, read set-based from the orders (integer cents).

One plain ``SUM … GROUP BY`` per disjoint date range (:func:`spend_pass`) for the whole
book; the dated spend per day (:func:`daily_spend`) only for the few members whose
history the rules need. Cancelled orders are left out; credit notes count by their date.
Identifiers come from the models' ``_meta``; values are always passed as parameters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, models

from relatiebeheer.core import loyalty_rules as rules
from relatiebeheer.core.money import from_cents
from relatiebeheer.sales.models import Order

from .config import Config
from .models import Programme

CHUNK = 500


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def column_of(model: type[models.Model], name: str) -> str:
    return quote(model._meta.get_field(name).column)  # type: ignore[union-attr]


def table_of(model: type[models.Model]) -> str:
    return quote(model._meta.db_table)


def as_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _segments(config: Config, as_of: date) -> list[tuple[str, date, date, str]]:
    """Disjoint date ranges to sum (name, first day, last day, which amounts).

    Summing disjoint ranges with plain ``SUM … GROUP BY`` reads each order once and is
    cheaper than one pass with a ``CASE`` per period; the periods the rules need are
    sums of these. ``which``: "all", "positive" (orders only) or "credits" (credit notes,
    found through their own index).
    """
    year_start = date(as_of.year, 1, 1)
    quarterly = config.programme.bonus_period == Programme.BonusPeriod.QUARTER and config.scheme
    quarter_start = date(as_of.year, (as_of.month - 1) // 3 * 3 + 1, 1)
    this_year = []
    if quarterly and quarter_start > year_start:
        this_year.append(("year_early", year_start, quarter_start - timedelta(days=1), "all"))
    this_year.append(
        (
            "year_late" if quarterly else "year_all",
            max(year_start, quarter_start if quarterly else year_start),
            as_of,
            "all",
        )
    )
    if not config.rolling:
        prev = ("prev", date(as_of.year - 1, 1, 1), year_start - timedelta(days=1), "all")
        return [prev, *this_year]
    roll_start = rules.rolling_window_start(as_of)
    ext_start = rules.rolling_window_start(as_of - timedelta(days=config.programme.grace_days))
    segments = []
    if ext_start < roll_start:
        segments.append(("ext_early", ext_start, roll_start - timedelta(days=1), "positive"))
    if roll_start < year_start:
        segments.append(("roll_early", roll_start, year_start - timedelta(days=1), "all"))
    segments += this_year
    segments.append(("roll_credits", roll_start, as_of, "credits"))
    return segments


def spend_pass(
    config: Config, as_of: date, account_ids: list[int] | None = None
) -> dict[str, np.ndarray]:
    """Net spend per account in the periods the rules need (integer cents).

    Columns: ``year`` (1 January … as_of); calendar programmes ``prev_year`` (last
    year); rolling programmes ``roll`` (the 12 months to as_of) and ``ext_pos`` (the
    positive amounts over those 12 months plus the grace period, an upper bound of the
    rolling spend on any day of the grace period); ``quarter`` when the bonus is settled
    per quarter. One aggregate per disjoint date range (see :func:`_segments`).
    """
    o = table_of(Order)
    acc, rev, day, status, credit = (
        column_of(Order, "account"),
        column_of(Order, "revenue"),
        column_of(Order, "date"),
        column_of(Order, "status"),
        column_of(Order, "credit_of"),
    )
    segments = _segments(config, as_of)
    extra = {"all": "", "positive": f" AND {rev} > 0", "credits": f" AND {credit} IS NOT NULL"}
    found: list[tuple[int, np.ndarray, np.ndarray]] = []
    with connection.cursor() as cursor:
        for index, (_name, first, last, which) in enumerate(segments):
            base = (
                f"SELECT {acc}, SUM({rev}) FROM {o} WHERE {status} <> %s "  # noqa: S608
                f"AND {day} >= %s AND {day} <= %s{extra[which]}"
            )
            params = [Order.Status.CANCELLED, first, last]
            rows: list[tuple] = []
            if account_ids is None:
                cursor.execute(f"{base} GROUP BY {acc}", params)
                rows = cursor.fetchall()
            else:
                for chunk in chunks(sorted(account_ids)):
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(
                        f"{base} AND {acc} IN ({marks}) GROUP BY {acc}", [*params, *chunk]
                    )
                    rows += cursor.fetchall()
            if rows:
                array = np.array(rows, dtype=np.int64)  # SUM over a group is never NULL
                found.append((index, array[:, 0], array[:, 1]))
    all_ids = np.unique(np.concatenate([f[1] for f in found])) if found else np.zeros(0, np.int64)
    table = np.zeros((len(segments), all_ids.size), dtype=np.int64)
    for index, ids, cents in found:
        table[index, np.searchsorted(all_ids, ids)] = cents
    column = {name: table[i] for i, (name, *_rest) in enumerate(segments)}
    zero = np.zeros(all_ids.size, dtype=np.int64)
    year = (
        column.get("year_early", zero)
        + column.get("year_late", zero)
        + column.get("year_all", zero)
    )
    out = {"account_id": all_ids, "year": year}
    if "year_late" in column:
        out["quarter"] = column["year_late"]
    if config.rolling:
        roll = column.get("roll_early", zero) + year
        out["roll"] = roll
        out["ext_pos"] = column.get("ext_early", zero) + roll - column["roll_credits"]
    else:
        out["prev_year"] = column["prev"]
    return out


def ordered_since(as_of: date, through: date | None, account_ids: list[int] | None) -> set[int]:
    """Accounts with orders dated after ``through`` (the last full evaluation) up to as_of."""
    if through is None or through >= as_of:
        return set()
    qs = Order.objects.filter(date__gt=through, date__lte=as_of)
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    return set(qs.values_list("account_id", flat=True).distinct())


def daily_spend(
    account_ids: list[int], start: date, end: date
) -> dict[int, list[tuple[date, Decimal]]]:
    """Net spend per account per day (only for the few members whose history is needed)."""
    o = table_of(Order)
    acc, rev, day, status = (
        column_of(Order, "account"),
        column_of(Order, "revenue"),
        column_of(Order, "date"),
        column_of(Order, "status"),
    )
    result: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    with connection.cursor() as cursor:
        for chunk in chunks(sorted(account_ids)):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {acc}, {day}, SUM({rev}) FROM {o} WHERE {status} <> %s "  # noqa: S608
                f"AND {day} >= %s AND {day} <= %s AND {acc} IN ({marks}) GROUP BY {acc}, {day}",
                [Order.Status.CANCELLED, start, end, *chunk],
            )
            for account_id, day_value, cents in cursor.fetchall():
                result[account_id].append((as_date(day_value), from_cents(int(cents or 0))))
    return result


def history_start(config: Config) -> date:
    """The first order date the core needs to evaluate any day from ``starts_on``."""
    start = config.programme.starts_on
    if config.rolling:
        return rules.rolling_window_start(start - timedelta(days=config.programme.grace_days))
    return date(start.year - 1, 1, 1)


def period_spend(start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
    """Net spend per account dated ``start`` … ``end`` (cents)."""
    o = table_of(Order)
    acc, rev, day, status = (
        column_of(Order, "account"),
        column_of(Order, "revenue"),
        column_of(Order, "date"),
        column_of(Order, "status"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {acc}, SUM({rev}) FROM {o} WHERE {status} <> %s "  # noqa: S608
            f"AND {day} >= %s AND {day} <= %s GROUP BY {acc}",
            [Order.Status.CANCELLED, start, end],
        )
        rows = cursor.fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ids, cents = zip(*rows, strict=True)
    return np.array(ids, dtype=np.int64), np.array([c or 0 for c in cents], dtype=np.int64)
