"""The management dashboard's figures: precomputed period figures plus snapshot aggregates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from relatiebeheer.core.periods import month_range
from relatiebeheer.users.access import sees_all_accounts
from relatiebeheer.value.models import AccountMetrics, MetricsRun
from relatiebeheer.value.selectors import metrics_for, pending_count

from .models import PeriodFigures
from .stats import YEARS, first_month

# Customer value bands (euros) for the distribution chart.
VALUE_BANDS = [
    (None, Decimal(0)),
    (Decimal(0), Decimal(1000)),
    (Decimal(1000), Decimal(5000)),
    (Decimal(5000), Decimal(20000)),
    (Decimal(20000), None),
]


def scope(actor):
    """Managers see the whole book, an account manager their own portfolio."""
    return None if sees_all_accounts(actor) else actor.pk


def every_month(stored: list[PeriodFigures], *, today: date) -> list[PeriodFigures]:
    """One row per month of the dashboard's range (``stats.MONTHS`` up to today's month),
    oldest first: the stored row, or an unsaved row of zeros for a month without orders."""
    by_month = {row.period: row for row in stored if row.kind == PeriodFigures.Kind.MONTH}
    return [
        by_month.get(month) or PeriodFigures(kind=PeriodFigures.Kind.MONTH, period=month)
        for month in month_range(first_month(today), today)
    ]


def every_year(stored: list[PeriodFigures], *, today: date) -> list[PeriodFigures]:
    """One row per year of the retention range (the last ``stats.YEARS``), oldest first;
    a year without orders is a row of zeros (no retention)."""
    by_year = {row.period.year: row for row in stored if row.kind == PeriodFigures.Kind.YEAR}
    return [
        by_year.get(year) or PeriodFigures(kind=PeriodFigures.Kind.YEAR, period=date(year, 1, 1))
        for year in range(today.year - YEARS + 1, today.year + 1)
    ]


def figures(actor, *, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    manager_id = scope(actor)
    stored = list(PeriodFigures.objects.filter(manager_id=manager_id).order_by("kind", "period"))
    computed = bool(stored)
    months = every_month(stored, today=today) if computed else []
    years = every_year(stored, today=today) if computed else []
    rows = metrics_for(actor)
    if manager_id is not None:
        rows = rows.filter(account__manager_id=manager_id)
    aggregates = {}
    for i, (low, high) in enumerate(VALUE_BANDS):
        condition = Q()
        if low is not None:
            condition &= Q(value_this_year__gte=low)
        if high is not None:
            condition &= Q(value_this_year__lt=high)
        aggregates[f"band{i}"] = Count("account", filter=condition & Q(orders__gt=0))
    aggregates.update(
        accounts=Count("account"),
        at_risk=Count("account", filter=Q(segment__in=["at_risk", "cannot_lose"])),
        value=Sum("value_this_year"),
        clv=Sum("clv"),
    )
    totals = rows.aggregate(**aggregates)
    at_risk = list(
        rows.filter(segment__in=["at_risk", "cannot_lose"]).order_by("-clv", "account_id")[:8]
    )
    return {
        "months": months,
        "years": years,
        "totals": totals,
        "bands": [totals[f"band{i}"] for i in range(len(VALUE_BANDS))],
        "at_risk": at_risk,
        "run": MetricsRun.objects.order_by("-computed_at", "-id").only("computed_at").first(),
        "pending": pending_count(actor),
    }


__all__ = ["VALUE_BANDS", "AccountMetrics", "figures"]
