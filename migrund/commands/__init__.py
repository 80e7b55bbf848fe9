"""The commands as plain functions: the CLI, the daemon and the API all call these.

Each is a few lines: open a session (``session.Project``), ask the pure planners
(``plan``, ``report``) what to do, and hand a plan to ``execute`` or return the document.
Results are JSON-shaped (dicts and lists); refusals and failures are ``MigrationError``s
carrying their exit code (and, where there is one, the document).
"""
from __future__ import annotations

from ..session import Project
from .backups import list_backups, restore, take_backup
from .changing import apply, reconcile, repair, rollback
from .reading import check_safety, history, plan, status, validate, verify
from .scaffolding import init, new

__all__ = [
    "Project", "apply", "check_safety", "history", "init", "list_backups", "new", "plan",
    "reconcile", "repair", "restore", "rollback", "status", "take_backup", "validate", "verify",
]
