"""SQLite through the standard library's sqlite3, in autocommit mode with explicit transactions."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import DatabaseUnavailable, StatementFailed
from .base import DatabaseURL


class SQLiteDriver:
    """A migrund driver over one sqlite3 connection."""

    dialect = "sqlite"
    transactional_ddl = True
    placeholder = "?"
    column_types = {
        "key": "TEXT",
        "text": "TEXT",
        "longtext": "TEXT",
        "bigint": "INTEGER",
        "autoid": "INTEGER PRIMARY KEY AUTOINCREMENT",
    }

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def connect(cls, url: DatabaseURL, *, create: bool) -> "SQLiteDriver":
        """Open the database file; ``create`` makes it and its folder when missing."""
        assert url.path is not None
        path = url.path
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            # mode=rwc creates the file, mode=rw never does; SQLite falls back to read-only
            # by itself when the operating system forbids writing.
            target = path.as_uri() + ("?mode=rwc" if create else "?mode=rw")
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so DDL stays inside them.
            conn = sqlite3.connect(target, isolation_level=None, uri=True, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
        return cls(conn, path)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        try:
            self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StatementFailed(str(exc), sql) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement and return its rows."""
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StatementFailed(str(exc), sql) from exc

    def begin(self) -> None:
        """Start a write transaction now rather than at the first write."""
        self.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the open transaction."""
        self.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Begin; commit on success, roll back on an exception."""
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def table_exists(self, name: str) -> bool:
        """Whether table ``name`` exists."""
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def backup_native(self, dest: Path) -> None:
        """Copy the live database to ``dest`` through SQLite's online backup API."""
        target = sqlite3.connect(str(dest))
        try:
            self.conn.backup(target)
        except sqlite3.Error as exc:
            raise StatementFailed(str(exc), "online backup") from exc
        finally:
            target.close()

    def dbapi_connection(self) -> sqlite3.Connection:
        """The sqlite3 connection handed to hooks."""
        return self.conn

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
