"""The daemon's status document: one copy, guarded, published to the status file, the metrics and systemd on change."""
from __future__ import annotations

import logging
import os
import threading
import time

from ..redact import redact
from ..statusfile import write_atomically
from .policy import describe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Callable, Iterable, Optional

log = logging.getLogger("migrund.daemon")

# Changes of these are worth telling systemd (its STATUS line).
_SHOWN = {"state", "current_version", "target_version", "last_error"}

# The least time between two publications of progress. A pass over a thousand quick
# migrations changes the document twice a migration; writing the file (and the metrics,
# and systemd's line) each time cost more than the migrations. A change waits at most
# this long; a change of state (a pass starting or ending) or of the next backup's time is
# published at once.
QUIET_SECONDS = 0.1
_AT_ONCE = {"state", "next_backup_at"}


class StatusDocument:
    """The status document the daemon writes to ``daemon.status_file`` and serves on ``/healthz``."""

    def __init__(self, database: str, path: Callable[[], Path], tell_systemd: Callable[[str], None]) -> None:
        self._path = path  # the status file of the settings in force (a reload may move it)
        self._tell = tell_systemd
        self._lock = threading.Lock()
        self._publishing = threading.Lock()  # one writer of the status file at a time
        self._unpublished: set[str] = set()  # fields changed since the last publication
        self._last = 0.0  # time.monotonic() of the last publication
        self._timer: Optional[threading.Timer] = None
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
        """Change fields; publish the document now (``_AT_ONCE`` fields, or quiet long enough), else within ``QUIET_SECONDS``."""
        if fields.get("last_error"):  # the one way free text gets into the document, its file and endpoint
            fields["last_error"] = redact(fields["last_error"])
        with self._lock:
            changed = {k: v for k, v in fields.items() if self.doc.get(k) != v}
            if not changed:
                return
            self.doc.update(changed)
            self._unpublished.update(changed)
            wait = self._last + QUIET_SECONDS - time.monotonic()
            if wait > 0 and not _AT_ONCE.intersection(changed):
                if self._timer is None:
                    self._timer = threading.Timer(wait, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self.flush()

    def flush(self, *, whole: bool = False) -> None:
        """Publish what changed since the last publication, if anything; ``whole``: the whole document, as a change."""
        with self._publishing:
            with self._lock:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                if whole:
                    self._unpublished.update(self.doc)
                if not self._unpublished:
                    return
                changed, self._unpublished = self._unpublished, set()
                doc = dict(self.doc, pending=list(self.doc["pending"]))
                self._last = time.monotonic()
            self._publish(doc, changed)

    def _publish(self, doc: dict[str, Any], changed: Iterable[str]) -> None:
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
