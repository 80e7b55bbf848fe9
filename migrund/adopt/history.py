"""Another tool's history table: which of the imported versions it says are applied, once it is clean.

Each layout is the one the tool writes (read off its source; the commits are named in
tests/foreign_history.py, which builds these tables for the tests): golang-migrate one ``(version, dirty)`` row; dbmate one ``version`` row
per applied migration; goose ``(id, version_id, is_applied, tstamp)`` rows, the latest per
version deciding; Flyway ``flyway_schema_history`` with ``installed_rank``, ``version``,
``type`` and ``success``.
"""
from __future__ import annotations

import re

from ..errors import Dirty, InvalidInput, StatementFailed
from .sources import flyway_parts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, Sequence

    from ..drivers.contract import Driver
    from .sources import Converted

TABLES = {"golang-migrate": "schema_migrations", "dbmate": "schema_migrations", "goose": "goose_db_version", "flyway": "flyway_schema_history"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
_QUERIES = {
    "golang-migrate": "SELECT version, dirty FROM {table}",
    "dbmate": "SELECT version FROM {table}",
    "goose": "SELECT version_id, is_applied FROM {table} ORDER BY id",
    "flyway": "SELECT installed_rank, version, type, success FROM {table} ORDER BY installed_rank",
}
_UNDONE = ("UNDO_SQL", "UNDO_JDBC", "UNDO_SCRIPT", "DELETE")


def table_name(tool: str, given: str | None) -> str:
    """The history table to read: ``given`` (checked to be a plain, optionally schema-qualified name) or the tool's default."""
    if tool not in TABLES:
        raise InvalidInput(f"--adopt-history: {tool} keeps no history table; use `migrund baseline VERSION` instead", key="--adopt-history")
    name = given or TABLES[tool]
    if not _IDENTIFIER.match(name):
        raise InvalidInput(f"--history-table {name!r} is not a table name (letters, digits, _ and $, optionally schema.table)", key="--history-table")
    return name


def _rows(driver: Driver, tool: str, table: str) -> list[tuple]:
    try:
        return driver.query(_QUERIES[tool].format(table=table))
    except StatementFailed as exc:
        raise InvalidInput(f"cannot read {tool}'s history table {table}: {exc.message} (name it with --history-table)", key="--history-table") from exc


def _number(value: Any, table: str) -> int:
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise InvalidInput(f"{table} holds version {value!r}, which is not a number", key="--history-table")
    return int(text)


def applied_versions(driver: Driver, tool: str, table: str, migrations: Sequence[Converted]) -> list[int]:
    """The migrund versions of ``migrations`` that ``tool``'s table says are applied.

    A dirty or failed row is exit 5 (settle it with the tool first); an applied version
    with no imported file is exit 2 (its file is missing from the folder).
    """
    rows = _rows(driver, tool, table)
    by_label = {m.label: m.version for m in migrations}
    files = {m.version for m in migrations}
    if tool == "golang-migrate":
        if any(bool(dirty) for _, dirty in rows):
            version = next(v for v, dirty in rows if bool(dirty))
            raise Dirty(f"{table}: golang-migrate left version {version} dirty (a migration failed midway): fix the database,"
                        f" run `migrate force` with the version it stands at, then import again", kind="dirty")
        current = max((_number(v, table) for v, _ in rows), default=0)
        if current and current not in files:
            _missing([current], table)
        return sorted(v for v in files if v <= current)
    if tool == "dbmate":
        done = {_number(v, table) for (v,) in rows}
        _missing(sorted(done - files), table)
        return sorted(done)
    if tool == "goose":
        latest: dict[int, bool] = {}
        for version_id, is_applied in rows:
            latest[_number(version_id, table)] = bool(is_applied)
        done = {v for v, on in latest.items() if on and v != 0}  # version 0 is goose's own first row
        _missing(sorted(done - files), table)
        return sorted(done)
    return _flyway(rows, table, by_label)


def _flyway(rows: Iterable[tuple], table: str, by_label: dict[str, int]) -> list[int]:
    baseline: tuple[int, ...] = ()
    done: set[tuple[int, ...]] = set()
    for rank, version, kind, success in rows:
        if int(rank) < 0 or version is None:
            continue  # a lock row, the schema-creation marker or a repeatable migration
        if not bool(success):
            raise Dirty(f"{table}: Flyway recorded version {version} as failed (installed_rank {rank}): fix the database and"
                        " run `flyway repair`, then import again", kind="dirty")
        parts = flyway_parts(str(version))
        if str(kind) == "BASELINE":
            baseline = max(baseline, parts)
        elif str(kind) in _UNDONE:
            done.discard(parts)
        else:
            done.add(parts)
    files = {flyway_parts(label): number for label, number in by_label.items()}
    _missing([".".join(map(str, p)) for p in sorted(done - set(files))], table)
    return sorted(number for parts, number in files.items() if parts in done or (baseline and parts <= baseline))


def _missing(versions: Sequence[Any], table: str) -> None:
    if versions:
        shown = ", ".join(str(v) for v in versions[:5]) + (f" and {len(versions) - 5} more" if len(versions) > 5 else "")
        raise InvalidInput(f"{table} says version(s) {shown} are applied, but the folder has no file for them:"
                           " import the folder those migrations came from", key="--history-table")
