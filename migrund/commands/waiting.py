"""``wait``: block until the daemon reports the database at its target, or say why it will not get there.

What a deploy pipeline runs after a push. The answer comes from the daemon's status
document; the target is worked out here from the config and the files on disk, so a
daemon that has not yet seen the push is not taken for one that is done.
"""
from __future__ import annotations

import time

from .. import plan as planner
from ..clock import utc_iso
from ..errors import MigrationError, NotAtTarget, OperationFailed
from ..session import Project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

# How long to wait for a daemon that is not running yet: `systemctl restart migrund && migrund wait`
# must not fail in the moment before the new process writes its status file.
START_GRACE = 10.0


def wait(project: Project, *, timeout: float = 600.0, poll: float = 0.2) -> dict[str, Any]:
    """The daemon's status document once it stands at the target; raises with the daemon's reason (and code) otherwise."""
    from ..statusfile import read_daemon_status

    settings = project.settings
    began, began_at = time.monotonic(), utc_iso()
    # Past this, a blocked or failed daemon has had time to see anything pushed before we began.
    settled = settings.daemon.debounce_seconds + 2.0
    while True:
        found = project.scan()
        expected = planner.target_version(planner.resolve_target(settings.target, found.files), found.files)
        doc = read_daemon_status(settings.daemon.status_file)
        waited = time.monotonic() - began
        if doc is None:
            grace = min(timeout, START_GRACE)
            if waited < grace:
                time.sleep(poll)
                continue
            raise OperationFailed(f"no daemon is running for this config (its status file {settings.daemon.status_file} names no live"
                                  f" process; waited {grace:g} s for one to start)", kind="no_daemon")
        if doc["state"] == "idle" and not doc["pending"] and doc["current_version"] == doc["target_version"] == expected:
            return doc
        reacted = (doc.get("last_reconcile_at") or "") >= began_at
        if doc["state"] in ("blocked", "error") and (reacted or waited >= settled):
            raise _daemon_says(doc)
        if waited >= timeout:
            raise NotAtTarget(
                f"gave up after {timeout:g} s: the daemon is {doc['state']} at {doc['current_version']}, the target is {expected}",
                document=doc,
            )
        time.sleep(poll)
        project.rescan()


def _daemon_says(doc: dict[str, Any]) -> MigrationError:
    code: Optional[int] = doc.get("last_exit_code")
    error = MigrationError(f"the daemon is {doc['state']}: {doc.get('last_error') or 'no reason given'}", kind=f"daemon_{doc['state']}", document=doc)
    error.exit_code = code if isinstance(code, int) and code > 0 else 1
    return error
