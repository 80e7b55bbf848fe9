"""What the triggers ask of the worker: file events, timers, retries, signals and the backup schedule only set flags here."""
from __future__ import annotations

import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional


class Requests:
    """The worker's queue of asks; a signal handler may call these too (hence the RLock)."""

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.RLock())
        self.reconcile_at: Optional[float] = None  # time.monotonic() when a reconcile is due
        self.reasons: set[str] = set()  # who asked, for the log
        self.timer = "rescan"  # the reason when only the timer asked
        self.reload = False
        self.backup = False
        self.stop = False

    def reconcile(self, reason: str, *, delay: float = 0.0, debounce: bool = False) -> None:
        """Ask for a reconcile in ``delay`` seconds; ``debounce`` pushes a pending one back to it."""
        with self.cond:
            due = time.monotonic() + delay
            if debounce or self.reconcile_at is None or due < self.reconcile_at:
                self.reconcile_at = due
            self.reasons.add(reason)
            self.cond.notify_all()

    def schedule(self, reason: str, delay: float) -> None:
        """The rescan or retry timer: a reconcile in ``delay`` seconds unless one is already asked for."""
        with self.cond:
            if self.reconcile_at is None:
                self.reconcile_at = time.monotonic() + delay
                self.timer = reason

    def ask(self, *, reload: bool = False, backup: bool = False, stop: bool = False) -> None:
        """Ask for a config reload, a backup or a stop."""
        with self.cond:
            self.reload |= reload
            self.backup |= backup
            self.stop |= stop
            self.cond.notify_all()

    def wait(self, limit: float, beat: Callable[[], None]) -> bool:
        """Wait until something is due (waking at least every ``limit`` s to call ``beat``); False once a stop is asked."""
        with self.cond:
            while True:
                beat()
                now = time.monotonic()
                if self.stop:
                    return False
                if self.backup or self.reload or (self.reconcile_at is not None and self.reconcile_at <= now):
                    return True
                timeout = limit if self.reconcile_at is None else min(limit, self.reconcile_at - now)
                self.cond.wait(max(timeout, 0.0))

    def take(self) -> tuple[bool, bool, bool]:
        """(backup, reload, reconcile due): what to do now; the backup and reload asks are cleared."""
        with self.cond:
            backup, reload = self.backup, self.reload
            self.backup = self.reload = False
            return backup, reload, self.reconcile_at is not None and self.reconcile_at <= time.monotonic()

    def take_reasons(self) -> list[str]:
        """Who asked for the reconcile about to run (the timer's name if nobody else did); clears the ask."""
        with self.cond:
            reasons = sorted(self.reasons) or [self.timer]
            self.reasons.clear()
            self.reconcile_at = None
            return reasons
