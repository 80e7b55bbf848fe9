"""MySQL and MariaDB through PyMySQL: DDL commits implicitly, so every migration runs under
the dirty-state protocol; GET_LOCK on a connection of its own excludes other hosts."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..errors import DatabaseUnavailable, FeatureUnavailable, StatementFailed
from ..dburl import DatabaseURL
from ..files import write_private
from ..paths import private_workdir
from .dbapi import AdvisoryLocking, DbApiDriver, LockSpec, run_client

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator, Optional, Sequence


def _pymysql() -> Any:
    try:
        import pymysql
    except ImportError:
        raise FeatureUnavailable("MySQL and MariaDB need the PyMySQL package: pip install 'migrund[mysql]'") from None
    return pymysql


RESTORE_MARKER = "migrund_restoring"


def _option_value(value: str) -> str:
    """``value`` as an option file reads it back: quoted, since ``#`` starts a comment and spaces end a value."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class MySQLDriver(AdvisoryLocking, DbApiDriver):
    """A migrund driver over one PyMySQL connection (utf8mb4, autocommit)."""

    dialect = "mysql"
    capabilities = frozenset({"native_backup", "json_backup", "advisory_lock", "server_sessions", "restore_marker"})
    transactional_ddl = False
    placeholder = "%s"
    begin_sql = "START TRANSACTION"
    column_types = {
        "key": "VARCHAR(255)",
        "text": "TEXT",
        "longtext": "LONGTEXT",
        "bigint": "BIGINT",
        "autoid": "BIGINT AUTO_INCREMENT PRIMARY KEY",
    }

    def __init__(self, conn: Any, url: DatabaseURL) -> None:
        super().__init__(conn)
        self.url = url
        self.error = _pymysql().err.MySQLError
        # MariaDB runs an anonymous compound statement (BEGIN NOT ATOMIC ... END): a plain
        # transaction's writes are held here and sent with their COMMIT in one round trip.
        self._one_trip = "mariadb" in str(conn.get_server_info()).lower()
        self._held: Optional[list[str]] = None

    # -- migrund's own transactions in one round trip (MariaDB) -----------------------------
    #
    # Every plain transaction on this engine is migrund's bookkeeping (history rows, dirty
    # markers, repairs: DDL cannot be transactional here, so migrations never run in one).
    # Its statements, four to six a migration, each cost a round trip; held until the
    # commit, they go as one. A read in between sends what is held first, so it sees it.

    def begin(self, begin_sql: Optional[str] = None) -> None:
        """Start a transaction; a plain one on MariaDB is only opened here, and sent with its commit."""
        if self._one_trip and begin_sql is None:
            self._held = []
            self.in_transaction = True
            return
        super().begin(begin_sql)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement (or hold it, inside a held transaction)."""
        if self._held is None:
            super().execute(sql, params)
            return
        with self.conn.cursor() as cursor:
            self._held.append(cursor.mogrify(sql, params or None))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement and return its rows (what a held transaction wrote is sent first)."""
        self._send_held()
        return super().query(sql, params)

    def commit(self) -> None:
        """Commit; a held transaction goes as one compound statement, and is rolled back if any of it fails."""
        held, self._held = self._held, None
        if held is None:
            super().commit()
            return
        if held:
            try:
                super().execute(f"BEGIN NOT ATOMIC START TRANSACTION; {'; '.join(held)}; COMMIT; END")
            except StatementFailed:
                self.rollback()  # the block stopped at the failing statement, inside its transaction
                raise
        self.in_transaction = False

    def rollback(self) -> None:
        """Roll back; a held transaction that was never sent is only forgotten."""
        if self._held is not None:
            self._held = None
            self.in_transaction = False
            return
        super().rollback()

    def dbapi_connection(self) -> Any:
        """The PyMySQL connection (what a held transaction wrote is sent first)."""
        self._send_held()
        return self.conn

    def _send_held(self) -> None:
        """Turn a held transaction into an ordinary open one: its start and its writes so far, one by one."""
        held, self._held = self._held, None
        if held is None:
            return
        super().execute(self.begin_sql)
        for statement in held:
            super().execute(statement)

    @classmethod
    def open(cls, url: DatabaseURL) -> "MySQLDriver":
        """Connect in autocommit mode with utf8mb4."""
        pymysql = _pymysql()
        socket_path = url.query.get("unix_socket") or url.query.get("socket")
        sql_mode = url.query.get("sql_mode")
        try:
            conn = pymysql.connect(
                init_command=f"SET SESSION sql_mode = {pymysql.converters.escape_string(sql_mode)!r}" if sql_mode else None,
                host=url.host or "localhost",
                port=url.port or 3306,
                user=url.user or None,
                password=url.password,
                database=url.database,
                unix_socket=socket_path,
                charset="utf8mb4",
                autocommit=True,
                connect_timeout=int(url.query.get("connect_timeout", 10)),
            )
        except pymysql.err.MySQLError as exc:
            where = socket_path or f"{url.host or 'localhost'}:{url.port or 3306}"
            raise DatabaseUnavailable(
                f"cannot connect to MySQL/MariaDB at {where}, database {url.database} ({url.masked()}): {cls._words(exc)}"
            ) from exc
        return cls(conn, url)

    @classmethod
    def connect(cls, url: DatabaseURL, *, create: bool, schema: Optional[str] = None) -> "MySQLDriver":
        """Connect; ``create`` has no meaning here (the database must exist)."""
        return cls.open(url)

    @staticmethod
    def _words(exc: BaseException) -> str:
        args: tuple = getattr(exc, "args", ())
        return str(args[1]) if len(args) >= 2 else str(exc)

    def message(self, exc: BaseException) -> str:
        """The server's message without PyMySQL's tuple dress."""
        return self._words(exc)

    def _run_client(self, programs: tuple[str, str], options: list[str], *, stdin: Optional[Path] = None) -> None:
        """Run mariadb-dump/mysqldump or mariadb/mysql; the password goes in a 0600 option file."""
        import shutil

        url = self.url
        program = programs[0] if shutil.which(programs[0]) else programs[1]
        with private_workdir("client") as folder:  # 0700, removed at exit, swept if migrund is killed
            option_file = folder / "client.cnf"
            write_private(option_file, (f"[client]\npassword={_option_value(url.password)}\n" if url.password else "[client]\n").encode())
            argv = [program, f"--defaults-extra-file={option_file}", "--default-character-set=utf8mb4", *options]
            socket_path = url.query.get("unix_socket") or url.query.get("socket")
            argv += [f"--socket={socket_path}"] if socket_path else [f"--host={url.host or 'localhost'}", f"--port={url.port or 3306}"]
            argv += [f"--user={url.user}"] if url.user else []
            run_client(argv + [url.database], env_extra={}, what=f"{program} on {url.masked()}", stdin=stdin)

    def backup_native(self, dest: Path) -> None:
        """``mysqldump --single-transaction`` (or mariadb-dump) into ``dest``."""
        self._run_client(("mariadb-dump", "mysqldump"), ["--single-transaction", "--routines", "--triggers", "--events", f"--result-file={dest}"])

    _BOOT = "SELECT UNIX_TIMESTAMP() - VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'"

    def session_id(self) -> str:
        """This connection on the server, as ``<connection id>@<server start>`` (ids restart with the server)."""
        connection, boot = self.query(f"SELECT CONNECTION_ID(), ({self._BOOT})")[0]
        return f"{int(connection)}@{int(boot)}"

    def session_busy(self, session: str) -> bool:
        """Whether ``session`` still exists on the server and runs a statement.

        A client killed mid-statement does not stop the server: it finishes the statement
        on its own, long after the client is gone.
        """
        connection, _, boot = session.partition("@")
        if abs(int(self.query(self._BOOT)[0][0]) - int(boot)) > 2:
            return False  # the server restarted since: that connection is gone, its id may be another's
        rows = self.query("SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = %s", (int(connection),))
        return bool(rows) and rows[0][0] != "Sleep"

    def end_session(self, session: str, deadline: float) -> bool:
        """Kill ``session`` and wait until the server has let it go; False if it outlived ``deadline``."""
        import time

        connection = int(session.partition("@")[0])
        try:
            self.execute(f"KILL CONNECTION {connection}")
        except StatementFailed:
            pass  # gone already
        while self.query("SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %s", (connection,)):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def verify_native(self, dump: Path) -> None:
        """The dump must end with the dump program's completion line (a cut-off one does not)."""
        from ..errors import OperationFailed

        with open(dump, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(handle.tell() - 512, 0))
            tail = handle.read()
        if b"-- Dump completed" not in tail:
            raise OperationFailed(f"the dump {dump.name} is incomplete (no completion line at its end)")

    def restore_native(self, source: Path) -> None:
        """Drop every table, view, routine and event of the database, then load the dump.

        MySQL cannot make DDL transactional, so this is not atomic: the before_restore backup
        taken just before is the way back if it fails midway (docs/guide.md, "Backups and restore").
        """
        with self._restoring(source):
            self._run_client(("mariadb", "mysql"), [], stdin=source)

    @contextmanager
    def _restoring(self, source: Optional[Path]) -> Iterator[None]:
        """Drop everything but a marker saying a restore is under way; drop the marker once the load is whole.

        MySQL cannot make the replacement atomic: if migrund dies in between, the marker
        stays, and every later command reports the database as an interrupted restore
        (exit 5) instead of taking a half-loaded database for a clean one.
        """
        self.execute(f"CREATE TABLE IF NOT EXISTS `{RESTORE_MARKER}` (source TEXT NOT NULL, started_at VARCHAR(40) NOT NULL)")
        self.execute(f"DELETE FROM `{RESTORE_MARKER}`")
        self.execute(f"INSERT INTO `{RESTORE_MARKER}` VALUES (%s, DATE_FORMAT(UTC_TIMESTAMP(), '%%Y-%%m-%%dT%%H:%%i:%%sZ'))",
                     (str(source or "a JSON backup"),))
        self._drop_everything()
        yield
        self.execute(f"DROP TABLE `{RESTORE_MARKER}`")

    def interrupted_restore(self) -> Optional[str]:
        """The backup a restore was loading when it was interrupted, or None."""
        if not self.table_exists(RESTORE_MARKER):
            return None
        rows = self.query(f"SELECT source, started_at FROM `{RESTORE_MARKER}`")
        return f"{rows[0][0]} (started {rows[0][1]})" if rows else "an unknown backup"

    def _drop_everything(self) -> None:
        objects = self.query(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = DATABASE()"
            " AND table_name <> %s", (RESTORE_MARKER,)
        )
        routines = self.query("SELECT routine_name, routine_type FROM information_schema.routines WHERE routine_schema = DATABASE()")
        events = self.query("SELECT event_name FROM information_schema.events WHERE event_schema = DATABASE()")
        self.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for name, kind in objects:
                self.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS `{name}`")
            for name, kind in routines:
                self.execute(f"DROP {kind} IF EXISTS `{name}`")
            for (name,) in events:
                self.execute(f"DROP EVENT IF EXISTS `{name}`")
        finally:
            self.execute("SET FOREIGN_KEY_CHECKS = 1")

    def dump_json(self) -> dict[str, Any]:
        """Tables (SHOW CREATE TABLE) and rows, read in one consistent snapshot."""
        from .. import portable

        with self.transaction("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"):
            names = [r[0] for r in self.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
                " AND table_type = 'BASE TABLE' ORDER BY 1"
            )]
            schema, tables = [], {}
            for name in names:
                schema.append(self.query(f"SHOW CREATE TABLE `{name}`")[0][1])
                # generated columns are computed again on restore (the server refuses values for them)
                stored = [r[0] for r in self.query(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = %s"
                    " AND extra NOT LIKE '%%GENERATED%%' ORDER BY ordinal_position", (name,)
                )]
                with self.conn.cursor() as cursor:
                    cursor.execute(f"SELECT {', '.join(f'`{c}`' for c in stored)} FROM `{name}`")
                    columns = [d[0] for d in cursor.description]
                    types = [str(d[1]) for d in cursor.description]
                    tables[name] = {"columns": columns, "types": types, "rows": portable.table_rows(cursor.fetchall())}
        return {"schema": schema, "tables": tables}

    def restore_json(self, document: dict[str, Any]) -> None:
        """Drop everything, then create the tables and load the rows (not atomic: see restore_native)."""
        with self._restoring(None):
            self._load_json(document)

    def _load_json(self, document: dict[str, Any]) -> None:
        from .. import portable

        self.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for statement in document["schema"]:
                self.execute(statement)
            for name, table in document["tables"].items():
                if not table["rows"]:
                    continue
                columns = ", ".join(f"`{c}`" for c in table["columns"])
                marks = ", ".join(["%s"] * len(table["columns"]))
                try:
                    with self.conn.cursor() as cursor:
                        cursor.executemany(
                            f"INSERT INTO `{name}` ({columns}) VALUES ({marks})",
                            [[portable.decode(v) for v in row] for row in table["rows"]],
                        )
                except self.error as exc:
                    raise StatementFailed(self.message(exc), f"INSERT INTO `{name}`") from exc
        finally:
            self.execute("SET FOREIGN_KEY_CHECKS = 1")

    def limit_lock_wait(self, seconds: float) -> None:
        """``lock_wait_timeout`` (metadata locks: what DDL waits for) and InnoDB's row-lock wait, whole seconds."""
        whole = max(int(seconds + 0.999), 1)
        self.execute(f"SET SESSION lock_wait_timeout = {whole}")
        self.execute(f"SET SESSION innodb_lock_wait_timeout = {whole}")

    def is_lock_timeout(self, exc: BaseException) -> bool:
        """Error 1205, lock wait timeout exceeded."""
        args: tuple = getattr(exc, "args", ())
        return bool(args) and args[0] == 1205

    def table_exists(self, name: str) -> bool:
        """Whether migrund's table ``name`` exists in the connected database."""
        return bool(
            self.query(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = %s", (name,)
            )
        )

    @classmethod
    def lock_spec(cls, driver: DbApiDriver, schema: Optional[str]) -> LockSpec:
        """``GET_LOCK('migrund:<database>')``, the database as the server names it."""
        name = f"migrund:{driver.query('SELECT DATABASE()')[0][0]}"[:64]

        def holder(driver: DbApiDriver) -> str:
            rows = driver.query(
                "SELECT p.ID, p.USER, p.HOST, p.TIME FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(%s)",
                (name,),
            )
            if not rows:
                return "another session"
            conn_id, user, host, seconds = rows[0]
            return f"connection {conn_id} of {user} from {host} (connected {seconds} s)"

        return LockSpec("SELECT GET_LOCK(%s, 0)", "SELECT RELEASE_LOCK(%s)", (name,), f"the MySQL lock {name}", holder)
