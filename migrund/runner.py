"""The one place that changes the database: runs migrations, writes history, keeps dirty markers."""
from __future__ import annotations

import time
from pathlib import Path

from . import faults, hooks
from .errors import StatementFailed, StepFailed, shorten
from .history import History
from .model import Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Optional, Sequence

    from .drivers.base import Driver
    from .model import Direction, Migration, Step

    EventSink = Callable[[Event], None]


class Runner:
    """Executes migrations through a driver; it never prints, it emits ``Event``s."""

    def __init__(
        self,
        driver: Driver,
        history: History,
        *,
        config: Mapping[str, Any],
        on_event: EventSink,
        should_stop: Callable[[], bool] = lambda: False,
        lock_retries: int = 0,
    ) -> None:
        self.driver = driver
        self.history = history
        self.config = config
        self.on_event = on_event
        self.should_stop = should_stop
        self.lock_retries = lock_retries  # tries more for a migration whose statement timed out on a lock
        self._armed: Optional[int] = None  # the version whose step-1 dirty marker is already committed

    def apply(
        self,
        migrations: Sequence[Migration],
        *,
        atomic: bool = False,
        before_risky: Optional[Callable[[Migration], Path]] = None,
    ) -> list[int]:
        """Apply ``migrations`` in order; on failure raise ``StepFailed`` with ``done`` set."""
        return self._run(migrations, "up", atomic=atomic, before=before_risky)

    def rollback(self, migrations: Sequence[Migration], *, how: str = "rollback") -> list[int]:
        """Run the ``down`` of each migration in order, removing its history row."""
        return self._run(migrations, "down", atomic=False, before=None, how=how)

    def _run(
        self,
        migrations: Sequence[Migration],
        direction: Direction,
        *,
        atomic: bool,
        before: Optional[Callable[[Migration], Path]],
        how: str = "rollback",
    ) -> list[int]:
        done: list[int] = []
        on_event, should_stop, clock = self.on_event, self.should_stop, time.perf_counter
        if atomic:
            self.driver.begin()
        try:
            for position, migration in enumerate(migrations):
                if should_stop():
                    self._disarm()
                    break
                backup = before(migration) if before and migration.risky else None
                following = migrations[position + 1] if position + 1 < len(migrations) else None
                if following is not None and (not self._marked(following) or (before and following.risky)):
                    following = None  # no marker ahead of a transaction, nor of a backup taken before the migration
                on_event(Event("start", migration.version, migration.name, direction, steps=len(migration.steps(direction))))
                started = clock()
                try:
                    ms = self._one(migration, direction, True, how, started) if atomic else self._retried(migration, direction, how, started, following)
                except StepFailed as exc:
                    if backup is not None:
                        exc.message += f"; the backup taken before it is {backup}"
                        exc.args = (exc.message,)
                    raise
                done.append(migration.version)
                # the duration the history row holds, so the output and `history` agree
                on_event(Event("done", migration.version, migration.name, direction, ms=ms))
            if atomic:
                self.driver.commit()
        except StepFailed as exc:
            if atomic:
                self.driver.rollback()
                done = []
            exc.done = done
            raise
        return done

    def _marked(self, migration: Migration) -> bool:
        """Whether ``migration`` runs under the dirty-state protocol (outside a transaction)."""
        return not (migration.transaction and self.driver.transactional_ddl)

    def _disarm(self) -> None:
        """Take back a marker committed ahead for a migration that will not run now."""
        if self._armed is not None:
            with self.driver.transaction():
                self.history.clear_dirty()
            self._armed = None

    def _one(self, migration: Migration, direction: Direction, in_transaction: bool, how: str, started: float,
             chained: Optional[Migration] = None) -> int:
        """Run one migration; the milliseconds its history row records.

        Under the dirty-state protocol, ``chained`` (the migration to run next) gets its
        step-1 marker in the same commit as this one's history row: one commit less per
        migration where DDL commits by itself. A crash between that commit and the next
        statement leaves the next migration reported dirty at step 1, as a crash just
        after a marker of its own would.
        """
        steps = migration.steps(direction)
        if in_transaction:
            self._steps(migration, direction, steps)
            return self._finish(migration, direction, how, started)
        if migration.transaction and self.driver.transactional_ddl:
            self.driver.begin()
            try:
                self._steps(migration, direction, steps)
                ms = self._finish(migration, direction, how, started)
            except BaseException:
                self.driver.rollback()
                raise
            faults.point("before_commit")
            self.driver.commit()
            faults.point("after_commit")
            return ms
        # the dirty-state protocol: a marker before each step; marker cleared with the history row.
        for index, step in enumerate(steps, 1):
            if index > 1:
                self.on_event(Event("step", migration.version, migration.name, direction, step=index))
            if index > 1 or self._armed != migration.version:
                self.history.set_dirty(migration.version, direction, index)
            self._armed = None
            faults.point("dirty")
            try:
                self._step(migration, direction, index, step)
            except StepFailed as exc:
                exc.dirty = True  # steps before this one are committed
                exc.message += (
                    f"; steps 1-{index - 1} of it were committed" if index > 1 else "; nothing of it was committed"
                ) + (
                    f"; the database is now dirty at {migration.version} step {index}:"
                    f" fix it by hand, then run `migrund repair {migration.version} --applied` or `--rolled-back`"
                )
                exc.args = (exc.message,)
                raise
        with self.driver.transaction():
            self.history.clear_dirty()
            ms = self._finish(migration, direction, how, started)
            ahead = chained if chained is not None and not self.should_stop() else None
            if ahead is not None:
                self.history.set_dirty(ahead.version, direction, 1)
            faults.point("before_commit")
        self._armed = ahead.version if ahead is not None else None
        faults.point("after_commit")
        return ms

    def _retried(self, migration: Migration, direction: Direction, how: str, started: float, chained: Optional[Migration]) -> int:
        """``_one``, tried again (with backoff) while a statement times out waiting for a lock and nothing of it stayed."""
        attempt = 0
        while True:
            try:
                return self._one(migration, direction, False, how, started, chained)
            except StepFailed as exc:
                nothing_stayed = not exc.dirty or exc.step == 1
                if attempt >= self.lock_retries or not nothing_stayed or not self._lock_timed_out(exc) or self.should_stop():
                    raise
                if exc.dirty:  # the marker of step 1, whose statement never ran: take it back
                    with self.driver.transaction():
                        self.history.clear_dirty()
                attempt += 1
                wait = min(0.5 * 2 ** (attempt - 1), 5.0)
                self.on_event(Event("warning", migration.version, migration.name, direction, message=(
                    f"migration {migration.version} ({migration.name}) could not get a lock in time (database.ddl_lock_timeout);"
                    f" trying again in {wait:g} s ({attempt} of {self.lock_retries})")))
                time.sleep(wait)
                started = time.perf_counter()

    def _lock_timed_out(self, exc: StepFailed) -> bool:
        cause = exc.__cause__.__cause__ if isinstance(exc.__cause__, StatementFailed) else None
        return cause is not None and self.driver.is_lock_timeout(cause)

    def _finish(self, migration: Migration, direction: Direction, how: str, started: float) -> int:
        """The history change that completes a migration, in its transaction; the milliseconds it took."""
        ms = int((time.perf_counter() - started) * 1000)
        if direction == "up":
            self.history.record_applied(migration, ms)
        else:
            self.history.record_rolled_back(migration.version, migration.name, how)
        return ms

    def _steps(self, migration: Migration, direction: Direction, steps: Sequence[Step]) -> None:
        for index, step in enumerate(steps, 1):
            if index > 1:  # step 1 is announced by the migration's start
                self.on_event(Event("step", migration.version, migration.name, direction, step=index))
            self._step(migration, direction, index, step)

    def _step(self, migration: Migration, direction: Direction, index: int, step: Step) -> None:
        if step.kind == "sql":
            execute = self.driver.execute
            for statement in step.statements:
                try:
                    execute(statement)
                    faults.point("statement")
                except StatementFailed as exc:
                    raise StepFailed(
                        f"{_where(migration, direction, index)} failed: {exc.db_message}; statement: {shorten(statement, 200)}",
                        version=migration.version,
                        step=index,
                    ) from exc
            return
        import logging

        ctx = hooks.Context(
            dialect=self.driver.dialect,
            version=migration.version,
            name=migration.name,
            direction=direction,
            config=self.config,
            log=logging.getLogger("migrund.hook"),
        )
        try:
            function = hooks.load_function(migration.body[step.path], step.path, step.function)
            function(hooks.GuardedConnection(self.driver.dbapi_connection(), self.driver.dialect), ctx)
        except Exception as exc:  # a hook may raise anything; it is reported, not propagated raw
            raise StepFailed(
                f"{_where(migration, direction, index)} failed: {step.path}:{step.function}() raised {type(exc).__name__}: {exc}",
                version=migration.version,
                step=index,
            ) from exc


def _where(migration: Migration, direction: Direction, index: int) -> str:
    return f"migration {migration.version} ({migration.name}) {direction} step {index}"
