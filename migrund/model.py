"""The vocabulary shared by every module: frozen values, no I/O.

Values are records (namedtuples, see ``record``) rather than dataclasses: defining them
costs a fraction as much at start-up, which matters for commands that finish in tens of
milliseconds.
"""
from __future__ import annotations

from .record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal, Mapping, Optional, Union

    Direction = Literal["up", "down"]

DIALECTS = ("sqlite", "postgresql", "mysql")
# Versions are stored as BIGINT on the servers: the highest one a history row can hold.
MAX_VERSION = 2**63 - 1


@record
class Step:
    """One step of a migration: SQL (plain or per dialect), a hook, or a module function."""

    kind: Literal["sql", "python", "module"]
    sql: Union[str, Mapping[str, str], None] = None
    path: str = ""  # hook: relative to the migrations folder; module: the migration file name
    function: str = ""
    # sql: the text for the dialect the migration was read for, split into what runs
    statements: tuple[str, ...] = ()

    def sql_for(self, dialect: str) -> str:
        """The SQL text this step runs on ``dialect`` (per-dialect maps fall back to ``default``)."""
        return dialect_sql(self.sql, dialect)

    def describe(self) -> str:
        """A short human label for the step."""
        if self.kind == "sql":
            return "sql"
        return f"python {self.path}:{self.function}"


def dialect_sql(sql: Union[str, Mapping[str, str], None], dialect: str) -> str:
    """The text of a step's ``sql`` (plain, or a per-dialect map falling back to ``default``) on ``dialect``."""
    if isinstance(sql, str):
        return sql
    assert sql is not None
    return sql.get(dialect, sql.get("default", ""))


@record
class SourceFile:
    """A migration file as found on disk: identity, bytes read once, and checksum."""

    version: int
    name: str
    filename: str
    kind: Literal["yaml", "py"]
    data: bytes
    hooks: tuple[str, ...]  # relative hook paths, order of first reference
    checksum: str
    body: Mapping[str, str]  # relative path -> text, the migration file first


@record
class Migration:
    """A fully read and validated migration definition."""

    version: int
    name: str
    filename: str
    kind: Literal["yaml", "py"]
    description: str
    dependencies: tuple[int, ...]
    data_destructive: bool
    risky: bool
    transaction: bool
    up: tuple[Step, ...]
    down: Optional[tuple[Step, ...]]
    checksum: str
    body: Mapping[str, str]
    draft: bool = False  # `migrund new`'s template not yet written: no runner applies it

    def steps(self, direction: Direction) -> tuple[Step, ...]:
        """The steps run in ``direction`` (empty for an irreversible migration going down)."""
        if direction == "up":
            return self.up
        return self.down or ()


@record
class Applied:
    """One row of ``migrund_history`` (the stored body is fetched separately)."""

    version: int
    name: str
    checksum: str
    applied_at: str
    execution_ms: int
    seq: int


@record
class DirtyMarker:
    """A non-transactional migration that started and did not finish ."""

    version: int
    direction: Direction
    step: int


@record
class PlannedStep:
    """One migration to run in one direction."""

    version: int
    name: str
    direction: Direction

    def as_json(self) -> dict:
        """The step as the JSON documents show it."""
        return {"version": self.version, "name": self.name, "direction": self.direction}


@record
class Plan:
    """What reaching ``to_version`` from ``from_version`` runs, in order."""

    from_version: int
    to_version: int
    steps: tuple[PlannedStep, ...]


@record
class Event:
    """Something the runner did, for the CLI to print, the daemon to log, tests to collect."""

    kind: Literal["start", "step", "done", "backup", "warning"]
    version: int = 0
    name: str = ""
    direction: Direction = "up"
    ms: int = 0
    message: str = ""
    steps: int = 0  # start: how many steps the migration has
    step: int = 0  # step: the 1-based step starting now (2 on; a start announces step 1)
