"""The service loop: triggers only ask for work; one worker does it, one thing at a time.

File events (``watch``), the rescan timer, retries, SIGHUP and the backup schedule set
flags on ``Requests``. The worker (the main thread) waits on it and runs reconciles and
backups through the same command functions as the CLI, so nothing ever overlaps; what
an outcome means is ``policy``'s to say, and ``StatusDocument`` tells the world.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

from .. import commands, config
from ..clock import utc_iso
from ..config import Settings
from ..errors import MigrationError, StepFailed
from ..model import Event
from ..schedule import trigger
from .components import Components
from .notify import Notifier
from .policy import Failed, backoff, describe, next_delay, outcome, sentence, still_failed
from .requests import Requests
from .status import StatusDocument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

log = logging.getLogger("migrund.daemon")


class Daemon:
    """One running daemon: its settings, status document, components and worker loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.requests = Requests()
        self.notifier = Notifier()
        self.config_problem: Optional[str] = None
        self.failed: Optional[Failed] = None
        self.failures = 0  # consecutive failed attempts, for the retry backoff
        self.busy = False
        self.beat = time.monotonic()
        self.applied: set[int] = set()
        self.status = StatusDocument(
            settings.url.masked(), lambda: self.settings.daemon.status_file, lambda line: self.notifier.send(STATUS=line)
        )
        self.snapshot = self.status.snapshot
        self.update = self.status.update
        self.parts = Components(self.requests, self.status)

    # -- start and stop --------------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; returns the exit code (0)."""
        self._install_signals()
        self.status.flush(whole=True)
        self.parts.start(self.settings)
        self.update(**self._shown(self._figures(self._project())))  # where the database stands before any work
        s = self.settings
        log.info("started: pid %d, database %s, migrations %s, target %s%s", os.getpid(), s.url.masked(), s.migrations_dir, s.target,
                 f", http://{s.daemon.http}" if s.daemon.http else "")
        pinger = self._start_watchdog()
        try:
            self.requests.reconcile("start")
            first = True
            while self._wait():
                self._serve_one()
                if first:
                    first = False
                    self.notifier.send(READY="1", STATUS=describe(self.snapshot()))
        finally:
            self.status.flush()
            self.notifier.send(STOPPING="1", STATUS="stopping")
            self.parts.stop()
            if pinger is not None:
                pinger.set()
        log.info("stopped")
        return 0

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            log.info("%s received: finishing what is in progress, then exiting", signal.Signals(signum).name)
            self.notifier.send(STOPPING="1")
            self.requests.ask(stop=True)

        def hangup(_signum: int, _frame: Any) -> None:
            self.requests.ask(reload=True)
            self.requests.reconcile("SIGHUP")

        def poked(_signum: int, _frame: Any) -> None:  # a CLI command changed the database: look now
            self.requests.reconcile("CLI change")

        signal.signal(signal.SIGUSR1, poked)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hangup)

    def _start_watchdog(self) -> Optional[threading.Event]:
        """Send WATCHDOG=1 every half period while the worker is healthy (waiting, or busy with work)."""
        period = self.notifier.watchdog_seconds
        if period is None:
            return None
        done = threading.Event()

        def ping() -> None:
            while not done.wait(period / 2):
                if self.busy or time.monotonic() - self.beat < period:
                    self.notifier.send(WATCHDOG="1")

        threading.Thread(target=ping, name="migrund-watchdog", daemon=True).start()
        return done

    # -- the worker ------------------------------------------------------------------------

    def _wait(self) -> bool:
        """Wait until something is due, beating for the watchdog; False once a stop is asked."""
        return self.requests.wait((self.notifier.watchdog_seconds or 60.0) / 4, self._beat)

    def _beat(self) -> None:
        self.beat = time.monotonic()

    def _serve_one(self) -> None:
        r = self.requests
        backup, reload, due = r.take()
        if reload:
            self._load_config(reload=True)
        if backup:
            self._busy(self.scheduled_backup)
        if due or reload:
            writing = self.parts.being_written()
            if writing:
                log.debug("waiting for %s to be closed by its writer", ", ".join(writing))
                r.reconcile("file change", delay=self.settings.daemon.debounce_seconds)
                return
            reasons = r.take_reasons()
            if self.parts.folder_appeared():
                self.parts.watch()  # watch inside the new folder before reading it
            self._busy(lambda: self.reconcile(", ".join(reasons), forced=reload))
            r.schedule(*next_delay(self.failures, self.failed, self.settings.daemon))

    def _busy(self, work: Any) -> None:
        self.busy = True
        try:
            work()
        finally:
            self.busy = False
            self.beat = time.monotonic()

    def _load_config(self, *, reload: bool) -> bool:
        """Read the config again; a broken one is rejected and the old one kept (returns False)."""
        source = self.settings.source
        if source is None:
            return True
        try:
            new = config.load(str(source))
            if new.backup.schedule:
                trigger(new)
        except MigrationError as exc:
            problem = sentence(exc)
            if problem != self.config_problem:
                log.error("the config is invalid, keeping the one loaded before: %s", problem)
            self.config_problem = problem
            return False
        self.config_problem = None
        if new != self.settings:
            self.settings = new
            log.info("config reloaded from %s (target %s)", source, new.target)
            try:
                self.parts.start(new)
            except MigrationError as exc:  # e.g. the new daemon.http port is taken: keep serving without it
                log.error("%s", sentence(exc))
        elif reload:
            log.info("config reloaded from %s: unchanged", source)
        return True

    def _project(self) -> commands.Project:
        return commands.Project(
            self.settings,
            on_event=self._event,
            warn=lambda message: log.warning("%s", message),
            should_stop=lambda: self.requests.stop,
        )

    def reconcile(self, why: str, *, forced: bool = False) -> None:
        """One pass: reload the config, then bring the database to the target, recording the outcome."""
        try:
            self._reconcile(why, forced)
        finally:
            give_back_memory()

    def _reconcile(self, why: str, forced: bool) -> None:
        started = time.perf_counter()
        if not self._load_config(reload=False):
            self._finish("blocked", f"the config is invalid: {self.config_problem}", started, code=2)
            return
        project = self._project()
        try:
            if not forced and still_failed(self.failed, self.settings, project.scan().files):
                self._finish("error", self.snapshot()["last_error"], started, refresh=project, code=self.snapshot()["last_exit_code"])
                return
            self.failed = None
            result, figures = commands.reconcile_pass(project)
        except Exception as exc:  # a bug too must not kill the service
            self._failed(exc, started, project)
            return
        self.failures = 0
        steps = result["steps"]
        ms = int((time.perf_counter() - started) * 1000)
        if steps:
            log.info("reconcile (%s): from %d to %d, %d step(s) in %d ms", why, result["from_version"], result["to_version"], len(steps), ms,
                     extra={"fields": {"event": "reconcile", "result": "done", "from_version": result["from_version"],
                                       "to_version": result["to_version"], "steps": len(steps), "ms": ms}})
        else:
            log.info("reconcile (%s): at %d, nothing to do", why, result["to_version"],
                     extra={"fields": {"event": "reconcile", "result": "nothing", "version": result["to_version"], "ms": ms}})
        self._finish("idle", None, started, figures=figures, ok=not self.requests.stop)

    def _failed(self, exc: Exception, started: float, project: commands.Project) -> None:
        """Record what a failed reconcile means (``policy.outcome``): blocked, failed for good, or retried."""
        verdict = outcome(exc)
        if not isinstance(exc, MigrationError):
            log.exception("internal error during a reconcile")
            self.failures += 1
            self._finish("error", f"internal error: {type(exc).__name__}: {exc}", started, code=1)
            return
        if verdict.remember_failure:
            assert isinstance(exc, StepFailed) and exc.version is not None
            source = project.scan().files.get(exc.version)
            self.failed = Failed(exc.version, source.checksum if source else "", self.settings)
            self._finish("error", f"{sentence(exc)}; not retried until its file or the config changes, or SIGHUP", started,
                         refresh=project, code=exc.exit_code)
        elif not verdict.retry:
            self._finish(verdict.state, sentence(exc), started, refresh=project, code=exc.exit_code)
        elif not self.requests.stop:
            self.failures += 1
            wait = backoff(self.failures, self.settings.daemon.retry_min_seconds, self.settings.daemon.retry_max_seconds)
            self._finish("error", f"{sentence(exc)}; retrying in {wait:g} s", started, refresh=project, code=exc.exit_code)

    def _finish(self, state: str, error: Optional[str], started: float, *, refresh: Optional[commands.Project] = None,
                figures: Optional[dict[str, Any]] = None, ok: bool = True, code: Optional[int] = None) -> None:
        """Record how a pass ended; the figures as given, or read again through ``refresh``."""
        if state != "idle":
            log.log(logging.WARNING if state == "blocked" else logging.ERROR, "%s: %s", state, error,
                    extra={"fields": {"event": "reconcile", "result": state}})
            self.parts.metrics.reconcile_failures.labels(state).inc()
        # last_exit_code: what the same refusal or failure exits with from the CLI (`migrund wait` passes it on)
        fields: dict[str, Any] = {"state": state, "last_error": error, "last_exit_code": code, "last_reconcile_at": utc_iso(),
                                  "running": None}
        fields.update(self._shown(figures if figures is not None or refresh is None else self._figures(refresh)))
        self.parts.metrics.last_reconcile.set(time.time())
        self.parts.metrics.last_reconcile_ok.set(1 if state == "idle" and ok else 0)
        self.update(**fields)

    def _shown(self, figures: Optional[dict[str, Any]]) -> dict[str, Any]:
        """The status fields of ``figures`` (none when unknown), keeping the applied versions for the events."""
        if figures is None:
            return {}
        self.applied = set(figures["applied"])
        return {k: figures[k] for k in ("current_version", "target_version", "pending")}

    def _figures(self, project: commands.Project) -> Optional[dict[str, Any]]:
        """Where the database stands now (``report.standing``); None when unreadable (the last known figures stay)."""
        try:
            return commands.status(project)
        except MigrationError:
            return None

    def _event(self, event: Event) -> None:
        if event.kind == "start":
            running = {"version": event.version, "name": event.name, "direction": event.direction, "step": 1,
                       "steps": event.steps, "since": utc_iso(), "step_since": utc_iso()}
            self.update(state="applying" if event.direction == "up" else "rolling_back", running=running)
        elif event.kind == "step":
            now = self.snapshot().get("running")
            if now:
                self.update(running=dict(now, step=event.step, step_since=utc_iso()))
        elif event.kind == "done":
            verb = "applied" if event.direction == "up" else "rolled back"
            log.info("%s %d %s in %d ms", verb, event.version, event.name, event.ms,
                     extra={"fields": {"event": verb.replace(" ", "_"), "version": event.version, "name": event.name, "ms": event.ms}})
            now = self.snapshot()
            if event.direction == "up":
                self.applied.add(event.version)
                current = max(now["current_version"], event.version)  # not max(applied): 10,000 of them, at every migration
            else:
                self.applied.discard(event.version)
                current = max(self.applied, default=0)
            self.parts.metrics.durations.labels(event.direction).observe(event.ms / 1000)
            pending = [v for v in now["pending"] if v != event.version]
            self.update(current_version=current, pending=pending, running=None)
        elif event.kind == "backup":  # before_rollback / before_risky: backups too, for the metric
            log.info("backup written: %s", event.message, extra={"fields": {"event": "backup", "path": event.message}})
            self.parts.metrics.last_backup.set(time.time())
        else:
            log.warning("%s", event.message)

    def scheduled_backup(self) -> None:
        """Take the scheduled backup under the lock (pruning as every backup does)."""
        before = self.snapshot()
        self.update(state="backing_up")
        try:
            path = commands.take_backup(self._project(), reason="scheduled")
        except MigrationError as exc:
            message = f"scheduled backup failed: {sentence(exc)}"
            log.error("%s", message, extra={"fields": {"event": "backup", "result": "error"}})
            self.update(state="error", last_error=message)
        else:
            log.info("scheduled backup written: %s", path, extra={"fields": {"event": "backup", "path": str(path)}})
            self.parts.metrics.last_backup.set(time.time())
            self.update(state=before["state"], last_error=before["last_error"])
        self.parts.note_next_backup()


_LIBC: list[Any] = []


def give_back_memory() -> None:
    """Hand back to the system what a pass freed: one over 10,000 files peaks at tens of MB an idle daemon need not keep.

    Python frees its emptied arenas into the C allocator, which keeps them; glibc's
    ``malloc_trim`` returns them. Elsewhere (musl, macOS) the collection alone is done.
    """
    import gc

    gc.collect()
    if not _LIBC:
        import ctypes

        try:
            _LIBC.append(ctypes.CDLL(None).malloc_trim)
        except (OSError, AttributeError):
            _LIBC.append(None)
    if _LIBC[0] is not None:
        _LIBC[0](0)
