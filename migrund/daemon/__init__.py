"""The daemon: ``migrund daemon`` converging the database to the target as files and config change.

Its rooms: ``requests`` (what triggers ask), ``policy`` (pure decisions: retry, backoff,
blocked states), ``status`` (the status document), ``service`` (the worker loop and
signals), ``watch`` (file events), ``endpoint`` (HTTP health and metrics) and ``notify``
(systemd). Nothing here is imported until the daemon starts.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config import Settings


def main(settings: Settings, *, verbose: bool = False) -> int:
    """``migrund daemon``: set up logging and run until stopped (exit 2 at once for a bad schedule)."""
    import logging

    from ..logs import configure
    from ..schedule import trigger
    from .service import Daemon

    configure(settings.log_level, settings.log_format, verbose=verbose)
    if not verbose:  # the scheduler narrates every job it adds and runs; our own lines say what matters
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if settings.backup.schedule:
        trigger(settings)
    return Daemon(settings).run()
