"""The driver protocol, database URLs and the lazy driver registry.

Driver rules (every driver keeps them): configuration comes only from the URL; a driver
never reads the environment; it never rewrites user SQL; every DB-API error is wrapped in
``OperationFailed`` naming the statement that caused it (``raise ... from exc``).
"""
from __future__ import annotations

import importlib
import re
from contextlib import AbstractContextManager
from pathlib import Path
from types import MappingProxyType

from ..errors import ConfigError
from ..record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional, Protocol, Sequence


def never() -> bool:
    """The default ``should_stop``: waiting is never cut short."""
    return False


_SCHEMES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}

_DRIVERS = {
    "sqlite": "migrund.drivers.sqlite:SQLiteDriver",
    "postgresql": "migrund.drivers.postgresql:PostgreSQLDriver",
    "mysql": "migrund.drivers.mysql:MySQLDriver",
}


@record
class DatabaseURL:
    """A parsed database URL; ``path`` is set for SQLite, the network parts for servers."""

    dialect: str
    raw: str
    path: Optional[Path] = None
    user: str = ""
    password: str = ""
    host: str = ""
    port: Optional[int] = None
    database: str = ""
    query: Mapping[str, str] = MappingProxyType({})

    def masked(self) -> str:
        """The URL with its password replaced by ``***`` (SQLite: the resolved file), safe for any output."""
        return sqlite_url(self.path) if self.path is not None else mask_url(self.raw)


_PASSWORD_IN_URL = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)")


def mask_url(text: str) -> str:
    """Replace the password of every URL in ``text`` by ``***``."""
    return _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***" + m.group("tail"), text)


def parse_url(url: str, base_dir: Path) -> DatabaseURL:
    """Parse ``url``; a relative SQLite path is taken relative to ``base_dir``."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    scheme, sep, rest = url.partition("://")
    dialect = _SCHEMES.get(scheme.lower()) if sep else None
    if dialect is None:
        shown = mask_url(url)
        raise ConfigError(
            f"database.url {shown!r} has an unknown scheme; use sqlite:///, postgresql:// or mysql://"
        )
    if dialect == "sqlite":
        if not rest.startswith("/") or rest in ("/", "//"):
            raise ConfigError(f"database.url {url!r} names no file; write sqlite:///relative.db or sqlite:////absolute.db")
        file_part = rest[1:].split("?", 1)[0]
        path = Path(unquote(file_part))
        if not path.is_absolute():
            path = base_dir / path
        return DatabaseURL(dialect, url, path=Path(_normalise(path)))
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"database.url {mask_url(url)!r} has an invalid port") from None
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigError(f"database.url {mask_url(url)!r} names no database")
    return DatabaseURL(
        dialect,
        url,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=unquote(parts.hostname or ""),
        port=port,
        database=database,
        query=dict(parse_qsl(parts.query)),
    )


def _normalise(path: Path) -> str:
    import os.path

    return os.path.normpath(str(path.absolute()))


def sqlite_url(path: Path) -> str:
    """The absolute ``sqlite:////`` URL of ``path``."""
    return "sqlite:///" + str(path.absolute())


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
