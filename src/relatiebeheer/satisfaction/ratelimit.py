"""Rate limits for the public answer pages, shared by every process through the database.

Fixed windows: one row per key and window, incremented with a single
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35 and PostgreSQL), so a
check is one round trip and needs no lock of its own. Two limits:

* per token — requests for one answer link per minute; a respondent saves a draft
  now and then and submits once, so a flood on one link is stopped without touching
  anyone else;
* per address — *unknown or expired* links per client address per 10 minutes: that
  is what guessing looks like. Valid links never count against an address, so many
  respondents behind one office NAT address are never slowed down.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from relatiebeheer.common.sqlite_lock import serialized_writes

from .models import RateCounter

TOKEN_WINDOW = 60
ADDRESS_WINDOW = 600


def _table() -> str:
    return connection.ops.quote_name(RateCounter._meta.db_table)


def hit(key: str, window_seconds: int, *, now: float | None = None) -> int:
    """Count one request for ``key`` in the current window; return the count so far."""
    window = int((now if now is not None else time.time()) // window_seconds)
    q = connection.ops.quote_name
    table, key_col, window_col, count_col = _table(), q("key"), q("window"), q("count")
    sql = (
        f"INSERT INTO {table} ({key_col}, {window_col}, {count_col}) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT ({key_col}, {window_col}) DO UPDATE SET {count_col} = "
        f"{table}.{count_col} + 1 RETURNING {count_col}"
    )
    with serialized_writes(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [key[:100], window])
        return int(cursor.fetchone()[0])


def peek(key: str, window_seconds: int, *, now: float | None = None) -> int:
    """The count so far in the current window (one indexed read, no write)."""
    window = int((now if now is not None else time.time()) // window_seconds)
    q = connection.ops.quote_name
    sql = (
        f"SELECT {q('count')} FROM {_table()} "  # noqa: S608
        f"WHERE {q('key')} = %s AND {q('window')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key[:100], window])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def client_address(request) -> str:
    """The client's address (the last proxy hop when behind our own TLS proxy)."""
    from django.conf import settings

    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def cleanup(*, now: float | None = None) -> int:
    """Drop windows that can no longer count (older than the longest window)."""
    now = now if now is not None else time.time()
    deleted = 0
    for prefix, seconds in (("t:", TOKEN_WINDOW), ("f:", ADDRESS_WINDOW)):
        deleted += RateCounter.objects.filter(
            key__startswith=prefix, window__lt=int(now // seconds) - 1
        ).delete()[0]
    return deleted
