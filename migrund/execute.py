"""The one place a decided plan is carried out: backups first where the settings ask, then the runner.

Apply, rollback, reconcile and repair all come here with a plan the pure planners made;
what was done is reported back as the command's result document, also when a step fails.
"""
from __future__ import annotations

from .errors import OperationFailed, StepFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Sequence

    from .model import Direction, Migration, Plan
    from .plan import RepairPlan
    from .session import State


def run_plan(state: State, plan: Plan, down: Sequence[Migration], up: Sequence[Migration], *, atomic: bool = False, how: str = "rollback") -> dict[str, Any]:
    """Roll ``down`` back, then apply ``up``; the result document (a failing step's error carries it too)."""
    settings = state.project.settings
    runner = state.runner()
    steps_done: list[Any] = []
    by_key = {(s.version, s.direction): s for s in plan.steps}
    phase: Direction = "down"
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
        steps_done.extend(by_key[(version, phase)] for version in exc.done)
        exc.document = _result(state, plan, steps_done)
        exc.document["error"] = {"version": exc.version, "step": exc.step, "message": exc.message, "dirty": exc.dirty}
        raise
    return _result(state, plan, steps_done)


def run_repair(state: State, repair: RepairPlan) -> dict[str, Any]:
    """Record what the operator did by hand and clear the dirty marker, in one transaction."""
    state.prepare()
    assert state.driver is not None and state.history is not None
    marker = repair.marker
    migration = state.definition(marker.version) if repair.record_applied else None
    with state.driver.transaction():
        if migration is not None:
            state.history.record_applied(migration, 0, via="repair --applied")
        elif repair.record_rolled_back:
            name = next(a.name for a in state.applied if a.version == marker.version)
            state.history.record_rolled_back(marker.version, name, "repair --rolled-back")
        state.history.record_repair(marker, repair.outcome)
        state.history.clear_dirty()
    return {"version": marker.version, "direction": marker.direction, "step": marker.step, "recorded": repair.outcome}


def run_baseline(state: State, migrations: Sequence[Migration], via: str, detail: dict[str, Any]) -> None:
    """Record ``migrations`` as applied without running them (``baseline``, ``import``), with the audit row, in one transaction."""
    state.prepare()
    assert state.driver is not None and state.history is not None
    with state.driver.transaction():
        for migration in migrations:
            state.history.record_applied(migration, 0, via=via)
        state.history.record_audit(via, {**detail, "recorded": [m.version for m in migrations]})


def run_accept(state: State, migration: Migration, previous: str, diff: str) -> None:
    """Make the edited file the applied version, with an audit row holding the diff, in one transaction."""
    state.prepare()
    assert state.driver is not None and state.history is not None
    with state.driver.transaction():
        state.history.accept(migration)
        state.history.record_audit("accept", {"version": migration.version, "previous_checksum": previous,
                                              "checksum": migration.checksum, "diff": diff})


def _backup_before(state: State, reason: str, version: int) -> Path:
    """An automatic backup; its failure stops the run like a failing step 0 of ``version`` (exit 1, with the document)."""
    try:
        return state.backup(reason)
    except OperationFailed as exc:
        raise StepFailed(f"the {reason} backup failed, so migration {version} did not run: {exc.message}", version=version, step=0) from exc


def _result(state: State, plan: Plan, steps_done: Sequence[Any]) -> dict[str, Any]:
    """The result document: the history read at the start plus what this run committed.

    Exact without reading the history again, because the lock kept every other writer out;
    and it still answers when the database went away with a failing migration.
    """
    versions = {a.version for a in state.applied}
    for step in steps_done:
        (versions.add if step.direction == "up" else versions.discard)(step.version)
    return {"from_version": plan.from_version, "to_version": max(versions, default=0), "dry_run": False, "steps": [s.as_json() for s in steps_done]}
