"""Today's populated databases migrate without loss.

A database filled by the demo and a small generated book is taken back to the schema of
the release before the current round of changes (``BASELINE``: the last migration of
each app as it was then, i.e. the schema of every database in use today) and forward
again to the current schema. Every table's rows are counted, and every numeric column
summed (text columns: their total length), at the baseline and after the upgrade: the
figures over the baseline's columns must be identical.

When a new round of changes starts, move ``BASELINE`` to the migrations the last
release shipped.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# The last migration of each app in the release before this round (commit 4aa6c05).
BASELINE = {
    "audit": "0002_initial",
    "imports": "0001_initial",
    "loyalty": "0002_settings_version",
    "ops": "0001_initial",
    "organisation": "0002_organisationsettings_discount_rate",
    "outbox": "0001_initial",
    "relations": "0004_contact_erased_at",
    "reports": "0001_initial",
    "sales": "0004_plain_money_index",
    "satisfaction": "0002_default_surveys",
    "users": "0002_user_session_generation",
    "value": "0003_snapshot_fillfactor",
}
NUMERIC = ("int", "numeric", "decimal", "real", "double", "float", "bool")


def _migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _leaf_targets() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return [node for node in executor.loader.graph.leaf_nodes() if node[0] in BASELINE]


def _figures() -> dict[str, dict[str, int]]:
    """Per table of our apps: the row count and, per column, a sum (numbers) or total
    length (text), read straight from the database."""
    figures = {}
    prefixes = tuple(f"{app}_" for app in BASELINE)
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if t.startswith(prefixes)]
        for table in sorted(tables):
            q = connection.ops.quote_name
            columns = connection.introspection.get_table_description(cursor, table)
            parts, names = ["COUNT(*)"], ["rows"]
            for column in columns:
                kind = str(column.type_code if connection.vendor == "sqlite" else "").lower()
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "SELECT data_type FROM information_schema.columns "
                        "WHERE table_name = %s AND column_name = %s",
                        [table, column.name],
                    )
                    kind = cursor.fetchone()[0].lower()
                name = q(column.name)
                if any(word in kind for word in NUMERIC):
                    expr = f"CAST({name} AS INTEGER)" if "bool" in kind else name
                    parts.append(f"COALESCE(SUM({expr}), 0)")
                elif "json" in kind:
                    parts.append(f"COALESCE(SUM(LENGTH(CAST({name} AS TEXT))), 0)")
                elif any(word in kind for word in ("char", "text")):
                    parts.append(f"COALESCE(SUM(LENGTH({name})), 0)")
                else:  # dates and times: how many are set
                    parts.append(f"COUNT({name})")
                names.append(column.name)
            cursor.execute(f"SELECT {', '.join(parts)} FROM {q(table)}")
            figures[table] = {n: int(v) for n, v in zip(names, cursor.fetchone(), strict=True)}
    return figures


def test_a_filled_database_goes_back_to_the_baseline_and_up_again_without_loss():
    call_command("demo", verbosity=0)
    call_command(
        "generate", "--accounts", "150", "--orders", "1500", "--append", "--seed", "7",
        "--today", "2026-11-30", verbosity=0,
    )  # fmt: skip
    current = _figures()
    assert current["sales_order"]["rows"] > 1500
    head = _leaf_targets()
    try:
        _migrate(list(BASELINE.items()))
        at_baseline = _figures()
        _migrate(head)
        upgraded = _figures()
    finally:
        _migrate(head)
    assert set(upgraded) >= set(at_baseline)
    for table, columns in at_baseline.items():
        before = columns
        after = {name: upgraded[table][name] for name in before if name in upgraded[table]}
        assert after == before, f"{table} changed in the upgrade"
        # And nothing the demo wrote was lost going back to the baseline either.
        kept = {name: current[table][name] for name in before if name in current[table]}
        assert kept == before, f"{table} lost data going back to the baseline"
