"""Python code from the migrations folder: confined paths, the ``ctx`` object, isolated loading."""
from __future__ import annotations

import re
import types
from pathlib import Path, PurePosixPath

from .record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging  # imported only when a hook runs
    from typing import Any, Callable, Mapping, Optional


class HookPathError(ValueError):
    """A hook path that is not allowed or does not exist; the message says why."""


def resolve(migrations_dir: Path, relative: str) -> Path:
    """The hook file for ``relative``, which must stay inside ``migrations_dir``."""
    if not relative or "\0" in relative:
        raise HookPathError(f"hook path {relative!r} names no file")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or relative.startswith(("\\", "~")) or ":" in pure.parts[0]:
        raise HookPathError(f"hook path {relative!r} must be relative to the migrations folder")
    if ".." in pure.parts:
        raise HookPathError(f"hook path {relative!r} must not contain '..'")
    root = migrations_dir.resolve()
    path = (root / pure).resolve()
    if not path.is_relative_to(root):
        raise HookPathError(f"hook path {relative!r} leads outside the migrations folder")
    if not path.is_file():
        raise HookPathError(f"hook file {relative!r} does not exist")
    return path


_REFERENCE = re.compile(r"^(?P<path>[^:\x00]+\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")


def split_reference(reference: str) -> Optional[tuple[str, str]]:
    """``hooks/x.py:up`` -> (``hooks/x.py``, ``up``); None when it is not ``FILE.py:FUNCTION``."""
    match = _REFERENCE.match(reference)
    return (match["path"], match["function"]) if match else None


def defined_functions(source: str, filename: str) -> dict[str, int]:
    """Top-level function names of a Python source, with their lines; SyntaxError propagates."""
    import ast

    tree = ast.parse(source, filename=filename)
    return {
        node.name: node.lineno
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


@record
class Context:
    """The ``ctx`` a hook receives."""

    dialect: str
    version: int
    name: str
    direction: str
    config: Mapping[str, Any]
    log: "logging.Logger"


def load_function(source: str, filename: str, function: str) -> Callable[..., Any]:
    """Execute ``source`` as a fresh module, not entered in ``sys.modules``, and return ``function``.

    The text run is the text that was checksummed (or stored in the history), never a
    second read of the file.
    """
    module = types.ModuleType(f"migrund_user_{abs(hash(filename))}")
    module.__file__ = filename
    code = compile(source, filename, "exec")
    exec(code, module.__dict__)  # noqa: S102 - running user migrations is the point
    found = module.__dict__.get(function)
    if not callable(found):
        raise AttributeError(f"{filename} defines no function {function}()")
    return found


class TransactionControlRefused(RuntimeError):
    """A hook tried to commit, roll back or change autocommit: the migration's transaction is not its to end."""


# Statements that end, start or bypass the migration's transaction. ROLLBACK TO SAVEPOINT
# and RELEASE are left to the hook: they stay inside it.
_CONTROL = re.compile(
    r"^(commit|end|abort|begin|start\s+transaction|rollback(?!\s+(work\s+|transaction\s+)?to\b)|set\s+(session\s+|global\s+|@@)?autocommit\b"
    r"|set\s+session\s+characteristics|prepare\s+transaction|xa)\b",
    re.IGNORECASE,
)
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/|#[^\n]*(\n|$))*", re.DOTALL)


def _refuse(what: str) -> TransactionControlRefused:
    return TransactionControlRefused(
        f"a hook must not {what}: migrund commits or rolls back the migration as a whole (raise an exception to fail it)"
    )


def _check_sql(sql: Any, dialect: str) -> None:
    if not isinstance(sql, str):
        return  # psycopg's sql.Composed and the like: their text is checked by nothing here
    from . import sql as splitter

    for statement in splitter.split(sql, dialect) if ";" in sql else (sql,):
        head = _LEADING_COMMENTS.sub("", statement, count=1)
        if _CONTROL.match(head):
            raise _refuse(f"run {' '.join(head.split()[:2])!r}")


class GuardedCursor:
    """A DB-API cursor whose statements may not control the transaction."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self._dialect = dialect

    def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        """``cursor.execute``, refusing transaction control."""
        _check_sql(sql, self._dialect)
        result = self._cursor.execute(sql, *args, **kwargs)
        return self if result is self._cursor else result

    def executemany(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        """``cursor.executemany``, refusing transaction control."""
        _check_sql(sql, self._dialect)
        result = self._cursor.executemany(sql, *args, **kwargs)
        return self if result is self._cursor else result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Any:
        return iter(self._cursor)

    def __enter__(self) -> "GuardedCursor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cursor.close()


class GuardedConnection:
    """The DB-API connection a hook receives: everything but ending or leaving the migration's transaction."""

    def __init__(self, conn: Any, dialect: str) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_dialect", dialect)

    def cursor(self, *args: Any, **kwargs: Any) -> GuardedCursor:
        """A guarded cursor."""
        return GuardedCursor(self._conn.cursor(*args, **kwargs), self._dialect)

    def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        """``connection.execute`` (sqlite3, psycopg), refusing transaction control."""
        _check_sql(sql, self._dialect)
        result = self._conn.execute(sql, *args, **kwargs)
        return GuardedCursor(result, self._dialect) if hasattr(result, "fetchall") else result

    def executemany(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        """``connection.executemany`` (sqlite3), refusing transaction control."""
        _check_sql(sql, self._dialect)
        return GuardedCursor(self._conn.executemany(sql, *args, **kwargs), self._dialect)

    def executescript(self, script: str) -> Any:
        """``connection.executescript`` (sqlite3), refusing transaction control."""
        _check_sql(script, self._dialect)
        return GuardedCursor(self._conn.executescript(script), self._dialect)

    def commit(self) -> None:
        """Refused."""
        raise _refuse("commit")

    def rollback(self) -> None:
        """Refused."""
        raise _refuse("roll back")

    def close(self) -> None:
        """Refused."""
        raise _refuse("close the connection")

    def begin(self) -> None:
        """Refused (PyMySQL's way to start a transaction)."""
        raise _refuse("start a transaction")

    def __enter__(self) -> None:
        raise _refuse("use the connection as a context manager (it commits or closes on exit)")

    def __exit__(self, *exc: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._conn, name)
        if callable(found) and name in ("autocommit", "set_autocommit", "tpc_begin", "tpc_commit", "tpc_rollback"):
            def refused(*args: Any, **kwargs: Any) -> None:
                raise _refuse("switch autocommit or run a two-phase commit")

            return refused
        return found  # psycopg's autocommit and sqlite3's isolation_level are values: reading them is harmless

    def __setattr__(self, name: str, value: Any) -> None:
        raise _refuse(f"set connection.{name}")
