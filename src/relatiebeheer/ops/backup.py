"""Online backup and restore of the embedded SQLite database.

``backup`` copies the live database with SQLite's online backup API (consistent even
while users keep writing; writers are not blocked for long) and then runs
``PRAGMA integrity_check`` on the copy. ``restore`` checks a backup the same way and
copies it back into the live database in one step. PostgreSQL is backed up with its own
tools (``pg_dump``/``pg_restore``; see the README).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from relatiebeheer.common.files import create_private, private_dir


class BackupError(RuntimeError):
    pass


def _live_path() -> Path:
    if connection.vendor != "sqlite":
        raise BackupError(
            "This installation runs on PostgreSQL: back it up with pg_dump (see the README)."
        )
    return Path(connection.settings_dict["NAME"])


def integrity_check(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
            tables = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    if result != "ok":
        raise BackupError(f"{path} fails the integrity check: {result}")
    if tables == 0:
        raise BackupError(f"{path} holds no tables: not a Relatiebeheer backup")


def default_target() -> Path:
    folder = private_dir(Path(settings.VAR_DIR) / "backups")
    return folder / f"relatiebeheer-{timezone.localtime():%Y%m%d-%H%M%S}.sqlite3"


def backup(target: Path | None = None, *, pages_per_step: int = 1024) -> Path:
    """Copy the live database to ``target`` (a new file) and verify the copy."""
    source_path = _live_path()
    target = Path(target) if target else default_target()
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private(partial)  # a backup holds everything: 0600 before SQLite writes to it
    with sqlite3.connect(source_path, timeout=30) as source, sqlite3.connect(partial) as copy:
        # Small steps let writers in between; the API restarts if a step saw a change.
        source.backup(copy, pages=pages_per_step)
    integrity_check(partial)
    partial.rename(target)  # only a verified copy gets the final name
    return target


def restore(source: Path) -> None:
    """Replace the live database's content with the (verified) backup ``source``."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source} does not exist.")
    integrity_check(source)
    live = _live_path()
    connection.close()
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup_db,
        sqlite3.connect(live, timeout=60) as db,
    ):
        backup_db.backup(db)
