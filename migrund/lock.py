"""The run lock: a local file lock, plus the database's advisory lock where the engine has one, waited for in one loop."""
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

    import filelock

    from .drivers.dbapi import AdvisoryLock


def _holder_text() -> str:
    return f"pid {os.getpid()} on {hostname()} since {utc_iso(millis=False)}"


class FileLock:
    """``lock.path`` held through the ``filelock`` package; names its holder to waiters."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: Optional[filelock.BaseFileLock] = None

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

    def try_acquire(self) -> bool:
        """Take the lock if it is free (never waits); whether it is held now."""
        if self._lock is not None:
            return True
        try:
            return self._try()
        except OSError as exc:
            raise OperationFailed(f"cannot use the lock file {self.path} (lock.path): {exc.strerror or exc}") from exc

    def _try(self) -> bool:
        import filelock

        if self.path.is_symlink():
            raise Refused(f"lock path {self.path} is a symbolic link; point lock.path at a plain file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        self._lock = lock
        # The lock file is never truncated by contenders, so it can name its holder.
        write_private(self.path, (_holder_text() + "\n").encode())
        return True

    def release(self) -> None:
        """Release the lock if held."""
        if self._lock is not None:
            try:
                write_private(self.path, b"")
            except OSError:
                pass
            self._lock.release()
            self._lock = None


class RunLock:
    """What keeps two runs apart: ``lock.path`` on this host and the database's advisory lock across hosts.

    Both are tried without waiting, in one loop, until both are held, ``deadline`` (a
    ``time.monotonic()`` value) passes or ``should_stop()``; waiters are told once who holds
    which. The lock file is taken first, so runs on one host queue on it rather than on the
    database.
    """

    def __init__(self, path: Path, advisory: Callable[[], Optional[AdvisoryLock]], on_wait: Callable[[str], None]) -> None:
        self.file = FileLock(path)
        self._advisory = advisory  # opens the engine's lock (a connection) only once the file lock is held
        self.database: Optional[AdvisoryLock] = None
        self._opened = False
        self.on_wait = on_wait

    def acquire(self, deadline: float, should_stop: Callable[[], bool] = never) -> None:
        """Hold both locks, or raise ``LockTimeout`` (exit 3) naming the one held elsewhere and its holder."""
        told: set[str] = set()
        try:
            while True:
                blocking = self._blocking()
                if blocking is None:
                    return
                what, holder = blocking
                if what not in told:
                    told.add(what)
                    self.on_wait(f"waiting for {what}, held by {holder()}")
                if time.monotonic() >= deadline or should_stop():
                    why = "stopping" if should_stop() else "gave up waiting"
                    raise LockTimeout(f"{what} is held by {holder()}; {why}")
                time.sleep(min(0.05, max(deadline - time.monotonic(), 0.005)))
        except BaseException:
            self.release()
            raise

    def _blocking(self) -> Optional[tuple[str, Callable[[], str]]]:
        """The lock not yet held (what it is, and how to ask for its holder), or None when both are."""
        if not self.file.try_acquire():
            return f"the lock {self.file.path}", self.file.holder
        if not self._opened:
            self.database = self._advisory()
            self._opened = True
        if self.database is not None and not self.database.try_take():
            return self.database.what, self.database.holder
        return None

    def release(self) -> None:
        """Release what is held, the database's lock first."""
        if self.database is not None:
            self.database.release()
            self.database = None
        self._opened = False
        self.file.release()
