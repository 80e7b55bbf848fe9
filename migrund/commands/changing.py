"""The commands that change the schema: apply, rollback, reconcile, repair."""
from __future__ import annotations

from .. import plan as planner
from ..drivers.base import driver_class
from ..execute import run_accept, run_baseline, run_plan, run_repair
from .. import report
from ..report import plan_document
from ..session import Project, State

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Sequence

    from ..model import Migration


def _first_refusal(decision: planner.Decision, warn: Callable[[str], None]) -> None:
    for warning in decision.warnings:
        warn(warning)
    if decision.refusals:
        raise decision.refusals[0]


def _with_details(doc: dict[str, Any], migrations: Sequence[Migration], direction: str, state: State) -> dict[str, Any]:
    """A dry run's document with what each migration would run (``--sql`` prints the statements)."""
    doc["details"] = [report.step_detail(m.version, direction, m, state.project.settings.dialect) for m in migrations]
    return doc


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
            doc = plan_document(decision.plan, dry_run=dry_run)
            return _with_details(doc, migrations, "up", state) if dry_run else doc
        seen = (state.applied, state.dirty)
    with project.session(write=True) as state:
        if _first_start(state) or (state.applied, state.dirty) != seen:  # baselined now, or another runner got there first
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
            return _with_details(plan_document(decision.plan, dry_run=True), [migrations[a.version] for a in chosen], "down", state)
        how = "rollback --from-history" if from_history else "rollback"
        return run_plan(state, decision.plan, [migrations[a.version] for a in chosen], [], how=how)


def reconcile(project: Project, *, out_of_order: bool = False) -> dict[str, Any]:
    """Apply and roll back until the database stands at the config target."""
    return reconcile_pass(project, out_of_order=out_of_order)[0]


def reconcile_pass(project: Project, *, out_of_order: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """``reconcile``, and where the database stands after it (``report.standing``), read in the same session.

    The daemon shows those figures after every pass; reading them here spares it a
    second connection (on SQLite each new one parses the whole schema again).
    """
    with project.session(write=True) as state:
        _first_start(state)
        decision = state.reconcile_plan(project.settings.target, out_of_order=out_of_order or project.settings.out_of_order)
        _first_refusal(decision, project.warn)
        if not decision.plan.steps:
            result = plan_document(decision.plan, dry_run=False)
        else:
            down = [state.definition(s.version) for s in decision.plan.steps if s.direction == "down"]
            up = [state.definition(s.version) for s in decision.plan.steps if s.direction == "up"]
            result = run_plan(state, decision.plan, down, up)
            assert state.history is not None  # run_plan prepared it
            state.applied = state.history.applied()
        return result, report.standing(state.files, state.applied, project.settings.target)


def _first_start(state: State) -> bool:
    """With ``migrations.baseline``, a database without migrund's tables first records that baseline; whether it did."""
    spec = state.project.settings.baseline
    if spec is None or state.history is not None:
        return False
    state.validate_all()
    target = planner.resolve_target(spec, state.files, "migrations.baseline")
    versions = planner.plan_baseline(state.files, state.applied, target, state.dirty)
    if not versions:
        return False
    run_baseline(state, [state.definition(v) for v in versions], "baseline", {"version": versions[-1]})
    state.project.warn(f"first start: {len(versions)} migration(s) up to {versions[-1]} recorded as applied without running them (migrations.baseline)")
    assert state.history is not None
    state.applied = state.history.applied()
    return True


def baseline(project: Project, version: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Record every migration up to ``version`` as applied without running it: an existing database joins."""
    with project.session(write=not dry_run) as state:
        state.validate_all()
        target = planner.resolve_target(version, state.files, "version")
        versions = planner.plan_baseline(state.files, state.applied, target, state.dirty)
        upto = target if target is not planner.LATEST else max(state.files, default=0)
        if versions and not dry_run:
            run_baseline(state, [state.definition(v) for v in versions], "baseline", {"version": upto})
        return {"version": upto, "recorded": versions, "dry_run": dry_run}


def accept(project: Project, version: str) -> dict[str, Any]:
    """Make the edited file of applied migration ``version`` the applied one (nothing runs): checksum, body, audit row."""
    wanted = planner.parse_version(version, "version")
    with project.session(write=True) as state:
        state.validate_all()
        row = planner.plan_accept(state.applied, state.files, wanted, state.dirty)
        if row is None:
            return {"version": wanted, "accepted": False, "previous_checksum": None, "checksum": state.files[wanted].checksum, "diff": None}
        diff = state.diff(row)
        run_accept(state, state.definition(wanted), row.checksum, diff)
        return {"version": wanted, "accepted": True, "previous_checksum": row.checksum, "checksum": state.files[wanted].checksum, "diff": diff}


def repair(project: Project, version: str, *, applied: bool) -> dict[str, Any]:
    """Clear the dirty state of ``version`` after an operator fixed the database by hand."""
    wanted = planner.parse_version(version, "version")
    with project.session(write=True) as state:
        return run_repair(state, planner.plan_repair(state.dirty, wanted, applied=applied))
