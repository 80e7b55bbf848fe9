"""What every DB-API driver shares: statements, transactions and error wrapping."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import LockTimeout, StatementFailed
from ..record import record
from .base import never

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Optional, Sequence


class DbApiDriver:
    """A migrund driver over one DB-API connection in autocommit mode.

    Subclasses set ``dialect``, ``transactional_ddl``, ``placeholder``, ``column_types``,
    ``begin_sql`` and ``error`` (the DB-API base exception of their library).
    """

    dialect = ""
    transactional_ddl = True
    placeholder = "%s"
    begin_sql = "BEGIN"
    column_types: dict[str, str] = {}
    error: Any = Exception

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.in_transaction = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(sql, params or None)
        except self.error as exc:
            raise StatementFailed(self.message(exc), sql) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement and return its rows."""
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(sql, params or None)
                return list(cursor.fetchall())
        except self.error as exc:
            raise StatementFailed(self.message(exc), sql) from exc

    def message(self, exc: BaseException) -> str:
        """The database's own words for ``exc``."""
        return str(exc).strip()

    def begin(self, begin_sql: Optional[str] = None) -> None:
        """Start a transaction (``begin_sql``: with an isolation level or a snapshot)."""
        self.execute(begin_sql or self.begin_sql)
        self.in_transaction = True

    def commit(self) -> None:
        """Commit the open transaction."""
        self.execute("COMMIT")
        self.in_transaction = False

    def rollback(self) -> None:
        """Roll back the open transaction, if any (a lost connection is left to the server)."""
        if self.in_transaction:
            self.in_transaction = False
            try:
                self.execute("ROLLBACK")
            except StatementFailed:
                pass

    @contextmanager
    def transaction(self, begin_sql: Optional[str] = None) -> Iterator[None]:
        """Begin; commit on success, roll back on an exception."""
        self.begin(begin_sql)
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def qualify(self, table: str) -> str:
        """The name to use for one of migrund's tables."""
        return table

    def ensure_namespace(self) -> None:
        """Create the place migrund's tables live in, where the engine has one."""

    def dbapi_connection(self) -> Any:
        """The DB-API connection handed to hooks."""
        return self.conn

    def close(self) -> None:
        """Close the connection."""
        try:
            self.conn.close()
        except self.error:
            pass


def run_client(argv: list[str], *, env_extra: dict[str, str], what: str, stdin: Optional[Path] = None) -> None:
    """Run a database client program (pg_dump, mysqldump, ...); secrets only in ``env_extra``."""
    import os
    import shutil
    import subprocess

    from ..errors import OperationFailed

    if shutil.which(argv[0]) is None:
        raise OperationFailed(
            f"{argv[0]} was not found on PATH: install the database's client programs, or set backup.format: json"
        )
    die_with_us = _parent_death_signal()
    if stdin is None:
        proc = subprocess.run(argv, env={**os.environ, **env_extra}, capture_output=True, text=True, preexec_fn=die_with_us)
    else:
        with open(stdin, "rb") as feed:
            proc = subprocess.run(argv, env={**os.environ, **env_extra}, stdin=feed, capture_output=True, preexec_fn=die_with_us)
        proc.stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit status {proc.returncode}"
        raise OperationFailed(f"{what} failed: {detail}")


def _parent_death_signal() -> Callable[[], None]:
    """What a client program runs before it starts: it is killed when migrund dies (Linux), kill -9 included.

    Without it a killed ``migrund restore`` leaves psql or mariadb writing into the
    database on its own, after migrund can no longer say what happened.
    """
    import ctypes
    import os
    import signal

    parent = os.getpid()
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: no such guard
        return lambda: None
    pr_set_pdeathsig = 1

    def arm() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # migrund died before the guard was armed
            os._exit(1)

    return arm


class AdvisoryLock:
    """A database lock held on a connection of its own until released or the process dies."""

    def __init__(self, driver: DbApiDriver, release_sql: str, params: Sequence[Any]) -> None:
        self.driver = driver
        self.release_sql = release_sql
        self.params = params

    def release(self) -> None:
        """Release the lock and close its connection."""
        try:
            self.driver.query(self.release_sql, self.params)
        except StatementFailed:
            pass
        self.driver.close()


@record
class LockSpec:
    """How one engine takes, releases and explains its advisory lock."""

    take_sql: str  # returns a true first column when taken
    release_sql: str
    params: Sequence[Any]
    what: str
    holder: Callable[["DbApiDriver"], str]


class AdvisoryLocking:
    """The SPEC 5.5 database lock for drivers that give a ``lock_spec``: polled on a connection of its own."""

    @classmethod
    def advisory_lock(
        cls,
        url: Any,
        schema: Optional[str],
        deadline: float,
        on_wait: Optional[Callable[[str], None]],
        should_stop: Callable[[], bool] = never,
    ) -> AdvisoryLock:
        """Take the lock, waiting until ``deadline`` or ``should_stop()``; exit 3 naming the holder."""
        driver = cls.open(url)  # type: ignore[attr-defined]
        try:
            spec = cls.lock_spec(driver, schema)  # type: ignore[attr-defined]
            waited = False
            while True:
                row = driver.query(spec.take_sql, spec.params)
                if row and row[0][0] in (1, True):
                    return AdvisoryLock(driver, spec.release_sql, spec.params)
                if not waited and on_wait:
                    on_wait(f"waiting for {spec.what}, held by {spec.holder(driver)}")
                waited = True
                if time.monotonic() >= deadline or should_stop():
                    why = "stopping" if should_stop() else "gave up waiting"
                    raise LockTimeout(f"{spec.what} is held by {spec.holder(driver)}; {why}")
                time.sleep(min(0.1, max(deadline - time.monotonic(), 0.01)))
        except BaseException:
            driver.close()
            raise
