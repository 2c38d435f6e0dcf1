"""Helpers for tests that start real processes (the worker, ``serve --with-worker``)
against the test database."""

from __future__ import annotations

from pathlib import Path

from django.db import connection


def database_url() -> str:
    """The test database as a ``DATABASE_URL`` for a child process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
