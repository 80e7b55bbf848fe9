"""SQLite through the standard library's sqlite3, in autocommit mode with explicit transactions."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..errors import DatabaseUnavailable, OperationFailed, StatementFailed
from ..dburl import DatabaseURL
from .dbapi import DbApiDriver

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence


def _restorable_virtual(sql: str) -> bool:
    """Whether a virtual table's rows, inserted again, rebuild it: FTS3/4/5 holding its own content."""
    flat = " ".join(sql.lower().split())
    return any(f"using {m}" in flat for m in ("fts5", "fts4", "fts3")) and "content=" not in flat.replace(" ", "")


class SQLiteDriver(DbApiDriver):
    """A migrund driver over one sqlite3 connection."""

    dialect = "sqlite"
    capabilities = frozenset({"native_backup", "json_backup"})
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

    def dump_json(self) -> dict[str, Any]:
        """Schema and every row, read in one transaction (a consistent point in time)."""
        from .. import portable

        self.conn.execute("BEGIN")
        try:
            # Shadow tables belong to their virtual table (FTS5 makes five): CREATE VIRTUAL
            # TABLE makes them again, and the virtual table's rows fill them.
            shadows = {row[0] for row in self.query("SELECT name FROM pragma_table_list WHERE type = 'shadow'")}
            objects = [
                o for o in self.query(
                    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
                    " ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid"
                )
                if o[1] not in shadows
            ]
            for kind, name, sql in objects:
                if kind == "table" and sql.lstrip().upper().startswith("CREATE VIRTUAL") and not _restorable_virtual(sql):
                    raise OperationFailed(
                        f"the virtual table {name} keeps no content of its own (or is not FTS): a JSON backup could not"
                        " restore it; use backup.format: native"
                    )
            names = [name for kind, name, _ in objects if kind == "table"]
            if self.table_exists("sqlite_sequence"):
                names.append("sqlite_sequence")
            tables = {}
            for name in names:
                # table_xinfo's hidden: 0 a column, 1 a virtual table's hidden one, 2 and 3 generated
                info = [row for row in self.conn.execute(f'PRAGMA table_xinfo("{name}")') if row[6] == 0]
                columns = [row[1] for row in info]
                selected = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
                cursor = self.conn.execute(f'SELECT {selected} FROM "{name}"')
                tables[name] = {"columns": columns, "types": [row[2] for row in info], "rows": portable.table_rows(cursor)}
        finally:
            self.conn.execute("COMMIT")
        return {"schema": [sql for _, _, sql in objects], "tables": tables}

    def restore_native(self, source: Path) -> None:
        """Replace the whole database by the SQLite file ``source`` (its sha256 already checked).

        The backup API copies it over the live database in one step, which readers see as
        one atomic change.
        """
        try:
            backup = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:  # gone or unreadable since it was checked
            raise OperationFailed(f"restore failed: cannot open the backup {source}: {exc}") from exc
        try:
            backup.backup(self.conn)
        except sqlite3.Error as exc:
            raise OperationFailed(f"restore failed: {exc}") from exc
        finally:
            backup.close()

    def restore_json(self, document: dict[str, Any]) -> None:
        """Replace the whole database by a JSON backup, atomically."""
        from .. import portable

        def build(scratch: sqlite3.Connection) -> None:
            schema = document["schema"]
            tables = [s for s in schema if s.lstrip().upper().startswith("CREATE TABLE") or s.lstrip().upper().startswith("CREATE VIRTUAL")]
            for statement in tables:
                scratch.execute(statement)
            for name, table in document["tables"].items():
                if name == "sqlite_sequence":  # filled by the inserts above: the saved counters replace those
                    scratch.execute("DELETE FROM sqlite_sequence")
                if table["rows"]:
                    marks = ", ".join("?" * len(table["columns"]))
                    columns = ", ".join(f'"{c}"' for c in table["columns"])
                    scratch.executemany(
                        f'INSERT INTO "{name}" ({columns}) VALUES ({marks})',
                        ([portable.decode(v) for v in row] for row in table["rows"]),
                    )
            for statement in schema:  # indexes, views and triggers after the data
                if statement not in tables:
                    scratch.execute(statement)
            scratch.commit()

        self._swap_in(build)

    def _swap_in(self, build: Any) -> None:
        # Build the replacement in a scratch file beside the database, check it, then copy
        # it over the live database with the backup API: one atomic change for readers.
        scratch_path = self.path.with_name(f".{self.path.name}.restore-{os.getpid()}.tmp")
        scratch_path.unlink(missing_ok=True)
        scratch = sqlite3.connect(str(scratch_path))
        try:
            build(scratch)
            verdict = scratch.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise OperationFailed(f"the backup does not make a sound database: {verdict}")
            scratch.backup(self.conn)
        except sqlite3.Error as exc:
            raise OperationFailed(f"restore failed: {exc}") from exc
        finally:
            scratch.close()
            scratch_path.unlink(missing_ok=True)

    def backup_native(self, dest: Path) -> None:
        """Copy the live database to ``dest`` through SQLite's online backup API."""
        target = sqlite3.connect(str(dest))
        try:
            self.conn.backup(target)
        except sqlite3.Error as exc:
            raise StatementFailed(str(exc), "online backup") from exc
        finally:
            target.close()
