"""The commands that read: status, validate, plan, history, check-safety, verify."""
from __future__ import annotations

from pathlib import Path

from .. import loader, report
from .. import plan as planner
from ..errors import InvalidInput, MigrationError, OperationFailed, ValidationFailed
from ..report import plan_document
from ..session import Project, State

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from ..model import SourceFile


def status(project: Project, *, check: bool = False) -> dict[str, Any]:
    """Where the database stands against the files and the target (``check``: exit 6 if not there)."""
    from ..statusfile import read_daemon_status

    with project.session(write=False) as state:
        state.validate_all()
        doc, not_there = report.status(
            state.files, state.applied, project.settings.target, dirty=state.dirty, interrupted_restore=state.interrupted_restore,
            daemon=read_daemon_status(project.settings.daemon.status_file), database=project.settings.url.masked(),
            ignored=project.scan().foreign, drafts=state.drafts, cosmetic=state.cosmetic,
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
        from ..schedule import trigger

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
        if migration is not None and migration.draft and migration.version not in (applied or set()):
            found.warnings.append(f"{loader.display(found.folder / source.filename)}: a draft (its up runs nothing yet): no runner applies it")
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
        decision = state.reconcile_plan(to or project.settings.target, out_of_order=project.settings.out_of_order)
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
    return report.step_detail(step.version, step.direction, migration, state.project.settings.dialect)


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
        state.settle_cosmetic()
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
        state.settle_cosmetic()
        modified, missing = planner.drift(state.files, state.applied)
        rows = {a.version: a for a in state.applied}
        doc, drifted = report.verify(modified, missing, {str(v): state.diff(rows[v]) for v in modified}, state.cosmetic)
    if state.cosmetic:
        project.warn(f"applied migrations edited in form only (nothing that runs changed): {', '.join(map(str, state.cosmetic))}")
    if drifted is not None:
        raise drifted
    return doc
