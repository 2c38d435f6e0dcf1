# ruff: noqa: S608 - set-based SQL: identifiers come from the models' _meta and the stage, values parameters
"""Bulk writers of orders (with their lines and credit notes) and cost entries.

What an import merges goes through here, with the rules of ``rules.py`` — the same ones
the row services apply — in their set-based form. Each writer runs in one transaction
(inside the import's merge transaction), writes one audit row for the job with its
counts and fires the "accounts changed" hook once with every account it touched.

The stage (``relations.staged.Staged``) holds one row per record under the model's
column names, plus for orders: ``xid`` (the order's key in the file), ``credit_ref``
(what a credit note names), ``credit_of_id`` and ``new_id`` (filled here), and with
lines a second table of staged lines (``Staged.lines``) keyed by ``xid``.
"""

from __future__ import annotations

from django.db import transaction

from relatiebeheer.common.writers import writer
from relatiebeheer.relations.staged import (
    BulkAudit,
    BulkResult,
    Staged,
    accounts_concerned,
    by_external_id_sql,
    column_of,
    execute,
    fetch,
    field_of,
    finish,
    insert_new,
    merge_rows,
    qn,
    start,
    table_of,
    update_changed,
)
from relatiebeheer.users.models import User

from .models import CostEntry, Order, OrderLine
from .rules import (
    OverCredited,
    credited_order_sql,
    order_by_number_sql,
    overcredited_orders,
    promote_to_customers,
)

_PLAIN = "(s.credit_ref IS NULL OR s.credit_ref = '')"


@writer(bulk=True, locks=("relations.account",))
def orders_merge(*, actor: User, staged: Staged, audit: BulkAudit) -> BulkResult:
    """Merge staged orders: changed ones updated, new ones inserted — plain orders first,
    then credit notes, which may name orders of the same file — and, with lines, the
    lines of every new or changed order replaced.

    The accounts concerned are locked first, as the row services lock them; then, after
    the write and before the commit, no order may be credited beyond its revenue
    (``rules.overcredited_orders``): an import and a user crediting one order at the
    same moment are checked one after the other, and the one that would exceed it is
    refused (``rules.OverCredited``; the import's transaction rolls back whole).
    """
    with transaction.atomic():
        accounts = accounts_concerned(Order, staged)
        start(actor, accounts, lock=True)
        stage = qn(staged.table)
        updated = update_changed(Order, staged)
        created = insert_new(Order, staged, where=_PLAIN if staged.credit_notes else "")
        if staged.credit_notes:
            execute(
                f"UPDATE {stage} SET credit_of_id = {credited_order_sql(stage)} "
                f"WHERE credit_ref IS NOT NULL AND credit_ref <> ''"
            )
            created += insert_new(
                Order,
                staged,
                where=f"NOT {_PLAIN}",
                extra={field_of(Order, "credit_of").column: "s.credit_of_id"},
            )
        _refuse_overcredit(staged, changed_existing=updated > 0)
        if staged.lines:
            _merge_lines(staged)
        account, day = column_of(Order, "account"), column_of(Order, "date")
        promote_to_customers(
            f"SELECT s.{account} AS account_id, MIN(s.{day}) AS first_date FROM {stage} s "
            f"WHERE {_PLAIN} GROUP BY s.{account}"
        )
        return finish(actor, audit, BulkResult(created, updated, accounts))


def _refuse_overcredit(staged: Staged, *, changed_existing: bool) -> None:
    """No order credited beyond its revenue: the originals of the new credit notes, the
    orders this merge changed and the originals of the credit notes it changed."""
    stage, table = qn(staged.table), table_of(Order)
    credit_of = column_of(Order, "credit_of")
    sources = []
    if staged.credit_notes:
        sources.append(f"SELECT credit_of_id FROM {stage} WHERE credit_of_id IS NOT NULL")
    if changed_existing:
        sources.append(f"SELECT target_id FROM {stage} WHERE target_id IS NOT NULL")
        sources.append(
            f"SELECT o.{credit_of} FROM {table} o JOIN {stage} s ON o.id = s.target_id "
            f"WHERE o.{credit_of} IS NOT NULL"
        )
    if not sources:
        return
    over = overcredited_orders(" UNION ".join(sources))
    if over:
        marks = ", ".join(["%s"] * len(over))
        lowered = fetch(f"SELECT 1 FROM {stage} WHERE target_id IN ({marks})", over)
        raise OverCredited(over, code="revenue_below_credited" if lowered else "credit_too_much")


def _merge_lines(staged: Staged) -> None:
    """The lines of every new order, and of every existing order whose lines differ
    (as a multiset) from the staged ones, are replaced by the staged lines."""
    stage, lines = qn(staged.table), qn(staged.lines)
    # Rows now point at their order (new ones by key; each lookup uses an index).
    execute(f"UPDATE {stage} SET new_id = target_id WHERE target_id IS NOT NULL")
    execute(
        f"UPDATE {stage} SET new_id = {by_external_id_sql(Order, stage)} "
        f"WHERE new_id IS NULL AND external_id <> ''"
    )
    execute(
        f"UPDATE {stage} SET new_id = {order_by_number_sql(stage)} "
        f"WHERE new_id IS NULL AND external_id = ''"
    )
    table, order = table_of(OrderLine), column_of(OrderLine, "order")
    execute(
        f"UPDATE {lines} SET {order} = (SELECT s.new_id FROM {stage} s WHERE s.xid = {lines}.xid)"
    )
    cols = [column_of(OrderLine, n) for n in ("product", "category", "quantity", "revenue", "cost")]
    part = ", ".join(cols)
    same = " AND ".join(f"a.{c} = b.{c}" for c in [*cols, "rn"])
    numbered = f"SELECT {part}, ROW_NUMBER() OVER (PARTITION BY {part}) AS rn FROM"
    changed = (
        f"SELECT s.new_id FROM {stage} s WHERE s.target_id IS NULL OR "
        f"(SELECT COUNT(*) FROM {table} e WHERE e.{order} = s.new_id) <> "
        f"(SELECT COUNT(*) FROM {lines} l WHERE l.{order} = s.new_id) OR "
        f"(SELECT COUNT(*) FROM ({numbered} {lines} l WHERE l.{order} = s.new_id) a "
        f"JOIN ({numbered} {table} e WHERE e.{order} = s.new_id) b ON {same}) <> "
        f"(SELECT COUNT(*) FROM {lines} l WHERE l.{order} = s.new_id)"
    )
    ids = [r[0] for r in fetch(changed)]
    if not ids:
        return
    marks = qn(f"{staged.table}_changed")
    execute(f"DROP TABLE IF EXISTS {marks}")
    execute(f"CREATE TEMP TABLE {marks} (id bigint PRIMARY KEY)")
    for start_at in range(0, len(ids), 5000):
        chunk = ids[start_at : start_at + 5000]
        execute(f"INSERT INTO {marks} (id) VALUES {', '.join(['(%s)'] * len(chunk))}", chunk)
    execute(f"DELETE FROM {table} WHERE {order} IN (SELECT id FROM {marks})")
    execute(
        f"INSERT INTO {table} ({order}, {part}) SELECT l.{order}, "
        + ", ".join(f"l.{c}" for c in cols)
        + f' FROM {lines} l WHERE l.{order} IN (SELECT id FROM {marks}) ORDER BY l."row"'
    )
    execute(f"DROP TABLE {marks}")


@writer(bulk=True)
def cost_entries_merge(*, actor: User, staged: Staged, audit: BulkAudit) -> BulkResult:
    """Merge staged cost entries: changed ones updated, new ones inserted. No rule spans
    rows (as with ``services.cost_entry_create``), so nothing is locked."""
    with transaction.atomic():
        return merge_rows(CostEntry, actor=actor, staged=staged, audit=audit)
