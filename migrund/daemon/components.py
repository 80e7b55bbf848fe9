"""The parts of the daemon that depend on the settings: the file watcher, the backup schedule, the HTTP endpoint.

Each only asks the worker for work (``Requests``); a reload restarts just the parts whose
settings changed.
"""
from __future__ import annotations

from pathlib import Path

from ..clock import utc_iso
from ..schedule import trigger
from ..schedule import zone as schedule_zone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from ..config import Settings
    from .requests import Requests
    from .status import StatusDocument


class Components:
    """The watcher, the scheduler and the endpoint of one daemon, with the metrics they share."""

    def __init__(self, requests: Requests, status: StatusDocument) -> None:
        self.requests = requests
        self.status = status
        self.settings: Optional[Settings] = None
        self.metrics: Any = None
        self.endpoint: Any = None
        self.watcher: Any = None
        self.scheduler: Any = None

    def start(self, new: Settings) -> None:
        """Start (or, after a reload, restart) what ``new`` changes: watcher, schedule, endpoint."""
        old, self.settings = self.settings, new
        if old is None or (old.migrations_dir, old.daemon.status_file, old.lock_path, old.url) != (
            new.migrations_dir, new.daemon.status_file, new.lock_path, new.url,
        ):
            self.watch()
        if old is None or old.backup.schedule != new.backup.schedule:
            self._schedule_backups()
        if old is None or old.daemon.http != new.daemon.http:
            from .endpoint import Endpoint, Metrics

            if self.metrics is None:
                self.metrics = self.status.metrics = Metrics()
                self.metrics.observe(self.status.snapshot())
            if self.endpoint is not None:
                self.endpoint.stop()
                self.endpoint = None
            if new.daemon.http:
                self.endpoint = Endpoint(new.daemon.http, self.status.snapshot, self.metrics)
                self.endpoint.start()

    def watch(self) -> None:
        """(Re)start the file watcher on the migrations folder and the config file."""
        from .watch import Watcher

        if self.watcher is not None:
            self.watcher.stop()
        s = self.settings
        assert s is not None
        ignored = [s.daemon.status_file, s.lock_path] + ([s.url.path] if s.url.path else [])
        self.watcher = Watcher(
            s.migrations_dir,
            s.source or Path("migrund.yaml").absolute(),
            ignored,
            # the debounce of the settings in force when the event comes (a reload may change it)
            lambda path: self.requests.reconcile("file change", delay=self._debounce(), debounce=True),
        )
        self.watcher.start()

    def _debounce(self) -> float:
        assert self.settings is not None
        return self.settings.daemon.debounce_seconds

    def being_written(self) -> list[str]:
        """Migration files a writer still holds open (the worker waits for them)."""
        assert self.settings is not None
        return self.watcher.being_written(self.settings.daemon.rescan_seconds) if self.watcher else []

    def folder_appeared(self) -> bool:
        """Whether the watcher waits for a migrations folder that now exists (then watch inside it)."""
        assert self.settings is not None
        return self.watcher is not None and self.watcher.waiting_for_folder and self.settings.migrations_dir.is_dir()

    def stop(self) -> None:
        """Stop every part."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.watcher is not None:
            self.watcher.stop()
        if self.endpoint is not None:
            self.endpoint.stop()

    def _schedule_backups(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        assert self.settings is not None
        if self.settings.backup.schedule:
            from apscheduler.schedulers.background import BackgroundScheduler

            self.scheduler = BackgroundScheduler(daemon=True, timezone=schedule_zone(self.settings))
            # The job only asks: the worker takes the backup, so it never overlaps a reconcile.
            self.scheduler.add_job(
                lambda: self.requests.ask(backup=True), trigger(self.settings), id="backup", coalesce=True, misfire_grace_time=3600
            )
            self.scheduler.start()
        self.note_next_backup()

    def note_next_backup(self) -> None:
        """Put the next scheduled backup's time in the status document."""
        job = self.scheduler.get_job("backup") if self.scheduler is not None else None
        when = job.next_run_time if job is not None else None
        self.status.update(next_backup_at=utc_iso(when.timestamp(), millis=False) if when is not None else None)
