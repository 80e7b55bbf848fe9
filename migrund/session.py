"""One command's session with a project: settings, the migrations folder read once, the locks, and the state read under them.

``Project`` is what a front (CLI, daemon, API) builds from the settings and its callbacks;
``Project.session`` opens the run lock (for writes), connects, reads the history and the
dirty marker once, and hands the commands a ``State``. Nothing is created until a command
is about to change something (``State.prepare``).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from . import in_progress, loader, permissions
from . import plan as planner
from .config import Settings
from .drivers.base import driver_class, load_driver, never
from .errors import OperationFailed, ValidationFailed
from .history import History
from .lock import RunLock
from .model import Applied, DirtyMarker, Event, Migration, SourceFile
from .paths import sweep_workdirs
from .reach import when_reachable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Optional, Sequence

    from .drivers.base import Driver
    from .runner import Runner


def _ignore(_: Any) -> None:
    return None


class Project:
    """One command's view of a configured project: files, database, lock and callbacks."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_event: Callable[[Event], None] = _ignore,
        warn: Callable[[str], None] = _ignore,
        lock_timeout: Optional[float] = None,
        should_stop: Callable[[], bool] = never,
        before_run: Callable[[], None] = lambda: None,
        read_only: bool = False,
        wait_for_db: float = 0.0,
    ) -> None:
        self.settings = settings
        self.wait_for_db = wait_for_db  # seconds to keep trying an unreachable server
        self.read_only = read_only  # a command that runs no migration code and writes nothing
        self.restoring = False  # ``restore`` may act on a database whose last restore was interrupted
        self._swept = False
        self.before_run = before_run  # called once before the first change (the CLI sets up logging)
        self.on_event = on_event
        self.warn = warn
        self.lock_timeout = lock_timeout
        self.should_stop = should_stop
        self._scan: Optional[loader.Scan] = None
        # version -> (definition or None, its problems): one read per file per command
        self._defined: dict[int, tuple[Optional[Migration], list[str]]] = {}

    def define(self, version: int, known: Any, *, validate: bool) -> tuple[Optional[Migration], list[str]]:
        """The definition of file ``version`` and its problems, read once per command."""
        cached = self._defined.get(version)
        if cached is not None and (cached[0] is not None or validate):
            return cached
        found = self.scan()
        problems: list[str] = []
        migration = loader.define(
            found.files[version], found.folder, self.settings.dialect, known, validate=validate, problems=problems, cache=found.cache
        )
        if validate or migration is None:
            self._defined[version] = (migration, problems)
        return migration, problems

    # -- reading -------------------------------------------------------------------------

    def rescan(self) -> None:
        """Forget the folder read so far: the next ``scan`` reads it again (for commands that wait)."""
        self._scan = None
        self._defined.clear()

    def scan(self) -> loader.Scan:
        """The migrations folder, read once per command; folder-level problems are exit 2."""
        if self._scan is None:
            lenient = self.warn if self.read_only else None
            judge = permissions.check_project(self.settings, lenient)
            found = loader.scan(self.settings.migrations_dir, judge)
            for warning in found.warnings:
                self.warn(warning)
            permissions.check_hooks(self.settings, found, lenient)
            self._scan = found
        return self._scan

    def connect(self, *, write: bool) -> Optional[Driver]:
        """A driver; None (unless ``write``) for a SQLite file that does not exist yet."""
        url = self.settings.url
        if not write and url.path is not None and not url.path.exists():
            return None
        return when_reachable(lambda: load_driver(url, create=write, schema=self.settings.db_schema), self.wait_for_db, self.warn, self.should_stop)

    @contextmanager
    def session(self, *, write: bool) -> Iterator["State"]:
        """Lock (for writes), connect, read the state; always release and close.

        Nothing is created here: ``State.prepare`` creates the database and migrund's
        tables only once a command is about to change something.
        """
        lock = self.run_lock() if write else None
        deadline = time.monotonic() + self._timeout()
        state = None
        driver = None
        try:
            if lock:
                lock.acquire(deadline, self.should_stop)
            self._sweep()
            driver = self.connect(write=False)
            history = History(driver) if driver is not None else None
            if history is not None and not history.exists():
                history = None
            applied = history.applied() if history is not None else []
            restoring = driver.interrupted_restore() if driver is not None else None
            if restoring and write and not self.restoring:
                raise planner.restore_refusal(restoring)
            dirty = history.dirty() if history is not None else None
            if dirty and not write and in_progress.runner_holds_the_lock(self):
                dirty = None  # a runner holds the lock: a migration in progress, not a dirty database
            if dirty and history is not None and in_progress.orphan_statement(self, driver, history, dirty, write=write, deadline=deadline):
                dirty = None  # its statement still runs on the server: in progress, not yet dirty
            state = State(self, driver, history, applied, dirty)
            state.interrupted_restore = restoring
            yield state
        finally:
            # the state's driver (a write may have connected one), or the one a refusal left behind
            opened = state.driver if state is not None else driver
            if opened is not None:
                opened.close()
            if lock:
                lock.release()
            if self._scan is not None:
                self._scan.remember()
            if state is not None and state.changed:
                from .statusfile import poke_daemon

                poke_daemon(self.settings.daemon.status_file)

    def _sweep(self) -> None:
        """Once per command that may write: remove what killed runs left (half-written backups, credentials, dumps).

        Safe without the lock: only files of processes that are gone, or backups without
        a sidecar older than a minute, go.
        """
        if self.read_only or self._swept:
            return
        self._swept = True
        from .backup import sweep_leftovers

        sweep_leftovers(self.settings)
        sweep_workdirs()

    def run_lock(self) -> RunLock:
        """The lock every writing command holds: the lock file, then the database's advisory lock."""
        engine = driver_class(self.settings.dialect)
        s = self.settings
        return RunLock(s.lock_path, lambda: when_reachable(lambda: engine.advisory_lock(s.url, s.db_schema), self.wait_for_db, self.warn, self.should_stop), self.warn)

    def _timeout(self) -> float:
        return self.settings.lock_timeout if self.lock_timeout is None else self.lock_timeout


class State:
    """What one session read: files, history rows and the dirty marker."""

    def __init__(
        self,
        project: Project,
        driver: Optional[Driver],
        history: Optional[History],
        applied: list[Applied],
        dirty: Optional[DirtyMarker],
    ) -> None:
        self.project = project
        self.driver = driver
        self.history = history
        self.applied = applied
        self.dirty = dirty
        self.interrupted_restore: Optional[str] = None
        self._prepared = False
        self.drafts: list[int] = []  # files `new` wrote that say nothing yet: never pending
        self.cosmetic: list[int] = []  # applied files edited only in form: treated as unchanged
        self._settled = False
        self.changed = False  # set once this session is about to change the database (the daemon is told at the end)

    @property
    def files(self) -> dict[int, SourceFile]:
        """Migration files by version, drafts not yet applied left out (``validate_all`` finds them)."""
        found = self.project.scan().files
        return {v: f for v, f in found.items() if v not in self.drafts} if self.drafts else found

    def settle_cosmetic(self) -> None:
        """Applied files edited only in form (``canonical``) count as unchanged from here on; ``cosmetic`` lists them."""
        if self._settled or self.history is None:
            return
        self._settled = True
        from .canonical import fingerprint

        files = self.project.scan().files
        for index, row in enumerate(self.applied):
            source = files.get(row.version)
            if source is not None and source.checksum != row.checksum and fingerprint(self.history.body(row.version)["files"]) == fingerprint(source.body):
                self.cosmetic.append(row.version)
                self.applied[index] = Applied(row.version, row.name, source.checksum, row.applied_at, row.execution_ms, row.seq)

    def validate_all(self) -> None:
        """Every file not vouched for by the history must be valid (exit 2 listing all problems)."""
        self.settle_cosmetic()
        found = self.project.scan()
        problems = list(found.problems)
        trusted = {a.version for a in self.applied if a.version in found.files and found.files[a.version].checksum == a.checksum}
        known = set(found.files) | {a.version for a in self.applied}
        for version in found.files:
            if version not in trusted:
                problems.extend(self.project.define(version, known, validate=True)[1])
        if problems:
            raise ValidationFailed(f"{len(problems)} problem(s) in the migration files", details=problems)
        applied = {a.version for a in self.applied}
        self.drafts = [v for v in found.files if v not in applied and getattr(self.project.define(v, known, validate=True)[0], "draft", False)]

    def definition(self, version: int, *, from_history: bool = False) -> Migration:
        """The full migration: from its file, or from the stored body."""
        found = self.project.scan()
        if from_history or version not in found.files:
            return self.stored(version)
        migration, problems = self.project.define(version, (), validate=False)
        if migration is None:
            raise ValidationFailed(f"migration {version} cannot be read", details=problems)
        return migration

    def stored(self, version: int) -> Migration:
        """The migration as it was applied, rebuilt from ``migrund_history``."""
        assert self.history is not None
        body = self.history.body(version)
        files = body["files"]
        filename = next(iter(files))
        match = loader.FILE_NAME.match(filename)
        assert match is not None
        source = SourceFile(
            version=version,
            name=match["name"],
            filename=filename,
            kind="py" if filename.endswith(".py") else "yaml",
            data=files[filename].encode(),
            hooks=tuple(list(files)[1:]),
            checksum=next(a.checksum for a in self.applied if a.version == version),
            body=files,
        )
        problems: list[str] = []
        migration = loader.define(source, self.project.settings.migrations_dir, self.project.settings.dialect, (), validate=False, problems=problems)
        if migration is None:
            raise ValidationFailed(f"the stored body of migration {version} cannot be read", details=problems)
        return migration

    def reconcile_plan(self, target_spec: str, *, out_of_order: bool) -> planner.Decision:
        """What bringing the database to ``target_spec`` takes (apply, roll back, or both), from what this session read."""
        safety = self.project.settings.safety
        self.validate_all()
        return planner.plan_reconcile(
            self.files, self.applied, planner.resolve_target(target_spec, self.files),
            dirty=self.dirty, interrupted_restore=self.interrupted_restore, out_of_order=out_of_order,
            on_mismatch=safety.on_checksum_mismatch, allow_destructive=safety.allow_destructive_rollback,
            definitions=lambda chosen: self.down_definitions(chosen, from_history=False),
        )

    def down_definitions(self, chosen: Sequence[Applied], *, from_history: bool) -> dict[int, Migration]:
        """The migrations a rollback of ``chosen`` runs: from their files, or as stored when asked or when the file is gone."""
        return {
            row.version: self.definition(row.version) if row.version in self.files and not from_history else self.stored(row.version)
            for row in chosen
        }

    def diff(self, row: Applied) -> str:
        """The unified diff from ``row``'s stored body to its files on disk."""
        from .report import body_diff

        assert self.history is not None
        return body_diff(self.history.body(row.version)["files"], self.files[row.version].body)

    def prepare(self) -> None:
        """Make the database and migrund's tables exist: called just before the first change."""
        if self.driver is None:
            self.driver = self.project.connect(write=True)
        assert self.driver is not None  # connect(write=True) always gives one
        if self.history is None:
            self.history = History(self.driver)
        if not self._prepared:
            self.history.ensure()
            self._prepared = True
        self.changed = True

    def runner(self) -> Runner:
        """A runner over this session's connection (prepared for writing)."""
        self.project.before_run()
        self.prepare()
        from .runner import Runner  # only commands that change something need it

        assert self.driver is not None and self.history is not None
        settings = self.project.settings
        if settings.ddl_lock_timeout is not None:
            self.driver.limit_lock_wait(settings.ddl_lock_timeout)
        return Runner(
            self.driver,
            self.history,
            config=settings.masked,
            on_event=self.project.on_event,
            should_stop=self.project.should_stop,
            lock_retries=settings.ddl_lock_retries if settings.ddl_lock_timeout is not None else 0,
        )

    def backup(self, reason: str, *, output: Optional[Path] = None, fmt: Optional[str] = None, spare: Optional[Path] = None) -> Path:
        """Take a backup of the database as it stands now; pruning never removes ``spare``."""
        from . import backup

        if self.driver is None:
            raise OperationFailed(f"the database {self.project.settings.url.masked()} does not exist yet: nothing to back up")
        version = planner.current_version(self.history.applied()) if self.history is not None else 0
        path = backup.take(
            self.driver, self.project.settings, reason=reason, schema_version=version, output=output, fmt=fmt, warn=self.project.warn, spare=spare
        )
        if reason not in ("manual", "scheduled"):  # those report their own path
            self.project.on_event(Event("backup", message=str(path)))
        return path
