"""The daemon's status file: written atomically, read by ``migrund status``."""
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


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Replace ``path`` with ``document`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_private(path, (json.dumps(document, indent=2) + "\n").encode())
