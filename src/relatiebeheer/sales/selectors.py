"""Reads of orders and costs, scoped to what the actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from relatiebeheer.common.errors import NotFound

from .models import CostEntry, Order


def order_list(*, actor, account_id: int | None = None, date_from=None, date_to=None, status: str | None = None):
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


def order_get(*, actor, pk: int) -> Order:
    order = Order.objects.visible_to(actor).select_related("account", "credit_of").filter(pk=pk).first()
    if order is None:
        raise NotFound()
    return order


def cost_list(*, actor, account_id: int | None = None, date_from=None, date_to=None, category: str | None = None) -> QuerySet[CostEntry]:
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


def cost_get(*, actor, pk: int) -> CostEntry:
    entry = CostEntry.objects.visible_to(actor).select_related("account").filter(pk=pk).first()
    if entry is None:
        raise NotFound()
    return entry
