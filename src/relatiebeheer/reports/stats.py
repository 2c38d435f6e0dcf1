"""The dashboard's period figures: built by two grouped queries, written in one transaction.

Rebuilt every hour by the worker (``reports.dashboard``) and at the end of every
whole-book metrics recompute (a step registered with ``value.steps``), so
``relatiebeheer recompute`` leaves the dashboard current. ``figures_check`` compares
the stored rows with a fresh build (``relatiebeheer check-figures``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear, TruncMonth
from django.utils import timezone

from relatiebeheer.common.writers import writer
from relatiebeheer.core.periods import add_months, month_start
from relatiebeheer.ops.figure_checks import CheckResult
from relatiebeheer.sales.models import Order

from .models import PeriodFigures

MONTHS = 24
YEARS = 5

# What a row is, and what of it is compared.
Key = tuple[int | None, str, date]
FIELDS = (
    "revenue",
    "profit",
    "orders",
    "ordering_accounts",
    "retained_accounts",
    "previous_accounts",
)


def first_month(today: date) -> date:
    """The first month the figures cover: ``MONTHS`` months up to today's."""
    return add_months(month_start(today), 1 - MONTHS)


def build_period_figures(*, today: date) -> list[PeriodFigures]:
    """The figures as they should be now (unsaved): per month of the last ``MONTHS``
    months that had orders, and per year of the last ``YEARS`` (retention), for all
    accounts (``manager`` empty) and per account manager. Months without orders have no
    row; the dashboard shows them as 0 (``reports.dashboard``)."""
    start = first_month(today)
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
    return figures


@writer(audit=False, accounts=False)
def refresh_dashboard_figures(*, today: date | None = None) -> int:
    """Replace the period figures with a fresh build, in one transaction; returns the
    number of rows. Derived data only (``accounts=False``), rebuilt hourly and after
    each recompute, so not audited: the recompute that runs it is."""
    figures = build_period_figures(today=today or timezone.localdate())
    with transaction.atomic():
        PeriodFigures.objects.all().delete()
        PeriodFigures.objects.bulk_create(figures, batch_size=2000)
    return len(figures)


def _key(row: PeriodFigures) -> Key:
    return (row.manager_id, row.kind, row.period)


def _values(row: PeriodFigures) -> tuple:
    return tuple(getattr(row, name) for name in FIELDS)


def figures_check(*, repair: bool) -> CheckResult:
    """The stored period figures against a fresh build of today: a row missing, extra or
    with another value is a difference; repair writes the fresh build."""
    fresh = {_key(row): row for row in build_period_figures(today=timezone.localdate())}
    stored = {_key(row): row for row in PeriodFigures.objects.all()}
    result = CheckResult("reports.period_figures", checked=len(fresh.keys() | stored.keys()))
    for key in sorted(fresh.keys() | stored.keys(), key=lambda k: (k[0] or 0, k[1], k[2])):
        manager, kind, period = key
        label = f"{kind} {period:%Y-%m} {'all' if manager is None else f'manager {manager}'}"
        if key not in stored:
            result.differ(f"{label}: missing")
        elif key not in fresh:
            result.differ(f"{label}: stored but no longer in the figures")
        elif _values(stored[key]) != _values(fresh[key]):
            changed = [
                f"{name} {getattr(stored[key], name)} → {getattr(fresh[key], name)}"
                for name in FIELDS
                if getattr(stored[key], name) != getattr(fresh[key], name)
            ]
            result.differ(f"{label}: {', '.join(changed)}")
    if repair and result.differences:
        with transaction.atomic():
            PeriodFigures.objects.all().delete()
            PeriodFigures.objects.bulk_create(list(fresh.values()), batch_size=2000)
        result.repaired = result.differences
    return result
