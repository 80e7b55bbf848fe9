"""The driver conformance suite: every driver must pass every test here (SQLite always,
PostgreSQL and MariaDB on the local servers)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from migrund import sql
from migrund.dburl import parse_url
from migrund.drivers.base import driver_class, load_driver
from migrund.errors import LockTimeout, StatementFailed
from migrund.history import History
from migrund.lock import RunLock
from migrund.model import DirtyMarker, Migration, Step
from tests import servers
from tests.helpers import REPO


@pytest.fixture
def db(tmp_path, dialect):
    database = servers.create(dialect, tmp_path)
    yield database
    servers.drop(database)


@pytest.fixture
def driver(db, tmp_path):
    url = parse_url(db.url, tmp_path / "config")
    opened = load_driver(url, create=True)
    yield opened
    opened.close()


def run_script(driver, text: str) -> None:
    for statement in sql.split(text, driver.dialect):
        driver.execute(statement)


def test_transactional_ddl_is_what_the_driver_claims(driver, db):
    driver.begin()
    driver.execute("CREATE TABLE ddl_probe (id INTEGER)")
    driver.query("SELECT 1")  # sends what a driver may hold until the commit (MariaDB)
    driver.rollback()
    exists = "ddl_probe" in db.tables()
    assert exists is (not driver.transactional_ddl)


def test_transaction_commits_and_rolls_back_data(driver, db):
    driver.execute("CREATE TABLE t (id INTEGER)")
    with driver.transaction():
        driver.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError):
        with driver.transaction():
            driver.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("boom")
    assert db.rows("SELECT id FROM t") == [(1,)]


def test_errors_are_wrapped_with_the_statement(driver):
    with pytest.raises(StatementFailed) as caught:
        driver.execute("SELECT * FROM no_such_table_here")
    assert caught.value.statement == "SELECT * FROM no_such_table_here"
    assert "no_such_table_here" in caught.value.db_message
    assert caught.value.exit_code == 1


def test_table_exists(driver):
    assert not driver.table_exists("probe_table")
    driver.execute("CREATE TABLE probe_table (id INTEGER)")
    assert driver.table_exists("probe_table")


SCRIPTS = {
    "sqlite": (
        "CREATE TABLE c (n INTEGER); CREATE TABLE log (msg TEXT);\n"
        "CREATE TRIGGER c_log AFTER INSERT ON c BEGIN INSERT INTO log VALUES ('got; ' || NEW.n); END;\n"
        "INSERT INTO c VALUES (1); -- a comment; with a semicolon\n"
        "INSERT INTO log VALUES ('it''s; fine');",
        "SELECT msg FROM log ORDER BY msg",
        [("got; 1",), ("it's; fine",)],
    ),
    "postgresql": (
        "CREATE TABLE c (n INTEGER); CREATE TABLE log (msg TEXT);\n"
        "CREATE FUNCTION c_log() RETURNS trigger AS $body$\nBEGIN\n  INSERT INTO log VALUES ('got; ' || NEW.n);\n  RETURN NEW;\nEND;\n$body$ LANGUAGE plpgsql;\n"
        "CREATE TRIGGER c_log AFTER INSERT ON c FOR EACH ROW EXECUTE FUNCTION c_log();\n"
        "DO $$ BEGIN INSERT INTO c VALUES (1); END $$;\n"
        "/* nested /* comment; */ still */ INSERT INTO log VALUES (E'it\\'s; fine');",
        "SELECT msg FROM log ORDER BY msg",
        [("got; 1",), ("it's; fine",)],
    ),
    "mysql": (
        "CREATE TABLE c (n INTEGER); CREATE TABLE log (msg TEXT);\n"
        "CREATE TRIGGER c_log AFTER INSERT ON c FOR EACH ROW\nBEGIN\n  IF NEW.n > 0 THEN\n    INSERT INTO log VALUES (CONCAT('got; ', NEW.n));\n  END IF;\nEND;\n"
        "CREATE PROCEDURE add_c(IN k INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  WHILE i < k DO\n    SET i = i + 1;\n  END WHILE;\n  INSERT INTO c VALUES (i);\nEND;\n"
        "CALL add_c(1); # a comment; here\nINSERT INTO log VALUES ('it\\'s; fine');",
        "SELECT msg FROM log ORDER BY msg",
        [("got; 1",), ("it's; fine",)],
    ),
}


def test_statement_splitting_runs_real_bodies(driver, db):
    script, check, expected = SCRIPTS[driver.dialect]
    run_script(driver, script)
    assert db.rows(check) == expected


# No compound statement, block comment or dollar quote: the splitter's one-match-per-statement
# path. sqlite3 and PyMySQL refuse two statements in one call, so a wrong split fails there.
PLAIN_SCRIPTS = {
    "sqlite": "CREATE TABLE s (v TEXT, [odd;name] INTEGER);\n-- a note; with a semicolon\n"
              "INSERT INTO s VALUES ('a;b', 1); INSERT INTO s VALUES ('it''s; -- fine', 2)",
    "postgresql": "CREATE TABLE s (v TEXT, \"odd;name\" INTEGER);\n-- a note; with a semicolon\n"
                  "INSERT INTO s VALUES ('a;b', 1); INSERT INTO s VALUES (E'it\\'s; -- fine', 2)",
    "mysql": "CREATE TABLE s (v TEXT, `odd;name` INTEGER);\n# a note; with a semicolon\n"
             "INSERT INTO s VALUES ('a;b', 1); INSERT INTO s VALUES ('it\\'s; -- fine', 2)",
}


def test_plain_statements_split_for_the_real_engine(driver, db):
    run_script(driver, PLAIN_SCRIPTS[driver.dialect])
    assert db.rows("SELECT v FROM s ORDER BY v") == [("a;b",), ("it's; -- fine",)]


def test_history_round_trip(driver):
    history = History(driver)
    assert not history.exists()
    history.ensure()
    history.ensure()  # idempotent
    assert history.exists() and history.applied() == [] and history.dirty() is None
    migration = Migration(20250101000000, "first", "20250101000000_first.yaml", "yaml", "the first", (), False, False, True,
                          (Step("sql", "SELECT 1"),), None, "a" * 64, {"20250101000000_first.yaml": "up: ünïcode ✓\n"})
    with driver.transaction():
        history.record_applied(migration, 12)
    rows = history.applied()
    assert [(r.version, r.name, r.checksum, r.execution_ms, r.seq) for r in rows] == [(20250101000000, "first", "a" * 64, 12, 1)]
    assert rows[0].applied_at.endswith("Z")
    assert history.body(20250101000000)["files"] == {"20250101000000_first.yaml": "up: ünïcode ✓\n"}
    history.set_dirty(20250101000000, "down", 1)
    assert history.dirty() == DirtyMarker(20250101000000, "down", 1)
    history.set_dirty(20250101000000, "down", 2)
    assert history.dirty() == DirtyMarker(20250101000000, "down", 2)
    with driver.transaction():
        history.clear_dirty()
        history.record_rolled_back(20250101000000, "first", "rollback")
    assert history.applied() == [] and history.dirty() is None
    assert [r["version"] for r in history.rollbacks()] == [20250101000000]


LOCKER = """
import sys, time
from pathlib import Path
from migrund.dburl import parse_url
from migrund.drivers.base import driver_class
url = parse_url(sys.argv[1], Path('.'))
lock = driver_class(url.dialect).advisory_lock(url, None)
assert lock.try_take()
print('locked', flush=True)
time.sleep(60)
"""


def test_advisory_lock_excludes_and_dies_with_its_process(db, tmp_path, dialect):
    if dialect == "sqlite":
        pytest.skip("SQLite has no advisory lock; the file lock covers it")
    url = parse_url(db.url, tmp_path)
    cls = driver_class(dialect)
    assert "advisory_lock" in cls.capabilities
    first = cls.advisory_lock(url, None)
    assert first.try_take() and first.try_take(), "taking a held lock again is a no-op"
    second = cls.advisory_lock(url, None)
    assert not second.try_take()
    if dialect == "postgresql":
        assert "migrund pid" in second.holder(), "the holder's application name is shown"
    # the run lock waits for it in its loop and names the holder
    waits: list[str] = []
    run_lock = RunLock(tmp_path / "run.lock", lambda: cls.advisory_lock(url, None), waits.append)
    started = time.monotonic()
    with pytest.raises(LockTimeout) as caught:
        run_lock.acquire(time.monotonic() + 0.5)
    assert 0.4 < time.monotonic() - started < 5
    assert "held by" in str(caught.value) and waits and "held by" in waits[0] and first.what in waits[0]
    assert not run_lock.file.is_held_elsewhere() and run_lock.database is None, "a failed wait lets go of the lock file too"
    first.release()
    assert second.try_take()
    second.release()
    # a holder that dies with kill -9 releases the lock with its connection
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", LOCKER, db.url], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        probe = cls.advisory_lock(url, None)
        try:
            assert not probe.try_take()
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            deadline = time.monotonic() + 10
            while not probe.try_take() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert probe.held, "the lock went with its holder's connection"
        finally:
            probe.release()
    finally:
        holder.kill()
        holder.wait()


def test_postgresql_schema_holds_migrund_tables(db, tmp_path, dialect):
    if dialect != "postgresql":
        pytest.skip("database.schema is a PostgreSQL setting")
    driver = load_driver(parse_url(db.url, tmp_path), create=True, schema="ops")
    try:
        history = History(driver)
        history.ensure()
        assert db.rows("SELECT table_schema, table_name FROM information_schema.tables WHERE table_name = 'migrund_history'") == [("ops", "migrund_history")]
    finally:
        driver.close()


def test_the_driver_keeps_the_contract_it_declares(driver):
    """A runtime check of the protocol, and every declared capability backed by its own methods."""
    from migrund.drivers.contract import CAPABILITIES, Driver
    from migrund.drivers.dbapi import DbApiDriver

    assert isinstance(driver, Driver)
    assert driver.capabilities <= set(CAPABILITIES), f"unknown capabilities: {driver.capabilities - set(CAPABILITIES)}"
    for capability in driver.capabilities:
        for method in CAPABILITIES[capability]:
            own = getattr(type(driver), method)
            inherited = getattr(DbApiDriver, method, None)
            # verify_native may stay the base's no-op where the engine's own writer checks the file
            assert own is not inherited or method == "verify_native", f"{capability} declared but {method} is the default"
    assert {"native_backup", "json_backup"} <= driver.capabilities, "every built-in engine backs up both ways"


@pytest.mark.parametrize("fmt", ["native", "json"])
def test_backup_and_restore_bring_back_the_data(driver, db, tmp_path, fmt):
    """Back up, change everything, restore: the tables and rows are those of the backup, nothing else."""
    run_script(driver, "CREATE TABLE kept (id INTEGER PRIMARY KEY, name VARCHAR(20));"
                       " INSERT INTO kept VALUES (1, 'one'); INSERT INTO kept VALUES (2, 'ünï');")
    archive = tmp_path / f"backup.{fmt}"
    if fmt == "native":
        driver.backup_native(archive)
        driver.verify_native(archive)
    else:
        document = driver.dump_json()
    run_script(driver, "DELETE FROM kept WHERE id = 1; CREATE TABLE added_later (id INTEGER)")
    if fmt == "native":
        driver.restore_native(archive)
    else:
        driver.restore_json(document)
    assert sorted(db.rows("SELECT id, name FROM kept")) == [(1, "one"), (2, "ünï")]
    assert "added_later" not in db.tables()


def test_a_cut_short_native_backup_is_refused_by_verify(driver, tmp_path):
    """What a full disk or a killed client leaves must not pass as a backup."""
    if driver.dialect == "sqlite":
        pytest.skip("SQLite's backup API writes the file itself: there is no client output to cut")
    from migrund.errors import OperationFailed

    run_script(driver, "CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1)")
    archive = tmp_path / "backup.native"
    driver.backup_native(archive)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(OperationFailed):
        driver.verify_native(archive)


def test_a_failed_write_takes_its_whole_transaction_back(driver, db):
    driver.execute("CREATE TABLE once (id INTEGER PRIMARY KEY)")
    with pytest.raises(StatementFailed):
        with driver.transaction():
            driver.execute("INSERT INTO once (id) VALUES (1)")
            driver.execute("INSERT INTO once (id) VALUES (2)")
            driver.execute("INSERT INTO once (id) VALUES (1)")
    assert db.rows("SELECT id FROM once") == [] and not driver.in_transaction
    driver.execute("INSERT INTO once (id) VALUES (3)")  # autocommitted: no transaction was left open
    assert db.rows("SELECT id FROM once") == [(3,)]


def test_reads_inside_a_transaction_see_its_writes(driver, db):
    driver.execute("CREATE TABLE seen (id INTEGER PRIMARY KEY)")
    with driver.transaction():
        driver.execute("INSERT INTO seen (id) VALUES (%s)" if driver.placeholder == "%s" else "INSERT INTO seen (id) VALUES (?)", (1,))
        assert driver.query("SELECT COUNT(*) FROM seen") == [(1,)]
        driver.execute("INSERT INTO seen (id) VALUES (2)")
    assert db.rows("SELECT id FROM seen ORDER BY id") == [(1,), (2,)]


def test_mariadb_sends_a_bookkeeping_transaction_in_one_round_trip(tmp_path):
    db = servers.create("mysql", tmp_path)
    driver = load_driver(parse_url(db.url, tmp_path / "config"), create=False)
    try:
        driver.execute("CREATE TABLE marks (id INTEGER PRIMARY KEY, s TEXT)")

        def statements_sent() -> int:
            return int(driver.query("SHOW SESSION STATUS LIKE 'Questions'")[0][1])

        before = statements_sent()
        with driver.transaction():
            for n in range(1, 6):
                driver.execute("INSERT INTO marks (id, s) VALUES (%s, %s)", (n, "it's; a \\ test %s"))
        # the compound statement, then this SHOW: the five writes and their COMMIT rode in one
        assert statements_sent() - before == 2
        assert db.rows("SELECT COUNT(*), MIN(s) FROM marks") == [(5, "it's; a \\ test %s")]
    finally:
        driver.close()
        servers.drop(db)
