"""Whether a dirty marker means a migration still in progress rather than a dirty database.

``project`` is the session's ``Project`` (its ``warn`` and ``run_lock``); this module sits
below it.

A marker is in progress while a runner holds the run lock, or (MySQL/MariaDB) while the
statement its killed runner started still runs on the server.
"""
from __future__ import annotations

import time

from .errors import LockTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .history import History
    from .model import DirtyMarker


def orphan_statement(project: Any, driver: Any, history: History, dirty: DirtyMarker, *, write: bool, deadline: float) -> bool:
    """Whether the dirty marker's statement is still running on the server although its runner is gone.

    A writer (holding both locks, so the runner really is gone) kills it and waits until
    the server has let it go, so the dirty state it then acts on is final; a reader
    reports the migration as still in progress.
    """
    session = history.dirty_session() if "server_sessions" in driver.capabilities else None
    if session is None or not driver.session_busy(session):
        return False
    where = f"migration {dirty.version} {dirty.direction} step {dirty.step} (server connection {session})"
    if not write:
        project.warn(f"{where} is still running on the server, though its runner is gone; wait, or run a writing command to stop it")
        return True
    project.warn(f"{where} is still running on the server though its runner is gone: stopping it")
    if not driver.end_session(session, deadline):
        raise LockTimeout(f"{where} could not be stopped before the lock timeout; try again")
    return False


def runner_holds_the_lock(project: Any) -> bool:
    """Whether a runner holds either lock now (a dirty marker is then a migration in progress)."""
    lock = project.run_lock()
    if lock.file.is_held_elsewhere():
        return True
    try:
        lock.acquire(time.monotonic())
    except LockTimeout:
        return True
    lock.release()
    return False
