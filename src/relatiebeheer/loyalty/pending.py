"""Accounts whose loyalty figures wait for a refresh.

The "accounts changed" listener (:mod:`relatiebeheer.loyalty.tasks`) marks the accounts
whose data changed — orders, costs, contact moments, trust judgements, competitor notes,
binding activities … — and queues their evaluation. A mark means two things:

* the evaluation re-reads the dated history of the member (its tier's *since* may
  have moved), see :mod:`relatiebeheer.loyalty.programme.engine`;
* the stored figures of the account (tier status, scorecard and loyalty index) are not
  yet refreshed: pages that show them say so.

:func:`clear` forgets only the marks that were read before the refresh began, so a change
made while it ran keeps its mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, models
from django.utils import timezone

CHUNK = 500


class PendingEvaluation(models.Model):
    """An account whose data changed since its loyalty figures were computed."""

    account_id = models.BigIntegerField(primary_key=True)
    since = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.account_id)


def mark(account_ids: Iterable[int]) -> None:
    """Mark these accounts (a renewed mark moves ``since`` on).

    One upsert, written out rather than compiled by the ORM each time: it runs inside
    every writer's transaction (the "accounts changed" hook), also on hot paths."""
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        return
    q = connection.ops.quote_name
    table, key, since = (
        q(PendingEvaluation._meta.db_table),
        q("account_id"),
        q("since"),
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"INSERT INTO {table} ({key}, {since}) VALUES (%s, %s) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {since} = EXCLUDED.{since}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            cursor.executemany(sql, [(pk, now) for pk in ids[start : start + CHUNK]])


def read(account_ids: list[int] | None = None) -> tuple[set[int], datetime]:
    """The marked accounts (of ``account_ids``, or all), and when they were read."""
    read_at = timezone.now()
    qs = PendingEvaluation.objects.all()
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    return set(qs.values_list("account_id", flat=True)), read_at


def clear(ids: Iterable[int], read_at: datetime) -> None:
    """Forget the marks that were read (a mark renewed since ``read_at`` stays)."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        PendingEvaluation.objects.filter(
            account_id__in=ordered[start : start + CHUNK], since__lte=read_at
        ).delete()


def pending(account_ids: Iterable[int]) -> set[int]:
    """Which of these accounts wait for a refresh."""
    ordered = sorted({int(pk) for pk in account_ids})
    found: set[int] = set()
    for start in range(0, len(ordered), CHUNK):
        found.update(
            PendingEvaluation.objects.filter(
                account_id__in=ordered[start : start + CHUNK]
            ).values_list("account_id", flat=True)
        )
    return found
