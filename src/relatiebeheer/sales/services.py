"""Writes to orders, credit notes, order lines and cost entries, one record at a time.

The rules are those of ``rules.py``, shared with the bulk writer of ``bulk.py``
(imports). Every change that alters what an account is worth ends by calling the
"accounts changed" hook (see :mod:`relatiebeheer.hooks`). Order writers lock the account
row inside their transaction before they check the rules that span rows (what credit
notes may still credit, whether the account becomes a customer): two credit notes on one
order — from two users, or from a user and an import — are checked one after the other,
never both against the same old total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.common.services import (
    apply_changes,
    full_clean_or_raise,
    versioned_delete,
    versioned_update,
)
from relatiebeheer.common.writers import writer
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.rules import require_account_writable
from relatiebeheer.users.models import User

from .models import CostEntry, Order, OrderLine
from .rules import (
    COST_FIELDS,
    ORDER_FIELDS,
    apply_line_totals,
    build_lines,
    check_not_overcredited,
    credit_sign_problem,
    credit_target_problem,
    promote_to_customer,
    refusal,
)


def _lock_account(account_id: int) -> None:
    """Serialise the order writes of one account (see the module docstring)."""
    writers.lock(Account.objects.filter(pk=account_id))


def _check_sign(order: Order) -> None:
    """Before validating the model: the rule's own words, not its database constraint's
    (a value that is no amount is left to the model's validation)."""
    try:
        revenue = Decimal(str(order.revenue))
    except ArithmeticError:
        return
    problem = credit_sign_problem(revenue, is_credit_note=order.credit_of_id is not None)
    if problem:
        raise refusal("revenue", problem)


def _check_credit_target(order: Order) -> None:
    """What a credit note corrects, as stored now (under the account's lock)."""
    original = Order.objects.filter(pk=order.credit_of_id).first() if order.credit_of_id else None
    if original is not None:
        problem = credit_target_problem(account_id=order.account_id, original=original)
        if problem:
            raise refusal("credit_of", problem)


def _save_lines(order: Order, lines: list[OrderLine]) -> None:
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)


@writer(locks=("relations.account",))
def order_create(
    *,
    actor: User,
    account: Account,
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] | None = None,
) -> Order:
    """Record an order or — with ``credit_of`` — a credit note, optionally with lines."""
    require_account_writable(actor, account)
    order = Order(account=account)
    data = dict(data)
    built = build_lines(lines) if lines else []
    changed = apply_changes(
        order, {k: v for k, v in data.items() if v is not None or k == "credit_of"}, ORDER_FIELDS
    )
    if built:
        apply_line_totals(order, built, data)
    _check_sign(order)
    full_clean_or_raise(order)
    with transaction.atomic():
        _lock_account(account.pk)
        _check_credit_target(order)
        order.save()
        _save_lines(order, built)
        check_not_overcredited(order)
        promote_to_customer(account, order)
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
    actor: User,
    order: Order,
    version: int,
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] | None = None,
) -> Order:
    """Change an order; given ``lines`` replace the existing ones and set the totals."""
    require_account_writable(actor, order.account)
    data = dict(data)
    if "credit_of" in data and data["credit_of"] != order.credit_of:
        raise refusal("credit_of", "credit_of_fixed")
    changed = apply_changes(order, data, ORDER_FIELDS)
    built = build_lines(lines) if lines is not None else None
    if built:
        apply_line_totals(order, built, data)
        changed = sorted({*changed, "revenue", "cost_of_goods"})
    _check_sign(order)
    full_clean_or_raise(order)
    with transaction.atomic():
        _lock_account(order.account_id)
        _check_credit_target(order)
        versioned_update(order, expected_version=version, fields=changed)
        if built is not None:
            order.lines.all().delete()
            _save_lines(order, built)
            changed = sorted({*changed, "lines"})
        check_not_overcredited(order)
        audit_log(actor=actor, action="order.update", obj=order, fields=changed)
        accounts_changed([order.account_id])
    return order


@writer(version="version", locks=("relations.account",))
def order_delete(*, actor: User, order: Order, version: int | None = None) -> None:
    """Delete an order entered by mistake (credit notes must be deleted first); given
    ``version``, only the order as it was then (else ``VersionConflict``)."""
    require_account_writable(actor, order.account)
    with transaction.atomic():
        _lock_account(order.account_id)
        if order.credit_notes.exists():
            raise refusal("__all__", "credit_notes_first")
        audit_log(actor=actor, action="order.delete", obj=order)
        versioned_delete(order, expected_version=version)
        accounts_changed([order.account_id])


@writer()
def cost_entry_create(*, actor: User, account: Account, data: Mapping[str, Any]) -> CostEntry:
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
    *, actor: User, entry: CostEntry, version: int, data: Mapping[str, Any]
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
def cost_entry_delete(*, actor: User, entry: CostEntry, version: int | None = None) -> None:
    require_account_writable(actor, entry.account)
    with transaction.atomic():
        audit_log(actor=actor, action="cost.delete", obj=entry)
        versioned_delete(entry, expected_version=version)
        accounts_changed([entry.account_id])
