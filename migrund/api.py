"""``DatabaseManager``: the Python face of migrund, over the same command functions as the CLI."""
from __future__ import annotations

import logging
from pathlib import Path

from . import commands, config
from .config import Settings
from .model import Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Optional, Union

log = logging.getLogger("migrund")


def _log_event(event: Event) -> None:
    if event.kind == "done":
        log.info("%s %s %s done in %d ms", "applied" if event.direction == "up" else "rolled back", event.version, event.name, event.ms)
    elif event.kind == "backup":
        log.info("backup written: %s", event.message)


class DatabaseManager:
    """Embed migrund: same rules as the CLI; failures raise ``MigrationError`` subclasses."""

    def __init__(self, settings: Union[Mapping[str, Any], Settings], *, on_event: Optional[Callable[[Event], None]] = None) -> None:
        if not isinstance(settings, Settings):
            cwd = Path.cwd()
            settings = config.from_mapping(settings, base_dir=cwd, config_name="migrund", anchor=cwd)
        self.settings = settings
        self._on_event = on_event or _log_event

    @classmethod
    def from_config(cls, path: Union[str, Path], **kwargs: Any) -> "DatabaseManager":
        """Load the config file at ``path``."""
        return cls(config.load(str(path)), **kwargs)

    def _project(self) -> commands.Project:
        return commands.Project(self.settings, on_event=self._on_event, warn=log.warning)

    @staticmethod
    def _versions(result: Mapping[str, Any]) -> list[int]:
        return [step["version"] for step in result["steps"]]

    def run_migrations(self, to: Optional[int] = None, *, atomic: bool = False, out_of_order: bool = False) -> list[int]:
        """Apply pending migrations (up to ``to``); return the versions applied, in order."""
        result = commands.apply(self._project(), to=None if to is None else str(to), atomic=atomic, out_of_order=out_of_order)
        return self._versions(result)

    def rollback_migration(self, steps: int = 1, *, allow_destructive: bool = False, from_history: bool = False) -> list[int]:
        """Roll back the last ``steps`` applied migrations; return the versions rolled back."""
        result = commands.rollback(self._project(), steps=steps, allow_destructive=allow_destructive, from_history=from_history)
        return self._versions(result)

    def rollback_to_version(self, version: int, *, allow_destructive: bool = False, from_history: bool = False) -> list[int]:
        """Roll back every applied migration above ``version`` (0: all)."""
        result = commands.rollback(self._project(), to=str(version), allow_destructive=allow_destructive, from_history=from_history)
        return self._versions(result)

    def reconcile(self) -> list[int]:
        """Converge to the configured target; return the versions run, in order."""
        return self._versions(commands.reconcile(self._project()))

    def check_rollback_safety(self, version: int) -> dict[str, Any]:
        """The ``check-safety`` document, safe or not; raises only when ``version`` is not applied."""
        try:
            return commands.check_safety(self._project(), str(version))
        except commands.MigrationError as exc:
            if exc.document is None:
                raise
            return exc.document

    def status(self) -> dict[str, Any]:
        """The ``status`` document."""
        return commands.status(self._project())

    def verify(self) -> dict[str, Any]:
        """The ``verify`` document, ok or not."""
        try:
            return commands.verify(self._project())
        except commands.MigrationError as exc:
            if exc.document is None:
                raise
            return exc.document

    def get_migration_history(self) -> list[dict[str, Any]]:
        """Applied migrations, oldest first (the ``history --json`` shape)."""
        return commands.history(self._project())

    def get_rollback_history(self) -> list[dict[str, Any]]:
        """Rollbacks, oldest first (the ``history --rollbacks --json`` shape)."""
        return commands.history(self._project(), rollbacks=True)

    def create_migration(self, name: str, description: str = "", *, python: bool = False) -> Path:
        """Write a new migration from the template; return its path."""
        from .scaffold import new_migration

        return new_migration(self.settings, name, description, python=python)

    def backup_database(self) -> Path:
        """Take a manual backup into ``backup.dir``; return its path."""
        return commands.take_backup(self._project())

    def list_backups(self) -> list[dict[str, Any]]:
        """The ``backups --json`` document."""
        return commands.list_backups(self._project())

    def restore_database(self, path: Union[str, Path], force: bool = False) -> None:
        """Restore a backup after SPEC 6's checks (the current state is backed up first)."""
        commands.restore(self._project(), str(path), force=force)
