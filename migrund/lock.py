"""The run lock: a local file lock, plus the database's advisory lock where the driver has one."""
from __future__ import annotations

import os
import time
from pathlib import Path

from .drivers.base import never
from .clock import utc_iso
from .errors import LockTimeout, OperationFailed, Refused
from .files import read_regular, write_private
from .paths import hostname

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional


def _holder_text() -> str:
    return f"pid {os.getpid()} on {hostname()} since {utc_iso(millis=False)}"


class FileLock:
    """``lock.path`` held through the ``filelock`` package; names its holder to waiters."""

    def __init__(self, path: Path, timeout: float, on_wait: Optional[Callable[[str], None]] = None) -> None:
        self.path = path
        self.timeout = timeout
        self.on_wait = on_wait
        self._lock = None

    def holder(self) -> str:
        """Who holds the lock, as its holder wrote it, or ``unknown``."""
        try:
            text = read_regular(self.path, limit=4096).decode("utf-8", "replace").strip()
        except OSError:
            text = ""
        return text or "an unknown process"

    def is_held_elsewhere(self) -> bool:
        """Whether another process holds the lock right now (probe without waiting)."""
        if self._lock is not None:
            return False
        if not self.path.exists():
            return False
        import filelock

        probe = filelock.FileLock(str(self.path))
        try:
            probe.acquire(timeout=0)
        except filelock.Timeout:
            return True
        except OSError:
            return False
        probe.release()
        return False

    def acquire(self, deadline: float, should_stop: Callable[[], bool] = never) -> None:
        """Take the lock, waiting until ``deadline`` (a ``time.monotonic()`` value) or ``should_stop()``."""
        try:
            self._acquire(deadline, should_stop)
        except OSError as exc:
            raise OperationFailed(f"cannot use the lock file {self.path} (lock.path): {exc.strerror or exc}") from exc

    def _acquire(self, deadline: float, should_stop: Callable[[], bool]) -> None:
        import filelock

        if self.path.is_symlink():
            raise Refused(f"lock path {self.path} is a symbolic link; point lock.path at a plain file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            if self.on_wait:
                self.on_wait(f"waiting for the lock {self.path}, held by {self.holder()}")
            while True:  # in slices, so a stop request is noticed while waiting
                try:
                    lock.acquire(timeout=min(max(deadline - time.monotonic(), 0), 0.5), poll_interval=0.05)
                    break
                except filelock.Timeout:
                    if time.monotonic() >= deadline or should_stop():
                        why = "stopping" if should_stop() else f"gave up after {self.timeout:g} s"
                        raise LockTimeout(f"the lock {self.path} is held by {self.holder()}; {why}") from None
        self._lock = lock
        # The lock file is never truncated by contenders, so it can name its holder.
        write_private(self.path, (_holder_text() + "\n").encode())

    def release(self) -> None:
        """Release the lock if held."""
        if self._lock is not None:
            try:
                write_private(self.path, b"")
            except OSError:
                pass
            self._lock.release()
            self._lock = None
