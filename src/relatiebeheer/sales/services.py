"""Writes to orders, credit notes, order lines and cost entries.

Every change that alters what an account is worth ends by calling the "accounts
changed" hook (see :mod:`relatiebeheer.hooks`). Order writers lock the account row
before they check the rules that span rows (what credit notes may still credit, whether
the account becomes a customer): two credit notes on one order are checked one after
the other, never both against the same old total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.common.services import (
    apply_changes,
    full_clean_or_raise,
    versioned_delete,
    versioned_update,
)
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.services import require_account_writable

from .models import CostEntry, Order, OrderLine

ORDER_FIELDS = (
    "date",
    "number",
    "external_id",
    "status",
    "revenue",
    "cost_of_goods",
    "vat_rate",
    "notes",
    "credit_of",
)
LINE_FIELDS = ("product", "category", "quantity", "revenue", "cost")
COST_FIELDS = ("date", "category", "amount", "description", "external_id")


def _build_lines(lines: Sequence[Mapping[str, Any]]) -> list[OrderLine]:
    built, errors = [], {}
    for index, line in enumerate(lines):
        obj = OrderLine()
        try:
            apply_changes(obj, dict(line), LINE_FIELDS)
            full_clean_or_raise(obj, exclude=["order"])
        except InvalidInput as exc:
            for field, messages in exc.errors.items():
                errors[f"lines.{index}.{field}"] = messages
        built.append(obj)
    if errors:
        raise InvalidInput(errors)
    return built


def _apply_line_totals(order: Order, lines: list[OrderLine], data: Mapping[str, Any]) -> None:
    """With lines, the order's totals are the sums of its lines (and must agree if given)."""
    revenue = sum((line.revenue for line in lines), Decimal("0.00"))
    cost = sum((line.cost for line in lines), Decimal("0.00"))
    errors = {}
    if "revenue" in data and data["revenue"] is not None and Decimal(data["revenue"]) != revenue:
        errors["revenue"] = [_("The revenue must equal the sum of the order lines.")]
    if (
        "cost_of_goods" in data
        and data["cost_of_goods"] is not None
        and Decimal(data["cost_of_goods"]) != cost
    ):
        errors["cost_of_goods"] = [_("The cost of goods must equal the sum of the order lines.")]
    if errors:
        raise InvalidInput(errors)
    order.revenue, order.cost_of_goods = revenue, cost


def _check_credit_note(order: Order) -> None:
    """Under the account's lock: the order as stored now, not as the caller loaded it."""
    original = Order.objects.filter(pk=order.credit_of_id).first() if order.credit_of_id else None
    if original is None:
        if order.revenue < 0:
            raise InvalidInput(
                {"revenue": [_("Negative amounts belong on a credit note that names its order.")]}
            )
        return
    if original.account_id != order.account_id:
        raise InvalidInput(
            {"credit_of": [_("A credit note corrects an order of the same account.")]}
        )
    if original.credit_of_id is not None:
        raise InvalidInput(
            {"credit_of": [_("A credit note corrects an order, not another credit note.")]}
        )
    if order.revenue > 0:
        raise InvalidInput({"revenue": [_("A credit note has a negative (or zero) amount.")]})
    already = Order.objects.filter(credit_of=original).exclude(pk=order.pk).counting().aggregate(
        total=Sum("revenue")
    )["total"] or Decimal("0.00")
    if original.revenue + already + order.revenue < 0:
        raise InvalidInput(
            {"revenue": [_("Credit notes cannot credit more than the order's revenue.")]}
        )


def _promote_to_customer(account: Account, order: Order) -> None:
    """A prospect that orders becomes a customer (a customer has ordered before), and
    ``customer_since`` is the date of its first order. Decided in SQL, so a stale
    in-memory account cannot move the date forward."""
    if order.credit_of_id is not None:
        return
    Account.objects.filter(pk=account.pk, status=Account.Status.PROSPECT).update(
        status=Account.Status.CUSTOMER
    )
    Account.objects.filter(pk=account.pk).filter(
        Q(customer_since__isnull=True) | Q(customer_since__gt=order.date)
    ).update(customer_since=order.date)
    account.refresh_from_db(fields=["status", "customer_since"])


def _lock_account(account_id: int) -> None:
    """Serialise the order writes of one account (see the module docstring)."""
    writers.lock(Account.objects.filter(pk=account_id))


@writer(locks=("relations.account",))
def order_create(
    *,
    actor,
    account: Account,
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] | None = None,
) -> Order:
    """Record an order or — with ``credit_of`` — a credit note, optionally with lines."""
    require_account_writable(actor, account)
    order = Order(account=account)
    data = dict(data)
    built = _build_lines(lines) if lines else []
    changed = apply_changes(
        order, {k: v for k, v in data.items() if v is not None or k == "credit_of"}, ORDER_FIELDS
    )
    if built:
        _apply_line_totals(order, built, data)
    full_clean_or_raise(order)
    with transaction.atomic():
        _lock_account(account.pk)
        _check_credit_note(order)
        order.save()
        for line in built:
            line.order = order
        OrderLine.objects.bulk_create(built)
        _promote_to_customer(account, order)
        audit_log(
            actor=actor,
            action="order.create",
            obj=order,
            fields=changed,
            extra={"lines": len(built)},
        )
        accounts_changed([account.pk])
    return order


@writer(version="version", locks=("relations.account",))
def order_update(
    *,
    actor,
    order: Order,
    version: int,
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] | None = None,
) -> Order:
    """Change an order; given ``lines`` replace the existing ones and set the totals."""
    require_account_writable(actor, order.account)
    data = dict(data)
    if "credit_of" in data and data["credit_of"] != order.credit_of:
        raise InvalidInput(
            {"credit_of": [_("Make a new credit note instead of changing what it corrects.")]}
        )
    changed = apply_changes(order, data, ORDER_FIELDS)
    built = _build_lines(lines) if lines is not None else None
    if built:
        _apply_line_totals(order, built, data)
        changed = sorted({*changed, "revenue", "cost_of_goods"})
    full_clean_or_raise(order)
    with transaction.atomic():
        _lock_account(order.account_id)
        _check_credit_note(order)
        if order.credit_of_id is None:
            credited = order.credit_notes.counting().aggregate(total=Sum("revenue"))[
                "total"
            ] or Decimal("0.00")
            if order.revenue + credited < 0:
                raise InvalidInput(
                    {
                        "revenue": [
                            _("The revenue cannot drop below what credit notes already credited.")
                        ]
                    }
                )
        versioned_update(order, expected_version=version, fields=changed)
        if built is not None:
            order.lines.all().delete()
            for line in built:
                line.order = order
            OrderLine.objects.bulk_create(built)
            changed = sorted({*changed, "lines"})
        audit_log(actor=actor, action="order.update", obj=order, fields=changed)
        accounts_changed([order.account_id])
    return order


@writer(version="version", locks=("relations.account",))
def order_delete(*, actor, order: Order, version: int | None = None) -> None:
    """Delete an order entered by mistake (credit notes must be deleted first); given
    ``version``, only the order as it was then (else ``VersionConflict``)."""
    require_account_writable(actor, order.account)
    with transaction.atomic():
        _lock_account(order.account_id)
        if order.credit_notes.exists():
            raise InvalidInput({"__all__": [_("Delete the credit notes of this order first.")]})
        audit_log(actor=actor, action="order.delete", obj=order)
        versioned_delete(order, expected_version=version)
        accounts_changed([order.account_id])


@writer()
def cost_entry_create(*, actor, account: Account, data: Mapping[str, Any]) -> CostEntry:
    require_account_writable(actor, account)
    entry = CostEntry(account=account)
    changed = apply_changes(entry, dict(data), COST_FIELDS)
    full_clean_or_raise(entry)
    with transaction.atomic():
        entry.save()
        audit_log(actor=actor, action="cost.create", obj=entry, fields=changed)
        accounts_changed([account.pk])
    return entry


@writer(version="version")
def cost_entry_update(
    *, actor, entry: CostEntry, version: int, data: Mapping[str, Any]
) -> CostEntry:
    require_account_writable(actor, entry.account)
    changed = apply_changes(entry, dict(data), COST_FIELDS)
    full_clean_or_raise(entry)
    with transaction.atomic():
        versioned_update(entry, expected_version=version, fields=changed)
        audit_log(actor=actor, action="cost.update", obj=entry, fields=changed)
        accounts_changed([entry.account_id])
    return entry


@writer(version="version")
def cost_entry_delete(*, actor, entry: CostEntry, version: int | None = None) -> None:
    require_account_writable(actor, entry.account)
    with transaction.atomic():
        audit_log(actor=actor, action="cost.delete", obj=entry)
        versioned_delete(entry, expected_version=version)
        accounts_changed([entry.account_id])
