"""The ``migrund_*`` tables over any driver, with their own format version.

Format 1: ``migrund_meta`` (key/value, holds ``format``), ``migrund_history`` (one row per
applied migration, with its stored body), ``migrund_rollbacks`` (one row per rollback or
repair), ``migrund_dirty`` (at most one row: a non-transactional step in progress) and
``migrund_repairs`` (who cleared which dirty state, and how).
Format 2 adds ``migrund_audit``: one row per act that records instead of running
(``baseline``), with who, when and a JSON detail. A format-1 database is brought to 2 by
the first command that writes.
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache

from .clock import utc_iso
from .errors import InvalidInput
from .model import Applied, DirtyMarker, Migration
from .paths import hostname

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

    from .drivers.base import Driver

FORMAT = 2


@lru_cache(maxsize=None)
def actor() -> str:
    """Who is acting, for the records: user@host pid."""
    try:
        import getpass

        user = getpass.getuser()
    except Exception:  # no passwd entry inside some containers
        user = str(os.getuid())
    return f"{user}@{hostname()} pid {os.getpid()}"


class History:
    """Reads and writes migrund's own tables through ``driver``."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.p = driver.placeholder
        self._next_seq: Optional[int] = None
        self._by: Optional[str] = None
        q = driver.qualify
        self.meta, self.hist, self.rolls, self.dirt, self.repairs, self.audit = (
            q("migrund_meta"), q("migrund_history"), q("migrund_rollbacks"), q("migrund_dirty"), q("migrund_repairs"),
            q("migrund_audit"),
        )
        # Built once: they run once per migration.
        self._insert_applied = (
            f"INSERT INTO {self.hist} (version, name, description, checksum, applied_at, execution_ms, seq,"
            f" applied_by, body) VALUES ({', '.join([self.p] * 9)})"
        )
        self._insert_rollback = (
            f"INSERT INTO {self.rolls} (version, name, rolled_back_at, rolled_back_by, how) VALUES ({', '.join([self.p] * 5)})"
        )

    def exists(self) -> bool:
        """Whether the history table exists (reading commands never create it)."""
        return self.driver.table_exists("migrund_history")

    def ensure(self) -> None:
        """Create the tables on first use; refuse a format newer than this migrund knows."""
        t = self.driver.column_types
        audit = (
            f"CREATE TABLE IF NOT EXISTS {self.audit} (id {t['autoid']}, action {t['key']} NOT NULL,"
            f" acted_at {t['key']} NOT NULL, acted_by {t['key']} NOT NULL, detail {t['longtext']} NOT NULL)"
        )
        if self.exists():
            rows = self.driver.query(f"SELECT value FROM {self.meta} WHERE name = 'format'")
            found = int(rows[0][0]) if rows else 1
            if found > FORMAT:
                raise InvalidInput(
                    f"the migrund_* tables have format {found}, newer than this migrund understands ({FORMAT}); upgrade migrund"
                )
            if found < 2:  # format 1 -> 2: the audit table
                self.driver.execute(audit)
                self.driver.execute(f"UPDATE {self.meta} SET value = {self.p} WHERE name = 'format'", (str(FORMAT),))
            return
        statements = [
            audit,
            f"CREATE TABLE IF NOT EXISTS {self.meta} (name {t['key']} PRIMARY KEY, value {t['text']} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.rolls} (id {t['autoid']}, version {t['bigint']} NOT NULL,"
            f" name {t['key']} NOT NULL, rolled_back_at {t['key']} NOT NULL, rolled_back_by {t['key']} NOT NULL,"
            f" how {t['key']} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.dirt} (version {t['bigint']} PRIMARY KEY, direction {t['key']} NOT NULL,"
            f" step {t['bigint']} NOT NULL, started_at {t['key']} NOT NULL, started_by {t['key']} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.repairs} (id {t['autoid']}, version {t['bigint']} NOT NULL,"
            f" direction {t['key']} NOT NULL, step {t['bigint']} NOT NULL, outcome {t['key']} NOT NULL,"
            f" repaired_at {t['key']} NOT NULL, repaired_by {t['key']} NOT NULL)",
            # Last: its existence is what readers check, and on MySQL each CREATE commits
            # on its own, so a reader must not see it before the others exist.
            f"CREATE TABLE IF NOT EXISTS {self.hist} (version {t['bigint']} PRIMARY KEY, name {t['key']} NOT NULL,"
            f" description {t['text']} NOT NULL, checksum {t['key']} NOT NULL, applied_at {t['key']} NOT NULL,"
            f" execution_ms {t['bigint']} NOT NULL, seq {t['bigint']} NOT NULL, applied_by {t['key']} NOT NULL,"
            f" body {t['longtext']} NOT NULL)",
        ]
        self.driver.ensure_namespace()
        with self.driver.transaction():
            for statement in statements:
                self.driver.execute(statement)
            self.driver.execute(
                f"INSERT INTO {self.meta} (name, value) VALUES ('format', {self.p})", (str(FORMAT),)
            )

    def applied(self) -> list[Applied]:
        """Applied migrations in the order they were applied."""
        rows = self.driver.query(
            f"SELECT version, name, checksum, applied_at, execution_ms, seq FROM {self.hist} ORDER BY seq"
        )
        applied = [Applied(int(v), n, c, a, int(ms), int(s)) for v, n, c, a, ms, s in rows]
        # Writers hold the lock, so the next position can be counted here rather than
        # asked of the table on every insert.
        self._next_seq = (applied[-1].seq if applied else 0) + 1
        return applied

    def dirty(self) -> Optional[DirtyMarker]:
        """The dirty marker, if a non-transactional migration did not finish."""
        rows = self.driver.query(f"SELECT version, direction, step FROM {self.dirt}")
        return DirtyMarker(int(rows[0][0]), rows[0][1], int(rows[0][2])) if rows else None

    def body(self, version: int) -> dict[str, Any]:
        """The stored body of an applied migration: ``{"files": {path: text}, "description": str}``."""
        rows = self.driver.query(f"SELECT body FROM {self.hist} WHERE version = {self.p}", (version,))
        if not rows:
            raise InvalidInput(f"version {version} is not applied")
        return json.loads(rows[0][0])

    def rollbacks(self) -> list[dict[str, Any]]:
        """Rollback rows, oldest first."""
        rows = self.driver.query(f"SELECT version, name, rolled_back_at FROM {self.rolls} ORDER BY id")
        return [{"version": int(v), "name": n, "rolled_back_at": at} for v, n, at in rows]

    def record_applied(self, migration: Migration, execution_ms: int, *, via: str = "") -> None:
        """Insert the history row of ``migration`` (inside the caller's transaction)."""
        if self._next_seq is None:
            self.applied()
        assert self._next_seq is not None
        body = json.dumps({"files": dict(migration.body), "description": migration.description})
        self.driver.execute(
            self._insert_applied,
            (
                migration.version,
                migration.name,
                migration.description,
                migration.checksum,
                utc_iso(),
                execution_ms,
                self._next_seq,
                actor() + (f" via {via}" if via else ""),
                body,
            ),
        )
        # Counted only once the row is in: a failed migration's transaction takes it back.
        self._next_seq += 1

    def accept(self, migration: Migration) -> None:
        """Make ``migration`` as it is now the applied one: its checksum, body and description (caller's transaction)."""
        body = json.dumps({"files": dict(migration.body), "description": migration.description})
        self.driver.execute(
            f"UPDATE {self.hist} SET checksum = {self.p}, body = {self.p}, description = {self.p} WHERE version = {self.p}",
            (migration.checksum, body, migration.description, migration.version),
        )

    def record_rolled_back(self, version: int, name: str, how: str) -> None:
        """Delete the history row of ``version`` and write its rollback row (caller's transaction)."""
        self.driver.execute(f"DELETE FROM {self.hist} WHERE version = {self.p}", (version,))
        self.driver.execute(self._insert_rollback, (version, name, utc_iso(), actor(), how))

    def set_dirty(self, version: int, direction: str, step: int) -> None:
        """Record that ``step`` of ``version`` is about to run outside a transaction.

        One autocommitted statement each: the marker is created at step 1 (the run checked
        that there was none) and moved on at the later steps.
        """
        if step == 1:
            self.driver.execute(
                f"INSERT INTO {self.dirt} (version, direction, step, started_at, started_by)"
                f" VALUES ({', '.join([self.p] * 5)})",
                (version, direction, step, utc_iso(), self._marker_by()),
            )
        else:
            self.driver.execute(f"UPDATE {self.dirt} SET step = {self.p} WHERE version = {self.p}", (step, version))

    def record_repair(self, marker: DirtyMarker, outcome: str) -> None:
        """Write who cleared ``marker`` and how (caller's transaction)."""
        self.driver.execute(
            f"INSERT INTO {self.repairs} (version, direction, step, outcome, repaired_at, repaired_by)"
            f" VALUES ({', '.join([self.p] * 6)})",
            (marker.version, marker.direction, marker.step, outcome, utc_iso(), actor()),
        )

    def record_audit(self, action: str, detail: Mapping[str, Any]) -> None:
        """Write who did ``action`` (recorded, not run) and its ``detail`` (caller's transaction)."""
        self.driver.execute(
            f"INSERT INTO {self.audit} (action, acted_at, acted_by, detail) VALUES ({', '.join([self.p] * 4)})",
            (action, utc_iso(), actor(), json.dumps(dict(detail), sort_keys=True)),
        )

    def audits(self) -> list[dict[str, Any]]:
        """Audit rows, oldest first."""
        rows = self.driver.query(f"SELECT action, acted_at, acted_by, detail FROM {self.audit} ORDER BY id")
        return [{"action": a, "acted_at": at, "acted_by": by, "detail": json.loads(d)} for a, at, by, d in rows]

    def _marker_by(self) -> str:
        # The database session that runs the steps, where the engine has one to name: a
        # later command must know whether that session still runs a statement. Asked once
        # per connection.
        if self._by is None:
            session = self.driver.session_id()
            self._by = actor() + (f" session {session}" if session is not None else "")
        return self._by

    def dirty_session(self) -> Optional[str]:
        """The database session that wrote the dirty marker, when it was recorded."""
        rows = self.driver.query(f"SELECT started_by FROM {self.dirt}")
        match = re.search(r" session ([0-9]+@[0-9]+)$", str(rows[0][0])) if rows else None
        return match[1] if match else None

    def clear_dirty(self) -> None:
        """Remove the dirty marker (inside the caller's transaction)."""
        self.driver.execute(f"DELETE FROM {self.dirt}")


def stored_files(body: Mapping[str, Any]) -> dict[str, str]:
    """The files of a stored body, the migration file first."""
    return dict(body.get("files", {}))
