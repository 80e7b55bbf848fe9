"""The daemon's status document: one copy, guarded, published to the status file, the metrics and systemd on change."""
from __future__ import annotations

import logging
import os
import threading

from ..redact import redact
from ..statusfile import write_atomically
from .policy import describe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Callable, Iterable

log = logging.getLogger("migrund.daemon")

# Changes of these are worth telling systemd (its STATUS line).
_SHOWN = {"state", "current_version", "target_version", "last_error"}


class StatusDocument:
    """The status document the daemon writes to ``daemon.status_file`` and serves on ``/healthz``."""

    def __init__(self, database: str, path: Callable[[], Path], tell_systemd: Callable[[str], None]) -> None:
        self._path = path  # the status file of the settings in force (a reload may move it)
        self._tell = tell_systemd
        self._lock = threading.Lock()
        self.metrics: Any = None
        self.doc: dict[str, Any] = {
            "state": "starting",
            "current_version": 0,
            "target_version": 0,
            "pending": [],
            "last_reconcile_at": None,
            "last_error": None,
            "last_exit_code": None,
            "running": None,  # the migration and step running now, and since when
            "next_backup_at": None,
            "pid": os.getpid(),
            "database": database,
        }

    def snapshot(self) -> dict[str, Any]:
        """A copy of the document (any thread)."""
        with self._lock:
            return dict(self.doc, pending=list(self.doc["pending"]))

    def update(self, **fields: Any) -> None:
        """Change fields; on any change publish the document."""
        if fields.get("last_error"):  # the one way free text gets into the document, its file and endpoint
            fields["last_error"] = redact(fields["last_error"])
        with self._lock:
            changed = {k: v for k, v in fields.items() if self.doc.get(k) != v}
            if not changed:
                return
            self.doc.update(changed)
            doc = dict(self.doc, pending=list(self.doc["pending"]))
        self.publish(doc, changed)

    def publish(self, doc: dict[str, Any], changed: Iterable[str]) -> None:
        """Write ``doc`` to the status file, the metrics and (for what systemd shows) the notify socket."""
        path = self._path()
        try:
            write_atomically(path, doc)
        except OSError as exc:
            log.error("cannot write the status file %s: %s", path, exc.strerror or exc)
        if self.metrics is not None:
            self.metrics.observe(doc)
        if _SHOWN.intersection(changed):
            self._tell(describe(doc))
