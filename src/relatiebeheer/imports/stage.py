# ruff: noqa: S608 - temporary tables: identifiers are ours, values parameters
"""The stage: temporary tables on the importing connection that hold the checked rows.

SQLite: TEMP tables in a temporary *file* (memory stays flat), filled with
``executemany`` in their own short transaction on the temp database, so the main
database is not locked while a large file is staged. PostgreSQL: TEMP tables filled
with ``COPY``. Nothing outside the importing connection sees them, and a killed process
leaves nothing behind. The bulk writers merge from them (``Stage.staged``).
"""

from __future__ import annotations

import io
import logging
from typing import Any

import polars as pl
from django.db import connection

from relatiebeheer.relations.staged import Staged, execute, fetch

logger = logging.getLogger(__name__)


class Stage:
    """Temporary tables on the importing connection; gone with it (also when killed)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.vendor = connection.vendor
        self.tables: dict[str, list[tuple[str, str]]] = {}
        self._sqlite_temp_store = None
        self._sqlite_cache_size = -64000

    def name(self, table: str) -> str:
        return f"imp_stage_{table}"

    def create(self, tables: dict[str, list[tuple[str, str]]]) -> None:
        connection.ensure_connection()
        self.tables = tables
        with connection.cursor() as cursor:
            if self.vendor == "sqlite" and not connection.in_atomic_block:
                cursor.execute("PRAGMA temp_store")
                self._sqlite_temp_store = cursor.fetchone()[0]
                # Staged rows go to a temporary file, not to memory: memory stays flat.
                cursor.execute("PRAGMA temp_store = FILE")
                cursor.execute("PRAGMA temp.cache_size = -4000")
                # A smaller page cache while importing keeps the process under 300 MB.
                cursor.execute("PRAGMA main.cache_size")
                self._sqlite_cache_size = cursor.fetchone()[0]
                cursor.execute("PRAGMA main.cache_size = -12000")
            for table, cols in tables.items():
                name = self.name(table)
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
                spec = ", ".join(f'"{c}" {self.sql_type(t)}' for c, t in cols)
                cursor.execute(f'CREATE TEMP TABLE "{name}" ({spec})')

    def sql_type(self, t: str) -> str:
        pg = self.vendor == "postgresql"
        return {
            "int": "bigint",
            "text": "text",
            "date": "date",
            "datetime": "timestamp with time zone" if pg else "datetime",
            "decimal": "numeric" if pg else "decimal",
            "bool": "boolean" if pg else "bool",
        }[t]

    def index(self, table: str, *cols: str) -> None:
        name = self.name(table)
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE INDEX "{name}_{"_".join(cols)}" ON "{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)})'
            )
            cursor.execute(f'ANALYZE "{name}"')

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        """Append ``frame`` (columns in the table's order) to a stage table."""
        cols = [c for c, _t in self.tables[table]]
        frame = frame.select(cols)
        if not frame.height:
            return
        name = self.name(table)
        types = dict(self.tables[table])
        if self.vendor == "postgresql":
            out = frame.with_columns(
                [
                    pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.f+00:00")
                    for c, t in types.items()
                    if t == "datetime" and frame.schema[c] != pl.String
                ]
            )
            buffer = io.BytesIO()
            out.write_csv(buffer, include_header=False, null_value="")
            raw = connection.connection
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    f'COPY "{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) FROM STDIN WITH (FORMAT csv)'
                ) as copy,
            ):
                copy.write(buffer.getvalue())
            return
        out = frame.with_columns(
            [
                pl.col(c).cast(pl.String)
                for c, t in types.items()
                if t == "date" and frame.schema[c] != pl.String
            ]
            + [
                pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.f")
                for c, t in types.items()
                if t == "datetime" and frame.schema[c] != pl.String
            ]
            + [
                pl.col(c).cast(pl.Int8)
                for c, t in types.items()
                if t == "bool" and frame.schema[c] == pl.Boolean
            ]
        )
        raw = connection.connection
        marks = ", ".join("?" for _ in cols)
        statement = f'INSERT INTO temp."{name}" VALUES ({marks})'
        if connection.in_atomic_block:  # inside a caller's transaction (tests): just insert
            raw.executemany(statement, out.iter_rows())
            return
        # Its own short transaction on the temp database only: the main database is not
        # locked, so other users keep writing while a large file is staged.
        raw.execute("BEGIN")
        try:
            raw.executemany(statement, out.iter_rows())
            raw.execute("COMMIT")
        except Exception:
            raw.execute("ROLLBACK")
            raise

    def drop(self) -> None:
        try:
            with connection.cursor() as cursor:
                for table in self.tables:
                    cursor.execute(f'DROP TABLE IF EXISTS "{self.name(table)}"')
                if self.vendor == "sqlite" and self._sqlite_temp_store is not None:
                    cursor.execute(f"PRAGMA temp_store = {int(self._sqlite_temp_store)}")
                    # main.cache_size stays small on this connection: only a cache, and a
                    # larger one now would grow the process again after the import.
        except Exception:  # the connection may be gone; temp tables go with it
            logger.warning("could not drop import stage tables", exc_info=True)

    def sql(self, text: str, params: Any = ()) -> int:
        return execute(text, params)

    def rows(self, text: str, params: Any = ()) -> list[tuple]:
        return fetch(text, params)

    def staged(self, *, insert: tuple[str, ...], update: tuple[str, ...], **more: Any) -> Staged:
        """The main stage table as a bulk writer takes it (``relations.staged.Staged``)."""
        return Staged(
            table=self.name("main"), insert=insert, update=update, now=self.engine.now, **more
        )
