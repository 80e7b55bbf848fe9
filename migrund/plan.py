"""Pure decisions: targets, drift, and what apply, rollback and reconcile would run.

Nothing here touches a database or a file. Each planner returns a ``Decision``: the plan,
the refusals that forbid running it (in SPEC 5.2's check order), and warnings.
"""
from __future__ import annotations

from .errors import Dirty, InvalidInput, MigrationError, Refused
from .model import Applied, DirtyMarker, Migration, Plan, PlannedStep, SourceFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping, Optional, Sequence

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
    """``text`` as a version (0 or 14 digits), else exit 2 naming ``what``."""
    raw = str(text).strip()
    # isdigit() alone takes other scripts' digits (int() reads them too): ASCII only
    if raw == "0" or (len(raw) == 14 and raw.isascii() and raw.isdigit()):
        return int(raw)
    raise InvalidInput(f"{what} {raw!r} is not a version: use 0 or a 14-digit version", kind="invalid_version", key=what)


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
    problems: list[str] = []
    refused: list[int] = []
    kinds: set[str] = set()

    def refuse(row: Applied, text: str, kind: str = "refused_rollback") -> None:
        problems.append(f"{row.version} ({row.name}): {text}")
        refused.append(row.version)
        kinds.add(kind)

    for row in chosen:
        if not from_history:
            source = files.get(row.version)
            if source is None:
                refuse(row, "its file is gone; use --from-history to run the stored down")
                continue
            if source.checksum != row.checksum:
                if on_mismatch == "warn":
                    decision.warnings.append(f"{row.version} ({row.name}): file modified since it was applied; rolling back with the file as it is now")
                else:
                    refuse(row, "file modified since it was applied; use --from-history or restore the file")
                    continue
        migration = definitions[row.version]
        if migration.down is None:
            refuse(row, "has no down steps (irreversible)")
        elif migration.data_destructive and not allow_destructive:
            refuse(row, "is data-destructive; pass --allow-destructive or set safety.allow_destructive_rollback", "refused_destructive")
    if problems:
        kind = kinds.pop() if len(kinds) == 1 else "refused_rollback"
        decision.refusals.append(Refused("rollback refused by a safety rule", details=problems, kind=kind, version=refused[0]))


def rollback_plan(applied: Sequence[Applied], chosen: Sequence[Applied]) -> Plan:
    """The plan for rolling back ``chosen`` from ``applied``."""
    gone = {a.version for a in chosen}
    remaining = [a for a in applied if a.version not in gone]
    steps = tuple(PlannedStep(a.version, a.name, "down") for a in chosen)
    return Plan(current_version(applied), current_version(remaining), steps)


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
