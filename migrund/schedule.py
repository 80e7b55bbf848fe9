"""The backup schedule: a cron expression read in one explicit time zone, never the host's guess.

Containers often set ``TZ`` to a POSIX rule (``UTC0``, ``EST5EDT``) that no zone database
knows; APScheduler's local-zone lookup fails on those. migrund evaluates schedules in
``backup.timezone`` (an IANA name, UTC by default) whatever the host's zone looks like.
"""
from __future__ import annotations

from .errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .config import Settings


def zone(settings: Settings) -> Any:
    """The ``tzinfo`` of ``backup.timezone``; an unknown name is a config error naming it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = settings.backup.timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _error(settings, "timezone", f"{name!r}", "is not a known time zone; use an IANA name such as UTC or Europe/Berlin") from None


def trigger(settings: Settings) -> Any:
    """The APScheduler cron trigger of ``backup.schedule`` in ``backup.timezone``; a bad expression is a config error."""
    from apscheduler.triggers.cron import CronTrigger

    expression = settings.backup.schedule
    tz = zone(settings)
    try:
        return CronTrigger.from_crontab(expression, timezone=tz)
    except (ValueError, TypeError) as exc:
        raise _error(settings, "schedule", f"{expression!r}", f"is not a valid cron expression: {exc}") from None


def _error(settings: Settings, key: str, value: str, problem: str) -> ConfigError:
    """``backup.KEY VALUE (line N) PROBLEM``, with the file and line where the config gives them."""
    from .config import key_line

    line = key_line(settings.source, ["backup", key])
    where = f" (line {line})" if line else ""
    return ConfigError(
        f"backup.{key} {value}{where} {problem}",
        key=f"backup.{key}",
        file=str(settings.source) if settings.source else None,
        line=line,
    )
