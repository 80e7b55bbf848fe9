"""Database URLs in one place: parsing, what they name (``identity``), and their masked form.

Masking works from the parsed URL, not from a pattern over its text: a password may hold
``@``, ``:``, ``/``, ``#`` or spaces (percent-encoded) or come as ``?password=``. Every
password parsed here is also handed to ``redact``, which takes it out of any message,
whatever library wrote that message and in whichever spelling.
"""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from .errors import ConfigError
from .record import record
from .redact import SECRET_KEYS, mask_url, remember_secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping, Optional

_SCHEMES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
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
        """The URL rebuilt from its parts with the password as ``***`` (SQLite: the resolved file)."""
        if self.path is not None:
            return sqlite_url(self.path)
        from urllib.parse import quote, urlencode

        scheme = self.raw.partition("://")[0]
        auth = quote(self.user, safe="") if self.user else ""
        if self.password:
            auth += ":***"
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = (auth + "@" if auth else "") + host + (f":{self.port}" if self.port else "")
        query = {k: ("***" if k.lower() in SECRET_KEYS else v) for k, v in self.query.items()}
        return f"{scheme}://{netloc}/{quote(self.database, safe='')}" + (f"?{urlencode(query, safe='*')}" if query else "")

    def identity(self) -> str:
        """What database this is, whoever connects: the SQLite file, or engine, host, port and database name."""
        if self.path is not None:
            return f"sqlite:{self.path}"
        port = self.port or {"postgresql": 5432, "mysql": 3306}.get(self.dialect)
        host = self.query.get("host", self.host) or "localhost"
        return f"{self.dialect}://{host.lower()}:{port}/{self.database}"

    def __repr__(self) -> str:
        return f"DatabaseURL({self.masked()!r})"


def parse_url(url: str, base_dir: Path) -> DatabaseURL:
    """Parse ``url``; a relative SQLite path is taken relative to ``base_dir``."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    scheme, sep, rest = url.partition("://")
    dialect = (_SCHEMES.get(scheme.lower()) or _registered(scheme.lower())) if sep else None
    if dialect is None:
        raise ConfigError(
            f"database.url {mask_url(url)!r} has an unknown scheme; use sqlite:///, postgresql:// or mysql://"
            " (or install the package of another engine)", key="database.url"
        )
    if dialect == "sqlite":
        if not rest.startswith("/") or rest in ("/", "//"):
            raise ConfigError(
                f"database.url {url!r} names no file; write sqlite:///relative.db or sqlite:////absolute.db", key="database.url"
            )
        path = Path(unquote(rest[1:].split("?", 1)[0]))
        if not path.is_absolute():
            path = base_dir / path
        return DatabaseURL(dialect, url, path=Path(_normalise(path)))
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - parsed lazily: a broken [IPv6] host fails here, not later
    except ValueError as exc:
        raise ConfigError(f"database.url {mask_url(url)!r} cannot be parsed: {exc}", key="database.url") from None
    query = dict(parse_qsl(parts.query))
    password = unquote(parts.password or "")
    for secret in [password, parts.password or ""] + [v for k, v in query.items() if k.lower() in SECRET_KEYS]:
        remember_secret(secret)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"database.url {mask_url(url)!r} has an invalid port", key="database.url") from None
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigError(f"database.url {mask_url(url)!r} names no database", key="database.url")
    return DatabaseURL(
        dialect,
        url,
        user=unquote(parts.username or ""),
        password=password,
        host=unquote(parts.hostname or ""),
        port=port,
        database=database,
        query=query,
    )


def _registered(scheme: str) -> Optional[str]:
    """``scheme`` itself when an installed package registers an engine under that name."""
    from .engines import locate

    return scheme if scheme and locate(scheme) else None


def identity_of(masked: str) -> Optional[str]:
    """The ``identity`` of a URL as a backup's sidecar records it (masked), or None when it cannot be read."""
    try:
        return parse_url(masked, Path("/")).identity()
    except ConfigError:
        return None


def _normalise(path: Path) -> str:
    import os.path

    return os.path.normpath(str(path.absolute()))


def sqlite_url(path: Path) -> str:
    """The absolute ``sqlite:////`` URL of ``path``."""
    return "sqlite:///" + str(path.absolute())
