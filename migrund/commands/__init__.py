"""The commands as plain functions: the CLI, the daemon and the API all call these.

Each is a few lines: open a session (``session.Project``), ask the pure planners
(``plan``, ``report``) what to do, and hand a plan to ``execute`` or return the document.
Results are JSON-shaped (dicts and lists); refusals and failures are ``MigrationError``s
carrying their exit code (and, where there is one, the document).
"""
from __future__ import annotations

import importlib

from ..session import Project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .backups import list_backups, restore, take_backup
    from .adopting import import_migrations
    from .changing import accept, apply, baseline, reconcile, reconcile_pass, repair, rollback
    from .reading import check_safety, history, plan, status, validate, verify
    from .scaffolding import completion, init, new
    from .waiting import wait

# Each command's module is imported when the command is first asked for: a run imports
# only the room of the command it runs (start-up time is most of a no-op run).
_HOME = {
    "list_backups": "backups", "restore": "backups", "take_backup": "backups",
    "accept": "changing", "apply": "changing", "baseline": "changing", "reconcile": "changing", "reconcile_pass": "changing", "repair": "changing", "rollback": "changing",
    "check_safety": "reading", "history": "reading", "plan": "reading", "status": "reading",
    "validate": "reading", "verify": "reading",
    "wait": "waiting",
    "import_migrations": "adopting",
    "init": "scaffolding", "new": "scaffolding", "completion": "scaffolding",
}
__all__ = [
    "Project", "accept", "apply", "baseline", "check_safety", "completion", "history", "import_migrations", "init", "list_backups", "new", "plan",
    "reconcile", "reconcile_pass", "repair", "restore", "rollback", "status", "take_backup", "validate", "verify", "wait",
]


def __getattr__(name: str) -> Any:
    """The command ``name``, from its module."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
