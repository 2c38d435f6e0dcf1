"""Queue SQLite writers on a file lock instead of SQLite's busy handler.

SQLite allows one writer at a time. A connection that finds the write lock taken waits
in SQLite's busy handler, which polls with growing sleeps (up to 100 ms); under many
concurrent writers (the public answer page at hundreds of submissions a second) the
server processes then spend most of their time asleep while the lock is free.

:func:`serialized_writes` queues the writers of this database first on a thread lock
(threads of one process) and then on an exclusive ``flock`` of ``<database>.writelock``
(processes: every app server and worker on the machine), so a waiting writer sleeps in
the kernel and wakes the moment the previous one is done.

When to use it: around a short, hot write transaction that many requests run at once
on the embedded SQLite database — open it *outside* ``transaction.atomic()``::

    with serialized_writes(), transaction.atomic():
        ...

Listeners queued with ``transaction.on_commit`` run while the lock is still held, so
their writes do not contend either. It does nothing on PostgreSQL (which has row
locks and many writers) or inside an already open transaction (whose write lock is
held already), and nothing on platforms without ``fcntl`` beyond the thread lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from django.db import connection

_thread_lock = threading.Lock()
_lock_files: dict[str, tuple[int, int]] = {}  # database path → (pid, file descriptor)


def _lock_file() -> int | None:
    """This process's descriptor of ``<database>.writelock`` (reopened after a fork)."""
    try:
        import fcntl  # noqa: F401 - POSIX only; elsewhere the thread lock alone is used
    except ImportError:  # pragma: no cover
        return None
    path = f"{connection.settings_dict['NAME']}.writelock"
    held = _lock_files.get(path)
    if held is None or held[0] != os.getpid():
        _lock_files[path] = (os.getpid(), os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    return _lock_files[path][1]


@contextlib.contextmanager
def serialized_writes() -> Iterator[None]:
    """On SQLite, one write transaction at a time, across threads and processes (see the
    module docstring); elsewhere, and inside an open transaction, nothing."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _thread_lock:
        fd = _lock_file()
        if fd is None:  # pragma: no cover
            yield
            return
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
