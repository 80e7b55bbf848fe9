"""``DatabaseManager``: the Python face of migrund, over the same command functions as the CLI."""
from __future__ import annotations

import logging
from pathlib import Path

from . import commands, config
from .config import Settings
from .errors import MigrationError
from .model import Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Optional, Union

    Version = Union[int, str]

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

    # -- the commands, by their CLI names, returning what ``--json`` prints ------------------

    def validate(self) -> dict[str, Any]:
        """``validate``: every file and the config checked; raises ``ValidationFailed`` (exit 2) listing all problems."""
        return commands.validate(self._project())

    def status(self, *, check: bool = False) -> dict[str, Any]:
        """``status``; with ``check``, raises ``NotAtTarget`` (exit 6) when the database is not at the target."""
        return commands.status(self._project(), check=check)

    def plan(self, to: Optional[Version] = None) -> dict[str, Any]:
        """``plan``: what reaching ``to`` (default: the target) would run, each step's SQL included."""
        return commands.plan(self._project(), to=_text(to))

    def apply(self, to: Optional[Version] = None, *, dry_run: bool = False, atomic: bool = False, out_of_order: bool = False) -> dict[str, Any]:
        """``apply``: pending migrations up to ``to`` (default: the target)."""
        return commands.apply(self._project(), to=_text(to), dry_run=dry_run, atomic=atomic, out_of_order=out_of_order)

    def rollback(self, steps: Optional[int] = None, *, to: Optional[Version] = None, allow_destructive: bool = False,
                 from_history: bool = False, dry_run: bool = False) -> dict[str, Any]:
        """``rollback``: the last ``steps`` (default 1) applied migrations, or every one above ``to``."""
        return commands.rollback(self._project(), steps=steps, to=_text(to), allow_destructive=allow_destructive,
                                 from_history=from_history, dry_run=dry_run)

    def reconcile(self, *, out_of_order: bool = False) -> dict[str, Any]:
        """``reconcile``: apply or roll back until the database stands at the target."""
        return commands.reconcile(self._project(), out_of_order=out_of_order)

    def repair(self, version: Version, *, applied: bool) -> dict[str, Any]:
        """``repair``: clear the dirty state of ``version`` once fixed by hand (``applied``: it took effect)."""
        return commands.repair(self._project(), str(version), applied=applied)

    def history(self, *, rollbacks: bool = False, limit: Optional[int] = None) -> list[dict[str, Any]]:
        """``history``: applied migrations (or rollbacks), oldest first; the newest ``limit``."""
        return commands.history(self._project(), rollbacks=rollbacks, limit=limit)

    def check_safety(self, version: Version) -> dict[str, Any]:
        """``check-safety``; raises ``Refused`` (exit 4, ``.document`` holds the report) when not safe."""
        return commands.check_safety(self._project(), str(version))

    def verify(self) -> dict[str, Any]:
        """``verify``; raises ``Refused`` (exit 4, ``.document`` holds the report) on drift."""
        return commands.verify(self._project())

    def backup(self, output: Union[str, Path, None] = None, *, format: Optional[str] = None) -> dict[str, Any]:
        """``backup``: a backup (``format`` native or json; ``output`` a path instead of ``backup.dir``); ``{"path": ...}``."""
        return {"path": str(commands.take_backup(self._project(), output=_text(output), fmt=format))}

    def backups(self) -> list[dict[str, Any]]:
        """``backups``: the backups in ``backup.dir``, oldest first, each with ``ok``."""
        return commands.list_backups(self._project())

    def restore(self, path: Union[str, Path], *, force: bool = False) -> dict[str, Any]:
        """``restore``: what was restored, its schema version, and the backup taken of the database first."""
        return commands.restore(self._project(), str(path), force=force)

    def baseline(self, version: Version, *, dry_run: bool = False) -> dict[str, Any]:
        """``baseline``: every migration up to ``version`` (or ``"latest"``) recorded as applied without running it."""
        return commands.baseline(self._project(), str(version), dry_run=dry_run)

    def accept(self, version: Version) -> dict[str, Any]:
        """``accept``: the edited file of applied migration ``version`` becomes the applied one (nothing runs)."""
        return commands.accept(self._project(), str(version))

    def import_(self, tool: str, source: Union[str, Path], *, adopt_history: bool = False, history_table: Optional[str] = None,
                skip_unmapped: bool = False, dry_run: bool = False) -> dict[str, Any]:
        """``import``: ``tool``'s migrations folder ``source`` as migrund files (``import`` is a Python keyword, hence the ``_``)."""
        return commands.import_migrations(self._project(), tool, str(source), adopt_history=adopt_history, history_table=history_table,
                                          skip_unmapped=skip_unmapped, dry_run=dry_run)

    def new(self, name: str, description: str = "", *, python: bool = False) -> dict[str, Any]:
        """``new``: a migration file from the template; ``{"path": ...}``."""
        return {"path": str(commands.new(self._project(), name, description, python=python))}

    # -- the seed project's names, kept: lists of versions and plain values ---------------------

    @staticmethod
    def _versions(result: Mapping[str, Any]) -> list[int]:
        return [step["version"] for step in result["steps"]]

    def run_migrations(self, to: Optional[int] = None, *, atomic: bool = False, out_of_order: bool = False) -> list[int]:
        """Apply pending migrations (up to ``to``); return the versions applied, in order."""
        return self._versions(self.apply(to, atomic=atomic, out_of_order=out_of_order))

    def rollback_migration(self, steps: int = 1, *, allow_destructive: bool = False, from_history: bool = False) -> list[int]:
        """Roll back the last ``steps`` applied migrations; return the versions rolled back."""
        return self._versions(self.rollback(steps, allow_destructive=allow_destructive, from_history=from_history))

    def rollback_to_version(self, version: int, *, allow_destructive: bool = False, from_history: bool = False) -> list[int]:
        """Roll back every applied migration above ``version`` (0: all)."""
        return self._versions(self.rollback(to=version, allow_destructive=allow_destructive, from_history=from_history))

    def check_rollback_safety(self, version: int) -> dict[str, Any]:
        """The ``check-safety`` document, safe or not; raises only when ``version`` is not applied."""
        return _document_either_way(lambda: self.check_safety(version))

    def get_migration_history(self) -> list[dict[str, Any]]:
        """Applied migrations, oldest first (the ``history --json`` shape)."""
        return self.history()

    def get_rollback_history(self) -> list[dict[str, Any]]:
        """Rollbacks, oldest first (the ``history --rollbacks --json`` shape)."""
        return self.history(rollbacks=True)

    def create_migration(self, name: str, description: str = "", *, python: bool = False) -> Path:
        """Write a new migration from the template; return its path."""
        return Path(self.new(name, description, python=python)["path"])

    def backup_database(self) -> Path:
        """Take a manual backup into ``backup.dir``; return its path."""
        return Path(self.backup()["path"])

    def list_backups(self) -> list[dict[str, Any]]:
        """The ``backups --json`` document."""
        return self.backups()

    def restore_database(self, path: Union[str, Path], force: bool = False) -> None:
        """Restore a backup (the current database is backed up first)."""
        self.restore(path, force=force)


def _text(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _document_either_way(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return call()
    except MigrationError as exc:
        if exc.document is None:
            raise
        return exc.document
