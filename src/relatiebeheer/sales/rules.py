# ruff: noqa: S608 - set-based SQL: identifiers come from the models' _meta, values are parameters
"""The rules of orders, order lines, credit notes and cost entries — one place, one message.

Every door that writes orders applies these rules: the row services (``services.py``:
web, API, CLI, admin) one order at a time, the bulk writer (``bulk.py``: what an import
merges) a whole file at a time.

* **Sign** — a plain order has a revenue of zero or more; a negative amount belongs on a
  credit note, which names the order it corrects and has a negative (or zero) amount.
  Python form :func:`credit_sign_problem`, Polars form :func:`credit_sign_problem_expr`.
* **What a credit note corrects** — an order of the same account that is not itself a
  credit note. Python :func:`credit_target_problem`, SQL :func:`credit_target_sql`.
* **Never more than the order** — an order's revenue plus its counting (not cancelled)
  credit notes never drops below zero: not by a new credit note, and not by lowering the
  order's revenue. One SQL form for both doors (:func:`overcredited_orders`), run
  inside the writer's transaction after its write and under the lock of the accounts
  concerned, so two writers crediting one order are checked one after the other.
* **Lines make the totals** — an order with lines has the sums of its lines as revenue
  and cost of goods. Python :func:`line_totals`, SQL :func:`line_totals_sql`.
* **A prospect that orders becomes a customer**, and "customer since" is the date of its
  first order. One SQL form for both doors (:func:`promote_to_customers`), decided in
  the database so that a stale account in memory cannot move the date.

The messages are keyed by the codes an import report stores (``imports/messages.py``
reads them from here), so a refusal reads the same whichever door it came through.
``tests/test_domain_rules.py`` proves each rule's two forms agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import polars as pl
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.common.services import apply_changes, full_clean_or_raise
from relatiebeheer.relations.models import Account
from relatiebeheer.relations.staged import column_of, execute, fetch, table_of

from .models import Order, OrderLine

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

MESSAGES: dict[str, Promise] = {
    "negative_without_credit": _("Negative amounts belong on a credit note that names its order."),
    "credit_positive": _("A credit note has a negative (or zero) amount."),
    "credit_other_account": _("A credit note corrects an order of the same account."),
    "credit_of_credit": _("A credit note corrects an order, not another credit note."),
    "unknown_credit_order": _("The order this credit note corrects was not found."),
    "credit_too_much": _("Credit notes cannot credit more than the order's revenue."),
    "revenue_below_credited": _(
        "The revenue cannot drop below what credit notes already credited."
    ),
    "credit_of_fixed": _("Make a new credit note instead of changing what it corrects."),
    "credit_notes_first": _("Delete the credit notes of this order first."),
    "lines_revenue": _("The revenue must equal the sum of the order lines."),
    "lines_cost": _("The cost of goods must equal the sum of the order lines."),
}


def refusal(field: str, code: str) -> InvalidInput:
    """The refusal of ``field`` for the rule ``code``, in the user's language."""
    return InvalidInput({field: [str(MESSAGES[code])]})


class OverCredited(InvalidInput):
    """Credit notes would credit more than their order's revenue: ``order_ids``."""

    def __init__(self, order_ids: list[int], code: str = "credit_too_much") -> None:
        super().__init__({"revenue": [str(MESSAGES[code])]})
        self.order_ids = order_ids
        self.code = code


def _orders() -> tuple[str, dict[str, str]]:
    """The order table and its columns, from the model."""
    names = ("account", "credit_of", "revenue", "status", "number", "external_id", "date")
    return table_of(Order), {n: column_of(Order, n) for n in names}


# --- which order a row names ------------------------------------------------------------


def order_by_number_sql(alias: str) -> str:
    """SQL: the order that row ``alias`` names by its number within its account — how an
    order without an external id is known (the first one, if several share the number)."""
    table, col = _orders()
    return (
        f"(SELECT MIN(t.id) FROM {table} t WHERE t.{col['account']} = {alias}.{col['account']} "
        f"AND t.{col['number']} = {alias}.{col['number']} AND t.{col['external_id']} = '')"
    )


def credited_order_sql(alias: str) -> str:
    """SQL: the order the credit note in row ``alias`` names in its ``credit_ref`` — by
    external id, by number within the note's account, or as ``#`` and our number."""
    table, col = _orders()
    return (
        f"(SELECT MIN(o.id) FROM {table} o WHERE (o.{col['external_id']} = {alias}.credit_ref "
        f"AND NOT (o.{col['external_id']} = '')) OR (o.{col['number']} = {alias}.credit_ref "
        f"AND o.{col['account']} = {alias}.{col['account']}) OR ('#' || CAST(o.id AS TEXT) = {alias}.credit_ref))"
    )


# --- sign -------------------------------------------------------------------------------


def credit_sign_problem(revenue: Decimal, *, is_credit_note: bool) -> str | None:
    """The sign rule for one order (see the module docstring); ``None``: it holds."""
    if not is_credit_note and revenue < 0:
        return "negative_without_credit"
    if is_credit_note and revenue > 0:
        return "credit_positive"
    return None


def credit_sign_problem_expr(revenue: pl.Expr, *, is_credit_note: pl.Expr) -> pl.Expr:
    """:func:`credit_sign_problem` on columns (revenue in cents or euros alike)."""
    return (
        pl.when(~is_credit_note & (revenue < 0))
        .then(pl.lit("negative_without_credit"))
        .when(is_credit_note & (revenue > 0))
        .then(pl.lit("credit_positive"))
        .otherwise(pl.lit(None, pl.String))
    )


# --- what a credit note corrects -------------------------------------------------------------


def credit_target_problem(*, account_id: int, original: Order) -> str | None:
    """A credit note of ``account_id`` may correct ``original``?"""
    if original.account_id != account_id:
        return "credit_other_account"
    if original.credit_of_id is not None:
        return "credit_of_credit"
    return None


def credit_target_sql(*, account: str, original_id: str) -> dict[str, str]:
    """:func:`credit_target_problem` as SQL: code → the condition under which a note of
    ``account`` (an SQL expression) crediting order ``original_id`` breaks it."""
    table, col = _orders()
    found = f"SELECT 1 FROM {table} o WHERE o.id = {original_id}"
    return {
        "credit_other_account": f"EXISTS ({found} AND o.{col['account']} <> {account})",
        "credit_of_credit": f"EXISTS ({found} AND o.{col['credit_of']} IS NOT NULL)",
    }


# --- never more than the order ------------------------------------------------------------


def overcredited_orders(order_ids_sql: str, params: Sequence[Any] = ()) -> list[int]:
    """Orders among ``order_ids_sql`` (a SELECT of ids, or placeholders) whose revenue
    plus their counting credit notes is below zero. Run after the write, inside the
    writer's transaction, under the lock of the accounts concerned."""
    table, col = _orders()
    rows = fetch(
        f"SELECT o.id FROM {table} o WHERE o.{col['credit_of']} IS NULL AND o.id IN ({order_ids_sql}) "
        f"AND o.{col['revenue']} + (SELECT COALESCE(SUM(c.{col['revenue']}), 0) FROM {table} c "
        f"WHERE c.{col['credit_of']} = o.id AND c.{col['status']} <> %s) < 0 ORDER BY o.id",
        [*params, Order.Status.CANCELLED],
    )
    return [r[0] for r in rows]


def check_not_overcredited(order: Order) -> None:
    """After writing ``order`` (in the transaction, under its account's lock): refuse
    when it leaves its order — or itself — credited beyond the revenue."""
    if order.credit_of_id is not None:
        if overcredited_orders("%s", [order.credit_of_id]):
            raise OverCredited([order.credit_of_id])
    elif overcredited_orders("%s", [order.pk]):
        raise OverCredited([order.pk], code="revenue_below_credited")


# --- lines make the totals -----------------------------------------------------------------


def build_lines(lines: Sequence[Mapping[str, Any]]) -> list[OrderLine]:
    """Order lines from their values, each checked; errors name ``lines.<i>.<field>``."""
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


def line_totals(lines: Sequence[OrderLine]) -> tuple[Decimal, Decimal]:
    """(revenue, cost of goods) of an order with these lines."""
    revenue = sum((line.revenue for line in lines), Decimal("0.00"))
    cost = sum((line.cost for line in lines), Decimal("0.00"))
    return revenue, cost


def apply_line_totals(order: Order, lines: Sequence[OrderLine], data: Mapping[str, Any]) -> None:
    """With lines, the order's totals are the sums of its lines (and must agree if given)."""
    revenue, cost = line_totals(lines)
    errors: dict[str, list[str]] = {}
    if data.get("revenue") is not None and Decimal(data["revenue"]) != revenue:
        errors["revenue"] = [str(MESSAGES["lines_revenue"])]
    if data.get("cost_of_goods") is not None and Decimal(data["cost_of_goods"]) != cost:
        errors["cost_of_goods"] = [str(MESSAGES["lines_cost"])]
    if errors:
        raise InvalidInput(errors)
    order.revenue, order.cost_of_goods = revenue, cost


def line_totals_sql(*, orders: str, lines: str, key: str) -> str:
    """:func:`line_totals` as SQL: set the staged ``orders``' revenue and cost columns to
    the sums of the staged ``lines`` with the same ``key`` column."""
    _table, col = _orders()
    revenue, cost = column_of(OrderLine, "revenue"), column_of(OrderLine, "cost")
    return (
        f"UPDATE {orders} SET "
        f"{col['revenue']} = (SELECT COALESCE(SUM(l.{revenue}), 0) FROM {lines} l WHERE l.{key} = {orders}.{key}), "
        f"{column_of(Order, 'cost_of_goods')} = "
        f"(SELECT COALESCE(SUM(l.{cost}), 0) FROM {lines} l WHERE l.{key} = {orders}.{key})"
    )


# --- a prospect that orders becomes a customer ------------------------------------------------


def promote_to_customers(first_orders_sql: str, params: Sequence[Any] = ()) -> None:
    """Accounts in ``first_orders_sql`` (a SELECT of ``account_id, first_date``: each
    account's earliest new plain order) become customers if they were prospects, and
    their "customer since" moves back to ``first_date`` when that is earlier."""
    table = table_of(Account)
    status, since = column_of(Account, "status"), column_of(Account, "customer_since")
    execute(
        f"UPDATE {table} SET {status} = %s FROM ({first_orders_sql}) f "
        f"WHERE {table}.id = f.account_id AND {table}.{status} = %s",
        [Account.Status.CUSTOMER, *params, Account.Status.PROSPECT],
    )
    execute(
        f"UPDATE {table} SET {since} = f.first_date FROM ({first_orders_sql}) f "
        f"WHERE {table}.id = f.account_id AND ({table}.{since} IS NULL OR {table}.{since} > f.first_date)",
        list(params),
    )


def promote_to_customer(account: Account, order: Order) -> None:
    """:func:`promote_to_customers` for one new order (a credit note promotes nobody)."""
    if order.credit_of_id is not None:
        return
    promote_to_customers("SELECT %s AS account_id, %s AS first_date", [account.pk, order.date])
    account.refresh_from_db(fields=["status", "customer_since"])
