"""The error tree: every failure carries the exit code SPEC section 4 gives it."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class MigrationError(Exception):
    """Base of every migrund failure; ``exit_code`` is the CLI's exit code."""

    exit_code = 1

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)


class OperationFailed(MigrationError):
    """A migration, hook, backup or database operation failed (exit 1)."""

    exit_code = 1


class DatabaseUnavailable(OperationFailed):
    """The database could not be reached or opened (exit 1)."""


class FeatureUnavailable(OperationFailed):
    """A feature this build does not provide yet was asked for (exit 1)."""


class StepFailed(OperationFailed):
    """A migration step failed; carries where, and what the run did before it."""

    def __init__(self, message: str, *, version: int, step: int, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.version = version
        self.step = step
        self.result = result


class InvalidInput(MigrationError):
    """Usage, config, migration files, or an unknown or invalid version (exit 2)."""

    exit_code = 2


class ConfigError(InvalidInput):
    """The config file or environment does not yield a valid configuration (exit 2)."""


class ValidationFailed(InvalidInput):
    """One or more migration files are invalid; ``details`` lists every problem (exit 2)."""


class LockTimeout(MigrationError):
    """The lock was not acquired within the timeout (exit 3)."""

    exit_code = 3


class Refused(MigrationError):
    """A safety rule refused the operation (exit 4)."""

    exit_code = 4


class Dirty(MigrationError):
    """The database is dirty (SPEC 5.3); ``repair`` must clear it first (exit 5)."""

    exit_code = 5


class NotAtTarget(MigrationError):
    """``status --check`` only: the database is not at the target (exit 6)."""

    exit_code = 6


class StatementFailed(OperationFailed):
    """The database rejected a statement; carries the statement and the database's message."""

    def __init__(self, db_message: str, statement: str) -> None:
        db_message = " ".join(db_message.split())  # libpq's messages span lines: keep errors one line
        super().__init__(f"{db_message} (statement: {shorten(statement)})")
        self.db_message = db_message
        self.statement = statement


def shorten(statement: str, limit: int = 300) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
