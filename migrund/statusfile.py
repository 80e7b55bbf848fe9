"""The daemon's status file: written atomically, read by ``migrund status`` and ``wait``, and the way to its pid."""
from __future__ import annotations

import json
from pathlib import Path

from .files import read_regular, replace_private
from .paths import pid_running

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional


def read_daemon_status(path: Path) -> Optional[dict[str, Any]]:
    """The daemon's status document, or None when absent, unreadable, or its pid is not running."""
    try:
        doc = json.loads(read_regular(path, limit=1 << 20))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not pid_running(doc.get("pid")):
        return None
    return doc


def poke_daemon(path: Path) -> None:
    """Have the daemon whose status file is ``path`` look again now (SIGUSR1), not at its next rescan.

    Called when a command changed the database (rollback, repair, baseline, restore...),
    which would otherwise leave the daemon's status stale for up to ``rescan_seconds``.
    Best effort: a daemon of another user cannot be signalled, and then rescans as before.
    """
    import os
    import signal

    doc = read_daemon_status(path)
    pid = doc.get("pid") if doc else None
    # A stale status file may name a pid the system gave to another program since, and
    # SIGUSR1 would end it: only a migrund daemon is signalled.
    if isinstance(pid, int) and pid != os.getpid() and _is_migrund_daemon(pid):
        try:
            os.kill(pid, signal.SIGUSR1)
        except OSError:
            pass


def _is_migrund_daemon(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            words = handle.read().split(b"\0")
    except OSError:
        return False
    return b"daemon" in words and any(b"migrund" in word for word in words)


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Replace ``path`` with ``document`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_private(path, (json.dumps(document, indent=2) + "\n").encode())
