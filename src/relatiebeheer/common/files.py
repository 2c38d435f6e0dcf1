"""Files the application writes hold customer data: readable by the server's user only.

The SQLite database (and its ``-wal``/``-shm`` files), import uploads and what is made
from them, and backups are created with mode 0600, their folders 0700 — explicitly, not
through the process umask, so the rule holds whatever the server was started with and
leaves collected static files (served by a web server under another user) alone.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """``path`` as a folder only the owner may enter (made if missing)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def open_private(path: Path, mode: str = "wb", **kwargs) -> IO:
    """Open ``path`` for writing (truncating it), created with mode 0600 from the start;
    ``kwargs`` as for :func:`open` (``encoding``, ``newline``)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
    return os.fdopen(fd, mode, **kwargs)


def create_private(path: Path) -> Path:
    """An empty file with mode 0600 (before a library such as sqlite3 opens it)."""
    with open_private(path):
        pass
    return Path(path)


def make_private(path: Path) -> None:
    """Mode 0600 for an existing file (one made by a library that ignores the rule)."""
    try:
        if stat.S_IMODE(os.stat(path).st_mode) != FILE_MODE:
            os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass


def private_sqlite(sender, connection, **kwargs) -> None:
    """``connection_created``: the SQLite file and its WAL files get mode 0600.

    SQLite gives ``-wal`` and ``-shm`` files the database file's mode, so once the
    database file is private they are made private too; the check is three ``stat``
    calls per new connection (connections are kept for a minute)."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return
    for suffix in ("", "-wal", "-shm"):
        make_private(Path(name + suffix))
