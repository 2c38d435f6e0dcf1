"""Rebuilding the dashboard's period figures: two grouped queries, written in one transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear, TruncMonth
from django.utils import timezone

from relatiebeheer.sales.models import Order

from .models import PeriodFigures

MONTHS = 24
YEARS = 5


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def refresh_dashboard_figures(*, today: date | None = None) -> int:
    today = today or timezone.localdate()
    start = _months_back(today, MONTHS - 1)
    orders = Order.objects.counting().filter(date__gte=start, date__lte=today)
    monthly = (
        orders.annotate(month=TruncMonth("date"))
        .values("account__manager_id", "month")
        .annotate(
            revenue=Sum("revenue"),
            cost=Sum("cost_of_goods"),
            n=Count("id", filter=Q(credit_of__isnull=True)),
            accounts=Count("account", distinct=True, filter=Q(credit_of__isnull=True)),
        )
    )
    rows: dict[tuple, dict] = defaultdict(
        lambda: {"revenue": 0, "profit": 0, "orders": 0, "accounts": 0}
    )
    for r in monthly:
        for manager in (r["account__manager_id"], None):
            key = (manager, r["month"])
            rows[key]["revenue"] += r["revenue"] or 0
            rows[key]["profit"] += (r["revenue"] or 0) - (r["cost"] or 0)
            rows[key]["orders"] += r["n"]
            rows[key]["accounts"] += r["accounts"]  # an account has one manager: sums are exact

    # Retention per year: distinct (account, year) pairs of orders.
    first_year = today.year - YEARS
    pairs = (
        Order.objects.counting()
        .filter(credit_of__isnull=True, date__gte=date(first_year, 1, 1), date__lte=today)
        .annotate(year=ExtractYear("date"))
        .values_list("account__manager_id", "account_id", "year")
        .order_by()  # no default ordering columns inside the DISTINCT
        .distinct()
    )
    by_year: dict[tuple, set] = defaultdict(set)
    for manager, account, year in pairs.iterator(chunk_size=20_000):
        by_year[(manager, year)].add(account)
        by_year[(None, year)].add(account)
    figures = [
        PeriodFigures(
            manager_id=manager, kind="month", period=month, revenue=v["revenue"], profit=v["profit"],
            orders=v["orders"], ordering_accounts=v["accounts"],
        )
        for (manager, month), v in rows.items()
    ]  # fmt: skip
    for (manager, year), accounts in by_year.items():
        if year == first_year:
            continue
        previous = by_year.get((manager, year - 1), set())
        figures.append(
            PeriodFigures(
                manager_id=manager, kind="year", period=date(year, 1, 1), ordering_accounts=len(accounts),
                retained_accounts=len(previous & accounts), previous_accounts=len(previous),
            )
        )  # fmt: skip
    with transaction.atomic():
        PeriodFigures.objects.all().delete()
        PeriodFigures.objects.bulk_create(figures, batch_size=2000)
    return len(figures)
