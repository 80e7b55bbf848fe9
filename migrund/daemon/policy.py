"""The daemon's decisions, free of threads, processes and clocks: unit-tested alone.

After each reconcile the service asks ``outcome`` what state to be in and whether to retry,
and ``next_delay`` when to look again; ``still_failed`` says whether a migration that
failed may be tried again.
"""
from __future__ import annotations

from ..errors import Dirty, InvalidInput, Refused, StepFailed
from ..record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping, Optional

    from ..config import DaemonSettings, Settings
    from ..errors import MigrationError
    from ..model import SourceFile


@record
class Failed:
    """A migration that failed and is not retried until its file or the config changes (or SIGHUP)."""

    version: int
    checksum: str  # of its file when it failed ("" when there was none)
    settings: Settings


@record
class Outcome:
    """What an error means for the service: its state, and whether the retry timer takes it up."""

    state: str  # "blocked" (an operator must act) or "error"
    retry: bool  # retried with backoff (the database, the lock, a backup); False: wait for a change
    remember_failure: bool  # a migration step failed: not retried until its file or the config changes


def outcome(exc: BaseException) -> Outcome:
    """How the service treats ``exc`` raised by a reconcile."""
    if isinstance(exc, StepFailed):
        if exc.step == 0:  # the automatic backup before the migration failed: worth retrying, like the database
            return Outcome("error", retry=True, remember_failure=False)
        return Outcome("error", retry=False, remember_failure=True)
    if isinstance(exc, (InvalidInput, Refused, Dirty)):
        return Outcome("blocked", retry=False, remember_failure=False)
    # the database, the lock, a backup (``MigrationError``); or a bug, which is logged whole
    return Outcome("error", retry=True, remember_failure=False)


def backoff(failures: int, low: float, high: float) -> float:
    """Seconds to wait after ``failures`` consecutive failures: doubling from ``low``, capped at ``high``."""
    return min(high, low * 2 ** max(failures - 1, 0))


def next_delay(failures: int, failed: Optional[Failed], settings: DaemonSettings) -> tuple[str, float]:
    """When to look again and why: the retry backoff after failures that may heal, else the rescan period."""
    if failed is None and failures > 0:
        return "retry", backoff(failures, settings.retry_min_seconds, settings.retry_max_seconds)
    return "rescan", settings.rescan_seconds


def still_failed(failed: Optional[Failed], settings: Settings, files: Mapping[int, SourceFile]) -> bool:
    """Whether the failed migration stands as it failed: same file, same config (then it is not run again)."""
    if failed is None:
        return False
    source = files.get(failed.version)
    return failed.settings == settings and source is not None and source.checksum == failed.checksum


def describe(doc: Mapping[str, object]) -> str:
    """The one-line summary systemd shows as STATUS."""
    pending = doc["pending"]
    text = f"{doc['state']}: at {doc['current_version']}, target {doc['target_version']}, {len(pending) if isinstance(pending, list) else 0} pending"
    return f"{text}; {doc['last_error']}" if doc.get("last_error") else text


def sentence(exc: MigrationError) -> str:
    """``exc`` as one log line: its message and up to three details."""
    details = exc.details
    text = exc.message
    if details:
        text += ": " + "; ".join(details[:3]) + (f"; and {len(details) - 3} more" if len(details) > 3 else "")
    return " ".join(text.split())  # one log line, whatever the server's message looked like
