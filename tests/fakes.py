"""The one fake in the suite: a driver that records statements, for the runner's unit tests.

Everything else talks to real SQLite files and the real local PostgreSQL and MariaDB.
"""
from __future__ import annotations

from migrund.drivers.dbapi import DbApiDriver
from migrund.errors import StatementFailed
from migrund.model import Migration, Step
from migrund.runner import Runner
from migrund.sql import split


class FakeDriver(DbApiDriver):
    """Records statements; a transaction buffers them until commit; 'FAIL' statements fail."""

    dialect = "sqlite"
    placeholder = "?"

    def __init__(self, transactional_ddl: bool = True) -> None:
        super().__init__(conn=self)
        self.transactional_ddl = transactional_ddl
        self.committed: list[str] = []
        self.pending: list[str] | None = None
        self.transactions: list[list[str]] = []  # what each commit() made durable, in order

    def _record(self, item: str) -> None:
        (self.committed if self.pending is None else self.pending).append(item)

    def execute(self, sql, params=()):
        if "FAIL" in sql:
            raise StatementFailed("boom", sql)
        self._record(sql)

    def begin(self, begin_sql=None):
        assert self.pending is None, "nested transaction"
        self.pending = []

    def commit(self):
        self.committed.extend(self.pending or [])
        self.transactions.append(self.pending or [])
        self.pending = None

    def rollback(self):
        self.pending = None


class FakeHistory:
    def __init__(self, driver: FakeDriver) -> None:
        self.driver = driver

    def record_applied(self, migration, ms):
        self.driver._record(f"history+{migration.version}")

    def record_rolled_back(self, version, name, how):
        self.driver._record(f"history-{version}")

    def set_dirty(self, version, direction, step):
        self.driver._record(f"dirty {version} {direction} {step}")

    def clear_dirty(self):
        self.driver._record("clean")


def sql_step(text: str) -> Step:
    """A SQL step as the loader builds it: its text split for the fake driver's dialect."""
    return Step("sql", text, statements=tuple(split(text, FakeDriver.dialect)))


def mig(version: int, *statements: str, transaction: bool = True, risky: bool = False, down=None) -> Migration:
    up = tuple(sql_step(s) for s in statements)
    return Migration(version, f"m{version}", f"{version}_m.yaml", "yaml", "", (), False, risky, transaction, up,
                     tuple(sql_step(s) for s in down) if down else None, "c", {})


def runner(driver: FakeDriver, events: list) -> Runner:
    return Runner(driver, FakeHistory(driver), config={}, on_event=events.append)
