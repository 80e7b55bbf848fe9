"""The driver protocol and the lazy driver registry.

Driver rules (every driver keeps them): configuration comes only from the URL; a driver
never reads the environment; it never rewrites user SQL; every DB-API error is wrapped in
``OperationFailed`` naming the statement that caused it (``raise ... from exc``).
"""
from __future__ import annotations

import importlib
from contextlib import AbstractContextManager

from ..dburl import DatabaseURL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional, Protocol, Sequence


def never() -> bool:
    """The default ``should_stop``: waiting is never cut short."""
    return False


_DRIVERS = {
    "sqlite": "migrund.drivers.sqlite:SQLiteDriver",
    "postgresql": "migrund.drivers.postgresql:PostgreSQLDriver",
    "mysql": "migrund.drivers.mysql:MySQLDriver",
}


if TYPE_CHECKING:  # a protocol for type checkers; the drivers share ``dbapi.DbApiDriver``

    class Driver(Protocol):
        """What the rest of migrund needs from a database engine (see ``dbapi.DbApiDriver``)."""

        dialect: str
        transactional_ddl: bool
        placeholder: str
        column_types: Mapping[str, str]

        def begin(self, begin_sql: Optional[str] = None) -> None:
            """Start a transaction."""

        def commit(self) -> None:
            """Commit it."""

        def rollback(self) -> None:
            """Roll back the open transaction, if any."""

        def qualify(self, table: str) -> str:
            """The name to use for one of migrund's tables."""

        def ensure_namespace(self) -> None:
            """Create where migrund's tables live, if the engine has such a place."""

        def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
            """Run one statement; wrap failures with the statement."""

        def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
            """Run one statement and return all rows."""

        def transaction(self, begin_sql: Optional[str] = None) -> AbstractContextManager[None]:
            """Begin (``begin_sql``: a particular isolation); commit on success, roll back on an exception."""

        def table_exists(self, name: str) -> bool:
            """Whether a table called ``name`` exists where migrund keeps its tables."""

        def dbapi_connection(self) -> Any:
            """The DB-API connection handed to hooks."""

        def close(self) -> None:
            """Close the connection."""


def driver_class(dialect: str) -> Any:
    """The driver class for ``dialect``, imported only now (its database library later still)."""
    module_name, _, class_name = _DRIVERS[dialect].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def load_driver(url: DatabaseURL, *, create: bool, schema: Optional[str] = None) -> Driver:
    """Connect with the driver for ``url``'s dialect (``schema``: PostgreSQL's ``database.schema``)."""
    return driver_class(url.dialect).connect(url, create=create, schema=schema)
