"""Times as migrund writes them: ISO 8601 in UTC with a ``Z``, one format everywhere."""
from __future__ import annotations

import time
from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


def utc_iso(when: Optional[float] = None, *, millis: bool = True) -> str:
    """``when`` (a Unix time; default now) as ``YYYY-MM-DDTHH:MM:SS[.mmm]Z``."""
    second, millisecond = divmod(int((time.time() if when is None else when) * 1000), 1000)
    return f"{_second(second)}.{millisecond:03d}Z" if millis else f"{_second(second)}Z"


def utc_compact() -> str:
    """Now as ``YYYYMMDDTHHMMSSZ``, for file names."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


@lru_cache(maxsize=4)
def _second(second: int) -> str:
    # Formatting is most of the cost; a run records many rows within one second.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
