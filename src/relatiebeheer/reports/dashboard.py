"""The management dashboard's figures: precomputed period figures plus snapshot aggregates."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum

from relatiebeheer.users.access import sees_all_accounts
from relatiebeheer.value.models import AccountMetrics, MetricsRun
from relatiebeheer.value.selectors import metrics_for

from .models import PeriodFigures

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


def figures(actor) -> dict:
    manager_id = scope(actor)
    periods = PeriodFigures.objects.filter(manager_id=manager_id)
    months = list(periods.filter(kind="month").order_by("period"))
    years = list(periods.filter(kind="year").order_by("period"))
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
    }


__all__ = ["VALUE_BANDS", "AccountMetrics", "figures"]
