"""Reads of orders and costs, scoped to what the actor may see."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth

from relatiebeheer.common.errors import NotFound
from relatiebeheer.core.periods import fill_months, last_months
from relatiebeheer.users.models import User

from .models import CostEntry, Order


def order_list(
    *,
    actor: User,
    account_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    status: str | None = None,
) -> QuerySet[Order]:
    qs = Order.objects.visible_to(actor).prefetch_related("lines")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-date", "-id")


def order_get(*, actor: User, pk: int) -> Order:
    order = (
        Order.objects.visible_to(actor).select_related("account", "credit_of").filter(pk=pk).first()
    )
    if order is None:
        raise NotFound()
    return order


def cost_list(
    *,
    actor: User,
    account_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    category: str | None = None,
) -> QuerySet[CostEntry]:
    qs = CostEntry.objects.visible_to(actor)
    if account_id:
        qs = qs.filter(account_id=account_id)
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    if category:
        qs = qs.filter(category=category)
    return qs.order_by("-date", "-id")


def cost_get(*, actor: User, pk: int) -> CostEntry:
    entry = CostEntry.objects.visible_to(actor).select_related("account").filter(pk=pk).first()
    if entry is None:
        raise NotFound()
    return entry


def revenue_by_month(
    *,
    actor: User | None = None,
    account_ids: list[int] | None = None,
    manager: User | None = None,
    today: date,
    months: int = 12,
) -> list[tuple[date, Decimal]]:
    """Net revenue per calendar month: the current month and the ``months - 1`` before
    it (oldest first), every month of the range listed, with 0 where there were no orders
    (``core.periods.last_months``), so a chart's time axis is never compressed.

    Scoped by ``actor`` (what they may see), optionally narrowed to ``account_ids`` or to
    the accounts ``manager`` manages.
    """
    range_ = last_months(today, months)
    qs = Order.objects.visible_to(actor).counting().filter(date__gte=range_[0], date__lte=today)
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    if manager is not None:
        qs = qs.filter(account__manager=manager)
    totals = {
        row["month"]: row["total"]
        for row in qs.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(total=Sum("revenue"))
    }
    return fill_months(range_, totals, Decimal("0.00"))
