"""The error tree: every failure carries its documented exit code and a stable kind."""
from __future__ import annotations

from .redact import redact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class MigrationError(Exception):
    """Base of every migrund failure; ``exit_code`` is the CLI's exit code, ``kind`` its stable name.

    ``file``, ``line``, ``key`` and ``version`` say where, when known; ``document`` is the
    result a command still reports with the failure (``status --check``, ``verify``, a plan).
    """

    exit_code = 1
    kind = "failed"

    def __init__(
        self,
        message: str,
        *,
        details: list[str] | None = None,
        kind: str | None = None,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        version: int | None = None,
        document: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])
        if kind is not None:
            self.kind = kind
        self.file = file
        self.line = line
        self.key = key
        self.version = version
        self.document = document

    def as_json(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` document a ``--json`` run prints for this failure."""
        return {
            "error": {
                "exit_code": self.exit_code,
                "kind": self.kind,
                "message": str(self),
                "file": self.file,
                "line": self.line,
                "key": self.key,
                "version": self.version,
            }
        }

    def __str__(self) -> str:
        text = self.message if not self.details else self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)
        return redact(text)


class OperationFailed(MigrationError):
    """A migration, hook, backup or database operation failed (exit 1)."""

    exit_code = 1
    kind = "failed"


class DatabaseUnavailable(OperationFailed):
    """The database could not be reached or opened (exit 1)."""

    kind = "unreachable"


class FeatureUnavailable(OperationFailed):
    """A feature this build does not provide yet was asked for (exit 1)."""


class StepFailed(OperationFailed):
    """A migration step failed; carries where, and what the run did before it."""

    kind = "migration_failed"

    def __init__(self, message: str, *, version: int, step: int, result: dict[str, Any] | None = None) -> None:
        super().__init__(message, version=version, document=result)
        self.step = step
        self.dirty = False  # set when the migration ran outside a transaction and left the database dirty
        self.done: list[int] = []  # the versions this run committed before the failure


class InvalidInput(MigrationError):
    """Usage, config, migration files, or an unknown or invalid version (exit 2)."""

    exit_code = 2
    kind = "invalid_input"


class ConfigError(InvalidInput):
    """The config file or environment does not yield a valid configuration (exit 2)."""

    kind = "config"


class ValidationFailed(InvalidInput):
    """One or more migration files are invalid; ``details`` lists every problem (exit 2)."""

    kind = "invalid_migration"


class LockTimeout(MigrationError):
    """The lock was not acquired within the timeout (exit 3)."""

    exit_code = 3
    kind = "lock_timeout"


class Refused(MigrationError):
    """A safety rule refused the operation (exit 4)."""

    exit_code = 4
    kind = "refused"


class Dirty(MigrationError):
    """The database is dirty (a failed non-transactional run); ``repair`` must clear it first (exit 5)."""

    exit_code = 5
    kind = "dirty"


class NotAtTarget(MigrationError):
    """``status --check`` only: the database is not at the target (exit 6)."""

    exit_code = 6
    kind = "not_at_target"


class StatementFailed(OperationFailed):
    """The database rejected a statement; carries the statement and the database's message."""

    kind = "statement_failed"

    def __init__(self, db_message: str, statement: str) -> None:
        db_message = " ".join(db_message.split())  # libpq's messages span lines: keep errors one line
        super().__init__(f"{db_message} (statement: {shorten(statement)})")
        self.db_message = db_message
        self.statement = statement


def shorten(statement: str, limit: int = 300) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
