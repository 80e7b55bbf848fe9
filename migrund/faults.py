"""Test-only crash points, for the reliability suite (docs/guarantees.md).

``MIGRUND_CRASH_AT=NAME[:N]`` makes the process kill itself with SIGKILL the N-th time
(default: the first) it passes the point ``NAME``. Unset, which is always the case
outside tests, ``point`` costs one string comparison.

Points: ``statement`` (after each SQL statement of a migration), ``before_commit`` and
``after_commit`` (around each migration's commit with its history row), ``dirty`` (after
a non-transactional step's marker is written), ``backup_written`` (backup complete under
its temporary name), ``backup_renamed`` (renamed, sidecar not yet written), ``restore``
(just before the database is replaced).
"""
from __future__ import annotations

import os

_NAME, _, _COUNT = os.environ.get("MIGRUND_CRASH_AT", "").partition(":")
_left = int(_COUNT) if _COUNT.isdigit() else 1


def point(name: str) -> None:
    """Die here (SIGKILL) if this is the requested crash point's N-th pass."""
    global _left
    if name != _NAME:
        return
    _left -= 1
    if _left == 0:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
