"""``--wait-for-db``: keep trying to connect while the server is not up yet (a container starting beside it)."""
from __future__ import annotations

import time

from .errors import DatabaseUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, TypeVar

    T = TypeVar("T")


def when_reachable(connect: Callable[[], T], seconds: float, warn: Callable[[str], None], should_stop: Callable[[], bool]) -> T:
    """``connect()``, tried again for up to ``seconds`` while the database is unreachable (exit 1 after that, as without waiting)."""
    deadline = time.monotonic() + seconds
    told = False
    while True:
        try:
            return connect()
        except DatabaseUnavailable as exc:
            if time.monotonic() >= deadline or should_stop():
                raise
            if not told:
                warn(f"the database is not reachable yet ({exc.message}); waiting up to {seconds:g} s (--wait-for-db)")
                told = True
            time.sleep(min(0.25, max(deadline - time.monotonic(), 0.0)))
