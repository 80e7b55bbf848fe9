"""Pure decisions: targets, drift, and what apply, rollback, reconcile and repair would do.

Nothing here touches a database or a file. Each planner returns a ``Decision``: the plan,
the refusals that forbid running it (in the documented check order), and warnings.
"""
from __future__ import annotations

from .errors import Dirty, InvalidInput, MigrationError, Refused
from .model import MAX_VERSION, Applied, DirtyMarker, Migration, Plan, PlannedStep, SourceFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Mapping, Optional, Sequence

LATEST = None


class Decision:
    """A plan plus why it may not run (``refusals``, first one wins) and what to warn about."""

    def __init__(self, plan: Plan, refusals: Optional[list[MigrationError]] = None, warnings: Optional[list[str]] = None) -> None:
        self.plan = plan
        self.refusals = refusals if refusals is not None else []
        self.warnings = warnings if warnings is not None else []


def current_version(applied: Sequence[Applied]) -> int:
    """The highest applied version, 0 when none."""
    return max((a.version for a in applied), default=0)


def parse_version(text: str | int, what: str) -> int:
    """``text`` as a version (digits, at most the largest BIGINT), else exit 2 naming ``what``."""
    raw = str(text).strip()
    # isdigit() alone takes other scripts' digits (int() reads them too): ASCII only
    if 0 < len(raw) <= 19 and raw.isascii() and raw.isdigit() and int(raw) <= MAX_VERSION:
        return int(raw)
    raise InvalidInput(f"{what} {raw!r} is not a version: use 0 or a migration's version (digits)", kind="invalid_version", key=what)


def resolve_target(spec: str, files: Mapping[int, SourceFile], what: str = "target") -> Optional[int]:
    """``latest`` -> LATEST; else a version that must be 0 or one of the files'."""
    if spec == "latest":
        return LATEST
    version = parse_version(spec, what)
    if version != 0 and version not in files:
        raise InvalidInput(f"{what} {version} names no migration file", kind="unknown_version", key=what, version=version)
    return version


def target_version(target: Optional[int], files: Mapping[int, SourceFile]) -> int:
    """The number ``status`` shows for a target: ``latest`` is the highest file version."""
    return max(files, default=0) if target is LATEST else target


def drift(files: Mapping[int, SourceFile], applied: Sequence[Applied]) -> tuple[list[int], list[int]]:
    """(modified, missing): applied versions whose file changed, and those with no file."""
    modified = [a.version for a in applied if a.version in files and files[a.version].checksum != a.checksum]
    missing = [a.version for a in applied if a.version not in files]
    return sorted(modified), sorted(missing)


def _dirty_refusal(dirty: Optional[DirtyMarker]) -> list[MigrationError]:
    if dirty is None:
        return []
    return [
        Dirty(
            f"the database is dirty: migration {dirty.version} stopped at {dirty.direction} step {dirty.step};"
            f" fix it by hand, then run `migrund repair {dirty.version} --applied` or `--rolled-back`",
            version=dirty.version,
        )
    ]


def plan_apply(
    files: Mapping[int, SourceFile],
    applied: Sequence[Applied],
    target: Optional[int],
    *,
    out_of_order: bool,
    on_mismatch: str,
) -> Decision:
    """Pending migrations up to ``target`` in version order, and whether they may run."""
    current = current_version(applied)
    if target is not LATEST and target < current:
        raise InvalidInput(
            f"target {target} is below the current version {current}; use `migrund rollback --to {target}`", kind="below_current", version=target
        )
    done = {a.version for a in applied}
    pending = [v for v in files if v not in done and (target is LATEST or v <= target)]
    steps = tuple(PlannedStep(v, files[v].name, "up") for v in pending)
    decision = Decision(Plan(current, max([current, *pending]), steps))
    late = [v for v in pending if v < current]
    if late and not out_of_order:
        decision.refusals.append(
            InvalidInput(
                f"pending migrations older than the current version {current}: {', '.join(map(str, late))};"
                " pass --out-of-order or set migrations.out_of_order to apply them",
                kind="out_of_order",
                version=late[0],
            )
        )
    _mismatch(files, applied, on_mismatch, decision, "apply")
    return decision


def _mismatch(
    files: Mapping[int, SourceFile], applied: Sequence[Applied], on_mismatch: str, decision: Decision, action: str
) -> None:
    modified, _ = drift(files, applied)
    if not modified:
        return
    listed = ", ".join(map(str, modified))
    if on_mismatch == "warn":
        decision.warnings.append(f"applied migrations modified on disk since they were applied: {listed}")
    else:
        decision.refusals.append(
            Refused(
                f"applied migrations were modified on disk since they were applied: {listed};"
                f" {action} refused (safety.on_checksum_mismatch: fail); see `migrund verify`",
                kind="checksum_mismatch",
                key="safety.on_checksum_mismatch",
                version=modified[0],
            )
        )


def rollback_selection(applied: Sequence[Applied], *, steps: Optional[int], to: Optional[int], files: Mapping[int, SourceFile]) -> list[Applied]:
    """The applied rows a rollback takes, newest application first (range checks: exit 2)."""
    current = current_version(applied)
    if to is not None:
        known = set(files) | {a.version for a in applied} | {0}
        if to not in known:
            raise InvalidInput(f"rollback target {to} is neither 0, a migration file, nor an applied version", kind="unknown_version", version=to)
        if not applied:
            return []  # nothing applied: nothing to do, whatever the target
        if to > current:
            raise InvalidInput(f"rollback target {to} is above the current version {current}", kind="above_current", version=to)
        return [a for a in reversed(applied) if a.version > to]
    count = 1 if steps is None else steps
    if count < 1:
        raise InvalidInput(f"--steps must be at least 1, got {count}")
    if applied and count > len(applied):
        raise InvalidInput(f"--steps {count} is more than the {len(applied)} applied migrations")
    return list(reversed(applied))[:count]


class RollbackRisk:
    """One reason a migration may not be rolled back as asked; ``blocking`` False is a warning.

    A plain class, not a ``record``: building a record class costs start-up time on every
    run, and these are made only when a rollback is checked.
    """

    __slots__ = ("version", "name", "text", "kind", "blocking")

    def __init__(self, version: int, name: str, text: str, kind: str = "refused_rollback", blocking: bool = True) -> None:
        self.version, self.name, self.text, self.kind, self.blocking = version, name, text, kind, blocking


def rollback_risks(
    row: Applied,
    source: Optional[SourceFile],
    migration: Migration,
    *,
    from_history: bool,
    on_mismatch: str,
    allow_destructive: bool,
) -> list[RollbackRisk]:
    """The safety rules for rolling back one applied migration: used by rollback, reconcile, plan and check-safety."""
    risks = []

    def risk(text: str, kind: str = "refused_rollback", blocking: bool = True) -> None:
        risks.append(RollbackRisk(row.version, row.name, text, kind, blocking))

    if not from_history:
        if source is None:
            risk("its file is gone; use --from-history to run the stored down")
        elif source.checksum != row.checksum:
            if on_mismatch == "warn":
                risk("file modified since it was applied; rolling back with the file as it is now", blocking=False)
            else:
                risk("file modified since it was applied; use --from-history or restore the file")
    if migration.down is None:
        risk("has no down steps (irreversible)")
    if migration.data_destructive and not allow_destructive:
        risk("is data-destructive: rolling it back loses data; pass --allow-destructive or set safety.allow_destructive_rollback",
             "refused_destructive")
    return risks


def check_rollback(
    chosen: Sequence[Applied],
    definitions: Mapping[int, Migration],
    files: Mapping[int, SourceFile],
    *,
    allow_destructive: bool,
    from_history: bool,
    on_mismatch: str,
    decision: Decision,
) -> None:
    """Add the safety refusals (exit 4) and warnings for rolling back ``chosen``."""
    risks = [
        risk
        for row in chosen
        for risk in rollback_risks(
            row, files.get(row.version), definitions[row.version],
            from_history=from_history, on_mismatch=on_mismatch, allow_destructive=allow_destructive,
        )
    ]
    decision.warnings.extend(f"{r.version} ({r.name}): {r.text}" for r in risks if not r.blocking)
    refused = [r for r in risks if r.blocking]
    if refused:
        kinds = {r.kind for r in refused}
        decision.refusals.append(Refused(
            "rollback refused by a safety rule",
            details=[f"{r.version} ({r.name}): {r.text}" for r in refused],
            kind=kinds.pop() if len(kinds) == 1 else "refused_rollback",
            version=refused[0].version,
        ))


def rollback_plan(applied: Sequence[Applied], chosen: Sequence[Applied]) -> Plan:
    """The plan for rolling back ``chosen`` from ``applied``."""
    gone = {a.version for a in chosen}
    remaining = [a for a in applied if a.version not in gone]
    steps = tuple(PlannedStep(a.version, a.name, "down") for a in chosen)
    return Plan(current_version(applied), current_version(remaining), steps)


def plan_reconcile(
    files: Mapping[int, SourceFile],
    applied: Sequence[Applied],
    target: Optional[int],
    *,
    dirty: Optional[DirtyMarker],
    interrupted_restore: Optional[str],
    out_of_order: bool,
    on_mismatch: str,
    allow_destructive: bool,
    definitions: Callable[[Sequence[Applied]], Mapping[int, Migration]],
) -> Decision:
    """Apply or roll back until the database stands at ``target``: the daemon's pass and ``plan``'s answer.

    ``definitions`` reads the migrations a roll-down would run (only asked when there is one
    to check and the database is not dirty).
    """
    current = current_version(applied)
    if target is LATEST or target >= current:
        return with_dirty(plan_apply(files, applied, target, out_of_order=out_of_order, on_mismatch=on_mismatch), dirty, interrupted_restore)
    chosen = rollback_selection(applied, steps=None, to=target, files=files)
    remaining = [a for a in applied if a not in chosen]
    up = plan_apply(files, remaining, target, out_of_order=True, on_mismatch=on_mismatch)
    down = rollback_plan(applied, chosen)
    decision = Decision(Plan(current, max(up.plan.to_version, down.to_version), down.steps + up.plan.steps), [], up.warnings)
    with_dirty(decision, dirty, interrupted_restore)
    if dirty is None:
        check_rollback(chosen, definitions(chosen), files, allow_destructive=allow_destructive,
                       from_history=False, on_mismatch=on_mismatch, decision=decision)
        decision.refusals.extend(up.refusals)
    return decision


def atomic_refusal(dialect: str, transactional_ddl: bool, migrations: Sequence[Migration]) -> Optional[InvalidInput]:
    """Why ``--atomic`` cannot take ``migrations`` in one transaction, or None."""
    if not transactional_ddl:
        return InvalidInput(f"--atomic is not possible on {dialect}: DDL there commits implicitly")
    outside = [str(m.version) for m in migrations if not m.transaction]
    if outside:
        return InvalidInput(f"--atomic cannot include transaction: false migrations: {', '.join(outside)}")
    return None


class RepairPlan:
    """What ``repair`` records for the dirty marker: the history row to write, if any, and the outcome."""

    __slots__ = ("marker", "outcome", "record_applied", "record_rolled_back")

    def __init__(self, marker: DirtyMarker, outcome: str, *, record_applied: bool, record_rolled_back: bool) -> None:
        self.marker = marker
        self.outcome = outcome  # "applied" or "rolled_back"
        self.record_applied = record_applied  # an interrupted up marked applied: its history row is written now
        self.record_rolled_back = record_rolled_back  # an interrupted down marked rolled back: its row goes


def plan_repair(dirty: Optional[DirtyMarker], version: int, *, applied: bool) -> RepairPlan:
    """What clearing the dirty state of ``version`` records (exit 2 when it is not the dirty one)."""
    if dirty is None:
        raise InvalidInput("the database is not dirty: there is nothing to repair")
    if dirty.version != version:
        raise InvalidInput(f"the dirty migration is {dirty.version}, not {version}", version=version)
    return RepairPlan(
        dirty,
        "applied" if applied else "rolled_back",
        record_applied=dirty.direction == "up" and applied,
        record_rolled_back=dirty.direction == "down" and not applied,
    )


def plan_baseline(files: Mapping[int, SourceFile], applied: Sequence[Applied], version: Optional[int], dirty: Optional[DirtyMarker]) -> list[int]:
    """The versions ``baseline`` records as applied without running them: every file up to ``version`` not yet applied.

    ``version`` is a file's (``LATEST``: all files). A dirty database is refused (5): its
    state must be settled with ``repair`` first.
    """
    refusals = _dirty_refusal(dirty)
    if refusals:
        raise refusals[0]
    if version == 0:
        raise InvalidInput("baseline 0 records nothing: name the version the database already stands at", kind="invalid_version")
    done = {a.version for a in applied}
    return [v for v in files if v not in done and (version is LATEST or v <= version)]


def plan_adopt(versions: Sequence[int], applied: Sequence[Applied], dirty: Optional[DirtyMarker]) -> list[int]:
    """The versions another tool's history says are applied that migrund's does not hold yet (a dirty database: 5)."""
    refusals = _dirty_refusal(dirty)
    if refusals:
        raise refusals[0]
    done = {a.version for a in applied}
    return [v for v in versions if v not in done]


def plan_accept(applied: Sequence[Applied], files: Mapping[int, SourceFile], version: int, dirty: Optional[DirtyMarker]) -> Optional[Applied]:
    """The applied row whose edited file ``accept`` makes the applied one; None when the file is unchanged."""
    refusals = _dirty_refusal(dirty)
    if refusals:
        raise refusals[0]
    row = next((a for a in applied if a.version == version), None)
    if row is None:
        raise InvalidInput(f"version {version} is not applied: there is nothing to accept", kind="unknown_version", version=version)
    source = files.get(version)
    if source is None:
        raise InvalidInput(f"the file of {version} is gone: accept takes an edited file; restore the file or roll back --from-history",
                           kind="missing_file", version=version)
    return None if source.checksum == row.checksum else row


def with_dirty(decision: Decision, dirty: Optional[DirtyMarker], interrupted_restore: Optional[str] = None) -> Decision:
    """Put the dirty refusals first (an interrupted restore, then a dirty marker), where the check order puts them."""
    decision.refusals[:0] = ([restore_refusal(interrupted_restore)] if interrupted_restore else []) + _dirty_refusal(dirty)
    return decision


def restore_refusal(source: str) -> Dirty:
    """Exit 5 for a database whose last restore was interrupted (MySQL: half loaded)."""
    return Dirty(
        f"a restore of {source} was interrupted: the database is partly loaded;"
        " run `migrund restore` with that backup again (or another one)", kind="interrupted_restore"
    )
