"""Throwaway databases on the local PostgreSQL and MariaDB servers, and dialect-neutral inspection.

A test that needs a server gets a freshly created database that is dropped afterwards. An
unreachable server is a skip with the reason, or a failure when MIGRUND_REQUIRE_SERVERS=1
(as .ci/run sets).
"""
from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any, Optional

import pytest

PG_HOST = os.environ.get("MIGRUND_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
MY_HOST = os.environ.get("MIGRUND_TEST_MYSQL", "mysql://root@127.0.0.1:3306")
DIALECTS = ("sqlite", "postgresql", "mysql")


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("MIGRUND_REQUIRE_SERVERS") == "1":
        pytest.fail(message + " (MIGRUND_REQUIRE_SERVERS=1)")
    pytest.skip(message)


def _pg(dbname: str) -> Any:
    import psycopg

    return psycopg.connect(f"{PG_HOST}/{dbname}", autocommit=True, connect_timeout=5)


def _my(dbname: Optional[str]) -> Any:
    import pymysql

    from urllib.parse import urlsplit

    parts = urlsplit(MY_HOST)
    return pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username, password=parts.password or "",
                           database=dbname, autocommit=True, charset="utf8mb4", connect_timeout=5)


class Database:
    """One test database, inspected the same way on every dialect."""

    def __init__(self, dialect: str, url: str, path: Optional[Path] = None, name: str = "") -> None:
        self.dialect = dialect
        self.url = url
        self.path = path
        self.name = name

    def connect(self) -> Any:
        """A plain DB-API connection (autocommit on the servers)."""
        if self.dialect == "sqlite":
            return sqlite3.connect(self.path)
        return _pg(self.name) if self.dialect == "postgresql" else _my(self.name)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one query."""
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute(sql, params or None) if self.dialect != "sqlite" else cur.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            conn.close()

    def execute(self, sql: str) -> None:
        """Run one statement and commit."""
        conn = self.connect()
        try:
            conn.cursor().execute(sql)
            conn.commit()
        finally:
            conn.close()

    def touched(self) -> bool:
        """Whether migrund created anything: the SQLite file, or its tables on a server."""
        if self.dialect == "sqlite":
            return self.path is not None and self.path.exists()
        return "migrund_history" in self.all_tables()

    def all_tables(self) -> list[str]:
        """Every table, migrund's included."""
        if self.dialect == "sqlite":
            if not self.touched():
                return []
            return [r[0] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        if self.dialect == "postgresql":
            return [r[0] for r in self.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")]
        return [r[0] for r in self.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1")]

    def tables(self) -> list[str]:
        """User tables (migrund's left out)."""
        return [t for t in self.all_tables() if not t.startswith("migrund_")]

    def schema(self) -> list[tuple]:
        """User tables with their columns and indexes, comparable between two databases."""
        if self.dialect == "sqlite":
            if not self.touched():
                return []
            return self.rows(
                "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'migrund_%'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY type, name")
        if self.dialect == "postgresql":
            columns = self.rows(
                "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name NOT LIKE 'migrund_%' ORDER BY 1, ordinal_position")
            indexes = self.rows("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
                                " AND tablename NOT LIKE 'migrund_%' ORDER BY 1, 2")
            others = self.rows("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                               " WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE 'migrund_%' ORDER BY 1, 2")
            return columns + indexes + others
        columns = self.rows(
            "SELECT table_name, column_name, column_type, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = DATABASE() AND table_name NOT LIKE 'migrund\\_%%' ORDER BY 1, ordinal_position")
        indexes = self.rows(
            "SELECT table_name, index_name, seq_in_index, column_name, non_unique FROM information_schema.statistics"
            " WHERE table_schema = DATABASE() AND table_name NOT LIKE 'migrund\\_%%' ORDER BY 1, 2, 3")
        return columns + indexes

    def snapshot(self) -> Any:
        """Every table with every row, migrund's included: for "nothing changed" checks."""
        tables = self.all_tables()
        if not tables:
            return None
        quote = "`" if self.dialect == "mysql" else '"'
        data = {t: sorted(self.rows(f"SELECT * FROM {quote}{t}{quote}"), key=repr) for t in tables}
        return self.schema(), data

    def applied(self) -> list[int]:
        """Versions in migrund_history in application order ([] before any)."""
        if "migrund_history" not in self.all_tables():
            return []
        return [int(r[0]) for r in self.rows("SELECT version FROM migrund_history ORDER BY seq")]

    def dirty(self) -> Optional[tuple]:
        """The dirty marker row, if any."""
        if "migrund_dirty" not in self.all_tables():
            return None
        rows = self.rows("SELECT version, direction, step FROM migrund_dirty")
        return (int(rows[0][0]), rows[0][1], int(rows[0][2])) if rows else None


def create(dialect: str, folder: Path) -> Database:
    """A fresh empty database of ``dialect``; skips or fails when its server is down."""
    if dialect == "sqlite":
        return Database("sqlite", "sqlite:///../data/app.db", path=folder / "data" / "app.db")
    name = f"migrund_t_{uuid.uuid4().hex[:12]}"
    try:
        if dialect == "postgresql":
            conn = _pg("postgres")
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn = _my(None)
            conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
    except Exception as exc:  # any failure to reach or use the server
        _unavailable(f"the {dialect} server", exc)
    url = f"{PG_HOST}/{name}" if dialect == "postgresql" else f"{MY_HOST}/{name}"
    return Database(dialect, url, name=name)


def drop(db: Database) -> None:
    """Drop a server database created by ``create``."""
    if db.dialect == "postgresql":
        conn = _pg("postgres")
        conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
        conn.close()
    elif db.dialect == "mysql":
        conn = _my(None)
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db.name}`")
        conn.cursor().execute(f"DROP USER IF EXISTS '{db.name[-16:]}'@'%'")  # the crash trials' password user, if made
        conn.close()
