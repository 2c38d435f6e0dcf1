# ruff: noqa: S608 - set-based SQL: identifiers come from the models' _meta and the stage, values are parameters
"""Set-based writes from staged rows: what the bulk writers of every domain app share.

A bulk writer (``relations/bulk.py``, ``sales/bulk.py``) merges rows that someone —
the import pipeline — has put into a table on this database connection (:class:`Staged`):
one row per record, with ``"row"`` (the source row: new records are inserted in that
order), ``target_id`` (the existing record the row updates; NULL for a new one) and the
model's own columns under their column names. Table and column names of the models come
from their ``_meta``; nothing here names a table.

The writer decides what to write and applies its domain's rules (see the ``rules.py``
of its app); these helpers do the SQL that is the same for every model: update the
changed rows only (so an unchanged row keeps its version), insert the new ones, say
which accounts that touched, write the one audit row and fire the hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common import writers
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.users.models import User

from .models import Account, Contact
from .rules import require_can_change


@dataclass(frozen=True)
class Staged:
    """Rows staged for a bulk writer (see the module docstring).

    ``insert``: the columns a new record takes from its row; ``update``: the columns an
    existing record takes (only rows where one of them differs are written; empty:
    existing records stay as they are). ``now`` stamps ``created_at``/``updated_at``.
    """

    table: str
    insert: tuple[str, ...]
    update: tuple[str, ...]
    now: datetime
    # Orders only: the staged order lines ("" when the file has none), and whether rows
    # may name the order they credit (column ``credit_ref``, resolved to ``credit_of_id``).
    lines: str = ""
    credit_notes: bool = False


@dataclass(frozen=True)
class BulkAudit:
    """The one audit row a bulk writer writes for its job: ``action`` on ``obj`` (e.g.
    ``"import.orders"`` on the import job), with ``extra`` plus the writer's counts.
    ``rows`` is how many valid source rows the job brought (for "unchanged")."""

    action: str
    obj: models.Model | None
    rows: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    account_ids: list[int] = field(default_factory=list)


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def table_of(model: type[models.Model]) -> str:
    return qn(model._meta.db_table)


def field_of(model: type[models.Model], field_name: str) -> models.Field:
    """A concrete field of ``model`` (one with a column)."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise LookupError(f"{model.__name__}.{field_name} has no column")
    return field


def column_of(model: type[models.Model], field_name: str) -> str:
    """The quoted column name of a concrete field."""
    return qn(field_of(model, field_name).column)


def by_external_id_sql(model: type[models.Model], alias: str) -> str:
    """SQL: the record of ``model`` with row ``alias``'s external id (none for "")."""
    ext = column_of(model, "external_id")
    return (
        f"(SELECT t.id FROM {table_of(model)} t WHERE t.{ext} = {alias}.{ext} "
        f"AND NOT (t.{ext} = ''))"
    )


def execute(sql: str, params: Any = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetch(sql: str, params: Any = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def differs(a: str, b: str) -> str:
    """``a`` and ``b`` differ, NULLs included (the same on SQLite and PostgreSQL)."""
    return f"{a} IS DISTINCT FROM {b}" if connection.vendor == "postgresql" else f"{a} IS NOT {b}"


def changed(columns: tuple[str, ...], target: str, source: str) -> str:
    """SQL: the row ``source`` would change record ``target`` (any of ``columns`` differs)."""
    return " OR ".join(differs(f"{target}.{qn(c)}", f"{source}.{qn(c)}") for c in columns) or (
        "1 = 0"
    )


def count_changes(model: type[models.Model], staged: Staged) -> tuple[int, int, int]:
    """(new, changed, unchanged) rows of ``staged``, before anything is written."""
    stage, table = qn(staged.table), table_of(model)
    created, matched = fetch(
        f"SELECT COALESCE(SUM(CASE WHEN target_id IS NULL THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN target_id IS NULL THEN 0 ELSE 1 END), 0) FROM {stage}"
    )[0]
    updated = fetch(
        f"SELECT COUNT(*) FROM {stage} s JOIN {table} t ON t.id = s.target_id "
        f"WHERE {changed(staged.update, 't', 's')}"
    )[0][0]
    return int(created), int(updated), int(matched) - int(updated)


def update_changed(model: type[models.Model], staged: Staged) -> int:
    """Existing records take their row's ``update`` columns, where one differs; their
    version goes up by one. The number of records changed."""
    if not staged.update:
        return 0
    table, stage = table_of(model), qn(staged.table)
    sets = ", ".join(f"{qn(c)} = s.{qn(c)}" for c in staged.update)
    version, updated_at = column_of(model, "version"), column_of(model, "updated_at")
    return execute(
        f"UPDATE {table} SET {sets}, {version} = {table}.{version} + 1, {updated_at} = %s "
        f"FROM {stage} s WHERE {table}.id = s.target_id AND ({changed(staged.update, table, 's')})",
        [staged.now],
    )


def insert_new(
    model: type[models.Model],
    staged: Staged,
    *,
    where: str = "",
    extra: dict[str, str] | None = None,
) -> int:
    """Insert the new rows (``target_id`` NULL, and ``where`` on the stage alias ``s``)
    in source-row order, at version 1. ``extra``: column → SQL for columns the stage
    does not carry as they are. The number inserted."""
    extra = extra or {}
    names = [*staged.insert, *extra]
    values = [f"s.{qn(c)}" for c in staged.insert] + list(extra.values())
    stamps = [column_of(model, n) for n in ("version", "created_at", "updated_at")]
    condition = "s.target_id IS NULL" + (f" AND {where}" if where else "")
    return execute(
        f"INSERT INTO {table_of(model)} ({', '.join(qn(c) for c in names)}, {', '.join(stamps)}) "
        f"SELECT {', '.join(values)}, 1, %s, %s FROM {qn(staged.table)} s "
        f'WHERE {condition} ORDER BY s."row"',
        [staged.now, staged.now],
    )


def max_id(model: type[models.Model]) -> int:
    return int(fetch(f"SELECT COALESCE(MAX(id), 0) FROM {table_of(model)}")[0][0] or 0)


def new_ids(model: type[models.Model], staged: Staged, *, after: int) -> dict[int, int]:
    """Source row → id of the record :func:`insert_new` made for it (ids above ``after``
    stamped ``now``, matched to the new rows in row order)."""
    created = column_of(model, "created_at")
    ids = [
        r[0]
        for r in fetch(
            f"SELECT id FROM {table_of(model)} WHERE id > %s AND {created} = %s ORDER BY id",
            [after, staged.now],
        )
    ]
    rows = [
        r[0]
        for r in fetch(
            f'SELECT "row" FROM {qn(staged.table)} WHERE target_id IS NULL ORDER BY "row"'
        )
    ]
    return dict(zip(rows, ids, strict=False))


def accounts_concerned(model: type[models.Model], staged: Staged) -> list[int]:
    """The accounts the staged rows belong to, and those of the records they update (a
    row may move a record to another account): whom the hook tells, what writers lock."""
    stage, account = qn(staged.table), column_of(model, "account")
    ids = {
        r[0]
        for r in fetch(
            f"SELECT DISTINCT s.{account} FROM {stage} s UNION "
            f"SELECT DISTINCT t.{account} FROM {table_of(model)} t JOIN {stage} s ON t.id = s.target_id"
        )
    }
    return sorted(i for i in ids if i is not None)


def interest_changes(staged: Staged) -> dict[int, list[str]]:
    """Staged contacts (existing ones) whose ``interests`` column differs from the
    interests they have: contact id → the names they get."""
    rows = fetch(f"SELECT target_id, interests FROM {qn(staged.table)} WHERE target_id IS NOT NULL")
    wanted = {r[0]: sorted(filter(None, (r[1] or "").split(","))) for r in rows}
    current: dict[int, list[str]] = {pk: [] for pk in wanted}
    for contact_id, name in Contact.interests.through.objects.filter(
        contact_id__in=list(wanted)
    ).values_list("contact_id", "interest__name"):
        current[contact_id].append(name)
    return {pk: names for pk, names in wanted.items() if sorted(current[pk]) != names}


def start(actor: User, account_ids: list[int], *, lock: bool) -> None:
    """What every bulk writer does first, inside its transaction: refuse read-only users
    and, with ``lock``, lock the accounts its rules span (``writers.lock``: on
    PostgreSQL ``SELECT … FOR UPDATE`` in id order, as the row services lock them)."""
    require_can_change(actor)
    if lock:
        writers.lock(Account.objects.filter(pk__in=account_ids).only("pk"))


def finish(actor: User, audit: BulkAudit, result: BulkResult) -> BulkResult:
    """The one audit row of the job, with the counts, and the hook with every account."""
    audit_log(
        actor=actor,
        action=audit.action,
        obj=audit.obj,
        extra={
            **audit.extra,
            "created": result.created,
            "updated": result.updated,
            "unchanged": max(0, audit.rows - result.created - result.updated),
            "accounts": len(result.account_ids),
        },
    )
    accounts_changed(result.account_ids)
    return result


def merge_rows(
    model: type[models.Model], *, actor: User, staged: Staged, audit: BulkAudit
) -> BulkResult:
    """The whole merge of records whose rules span no rows (cost entries, contact
    moments): changed ones updated, new ones inserted, nothing locked, then the audit
    row and the hook. Call it inside the writer's transaction."""
    accounts = accounts_concerned(model, staged)
    start(actor, accounts, lock=False)
    updated = update_changed(model, staged)
    created = insert_new(model, staged)
    return finish(actor, audit, BulkResult(created, updated, accounts))
