"""The commands as plain functions: the CLI, the daemon, the API and tests all call these.

Each returns the SPEC's JSON-shaped result (dicts and lists); refusals and failures are
raised as ``MigrationError``s carrying their exit code.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from . import loader, permissions
from . import plan as planner
from .config import Settings
from .drivers.base import driver_class, load_driver, never
from .errors import (
    InvalidInput,
    LockTimeout,
    MigrationError,
    NotAtTarget,
    OperationFailed,
    Refused,
    StepFailed,
    ValidationFailed,
)
from .history import History
from .paths import sweep_workdirs
from .lock import FileLock
from .model import Applied, DirtyMarker, Event, Migration, SourceFile

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
    ) -> None:
        self.settings = settings
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
        return load_driver(url, create=write, schema=self.settings.db_schema)

    @contextmanager
    def session(self, *, write: bool) -> Iterator["State"]:
        """Lock (for writes), connect, read the state; always release and close.

        Nothing is created here: ``State.prepare`` creates the database and migrund's
        tables only once a command is about to change something.
        """
        lock = FileLock(self.settings.lock_path, self._timeout(), on_wait=self.warn) if write else None
        deadline = time.monotonic() + self._timeout()
        state = None
        db_lock = None
        driver = None
        try:
            if lock:
                lock.acquire(deadline, self.should_stop)
                db_lock = self.database_lock(deadline)
            self._sweep()
            driver = self.connect(write=False)
            history = History(driver) if driver else None
            exists = history is not None and history.exists()
            applied = history.applied() if exists else []
            restoring = getattr(driver, "interrupted_restore", lambda: None)() if driver is not None else None
            if restoring and write and not self.restoring:
                raise planner.restore_refusal(restoring)
            dirty = history.dirty() if exists else None
            if dirty and not write and _lock_busy(self):
                dirty = None  # a runner holds the lock: a migration in progress, not a dirty database
            if dirty and _orphan_statement(self, driver, history, dirty, write=write, deadline=deadline):
                dirty = None  # its statement still runs on the server: in progress, not yet dirty
            state = State(self, driver, history if exists else None, applied, dirty)
            state.interrupted_restore = restoring
            yield state
        finally:
            # the state's driver (a write may have connected one), or the one a refusal left behind
            opened = state.driver if state is not None else driver
            if opened is not None:
                opened.close()
            if db_lock is not None:
                db_lock.release()
            if lock:
                lock.release()
            if self._scan is not None:
                self._scan.remember()

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

    def database_lock(self, deadline: float) -> Any:
        """The database's advisory lock (SPEC 5.5), or None for engines without one."""
        take = getattr(driver_class(self.settings.dialect), "advisory_lock", None)
        return take(self.settings.url, self.settings.db_schema, deadline, self.warn, self.should_stop) if take else None

    def _timeout(self) -> float:
        return self.settings.lock_timeout if self.lock_timeout is None else self.lock_timeout


def _orphan_statement(project: Project, driver: Any, history: History, dirty: DirtyMarker, *, write: bool, deadline: float) -> bool:
    """Whether the dirty marker's statement is still running on the server although its runner is gone.

    A writer (holding both locks, so the runner really is gone) kills it and waits until
    the server has let it go, so the dirty state it then acts on is final; a reader
    reports the migration as still in progress.
    """
    busy = getattr(driver, "session_busy", None)
    session = history.dirty_session() if busy is not None else None
    if session is None or not busy(session):
        return False
    where = f"migration {dirty.version} {dirty.direction} step {dirty.step} (server connection {session})"
    if not write:
        project.warn(f"{where} is still running on the server, though its runner is gone; wait, or run a writing command to stop it")
        return True
    project.warn(f"{where} is still running on the server though its runner is gone: stopping it")
    if not driver.end_session(session, deadline):
        raise LockTimeout(f"{where} could not be stopped before the lock timeout; try again")
    return False


def _lock_busy(project: Project) -> bool:
    """Whether a runner holds either lock now (a dirty marker is then a migration in progress)."""
    if FileLock(project.settings.lock_path, 0).is_held_elsewhere():
        return True
    try:
        held = project.database_lock(time.monotonic())
    except LockTimeout:
        return True
    if held is not None:
        held.release()
    return False


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

    @property
    def files(self) -> dict[int, SourceFile]:
        """Migration files by version."""
        return self.project.scan().files

    def validate_all(self) -> None:
        """Every file not vouched for by the history must be valid (exit 2 listing all problems)."""
        found = self.project.scan()
        problems = list(found.problems)
        trusted = {a.version for a in self.applied if a.version in found.files and found.files[a.version].checksum == a.checksum}
        known = set(found.files) | {a.version for a in self.applied}
        for version in found.files:
            if version not in trusted:
                problems.extend(self.project.define(version, known, validate=True)[1])
        if problems:
            raise ValidationFailed(f"{len(problems)} problem(s) in the migration files", details=problems)

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

    def prepare(self) -> None:
        """Make the database and migrund's tables exist: called just before the first change."""
        if self.driver is None:
            self.driver = self.project.connect(write=True)
        if self.history is None:
            self.history = History(self.driver)
        if not self._prepared:
            self.history.ensure()
            self._prepared = True

    def runner(self) -> Runner:
        """A runner over this session's connection (prepared for writing)."""
        self.project.before_run()
        self.prepare()
        from .runner import Runner  # only commands that change something need it

        assert self.driver is not None and self.history is not None
        return Runner(
            self.driver,
            self.history,
            config=self.project.settings.masked,
            on_event=self.project.on_event,
            should_stop=self.project.should_stop,
        )

    def backup(self, reason: str, *, output: Optional[Path] = None, fmt: Optional[str] = None, spare: Optional[Path] = None) -> Path:
        """Take a backup of the database as it stands now (SPEC 5.2, 5.4, 6); pruning never removes ``spare``."""
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


def _first_refusal(decision: planner.Decision, warn: Callable[[str], None]) -> None:
    for warning in decision.warnings:
        warn(warning)
    if decision.refusals:
        raise decision.refusals[0]


def plan_document(plan: Any, *, dry_run: bool, steps: Optional[Sequence[Any]] = None) -> dict[str, Any]:
    """The SPEC's plan/apply/rollback/reconcile JSON document."""
    return {
        "from_version": plan.from_version,
        "to_version": plan.to_version,
        "dry_run": dry_run,
        "steps": [s.as_json() for s in (plan.steps if steps is None else steps)],
    }


# -- status, validate, plan ----------------------------------------------------------------


def status(project: Project, *, check: bool = False) -> dict[str, Any]:
    """Where the database stands against the files and the target (``check``: exit 6 if not there)."""
    from .statusfile import read_daemon_status

    with project.session(write=False) as state:
        state.validate_all()
        files = state.files
        target = planner.parse_version(project.settings.target, "target") if project.settings.target != "latest" else None
        done = {a.version for a in state.applied}
        pending = [v for v in files if v not in done and (target is None or v <= target)]
        modified, missing = planner.drift(files, state.applied)
        doc = {
            "current_version": planner.current_version(state.applied),
            "target_version": planner.target_version(target, files),
            "applied": [a.version for a in state.applied],
            "pending": pending,
            "modified": modified,
            "missing": missing,
            "dirty": None if state.dirty is None else {"version": state.dirty.version, "direction": state.dirty.direction, "step": state.dirty.step},
            "daemon": read_daemon_status(project.settings.daemon.status_file),
            "interrupted_restore": state.interrupted_restore,
            "database": project.settings.url.masked(),
            "target": project.settings.target,
        }
    if state.interrupted_restore:
        project.warn(f"a restore of {state.interrupted_restore} was interrupted: the database is partly loaded; run the restore again")
    if check:
        above = [v for v in doc["applied"] if target is not None and v > target]
        if pending or above or doc["interrupted_restore"]:
            raise NotAtTarget(
                f"the database is at {doc['current_version']}, not at the target {doc['target_version']}"
                f" ({len(pending)} pending{f', {len(above)} above the target' if above else ''})",
                document=doc,
            )
    return doc


def validate(project: Project) -> dict[str, Any]:
    """Check the config (the daemon's settings too) and every migration file; all problems at once (exit 2)."""
    found = project.scan()
    problems = list(found.problems)
    if project.settings.backup.schedule:
        from .schedule import trigger

        try:
            trigger(project.settings)
        except InvalidInput as exc:
            problems.append(f"config: {exc}")
    applied: set[int] = set()
    try:
        with project.session(write=False) as state:
            applied = {a.version for a in state.applied}
        db_known = True
    except OperationFailed as exc:
        project.warn(f"the database could not be read ({exc}); dependencies are checked against the files only")
        db_known = False
    known = set(found.files) | applied
    for source in found.files.values():
        migration = loader.define(
            source, found.folder, project.settings.dialect, known if db_known else known | _all_deps(source), problems=problems, cache=found.cache
        )
        if migration is not None and not db_known:
            for dep in migration.dependencies:
                if dep not in known:
                    project.warn(f"{loader.display(found.folder / source.filename)}: dependency {dep} names no file")
    found.remember()
    try:
        planner.resolve_target(project.settings.target, found.files)
    except InvalidInput as exc:
        problems.append(f"config target: {exc}")
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) found", details=problems)
    return {"ok": True, "migrations": len(found.files), "warnings": found.warnings}


def _all_deps(source: SourceFile) -> set[int]:
    # Without the database, an unknown dependency is a warning, not an error.
    problems: list[str] = []
    migration = loader.define(source, Path("."), "sqlite", (), validate=False, problems=problems)
    return set(migration.dependencies) if migration else set()


def plan(project: Project, *, to: Optional[str] = None) -> dict[str, Any]:
    """What reaching ``to`` (default: the config target) would run; refusals carry the plan."""
    with project.session(write=False) as state:
        decision = _reconcile_decision(state, to or project.settings.target, out_of_order=project.settings.out_of_order)
        doc = plan_document(decision.plan, dry_run=True)
        doc["details"] = [_step_detail(state, s) for s in decision.plan.steps]
    for warning in decision.warnings:
        project.warn(warning)
    if decision.refusals:
        refusal = decision.refusals[0]
        refusal.document = doc
        raise refusal
    return doc


def _step_detail(state: State, step: Any) -> dict[str, Any]:
    try:
        migration = state.definition(step.version)
    except MigrationError as exc:
        return {"version": step.version, "steps": [], "note": str(exc)}
    dialect = state.project.settings.dialect
    described = []
    for item in migration.steps(step.direction):
        if item.kind == "sql":
            described.append({"kind": "sql", "sql": item.sql_for(dialect)})
        else:
            described.append({"kind": "python", "call": f"{item.path}:{item.function}"})
    return {"version": step.version, "description": migration.description, "steps": described}


# -- apply, rollback, reconcile --------------------------------------------------------------


def apply(
    project: Project,
    *,
    to: Optional[str] = None,
    dry_run: bool = False,
    atomic: bool = False,
    out_of_order: bool = False,
) -> dict[str, Any]:
    """Apply pending migrations up to ``to`` (default: the config target).

    A first look without the lock settles the common "nothing to do" case cheaply; any
    work is decided again under the lock if the database changed in between.
    """

    def decide(state: State) -> tuple[planner.Decision, list[Migration]]:
        state.validate_all()
        target = planner.resolve_target(to or project.settings.target, state.files, "--to" if to else "target")
        decision = planner.plan_apply(
            state.files,
            state.applied,
            target,
            out_of_order=out_of_order or project.settings.out_of_order,
            on_mismatch=project.settings.safety.on_checksum_mismatch,
        )
        planner.with_dirty(decision, state.dirty, state.interrupted_restore)
        migrations = [state.definition(s.version) for s in decision.plan.steps]
        if atomic:
            _check_atomic(state, migrations)
        return decision, migrations

    with project.session(write=False) as state:
        decision, migrations = decide(state)
        if dry_run or not (migrations or decision.refusals or decision.warnings):
            _first_refusal(decision, project.warn)
            return plan_document(decision.plan, dry_run=dry_run)
        seen = (state.applied, state.dirty)
    with project.session(write=True) as state:
        if (state.applied, state.dirty) != seen:  # another runner got there first
            decision, migrations = decide(state)
        _first_refusal(decision, project.warn)
        if not migrations:
            return plan_document(decision.plan, dry_run=False)
        return _execute(state, decision.plan, [], migrations, atomic=atomic)


def _check_atomic(state: State, migrations: Sequence[Migration]) -> None:
    if not driver_class(state.project.settings.dialect).transactional_ddl:
        raise InvalidInput(f"--atomic is not possible on {state.project.settings.dialect}: DDL there commits implicitly")
    outside = [str(m.version) for m in migrations if not m.transaction]
    if outside:
        raise InvalidInput(f"--atomic cannot include transaction: false migrations: {', '.join(outside)}")


def _execute(
    state: State,
    plan: Any,
    down: Sequence[Migration],
    up: Sequence[Migration],
    *,
    atomic: bool = False,
    how: str = "rollback",
) -> dict[str, Any]:
    settings = state.project.settings
    runner = state.runner()
    steps_done: list[Any] = []
    by_key = {(s.version, s.direction): s for s in plan.steps}
    phase = "down"
    try:
        if down:
            if settings.backup.before_rollback:
                _backup_before(state, "before_rollback", down[0].version)
            for version in runner.rollback(down, how=how):
                steps_done.append(by_key[(version, "down")])
        phase = "up"
        if up:
            if atomic and settings.backup.before_risky and any(m.risky for m in up):
                _backup_before(state, "before_risky", next(m.version for m in up if m.risky))
            before = (lambda m: _backup_before(state, "before_risky", m.version)) if settings.backup.before_risky and not atomic else None
            for version in runner.apply(up, atomic=atomic, before_risky=before):
                steps_done.append(by_key[(version, "up")])
    except StepFailed as exc:
        steps_done.extend(by_key[(version, phase)] for version in getattr(exc, "done", []))
        exc.document = _result(state, plan, steps_done)
        exc.document["error"] = {"version": exc.version, "step": exc.step, "message": exc.message, "dirty": exc.dirty}
        raise
    return _result(state, plan, steps_done)


def _backup_before(state: State, reason: str, version: int) -> Path:
    """An automatic backup; its failure stops the run like a failing step 0 of ``version`` (exit 1, with the document)."""
    try:
        return state.backup(reason)
    except OperationFailed as exc:
        raise StepFailed(f"the {reason} backup failed, so migration {version} did not run: {exc.message}", version=version, step=0) from exc


def _result(state: State, plan: Any, steps_done: Sequence[Any]) -> dict[str, Any]:
    """The result document: the history read at the start plus what this run committed.

    Exact without reading the history again, because the lock kept every other writer out;
    and it still answers when the database went away with a failing migration.
    """
    versions = {a.version for a in state.applied}
    for step in steps_done:
        (versions.add if step.direction == "up" else versions.discard)(step.version)
    return {"from_version": plan.from_version, "to_version": max(versions, default=0), "dry_run": False, "steps": [s.as_json() for s in steps_done]}


def rollback(
    project: Project,
    *,
    steps: Optional[int] = None,
    to: Optional[str] = None,
    allow_destructive: bool = False,
    from_history: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Roll back the last ``steps`` applied migrations, or every one above ``to``."""
    with project.session(write=not dry_run) as state:
        state.validate_all()
        to_version = planner.parse_version(to, "--to") if to is not None else None
        chosen = planner.rollback_selection(state.applied, steps=steps, to=to_version, files=state.files)
        decision = planner.Decision(planner.rollback_plan(state.applied, chosen))
        planner.with_dirty(decision, state.dirty, state.interrupted_restore)
        if decision.refusals:
            raise decision.refusals[0]
        if not chosen:
            project.warn("nothing is applied; nothing to roll back")
            return plan_document(decision.plan, dry_run=dry_run)
        migrations = _rollback_definitions(state, chosen, from_history)
        planner.check_rollback(
            chosen,
            migrations,
            state.files,
            allow_destructive=allow_destructive or project.settings.safety.allow_destructive_rollback,
            from_history=from_history,
            on_mismatch=project.settings.safety.on_checksum_mismatch,
            decision=decision,
        )
        _first_refusal(decision, project.warn)
        if dry_run:
            return plan_document(decision.plan, dry_run=True)
        how = "rollback --from-history" if from_history else "rollback"
        return _execute(state, decision.plan, [migrations[a.version] for a in chosen], [], how=how)


def _rollback_definitions(state: State, chosen: Sequence[Applied], from_history: bool) -> dict[int, Migration]:
    definitions = {}
    for row in chosen:
        source = state.files.get(row.version)
        usable_file = source is not None and not from_history
        definitions[row.version] = state.definition(row.version) if usable_file else state.stored(row.version)
    return definitions


def _reconcile_decision(state: State, target_spec: str, *, out_of_order: bool) -> planner.Decision:
    settings = state.project.settings
    state.validate_all()
    target = planner.resolve_target(target_spec, state.files)
    current = planner.current_version(state.applied)
    on_mismatch = settings.safety.on_checksum_mismatch
    if target is planner.LATEST or target >= current:
        decision = planner.plan_apply(state.files, state.applied, target, out_of_order=out_of_order, on_mismatch=on_mismatch)
        return planner.with_dirty(decision, state.dirty, state.interrupted_restore)
    chosen = planner.rollback_selection(state.applied, steps=None, to=target, files=state.files)
    remaining = [a for a in state.applied if a not in chosen]
    up = planner.plan_apply(state.files, remaining, target, out_of_order=True, on_mismatch=on_mismatch)
    down_plan = planner.rollback_plan(state.applied, chosen)
    plan = planner.Plan(current, max(up.plan.to_version, down_plan.to_version), down_plan.steps + up.plan.steps)
    decision = planner.Decision(plan, [], up.warnings)
    planner.with_dirty(decision, state.dirty, state.interrupted_restore)
    if state.dirty is None:
        definitions = _rollback_definitions(state, chosen, False)
        planner.check_rollback(
            chosen,
            definitions,
            state.files,
            allow_destructive=settings.safety.allow_destructive_rollback,
            from_history=False,
            on_mismatch=on_mismatch,
            decision=decision,
        )
        decision.refusals.extend(up.refusals)
    return decision


def reconcile(project: Project, *, out_of_order: bool = False) -> dict[str, Any]:
    """One daemon pass: apply and roll back until the database stands at the config target."""
    with project.session(write=True) as state:
        decision = _reconcile_decision(state, project.settings.target, out_of_order=out_of_order or project.settings.out_of_order)
        _first_refusal(decision, project.warn)
        if not decision.plan.steps:
            return plan_document(decision.plan, dry_run=False)
        down = [state.definition(s.version) for s in decision.plan.steps if s.direction == "down"]
        up = [state.definition(s.version) for s in decision.plan.steps if s.direction == "up"]
        return _execute(state, decision.plan, down, up)


def repair(project: Project, version: str, *, applied: bool) -> dict[str, Any]:
    """Clear the dirty state of ``version`` after an operator fixed the database by hand (SPEC 5.3)."""
    wanted = planner.parse_version(version, "version")
    with project.session(write=True) as state:
        marker = state.dirty
        if marker is None:
            raise InvalidInput("the database is not dirty: there is nothing to repair")
        if marker.version != wanted:
            raise InvalidInput(f"the dirty migration is {marker.version}, not {wanted}")
        state.prepare()
        assert state.driver is not None and state.history is not None
        outcome = "applied" if applied else "rolled_back"
        migration = state.definition(wanted) if marker.direction == "up" and applied else None
        with state.driver.transaction():
            if migration is not None:
                state.history.record_applied(migration, 0, via="repair --applied")
            elif marker.direction == "down" and not applied:
                name = next(a.name for a in state.applied if a.version == wanted)
                state.history.record_rolled_back(wanted, name, "repair --rolled-back")
            state.history.record_repair(marker, outcome)
            state.history.clear_dirty()
        return {"version": wanted, "direction": marker.direction, "step": marker.step, "recorded": outcome}


# -- backups -------------------------------------------------------------------------------


def take_backup(project: Project, *, output: Optional[str] = None, fmt: Optional[str] = None, reason: str = "manual") -> Path:
    """``backup``: a manual (or the daemon's scheduled) backup, under the lock so it never overlaps a migration."""
    with project.session(write=True) as state:
        return state.backup(reason, output=Path(output).absolute() if output else None, fmt=fmt)


def list_backups(project: Project) -> list[dict[str, Any]]:
    """``backups``: the backups in ``backup.dir``, oldest first, each with ``ok``."""
    from . import backup

    return [backup.inspect(entry) for entry in backup.listed(project.settings.backup.dir, project.warn)]


def restore(project: Project, path: str, *, force: bool = False) -> dict[str, Any]:
    """``restore``: check the backup, back up the current database, then replace it atomically."""
    from . import backup

    source = Path(path).absolute()
    project.restoring = True
    with project.session(write=True) as state:
        meta = backup.check_restorable(source, project.settings, set(project.scan().files), force=force)
        # The backup being restored may be the oldest in backup.dir: pruning must not take it.
        before = state.backup("before_restore", spare=source) if state.driver is not None else None
        if state.driver is None:
            state.driver = project.connect(write=True)
        backup.restore_into(state.driver, source, meta)
    return {"restored": str(source), "schema_version": meta["schema_version"], "before_restore": str(before) if before else None}


# -- history, check-safety, verify -----------------------------------------------------------


def history(project: Project, *, rollbacks: bool = False, limit: Optional[int] = None) -> list[dict[str, Any]]:
    """Applied migrations in application order, or the rollback history; newest ``limit``."""
    if limit is not None and limit < 0:
        raise InvalidInput(f"--limit must not be negative, got {limit}")
    with project.session(write=False) as state:
        if state.history is None:
            rows: list[dict[str, Any]] = []
        elif rollbacks:
            rows = state.history.rollbacks()
        else:
            rows = [
                {"version": a.version, "name": a.name, "checksum": a.checksum, "applied_at": a.applied_at, "execution_ms": a.execution_ms}
                for a in state.applied
            ]
    return rows[len(rows) - limit:] if limit is not None else rows


def check_safety(project: Project, version: str) -> dict[str, Any]:
    """Whether rolling back ``version`` is safe; exit 4 (with the document) when not."""
    wanted = planner.parse_version(version, "version")
    with project.session(write=False) as state:
        row = next((a for a in state.applied if a.version == wanted), None)
        if row is None:
            raise InvalidInput(f"version {wanted} is not applied")
        source = state.files.get(wanted)
        migration = state.definition(wanted)
        diff = _diff(state, row) if source is not None and source.checksum != row.checksum else None
    reasons = []
    if source is None:
        reasons.append("its file is missing (the stored body would be used with --from-history)")
    elif diff is not None:
        reasons.append("its file was modified since it was applied")
    if migration.data_destructive:
        reasons.append("it is data-destructive: rolling it back loses data")
    if migration.down is None:
        reasons.append("it has no down steps")
    doc = {
        "safe": not reasons,
        "data_destructive": migration.data_destructive,
        "has_down": migration.down is not None,
        "version": wanted,
        "name": row.name,
        "warning": "; ".join(reasons) or None,
        "diff": diff,
    }
    if reasons:
        raise Refused(f"rolling back {wanted} ({row.name}) is not safe: {doc['warning']}", version=wanted, document=doc)
    return doc


def verify(project: Project) -> dict[str, Any]:
    """Checksums of applied migrations against the files; exit 4 (with the document) on drift."""
    with project.session(write=False) as state:
        modified, missing = planner.drift(state.files, state.applied)
        rows = {a.version: a for a in state.applied}
        diffs = {str(v): _diff(state, rows[v]) for v in modified}
    doc = {"ok": not modified and not missing, "modified": modified, "missing": missing, "diffs": diffs}
    if not doc["ok"]:
        parts = [f"modified: {', '.join(map(str, modified))}" if modified else "", f"missing: {', '.join(map(str, missing))}" if missing else ""]
        raise Refused("applied migrations differ from the files on disk (" + "; ".join(p for p in parts if p) + ")", kind="checksum_mismatch", document=doc)
    return doc


def _diff(state: State, row: Applied) -> str:
    assert state.history is not None
    stored = state.history.body(row.version)["files"]
    current = state.files[row.version].body
    import difflib

    sections = []
    for path in list(dict.fromkeys([*stored, *current])):
        before = stored.get(path, "")
        after = current.get(path, "")
        if before != after:
            sections.append(
                "".join(
                    difflib.unified_diff(
                        before.splitlines(keepends=True),
                        after.splitlines(keepends=True),
                        fromfile=f"applied/{path}",
                        tofile=f"on disk/{path}",
                    )
                )
            )
    return "".join(sections)
