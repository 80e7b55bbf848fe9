"""What every DB-API driver shares: statements, transactions and error wrapping."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..errors import StatementFailed
from ..record import record

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
    capabilities: frozenset[str] = frozenset()  # see ``contract.CAPABILITIES``

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

    @classmethod
    def advisory_lock(cls, url: Any, schema: Optional[str]) -> Optional[AdvisoryLock]:
        """The database's advisory lock, not yet taken; None for an engine without one."""
        return None

    def limit_lock_wait(self, seconds: float) -> None:
        """Make this connection's statements give up waiting for a table lock after ``seconds`` (engines with such a setting)."""

    def is_lock_timeout(self, exc: BaseException) -> bool:
        """Whether ``exc`` (a DB-API error) says a statement gave up waiting for a lock."""
        return False

    def verify_native(self, archive: Path) -> None:
        """Read a native backup back before it is published; engines whose own writer checks it keep this."""

    def session_id(self) -> Optional[str]:
        """This connection's name on the server, where a statement can outlive its client; else None."""
        return None

    def session_busy(self, session: str) -> bool:
        """Whether the server session ``session`` still runs a statement."""
        return False

    def end_session(self, session: str, deadline: float) -> bool:
        """Stop the server session ``session``; False if it outlived ``deadline``."""
        return True

    def interrupted_restore(self) -> Optional[str]:
        """The backup a restore was loading when it was interrupted, for engines whose restores are not atomic."""
        return None

    def close(self) -> None:
        """Close the connection."""
        try:
            self.conn.close()
        except self.error:
            pass


def run_client(argv: list[str], *, env_extra: dict[str, str], what: str, stdin: Optional[Path] = None) -> None:
    """Run a database client program (pg_dump, mysqldump, ...); secrets only in ``env_extra``."""
    import os
    import subprocess

    _require(argv[0])
    die_with_us = _parent_death_signal()
    if stdin is None:
        proc = subprocess.run(argv, env={**os.environ, **env_extra}, capture_output=True, text=True, preexec_fn=die_with_us)
    else:
        with open(stdin, "rb") as feed:
            raw = subprocess.run(argv, env={**os.environ, **env_extra}, stdin=feed, capture_output=True, preexec_fn=die_with_us)
        proc = subprocess.CompletedProcess(argv, raw.returncode, raw.stdout.decode("utf-8", "replace"), raw.stderr.decode("utf-8", "replace"))
    if proc.returncode != 0:
        raise _failed(what, proc.returncode, proc.stderr)


def run_piped(producer: list[str], consumer: list[str], *, head: bytes, env_extra: dict[str, str], what: str) -> None:
    """Feed ``consumer`` with ``head``, then ``producer``'s output; it sees the end of its input only if the producer ended well.

    Streaming spares writing the producer's whole output to disk first (a plain-text dump
    is larger than the database). When the producer fails midway, the consumer is killed
    while its input is still open, so a partial stream is never taken for a whole one (a
    transaction opened in ``head`` dies with it). Secrets only in ``env_extra``, which
    only the consumer gets.
    """
    import os
    import subprocess
    import tempfile

    for program in (producer[0], consumer[0]):
        _require(program)
    die_with_us = _parent_death_signal()
    with tempfile.TemporaryFile() as producer_err, tempfile.TemporaryFile() as consumer_err:
        sink = subprocess.Popen(consumer, env={**os.environ, **env_extra}, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=consumer_err, preexec_fn=die_with_us)
        source = None
        try:
            source = subprocess.Popen(producer, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=producer_err, preexec_fn=die_with_us)
            assert sink.stdin is not None and source.stdout is not None
            fed = _feed(sink.stdin.fileno(), head) and _pump(source.stdout.fileno(), sink.stdin.fileno())
            source.stdout.close()
            if fed and source.wait() != 0:  # the consumer, its input still open, is killed below
                raise _failed(producer[0], source.returncode, _text(producer_err))
            sink.stdin.close()  # when the consumer stopped reading early, its own error says why
            if sink.wait() != 0 or not fed:
                raise _failed(what, sink.returncode, _text(consumer_err))
        finally:
            for proc in (source, sink):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()


def _pump(src: int, dst: int) -> bool:
    """Copy ``src`` into ``dst`` until the end; False if the reader of ``dst`` went away first."""
    import os

    while chunk := os.read(src, 1 << 20):
        if not _feed(dst, chunk):
            return False
    return True


def _feed(fd: int, data: bytes) -> bool:
    """Write all of ``data``; False if the reader went away."""
    import os

    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        return False
    return True


def _text(stream: Any) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", "replace")


def _failed(what: str, returncode: int, stderr: str) -> Exception:
    """The error for a client program that exited with ``returncode``: its last error line says why.

    psql and the dump tools follow an error with DETAIL and CONTEXT lines, which may quote
    the rows concerned; the error line itself (from its ``ERROR:``/``error:`` on) is what is
    said, else the last line.
    """
    import re

    from ..errors import OperationFailed

    lines = stderr.strip().splitlines()
    errors = [found.group(0) for line in lines if (found := re.search(r"\b(ERROR|error):.*", line))]
    detail = errors[-1] if errors else lines[-1] if lines else f"exit status {returncode}"
    return OperationFailed(f"{what} failed: {detail.strip()}")


def _require(program: str) -> None:
    import shutil

    from ..errors import OperationFailed

    if shutil.which(program) is None:
        raise OperationFailed(
            f"{program} was not found on PATH: install the database's client programs, or set backup.format: json"
        )


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
    """A database lock on a connection of its own: tried without waiting, held until released or the process dies.

    The waiting is ``lock.RunLock``'s, which tries this lock and the lock file in one loop.
    """

    def __init__(self, driver: DbApiDriver, spec: LockSpec) -> None:
        self.driver = driver
        self.spec = spec
        self.what = spec.what
        self.held = False

    def try_take(self) -> bool:
        """Take the lock if it is free; whether it is held now."""
        if not self.held:
            row = self.driver.query(self.spec.take_sql, self.spec.params)
            self.held = bool(row) and row[0][0] in (1, True)
            if self.held and self.spec.verify is not None:
                try:
                    self.spec.verify(self.driver, row[0])
                except BaseException:
                    self.release()
                    raise
        return self.held

    def holder(self) -> str:
        """Who holds the lock, as the server tells it."""
        return self.spec.holder(self.driver)

    def release(self) -> None:
        """Release the lock (if held) and close its connection."""
        if self.held:
            try:
                self.driver.query(self.spec.release_sql, self.spec.params)
            except StatementFailed:
                pass
        self.held = False
        self.driver.close()


@record
class LockSpec:
    """How one engine takes, releases and explains its advisory lock."""

    take_sql: str  # returns a true first column when taken, without waiting
    release_sql: str
    params: Sequence[Any]
    what: str
    holder: Callable[["DbApiDriver"], str]
    # Called once the lock is taken, with the take's row: raises when the lock cannot be trusted.
    verify: Optional[Callable[["DbApiDriver", tuple], None]] = None


class AdvisoryLocking:
    """The database lock for drivers that give a ``lock_spec``, on a connection of its own."""

    @classmethod
    def advisory_lock(cls, url: Any, schema: Optional[str]) -> AdvisoryLock:
        """The engine's lock for the database ``url`` names, not yet taken."""
        driver = cls.open(url)  # type: ignore[attr-defined]
        try:
            return AdvisoryLock(driver, cls.lock_spec(driver, schema))  # type: ignore[attr-defined]
        except BaseException:
            driver.close()
            raise
