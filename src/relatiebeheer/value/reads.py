"""Reading the orders, costs and contact time for the metric snapshot: SQL helpers and
the plumbing that runs several reads side by side (``run_reads``).

Split from ``value.compute`` (which holds the definitions and the arithmetic) so each
module says one thing; ``reports.stats`` reads the plain orders through the same helpers.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import psycopg
from django.conf import settings as django_settings
from django.db import connection, connections
from django.db.models import Max, Min

from relatiebeheer.relations.models import Account


def col(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def in_clause(column: str, ids: list[int] | None) -> tuple[str, list]:
    if ids is None:
        return "", []
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def day_number(expression: str) -> str:
    """SQL turning a date into whole days since 1970-01-01 (NULL stays NULL).

    Used on aggregated dates (once per group) and on the few correction rows, never per
    order: integers cross the driver much faster than dates, which SQLite's Python
    converters parse one by one.
    """
    if connection.vendor == "sqlite":
        return f"CAST(julianday({expression}) - 2440587.5 AS INTEGER)"
    return f"({expression} - DATE '1970-01-01')"


def days_from_numbers(values) -> np.ndarray:
    """Day numbers from ``day_number`` (None for none) → ``datetime64[D]`` (NaT for none)."""
    nat = np.iinfo(np.int64).min  # NaT's bit pattern
    return np.array([nat if v is None else v for v in values], dtype=np.int64).view("datetime64[D]")


# One element of PostgreSQL's binary array format: its length, then a big-endian int8.
_BINARY_INT8 = np.dtype([("length", ">i4"), ("value", ">i8")])


def fetch_ints(sql: str, params: list, width: int) -> np.ndarray:
    """The rows of a query of integers without NULLs, as an (n, ``width``) array.

    On PostgreSQL the server gathers each column into one array and sends it in binary
    (``array_send``), which NumPy reads as it is: one row crosses the wire instead of
    one per result row, whose Python-side handling cost more than the query (200,000
    cost entries: 0.13 s against 0.40 s with ``COPY … TO STDOUT`` and 0.19 s with
    ``fetchall``). Rows stay whole (every column's array is built in the same pass),
    but callers that need an order sort afterwards. On SQLite, ``fetchall``.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, width)
    names = [f"c{i}" for i in range(width)]
    arrays = ", ".join(f"array_send(array_agg({name}::bigint))" for name in names)
    gathered = f"SELECT {arrays} FROM ({sql}) AS q({', '.join(names)})"
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        # A plain psycopg cursor: Django's client-side one cannot ask for binary results.
        cursor.execute(gathered, params, binary=True)
        row = cursor.fetchone()
    return np.column_stack([int8_array(data) for data in row]).reshape(-1, width)


def int8_array(data: bytes | None) -> np.ndarray:
    """A one-dimensional bigint array without NULLs, from ``array_send`` (None: empty)."""
    if data is None:  # array_agg over no rows
        return np.empty(0, dtype=np.int64)
    dimensions, has_nulls, _element_type = np.frombuffer(data, dtype=">i4", count=3)
    if dimensions != 1 or has_nulls:
        raise ValueError("expected a one-dimensional array without NULLs")
    # Header: 3 words, then length and lower bound of the one dimension.
    return np.frombuffer(data, dtype=_BINARY_INT8, offset=20)["value"].astype(np.int64)


# --- reading in parallel ----------------------------------------------------------------


def parallel_reads() -> int:
    """How many reads a full recompute may run at the same time (1: one after another).

    ``settings.RECOMPUTE_READ_WORKERS`` (default: the number of cores, at most 4), and
    only outside a transaction (another connection would not see its uncommitted rows,
    e.g. in a test case) on a database other connections can open (not SQLite's
    in-memory one). The reads of a recompute never ran in one transaction, so reading
    them on several connections changes nothing a reader could see.
    """
    if connection.in_atomic_block:
        return 1
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return 1
    wanted = getattr(django_settings, "RECOMPUTE_READ_WORKERS", None) or min(4, os.cpu_count() or 1)
    return max(1, int(wanted))


def can_fork() -> bool:
    """Forking is safe here: Linux, and no other thread that could hold a lock."""
    return (
        sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def run_reads(
    reads: dict[str, Callable[[], Any]],
    workers: int,
    *,
    in_processes: tuple[str, ...] = (),
) -> tuple[dict[str, Any], int, int]:
    """Run ``reads`` (name → function): their results by name, how many child
    processes read, and on how many connections at once (1: one after another).

    With ``workers`` > 1 they run on several connections at once: the reads named in
    ``in_processes`` in forked child processes, the others on threads. PostgreSQL does
    the work in its own server processes, so threads are enough there (psycopg waits
    without the GIL). SQLite works inside this process, and its connections in one
    process hardly run in parallel (measured: two threads 1.04 s for what one does in
    1.19 s; two processes 0.6 s); the long pass over the orders goes to child
    processes while this process does the rest, or, where it cannot fork safely,
    everything runs one after another. Each read runs on its own connection, closed
    after it.
    """
    if workers <= 1:
        return {name: read() for name, read in reads.items()}, 0, 1
    forked = {name: read for name, read in reads.items() if name in in_processes}
    if forked and not can_fork():  # threads would not help those: one after another
        return {name: read() for name, read in reads.items()}, 0, 1
    others = {name: read for name, read in reads.items() if name not in forked}
    results: dict[str, Any] = {}
    if not forked:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recompute") as threads:
            futures = {
                name: threads.submit(on_own_connection, read) for name, read in others.items()
            }
            results.update({name: future.result() for name, future in futures.items()})
        return {name: results[name] for name in reads}, 0, min(workers, len(reads))
    # The pool forks its workers before it starts its own helper threads.
    processes = min(workers, len(forked))
    pool = multiprocessing.get_context("fork").Pool(
        processes, initializer=forget_inherited_connections
    )
    try:
        pending = {name: pool.apply_async(read) for name, read in forked.items()}
        results.update({name: read() for name, read in others.items()})  # meanwhile, here
        results.update({name: job.get() for name, job in pending.items()})
    finally:
        pool.terminate()
        pool.join()
    return {name: results[name] for name in reads}, processes, processes + 1


def on_own_connection(read: Callable[[], Any]) -> Any:
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Compiling these few big aggregates costs more than it saves (measured
                # 100+ ms per query); the setting ends with this connection.
                cursor.execute("SET jit = off")
                # The reads already run side by side, the orders in account ranges: a
                # parallel plan on top only adds the merging of partial sums (measured
                # on 2 cores: the order pass 0.95 s parallel, 1.05 s plain, 0.6 s as
                # two ranges at once).
                cursor.execute("SET max_parallel_workers_per_gather = 0")
        return read()
    finally:
        connection.close()  # this thread's own connection, not the caller's


def forget_inherited_connections() -> None:
    """In a forked child: never use or close the parent's open connections (SQLite's
    rule for fork); Django opens a fresh one, which the child keeps for all its reads
    (its page cache warm) until the pool ends it."""
    for conn in connections.all(initialized_only=True):
        conn.connection = None


def account_id_ranges(parts: int) -> list[tuple[int, int]]:
    """``parts`` half-open ranges of account ids of about equal size, covering them all."""
    low, high = Account.objects.aggregate(low=Min("pk"), high=Max("pk")).values()
    if low is None:
        return [(0, 1)]
    step = max(1, math.ceil((high - low + 1) / parts))
    return [(start, start + step) for start in range(low, high + 1, step)]
