"""Pure reports: what ``status``, ``check-safety`` and ``verify`` say, from what a session read.

Each returns the JSON-shaped document and, when the answer is "no", the error to raise
with it (the fronts print the document either way).
"""
from __future__ import annotations

from . import plan as planner
from .errors import NotAtTarget, Refused

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional, Sequence

    from .errors import MigrationError
    from .model import Applied, DirtyMarker, Migration, SourceFile


def status(
    files: Mapping[int, SourceFile],
    applied: Sequence[Applied],
    target_spec: str,
    *,
    dirty: Optional[DirtyMarker],
    interrupted_restore: Optional[str],
    daemon: Any,
    database: str,
    ignored: Sequence[str] = (),
    drafts: Sequence[int] = (),
    cosmetic: Sequence[int] = (),
) -> tuple[dict[str, Any], Optional[MigrationError]]:
    """The status document, and the ``NotAtTarget`` (exit 6) that ``status --check`` raises when the database is not there."""
    target = planner.parse_version(target_spec, "target") if target_spec != "latest" else planner.LATEST
    figures = standing(files, applied, target_spec)
    pending = figures["pending"]
    above = [a.version for a in applied if target is not planner.LATEST and a.version > target]
    modified, missing = planner.drift(files, applied)
    doc = {
        **figures,
        "modified": modified,
        "missing": missing,
        "dirty": None if dirty is None else {"version": dirty.version, "direction": dirty.direction, "step": dirty.step},
        "daemon": daemon,
        "interrupted_restore": interrupted_restore,
        "database": database,
        "target": target_spec,
        "ignored": list(ignored),  # files in the migrations folder that are not migrations
        "drafts": list(drafts),
        "cosmetic": list(cosmetic),  # applied files edited in form only: not a mismatch  # migrations whose up runs nothing yet (`new`'s template): never pending
    }
    if not (pending or above or interrupted_restore):
        return doc, None
    return doc, NotAtTarget(
        f"the database is at {doc['current_version']}, not at the target {doc['target_version']}"
        f" ({len(pending)} pending{f', {len(above)} above the target' if above else ''})",
        document=doc,
    )


def standing(files: Mapping[int, SourceFile], applied: Sequence[Applied], target_spec: str) -> dict[str, Any]:
    """Where the database stands: ``current_version``, ``target_version``, ``applied`` and ``pending``."""
    target = planner.parse_version(target_spec, "target") if target_spec != "latest" else planner.LATEST
    done = {a.version for a in applied}
    return {
        "current_version": planner.current_version(applied),
        "target_version": planner.target_version(target, files),
        "applied": [a.version for a in applied],
        "pending": [v for v in files if v not in done and (target is planner.LATEST or v <= target)],
    }


def safety(row: Applied, source: Optional[SourceFile], migration: Migration, diff: Optional[str]) -> tuple[dict[str, Any], Optional[Refused]]:
    """``check-safety``: the rollback rules with the strictest settings, since ``safe`` describes the migration, not the config."""
    risks = planner.rollback_risks(row, source, migration, from_history=False, on_mismatch="fail", allow_destructive=False)
    warning = "; ".join(r.text for r in risks) or None
    doc = {
        "safe": not risks,
        "data_destructive": migration.data_destructive,
        "has_down": migration.down is not None,
        "version": row.version,
        "name": row.name,
        "warning": warning,
        "diff": diff,
    }
    if not risks:
        return doc, None
    return doc, Refused(f"rolling back {row.version} ({row.name}) is not safe: {warning}", version=row.version, document=doc)


def verify(modified: list[int], missing: list[int], diffs: dict[str, str], cosmetic: Sequence[int] = ()) -> tuple[dict[str, Any], Optional[Refused]]:
    """``verify``: applied checksums against the files (exit 4 on drift; edits in form only are listed, not drift)."""
    doc = {"ok": not modified and not missing, "modified": modified, "missing": missing, "diffs": diffs, "cosmetic": list(cosmetic)}
    if doc["ok"]:
        return doc, None
    parts = [f"modified: {', '.join(map(str, modified))}" if modified else "", f"missing: {', '.join(map(str, missing))}" if missing else ""]
    return doc, Refused(
        "applied migrations differ from the files on disk (" + "; ".join(p for p in parts if p) + ")", kind="checksum_mismatch", document=doc
    )


def body_diff(stored: Mapping[str, str], current: Mapping[str, str]) -> str:
    """A unified diff, file by file, from a migration's stored body to its files on disk."""
    import difflib

    sections = []
    for path in dict.fromkeys([*stored, *current]):
        before, after = stored.get(path, ""), current.get(path, "")
        if before != after:
            sections.append("".join(difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=f"applied/{path}", tofile=f"on disk/{path}",
            )))
    return "".join(sections)


def plan_document(plan: Any, *, dry_run: bool, steps: Optional[Sequence[Any]] = None) -> dict[str, Any]:
    """The plan/apply/rollback/reconcile document: where from, where to, and the steps (all, or those done)."""
    return {
        "from_version": plan.from_version,
        "to_version": plan.to_version,
        "dry_run": dry_run,
        "steps": [s.as_json() for s in (plan.steps if steps is None else steps)],
    }


def step_detail(version: int, direction: str, migration: Migration, dialect: str) -> dict[str, Any]:
    """What one planned migration runs: each step's SQL for ``dialect`` and the statements it is split into, or the Python called."""
    described = []
    for item in migration.steps(direction):  # type: ignore[arg-type]
        if item.kind == "sql":
            described.append({"kind": "sql", "sql": item.sql_for(dialect), "statements": list(item.statements)})
        else:
            described.append({"kind": "python", "call": f"{item.path}:{item.function}"})
    return {"version": version, "description": migration.description, "steps": described}
