"""SQLite through the standard library's sqlite3, in autocommit mode with explicit transactions."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Optional, Sequence

from ..errors import DatabaseUnavailable, StatementFailed
from .base import DatabaseURL
from .dbapi import DbApiDriver


class SQLiteDriver(DbApiDriver):
    """A migrund driver over one sqlite3 connection."""

    dialect = "sqlite"
    transactional_ddl = True
    placeholder = "?"
    begin_sql = "BEGIN IMMEDIATE"  # take the write lock now rather than at the first write
    error = sqlite3.Error
    column_types = {
        "key": "TEXT",
        "text": "TEXT",
        "longtext": "TEXT",
        "bigint": "INTEGER",
        "autoid": "INTEGER PRIMARY KEY",  # rowid: rows are never deleted, so ids only grow
    }

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        super().__init__(conn)
        self.path = path

    @classmethod
    def connect(cls, url: DatabaseURL, *, create: bool, schema: Optional[str] = None) -> "SQLiteDriver":
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
        """Run one statement (sqlite3 runs it on the connection, no cursor needed)."""
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

    def rollback(self) -> None:
        """Roll back whatever transaction is open (a hook may have opened one)."""
        self.in_transaction = False
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

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
