"""The commands about backups: backup, backups, restore."""
from __future__ import annotations

from pathlib import Path

from ..session import Project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


def take_backup(project: Project, *, output: Optional[str] = None, fmt: Optional[str] = None, reason: str = "manual") -> Path:
    """``backup``: a manual (or the daemon's scheduled) backup, under the lock so it never overlaps a migration."""
    with project.session(write=True) as state:
        return state.backup(reason, output=Path(output).absolute() if output else None, fmt=fmt)


def list_backups(project: Project) -> list[dict[str, Any]]:
    """``backups``: the backups in ``backup.dir``, oldest first, each with ``ok``."""
    from .. import backup

    return [backup.inspect(entry) for entry in backup.listed(project.settings.backup.dir, project.warn)]


def restore(project: Project, path: str, *, force: bool = False) -> dict[str, Any]:
    """``restore``: check the backup, back up the current database, then replace it atomically."""
    from .. import backup

    source = Path(path).absolute()
    project.restoring = True
    with project.session(write=True) as state:
        meta = backup.check_restorable(source, project.settings, set(project.scan().files), force=force)
        # The backup being restored may be the oldest in backup.dir: pruning must not take it.
        before = state.backup("before_restore", spare=source) if state.driver is not None else None
        if state.driver is None:
            state.driver = project.connect(write=True)
        state.changed = True
        backup.restore_into(state.driver, source, meta)
    return {"restored": str(source), "schema_version": meta["schema_version"], "before_restore": str(before) if before else None}
