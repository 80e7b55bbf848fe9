"""The driver contract: what migrund needs from a database engine, importable at run time.

A new engine is one class that satisfies ``Driver`` (most of it comes from subclassing
``dbapi.DbApiDriver``), registered under the ``migrund.drivers`` entry-point group with
its URL scheme as the name, and one run of ``tests/drivers/test_conformance.py``.

Its SQL is split into statements by SQLite's rules (standard quoting and comments) unless
its name is one of the built-in dialects; per-dialect SQL in migration files is chosen by
its name, then ``default``.

Rules every driver keeps: configuration comes only from the URL; a driver never reads the
environment; it never rewrites user SQL; every DB-API error is wrapped in
``StatementFailed`` naming the statement that caused it (``raise ... from exc``).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Mapping, Optional, Protocol, Sequence, runtime_checkable

from ..dburl import DatabaseURL

# What a driver may declare in ``capabilities``, and the methods each one promises to do real work.
CAPABILITIES: Mapping[str, tuple[str, ...]] = {
    "native_backup": ("backup_native", "verify_native", "restore_native"),  # the engine's own archive format
    "json_backup": ("dump_json", "restore_json"),  # migrund's portable format
    "advisory_lock": ("advisory_lock",),  # a lock on the database itself, so runs on two hosts never overlap
    "server_sessions": ("session_id", "session_busy", "end_session"),  # statements that outlive a killed client
    "restore_marker": ("interrupted_restore",),  # restores that are not atomic, and say so when cut short
}


@runtime_checkable
class Driver(Protocol):
    """One connection to one database, in autocommit mode with explicit transactions."""

    dialect: str  # the URL scheme's engine: the name under which the driver is registered
    transactional_ddl: bool  # whether DDL can be rolled back (else --atomic is refused)
    placeholder: str  # the DB-API parameter marker
    column_types: Mapping[str, str]  # migrund's table column kinds in this engine's types
    capabilities: frozenset[str]  # names from ``CAPABILITIES``

    @classmethod
    def connect(cls, url: DatabaseURL, *, create: bool, schema: Optional[str] = None) -> "Driver":
        """Connect (``create``: make the database if the engine can and it does not exist)."""

    @classmethod
    def advisory_lock(cls, url: DatabaseURL, schema: Optional[str]) -> Any:
        """The database's lock (``try_take``, ``holder``, ``what``, ``release``), not yet taken; None without one."""

    def begin(self, begin_sql: Optional[str] = None) -> None:
        """Start a transaction."""

    def commit(self) -> None:
        """Commit it."""

    def rollback(self) -> None:
        """Roll back the open transaction, if any."""

    def transaction(self, begin_sql: Optional[str] = None) -> AbstractContextManager[None]:
        """Begin (``begin_sql``: a particular isolation); commit on success, roll back on an exception."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement; wrap failures with the statement."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement and return all rows."""

    def qualify(self, table: str) -> str:
        """The name to use for one of migrund's tables."""

    def ensure_namespace(self) -> None:
        """Create where migrund's tables live, if the engine has such a place."""

    def table_exists(self, name: str) -> bool:
        """Whether a table called ``name`` exists where migrund keeps its tables."""

    def dbapi_connection(self) -> Any:
        """The DB-API connection handed to hooks."""

    def backup_native(self, dest: Path) -> None:
        """Write the engine's own backup of the database to ``dest``."""

    def verify_native(self, archive: Path) -> None:
        """Read a native backup back, raising ``OperationFailed`` if it is not whole."""

    def restore_native(self, source: Path) -> None:
        """Replace the database by a native backup (atomically where the engine can)."""

    def dump_json(self) -> dict[str, Any]:
        """The database as migrund's portable document (schema and rows)."""

    def restore_json(self, document: dict[str, Any]) -> None:
        """Replace the database by a portable document."""

    def limit_lock_wait(self, seconds: float) -> None:
        """Make statements give up waiting for a table lock after ``seconds`` (a no-op where the engine has no such setting)."""

    def is_lock_timeout(self, exc: BaseException) -> bool:
        """Whether a DB-API error says a statement gave up waiting for a lock."""

    def session_id(self) -> Optional[str]:
        """This connection's name on the server, where a statement can outlive its client."""

    def session_busy(self, session: str) -> bool:
        """Whether ``session`` still runs a statement."""

    def end_session(self, session: str, deadline: float) -> bool:
        """Stop ``session``; False if it outlived ``deadline``."""

    def interrupted_restore(self) -> Optional[str]:
        """The backup a cut-short restore was loading, or None."""

    def close(self) -> None:
        """Close the connection."""
