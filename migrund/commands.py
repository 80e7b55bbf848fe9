"""The commands as plain functions: the CLI, the daemon and the API all call these.

Each is a few lines: open a session, ask the pure planners (``plan``, ``report``) what to
do, and hand a plan to ``execute`` or return the document. Results are JSON-shaped
(dicts and lists); refusals and failures are ``MigrationError``s carrying their exit code
(and, where there is one, the document).
"""
from __future__ import annotations

from pathlib import Path

from . import loader, report
from . import plan as planner
from .drivers.base import driver_class
from .errors import InvalidInput, MigrationError, OperationFailed, ValidationFailed
from .execute import run_plan, run_repair
from .report import plan_document
from .session import Project, State

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from .model import Migration, SourceFile

def _first_refusal(decision: planner.Decision, warn: Callable[[str], None]) -> None:
    for warning in decision.warnings:
        warn(warning)
    if decision.refusals:
        raise decision.refusals[0]


# -- status, validate, plan ----------------------------------------------------------------


def status(project: Project, *, check: bool = False) -> dict[str, Any]:
    """Where the database stands against the files and the target (``check``: exit 6 if not there)."""
    from .statusfile import read_daemon_status

    with project.session(write=False) as state:
        state.validate_all()
        doc, not_there = report.status(
            state.files, state.applied, project.settings.target, dirty=state.dirty, interrupted_restore=state.interrupted_restore,
            daemon=read_daemon_status(project.settings.daemon.status_file), database=project.settings.url.masked(),
        )
    if state.interrupted_restore:
        project.warn(f"a restore of {state.interrupted_restore} was interrupted: the database is partly loaded; run the restore again")
    if check and not_there is not None:
        raise not_there
    return doc


def validate(project: Project) -> dict[str, Any]:
    """Check the config (the daemon's settings too) and every migration file; all problems at once (exit 2).

    Without a readable database, a dependency on a version that no file names is a
    warning, not an error: it may be applied there.
    """
    found = project.scan()
    problems = list(found.problems)
    if project.settings.backup.schedule:
        from .schedule import trigger

        try:
            trigger(project.settings)
        except InvalidInput as exc:
            problems.append(f"config: {exc}")
    applied: Optional[set[int]] = None
    try:
        with project.session(write=False) as state:
            applied = {a.version for a in state.applied}
    except OperationFailed as exc:
        project.warn(f"the database could not be read ({exc}); dependencies are checked against the files only")
    known = set(found.files) | (applied or set())
    for source in found.files.values():
        lenient = known if applied is not None else known | _dependencies(source)
        migration = loader.define(source, found.folder, project.settings.dialect, lenient, problems=problems, cache=found.cache)
        if migration is not None and applied is None:
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


def _dependencies(source: SourceFile) -> set[int]:
    migration = loader.define(source, Path("."), "sqlite", (), validate=False, problems=[])
    return set(migration.dependencies) if migration else set()


def plan(project: Project, *, to: Optional[str] = None) -> dict[str, Any]:
    """What reaching ``to`` (default: the config target) would run; refusals carry the plan."""
    with project.session(write=False) as state:
        decision = _reconcile(state, to or project.settings.target, out_of_order=project.settings.out_of_order)
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
    described = [
        {"kind": "sql", "sql": item.sql_for(dialect)} if item.kind == "sql" else {"kind": "python", "call": f"{item.path}:{item.function}"}
        for item in migration.steps(step.direction)
    ]
    return {"version": step.version, "description": migration.description, "steps": described}


# -- apply, rollback, reconcile, repair ------------------------------------------------------


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
            state.files, state.applied, target,
            out_of_order=out_of_order or project.settings.out_of_order, on_mismatch=project.settings.safety.on_checksum_mismatch,
        )
        planner.with_dirty(decision, state.dirty, state.interrupted_restore)
        migrations = [state.definition(s.version) for s in decision.plan.steps]
        refusal = planner.atomic_refusal(project.settings.dialect, driver_class(project.settings.dialect).transactional_ddl, migrations) if atomic else None
        if refusal is not None:
            raise refusal
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
        return run_plan(state, decision.plan, [], migrations, atomic=atomic)


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
    safety = project.settings.safety
    with project.session(write=not dry_run) as state:
        state.validate_all()
        to_version = planner.parse_version(to, "--to") if to is not None else None
        chosen = planner.rollback_selection(state.applied, steps=steps, to=to_version, files=state.files)
        decision = planner.with_dirty(planner.Decision(planner.rollback_plan(state.applied, chosen)), state.dirty, state.interrupted_restore)
        if decision.refusals:
            raise decision.refusals[0]
        if not chosen:
            project.warn("nothing is applied; nothing to roll back")
            return plan_document(decision.plan, dry_run=dry_run)
        migrations = state.down_definitions(chosen, from_history=from_history)
        planner.check_rollback(
            chosen, migrations, state.files, allow_destructive=allow_destructive or safety.allow_destructive_rollback,
            from_history=from_history, on_mismatch=safety.on_checksum_mismatch, decision=decision,
        )
        _first_refusal(decision, project.warn)
        if dry_run:
            return plan_document(decision.plan, dry_run=True)
        how = "rollback --from-history" if from_history else "rollback"
        return run_plan(state, decision.plan, [migrations[a.version] for a in chosen], [], how=how)


def _reconcile(state: State, target_spec: str, *, out_of_order: bool) -> planner.Decision:
    safety = state.project.settings.safety
    state.validate_all()
    return planner.plan_reconcile(
        state.files, state.applied, planner.resolve_target(target_spec, state.files),
        dirty=state.dirty, interrupted_restore=state.interrupted_restore, out_of_order=out_of_order,
        on_mismatch=safety.on_checksum_mismatch, allow_destructive=safety.allow_destructive_rollback,
        definitions=lambda chosen: state.down_definitions(chosen, from_history=False),
    )


def reconcile(project: Project, *, out_of_order: bool = False) -> dict[str, Any]:
    """One daemon pass: apply and roll back until the database stands at the config target."""
    with project.session(write=True) as state:
        decision = _reconcile(state, project.settings.target, out_of_order=out_of_order or project.settings.out_of_order)
        _first_refusal(decision, project.warn)
        if not decision.plan.steps:
            return plan_document(decision.plan, dry_run=False)
        down = [state.definition(s.version) for s in decision.plan.steps if s.direction == "down"]
        up = [state.definition(s.version) for s in decision.plan.steps if s.direction == "up"]
        return run_plan(state, decision.plan, down, up)


def repair(project: Project, version: str, *, applied: bool) -> dict[str, Any]:
    """Clear the dirty state of ``version`` after an operator fixed the database by hand."""
    wanted = planner.parse_version(version, "version")
    with project.session(write=True) as state:
        return run_repair(state, planner.plan_repair(state.dirty, wanted, applied=applied))


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
            raise InvalidInput(f"version {wanted} is not applied", version=wanted)
        source = state.files.get(wanted)
        diff = state.diff(row) if source is not None and source.checksum != row.checksum else None
        doc, unsafe = report.safety(row, source, state.definition(wanted), diff)
    if unsafe is not None:
        raise unsafe
    return doc


def verify(project: Project) -> dict[str, Any]:
    """Checksums of applied migrations against the files; exit 4 (with the document) on drift."""
    with project.session(write=False) as state:
        modified, missing = planner.drift(state.files, state.applied)
        rows = {a.version: a for a in state.applied}
        doc, drifted = report.verify(modified, missing, {str(v): state.diff(rows[v]) for v in modified})
    if drifted is not None:
        raise drifted
    return doc
