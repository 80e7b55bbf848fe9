"""The edges an operator gets wrong: each ends in one clear error, the documented exit code, nothing changed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import Project, clean_env

GOOD = "up:\n  - sql: CREATE TABLE good (id INTEGER)\ndown:\n  - sql: DROP TABLE good\n"
V1 = 20250101000000


def _applied(project: Project) -> Project:
    project.write(f"{V1}_good.yaml", GOOD)
    assert project.run("apply").code == 0
    return project


def _config_text(project: Project) -> str:
    return (project.root / "config" / "migrund.yaml").read_text()


# -- places migrund writes ----------------------------------------------------------------

PLACES = [
    ("lock:\n  path: ../data/app.db\n", "lock.path", "the database file"),
    ("daemon:\n  status_file: ../data/app.db\n", "daemon.status_file", "the database file"),
    ("daemon:\n  status_file: ../data/app.db-wal\n", "daemon.status_file", "the database file"),
    ("daemon:\n  status_file: ../migrations/status.json\n", "daemon.status_file", "inside the migrations folder"),
    ("lock:\n  path: ../migrations/20250101000000_good.yaml\n", "lock.path", "inside the migrations folder"),
    ("lock:\n  path: migrund.yaml\n", "lock.path", "the config file"),
    ("lock:\n  path: ../data/same\ndaemon:\n  status_file: ../data/same\n", "daemon.status_file", "also lock.path"),
    ("backup:\n  dir: ../migrations\n", "backup.dir", "overlaps the migrations folder"),
    ("backup:\n  dir: ../migrations/old\n", "backup.dir", "overlaps the migrations folder"),
]


@pytest.mark.parametrize("extra,key,why", PLACES, ids=[p[1] + "-" + p[2].split()[-1] + str(i) for i, p in enumerate(PLACES)])
def test_a_file_migrund_writes_on_the_database_or_the_migrations_is_a_config_error(sqlite_project, extra, key, why):
    project = _applied(sqlite_project)
    before = project.db_path.read_bytes()
    migration = (project.migrations / f"{V1}_good.yaml").read_bytes()
    project.configure(extra)
    for command in (["status"], ["apply"], ["validate"], ["backup"], ["rollback"], ["daemon"]):
        result = project.run(*command, timeout=20)
        assert result.code == 2, (command, result.err)
        assert key in result.err and why in result.err, (command, result.err)
    assert project.db_path.read_bytes() == before
    assert (project.migrations / f"{V1}_good.yaml").read_bytes() == migration


def test_a_lock_path_that_is_a_symlink_to_the_database_is_a_config_error(sqlite_project):
    project = _applied(sqlite_project)
    before = project.db_path.read_bytes()
    os.symlink(project.db_path, project.root / "data" / "innocent.lock")
    project.configure("lock:\n  path: ../data/innocent.lock\n")
    result = project.run("apply")
    assert result.code == 2 and "the database file" in result.err
    assert project.db_path.read_bytes() == before


# -- what is read from the migrations folder -------------------------------------------------

@pytest.mark.parametrize("reference", ["hooks/h.py", "", ":up", ".:up", "hooks/h\\0.py:up", "hooks/h.py:"])
def test_a_hook_reference_without_a_function_is_a_validation_error(sqlite_project, reference):
    project = _applied(sqlite_project)
    project.write("hooks/h.py", "def up(conn, ctx):\n    pass\n")
    project.write("20250102000000_hooked.yaml", f'up:\n  - python: "{reference}"\n')
    before = project.snapshot()
    for command in (["validate"], ["status"], ["apply"], ["plan"], ["reconcile"]):
        result = project.run(*command)
        assert result.code == 2, (command, result.err)
        assert "20250102000000_hooked.yaml" in result.err and "FILE.py:FUNCTION" in result.err, result.err
        assert "internal error" not in result.err
    assert project.snapshot() == before


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_special_file_named_like_a_migration_is_reported_not_opened(sqlite_project, kind):
    import socket

    project = _applied(sqlite_project)
    path = project.migrations / "20250102000000_special.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        sock = socket.socket(socket.AF_UNIX)
        here = os.getcwd()
        os.chdir(path.parent)  # bound by a relative name: the full path may pass AF_UNIX's 108 bytes
        try:
            sock.bind(path.name)
        finally:
            os.chdir(here)
    for command in (["validate"], ["status"], ["apply"]):
        result = project.run(*command, timeout=20)  # a blocking open would time out here
        assert result.code == 2, (command, result.err)
        assert "20250102000000_special.yaml" in result.err and "not a regular file" in result.err


def test_a_fifo_in_the_folder_does_not_hang_the_daemon_and_sigterm_stops_it(sqlite_project):
    import signal
    import time

    project = _applied(sqlite_project)
    os.mkfifo(project.migrations / "20250102000000_special.yaml")
    project.configure("daemon:\n  debounce_seconds: 0.1\n  rescan_seconds: 0.5\n")
    proc = subprocess.Popen([sys.executable, "-m", "migrund", "daemon"], cwd=project.root, env=clean_env(project.state_home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        status = project.root / "data" / "status.json"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if status.exists() and json.loads(status.read_text() or "{}").get("state") == "blocked":
                break
            time.sleep(0.1)
        doc = json.loads(status.read_text())
        assert doc["state"] == "blocked" and "not a regular file" in doc["last_error"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize("ext", ["py", "yaml"])
def test_a_migration_symlinked_from_outside_the_folder_is_refused_and_never_run(sqlite_project, tmp_path, ext):
    project = _applied(sqlite_project)
    outside = tmp_path / f"elsewhere.{ext}"
    canary = tmp_path / "CANARY"
    if ext == "py":
        outside.write_text(f"open({str(canary)!r}, 'w').close()\ndef up(conn, ctx):\n    open({str(canary)!r}, 'w').close()\n")
    else:
        outside.write_text("up:\n  - sql: CREATE TABLE outside (id INTEGER)\n")
    os.symlink(outside, project.migrations / f"20250102000000_linked.{ext}")
    before = project.snapshot()
    for command in (["validate"], ["status"], ["apply"], ["reconcile"]):
        result = project.run(*command)
        assert result.code == 2 and "leading outside the migrations folder" in result.err, (command, result.err)
    assert not canary.exists()
    assert project.snapshot() == before


def test_a_symlink_to_a_file_inside_the_folder_is_still_a_migration(sqlite_project):
    project = _applied(sqlite_project)
    (project.migrations / "archive").mkdir()
    project.write("archive/second.yaml", "up:\n  - sql: CREATE TABLE second (id INTEGER)\n")
    os.symlink(project.migrations / "archive" / "second.yaml", project.migrations / "20250102000000_second.yaml")
    assert project.run("apply").code == 0
    assert "second" in project.tables()


ARABIC = "٢٠٢٥٠١٠١٠٠٠٠٠٠"  # 20250101000000 in Arabic-Indic digits


def test_versions_accept_ascii_digits_only(sqlite_project):
    project = _applied(sqlite_project)
    project.write("20250102000000_second.yaml", GOOD.replace("good", "second"))
    before = project.snapshot()
    for command in (["apply", "--to", ARABIC], ["plan", "--to", ARABIC], ["rollback", "--to", ARABIC], ["check-safety", ARABIC],
                    ["repair", ARABIC, "--applied"]):
        result = project.run(*command)
        assert result.code == 2 and "is not a version" in result.err, (command, result.err)
    assert project.snapshot() == before
    project.write(f"{ARABIC}_foreign.yaml", GOOD.replace("good", "foreign"))
    result = project.run("apply")
    assert result.code == 2 and f"{ARABIC}_foreign.yaml" in result.err and "bad version" in result.err
    assert "foreign" not in project.tables()


def test_duplicate_keys_are_an_error_naming_key_and_line(sqlite_project):
    project = _applied(sqlite_project)
    project.write("20250102000000_twice.yaml", "up:\n  - sql: CREATE TABLE a (id INTEGER)\nup:\n  - sql: SELECT 1\n")
    result = project.run("validate")
    assert result.code == 2 and "duplicate key 'up'" in result.err and "line 3" in result.err
    (project.migrations / "20250102000000_twice.yaml").unlink()
    config = project.root / "config" / "migrund.yaml"
    config.write_text(_config_text(project) + "target: latest\ntarget: 0\n")
    for command in ("status", "validate", "apply"):
        result = project.run(command)
        assert result.code == 2 and "duplicate key 'target'" in result.err and config.name in result.err, result.err
    assert project.applied() == [V1]


# -- output ---------------------------------------------------------------------------------

def _closed_pipe_run(project: Project, *args: str) -> subprocess.CompletedProcess:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte: like `| head -0`
    try:
        return subprocess.run([sys.executable, "-m", "migrund", *args], cwd=project.root, env=clean_env(project.state_home),
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write)


def test_writing_into_a_closed_pipe_exits_quietly(sqlite_project):
    project = _applied(sqlite_project)
    for args, code in ((["history"], 0), (["status"], 0), (["--json", "history"], 0), (["--json", "plan", "--to", "20990101000000"], 2),
                       (["--json", "status", "--check"], 0)):
        proc = _closed_pipe_run(project, *args)
        assert proc.returncode == code, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr


def _error_document(result) -> dict:
    doc = result.json
    assert set(doc) == {"error"}, doc
    assert set(doc["error"]) == {"exit_code", "kind", "message", "file", "line", "key", "version"}
    assert doc["error"]["exit_code"] == result.code
    return doc["error"]


def test_json_prints_an_error_document_on_every_failure(sqlite_project):
    project = _applied(sqlite_project)
    # a refusal without a document of its own
    error = _error_document(project.run("--json", "apply", "--to", "20990101000000"))
    assert error["kind"] == "unknown_version" and error["version"] == 20990101000000
    # an invalid migration file
    project.write("20250102000000_bad.yaml", "up: []\n")
    error = _error_document(project.run("--json", "apply"))
    assert error["kind"] == "invalid_migration" and "20250102000000_bad.yaml" in error["message"]
    (project.migrations / "20250102000000_bad.yaml").unlink()
    # a refused destructive rollback
    project.write(f"{V1}_good.yaml", "data_destructive: true\n" + GOOD)
    result = project.run("--json", "rollback", "--from-history")
    assert result.code == 0  # stored body: not destructive as applied
    project.write(f"{V1}_good.yaml", "data_destructive: true\n" + GOOD)
    assert project.run("apply").code == 0
    result = project.run("--json", "rollback")
    error = _error_document(result)
    assert result.code == 4 and error["kind"] == "refused_destructive" and error["version"] == V1
    # a usage error
    result = project.run("--json", "rollback", "--steps", "x")
    assert result.code == 2 and _error_document(result)["kind"] == "usage"
    # a config error
    (project.root / "config" / "migrund.yaml").write_text(_config_text(project) + "colour: blue\n")
    error = _error_document(project.run("--json", "status"))
    assert error["kind"] == "config" and "colour" in error["message"]


def test_json_error_document_for_a_lock_timeout(sqlite_project):
    import fcntl

    project = _applied(sqlite_project)
    lock = project.root / "data" / "migrund.lock"
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = project.run("--json", "--lock-timeout", "0.2", "rollback")
    assert result.code == 3 and _error_document(result)["kind"] == "lock_timeout"


def test_json_error_document_for_an_unreachable_database(sqlite_project):
    project = _applied(sqlite_project)
    project.url = "postgresql://nobody:pw@127.0.0.1:9/nowhere"
    project.configure()
    result = project.run("--json", "status")
    assert result.code == 1 and _error_document(result)["kind"] == "unreachable"


def test_rollback_to_a_version_with_nothing_applied_is_exit_0(sqlite_project):
    project = sqlite_project
    project.write(f"{V1}_good.yaml", GOOD)
    result = project.run("rollback", "--to", str(V1))
    assert result.code == 0, result.err
    assert project.run("rollback", "--to", "20990101000000").code == 2


def test_a_missing_restore_file_is_exit_2(sqlite_project):
    project = _applied(sqlite_project)
    result = project.run("--json", "restore", "no-such-backup.sqlite3")
    assert result.code == 2 and "no-such-backup.sqlite3" in result.err
    assert _error_document(result)["file"].endswith("no-such-backup.sqlite3")


def test_files_migrund_writes_are_private(sqlite_project):
    project = _applied(sqlite_project)
    assert project.run("backup").code == 0
    written = [project.root / "data" / "migrund.lock"]
    written += list((project.state_home / "migrund" / "cache").rglob("*"))  # files and shard folders
    written += [p for p in (project.root / "backups").iterdir()]
    assert len(written) > 3
    for path in written:
        assert path.stat().st_mode & 0o077 == 0, path


def test_the_validation_cache_holds_no_password(sqlite_project):
    project = _applied(sqlite_project)
    project.configure("database:\n  url: " + project.url + "?password=Cache-Canary-77\n")
    assert project.run("status").code == 0
    cached = [p for p in (project.state_home / "migrund" / "cache").rglob("*") if p.is_file()]
    assert cached
    for path in cached:
        assert "Cache-Canary-77" not in path.read_text(), path


# -- backups ---------------------------------------------------------------------------------

def _future_dated(project: Project, count: int) -> list:
    made = []
    for _ in range(count):
        path = project.root / project.run("backup").out.strip()
        sidecar = path.with_name(path.name + ".meta.json")
        meta = json.loads(sidecar.read_text())
        meta["created_at"] = "2099-01-01T00:00:00Z"
        sidecar.write_text(json.dumps(meta))
        made.append(path)
    return made


def test_pruning_never_deletes_the_backup_it_has_just_written_whatever_the_clock(sqlite_project):
    project = _applied(sqlite_project)
    project.configure("backup:\n  keep: 2\n")
    _future_dated(project, 2)
    result = project.run("rollback")
    assert result.code == 0, result.err
    written = [line.split(": ", 1)[1] for line in result.out.splitlines() if line.startswith("backup written")]
    assert len(written) == 1 and os.path.exists(written[0]), result.out
    listed = project.run("--json", "backups").json
    assert len(listed) == 2 and written[0] in [b["path"] for b in listed]


def test_a_shared_backup_folder_prunes_each_database_by_itself(tmp_path):
    first = Project(tmp_path / "first")
    second = Project(tmp_path / "second")
    shared = tmp_path / "shared-backups"
    for project, keep in ((first, 1), (second, 3)):
        project.configure(f"backup:\n  dir: {shared}\n  keep: {keep}\n")
        _applied(project)
    theirs = [second.root / second.run("backup").out.strip() for _ in range(3)]
    for _ in range(3):
        assert first.run("backup").code == 0
    assert all(p.exists() for p in theirs), "the first database's keep: 1 took the second's backups"
    assert len(first.run("--json", "backups").json) == 1 + 3


def test_restoring_a_backup_of_another_database_needs_force(tmp_path):
    first = _applied(Project(tmp_path / "first"))
    second = _applied(Project(tmp_path / "second"))
    theirs = first.root / first.run("backup").out.strip()
    second.db.execute("INSERT INTO good VALUES (42)")
    before = second.snapshot()
    refused = second.run("restore", str(theirs))
    assert refused.code == 4 and "another database" in refused.err and "--force" in refused.err
    assert second.snapshot() == before
    assert second.run("restore", str(theirs), "--force").code == 0
    assert second.db.rows("SELECT count(*) FROM good") == [(0,)]


def test_a_sidecar_that_does_not_match_its_file_is_refused(sqlite_project):
    project = _applied(sqlite_project)
    path = project.root / project.run("backup").out.strip()
    sidecar = path.with_name(path.name + ".meta.json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "format": "json"}))
    before = project.snapshot()
    result = project.run("restore", str(path))
    assert result.code == 4 and "do not belong together" in result.err
    assert "internal error" not in result.err
    assert project.snapshot() == before


# -- hooks and the migration's transaction ------------------------------------------------------

TX_HOOKS = """\
def commit(conn, ctx):
    conn.commit()


def rollback(conn, ctx):
    conn.rollback()


def statement(conn, ctx):
    cur = conn.cursor()
    cur.execute("SELECT 1; COMMIT" if ctx.dialect == "postgresql" else "COMMIT")


def begin(conn, ctx):
    cur = conn.cursor()
    cur.execute("/* sneaky */ BEGIN")


def autocommit(conn, ctx):
    if ctx.dialect == "mysql":
        conn.autocommit(True)
    else:
        conn.autocommit = True


def context(conn, ctx):
    with conn:
        pass


def savepoint(conn, ctx):
    cur = conn.cursor()
    cur.execute("SAVEPOINT inner_sp")
    cur.execute("INSERT INTO kept VALUES (2)")
    cur.execute("ROLLBACK TO SAVEPOINT inner_sp")
    cur.execute("RELEASE SAVEPOINT inner_sp")
"""


@pytest.mark.parametrize("variant", ["commit", "rollback", "statement", "begin", "autocommit", "context"])
def test_a_hook_cannot_end_the_migrations_transaction(project, variant):
    project.write("hooks/tx.py", TX_HOOKS)
    project.write(f"{V1}_kept.yaml", "up:\n  - sql: CREATE TABLE kept (id INTEGER)\n")
    assert project.run("apply").code == 0
    project.write("20250102000000_hooked.yaml", f"up:\n  - sql: INSERT INTO kept VALUES (1)\n  - python: hooks/tx.py:{variant}\n")
    result = project.run("apply")
    assert result.code == 1, result.err
    assert "TransactionControlRefused" in result.err and "a hook must not" in result.err, result.err
    if project.dialect == "mysql":  # DDL commits there: every migration runs under the dirty protocol
        assert project.db.dirty() is not None
    else:  # the promise: a failed migration leaves no trace
        assert project.db.rows("SELECT count(*) FROM kept") == [(0,)]
        assert project.applied() == [V1]


def test_a_hook_may_use_savepoints(project):
    if project.dialect == "mysql":
        pytest.skip("on MySQL/MariaDB a hook runs outside a transaction (the dirty protocol): no savepoints there")
    project.write("hooks/tx.py", TX_HOOKS)
    project.write(f"{V1}_kept.yaml", "up:\n  - sql: CREATE TABLE kept (id INTEGER)\n")
    project.write("20250102000000_hooked.yaml", "up:\n  - python: hooks/tx.py:savepoint\n")
    result = project.run("apply")
    assert result.code == 0, result.err
    assert project.db.rows("SELECT count(*) FROM kept") == [(0,)]


def test_a_refused_postgresql_connection_keeps_the_servers_reason(tmp_path):
    project = Project(tmp_path / "proj")
    project.url = "postgresql://postgres@127.0.0.1:9/nowhere"
    project.configure()
    result = project.run("status")
    assert result.code == 1 and "Connection refused" in result.err, result.err
    project.url = "postgresql://postgres@127.0.0.1:5432/migrund_no_such_database"
    project.configure()
    result = project.run("status")
    assert result.code == 1 and 'database "migrund_no_such_database" does not exist' in result.err, result.err


HOOK_LOGS = """\
def talk(conn, ctx):
    ctx.log.info("chatty hook line")
    ctx.log.warning("hook warning line")
"""


def test_quiet_silences_hook_logging_but_not_its_warnings(sqlite_project):
    project = sqlite_project
    project.write("hooks/talk.py", HOOK_LOGS)
    project.write(f"{V1}_talk.yaml", "up:\n  - python: hooks/talk.py:talk\ndown:\n  - python: hooks/talk.py:talk\n")
    quiet = project.run("-q", "apply")
    assert quiet.code == 0 and "chatty hook line" not in quiet.err and "hook warning line" in quiet.err
    loud = project.run("rollback")
    assert loud.code == 0 and "chatty hook line" in loud.err


def test_a_failed_non_transactional_migration_says_what_was_committed(project):
    project.write(f"{V1}_base.yaml", "up:\n  - sql: CREATE TABLE base (id INTEGER)\n")
    project.write("20250102000000_half.yaml",
                  "transaction: false\nup:\n  - sql: INSERT INTO base VALUES (1)\n  - sql: INSERT INTO nowhere VALUES (1)\n")
    result = project.run("apply")
    assert result.code == 1
    assert "failed at step 2 outside a transaction (1 of its steps committed): the database is dirty" in result.out, result.out
    assert "nothing done" not in result.out and "steps 1-1 of it were committed" in result.err
    doc = project.run("--json", "status").json
    assert doc["dirty"] == {"version": 20250102000000, "direction": "up", "step": 2}


@pytest.mark.skipif(os.geteuid() != 0, reason="strict_permissions applies only when running as root")
def test_strict_permissions_bind_what_runs_not_what_only_reads(sqlite_project):
    # In a container, files of an unmapped user show as another uid: reading them is no risk.
    project = _applied(sqlite_project)
    project.write("20250102000000_foreign.yaml", GOOD.replace("good", "foreign"))
    os.chown(project.migrations / "20250102000000_foreign.yaml", 65534, 65534)
    for command in (["status"], ["validate"], ["plan"], ["verify"]):
        result = project.run(*command)
        assert result.code == 0 and "owned by another user" in result.err, (command, result.err)
    for command in (["apply"], ["reconcile"], ["rollback"]):
        result = project.run(*command)
        assert result.code == 4 and "safety.strict_permissions" in result.err, (command, result.err)
    assert project.applied() == [V1]


@pytest.mark.server
def test_mariadb_a_statement_left_running_by_a_killed_runner_is_stopped_before_repair(tmp_path):
    import signal
    import time

    from tests import servers

    db = servers.create("mysql", tmp_path / "proj")
    try:
        project = Project(tmp_path / "proj", db=db)
        project.write(f"{V1}_t.yaml", "up:\n  - sql: CREATE TABLE t (v INTEGER)\n")
        assert project.run("apply").code == 0
        project.write("20250102000000_slow.yaml", "up:\n  - sql: INSERT INTO t (v) SELECT SLEEP(4)\n")
        proc = subprocess.Popen([sys.executable, "-m", "migrund", "apply"], cwd=project.root, env=clean_env(project.state_home),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not db.rows("SELECT 1 FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO t%%'"):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        status = project.run("--json", "status")
        assert status.json["dirty"] is None and "still running on the server" in status.err, status.err
        repaired = project.run("repair", "20250102000000", "--rolled-back")
        assert repaired.code == 0, repaired.err
        assert "stopping it" in repaired.err
        time.sleep(5)  # past the statement's own end: a statement still running would have inserted its row by now
        assert db.rows("SELECT count(*) FROM t") == [(0,)]
    finally:
        servers.drop(db)


# -- portable (JSON) backups give back exactly what they saved -------------------------------------

SQLITE_ODD = """\
up:
  - sql: |
      CREATE TABLE counted (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
      CREATE TABLE shaped (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c TEXT GENERATED ALWAYS AS (a || '!') STORED);
      CREATE VIRTUAL TABLE docs USING fts5(title, body);
      INSERT INTO counted (v) VALUES ('a'), ('b'), ('c');
      DELETE FROM counted WHERE v = 'c';
      INSERT INTO shaped (a) VALUES (1), (21);
      INSERT INTO docs (title, body) VALUES ('first', 'hello world'), ('second', 'lorem ipsum');
"""


def _sqlite_state(project: Project) -> tuple:
    rows = project.db.rows
    return (rows("SELECT * FROM counted ORDER BY id"), rows("SELECT a, b, c FROM shaped ORDER BY a"),
            rows("SELECT name, seq FROM sqlite_sequence ORDER BY name"),
            rows("SELECT title FROM docs WHERE docs MATCH 'hello'"), rows("SELECT title, body FROM docs ORDER BY title"))


def test_sqlite_json_backups_round_trip_generated_columns_fts5_and_sequences(sqlite_project):
    project = sqlite_project
    project.write(f"{V1}_odd.yaml", SQLITE_ODD)
    assert project.run("apply").code == 0
    before = _sqlite_state(project)
    path = project.run("backup", "--format", "json").out.strip()
    project.db.execute("INSERT INTO counted (v) VALUES ('later')")
    restored = project.run("restore", path)
    assert restored.code == 0, restored.err
    assert _sqlite_state(project) == before
    project.db.execute("INSERT INTO counted (v) VALUES ('next')")
    assert project.db.rows("SELECT max(id) FROM counted") == [(4,)], "AUTOINCREMENT continues past the deleted row"


def test_sqlite_json_backup_refuses_what_it_could_not_restore(sqlite_project):
    project = sqlite_project
    project.write(f"{V1}_ext.yaml", "up:\n  - sql: |\n      CREATE TABLE src (body TEXT);\n"
                  "      CREATE VIRTUAL TABLE idx USING fts5(body, content='src');\n")
    assert project.run("apply").code == 0
    result = project.run("backup", "--format", "json")
    assert result.code == 1 and "idx" in result.err and "native" in result.err
    assert not list((project.root / "backups").glob("*.json*"))


PG_ODD = """\
up:
  - sql: |
      CREATE TABLE odd (
        id integer PRIMARY KEY,
        j jsonb, js json, iv interval, ts timestamp, tz timestamptz, d date, t time, tt timetz,
        n numeric, f float8, r real, m money, ip inet, rng int4range, arr text[], bits bit varying(8), x xml,
        g integer GENERATED ALWAYS AS (id * 10) STORED
      );
      INSERT INTO odd (id, j, js, iv, ts, tz, d, t, tt, n, f, r, m, ip, rng, arr, bits, x) VALUES
        (1, 'null', 'null', '1 mon 35 days', 'infinity', '-infinity', 'infinity', '24:00', '24:00+02', 'NaN', 'NaN', 'Infinity',
         '12.34', '10.0.0.1/8', '[1,5)', ARRAY['a', NULL, 'c'], B'101', '<a>x</a>'),
        (2, NULL, NULL, '-1 year 2 mons -3 days 04:05:06.789', '2025-01-02 03:04:05.678901', '2025-06-01 12:00+05:30', '4713-01-01 BC',
         '00:00', '12:34:56.789-07', '123456789012345678901234567890.123456789', 0.1, -0.0, '-0.01', '::1', 'empty', '{}', B'', NULL);
"""


def _json_round_trip(tmp_path, dialect: str, migration: str, query: str) -> None:
    """Apply ``migration``, take a JSON backup, empty the table, restore: ``query`` reads the same before and after."""
    from tests import servers

    db = servers.create(dialect, tmp_path / "proj")
    try:
        project = Project(tmp_path / "proj", db=db)
        project.write(f"{V1}_odd.yaml", migration)
        applied = project.run("apply")
        assert applied.code == 0, applied.err
        before = db.rows(query)
        path = project.run("backup", "--format", "json")
        assert path.code == 0, path.err
        db.execute("DELETE FROM odd")
        restored = project.run("restore", path.out.strip())
        assert restored.code == 0, restored.err
        assert db.rows(query) == before
    finally:
        servers.drop(db)


def test_postgresql_json_backups_round_trip_every_odd_value(tmp_path):
    _json_round_trip(tmp_path, "postgresql", PG_ODD, "SELECT row_to_json(o)::text, j IS NULL, js IS NULL FROM odd o ORDER BY id")


# -- children ---------------------------------------------------------------------------------------

def test_a_client_program_dies_with_migrund_even_on_kill_9(tmp_path):
    # What pg_dump, psql and mariadb get: a killed migrund never leaves one writing on its own.
    import signal
    import time

    marker = tmp_path / "started"
    script = (
        "from migrund.drivers.dbapi import run_client\n"
        f"open({str(marker)!r}, 'w').close()\n"
        "run_client(['sleep', '60'], env_extra={}, what='sleep')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=clean_env(tmp_path))
    deadline = time.monotonic() + 20
    child = None
    while time.monotonic() < deadline and child is None:
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and open(f"/proc/{pid}/stat").read().split()[3] == str(proc.pid):
                    child = int(pid)
            except OSError:
                pass
        time.sleep(0.05)
    assert child is not None, "the client program never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists(f"/proc/{child}"):
        with open(f"/proc/{child}/stat") as handle:
            if handle.read().split()[2] == "Z":
                break  # killed, waiting to be reaped
        time.sleep(0.05)
    else:
        assert not os.path.exists(f"/proc/{child}"), "the client program outlived migrund"


@pytest.mark.server
def test_postgresql_schema_public_and_unset_take_the_same_advisory_lock(tmp_path):
    import time

    from tests import servers
    from tests.helpers import second_host

    db = servers.create("postgresql", tmp_path / "one")
    try:
        first = Project(tmp_path / "one", db=db)
        first.configure("database:\n  schema: public\n")
        first.write(f"{V1}_slow.yaml", "up:\n  - sql: SELECT pg_sleep(4)\n")
        second = second_host(first, "two")  # its own lock file: only the database's lock can keep them apart
        second.configure()
        proc = subprocess.Popen([sys.executable, "-m", "migrund", "apply"], cwd=first.root, env=clean_env(first.state_home),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not db.rows("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%'"):
            time.sleep(0.05)
        result = second.run("apply", "--lock-timeout", "0.5")
        assert result.code == 3 and "advisory lock" in result.err, result.err
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        assert second.run("apply").code == 0
        assert first.applied() == [V1]
    finally:
        servers.drop(db)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB file system (tmpfs), or a skip where mounting is not allowed."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_while_a_backup_is_written_is_a_clear_failure(project, tiny_disk):
    import secrets

    project.configure(f"backup:\n  dir: {tiny_disk / 'backups'}\n")
    project.write(f"{V1}_big.yaml", "up:\n  - sql: CREATE TABLE big (id INTEGER PRIMARY KEY, v VARCHAR(400))\n")
    assert project.run("apply").code == 0
    for chunk in range(8):  # about 800 KB of hex: over 256 KiB even gzip-compressed
        rows = ", ".join(f"({chunk * 500 + n}, '{secrets.token_hex(100)}')" for n in range(500))
        project.db.execute(f"INSERT INTO big (id, v) VALUES {rows}")
    for fmt in ("native", "json"):
        result = project.run("backup", "--format", fmt)
        assert result.code == 1, (fmt, result.out, result.err)
        assert "backup" in result.err and "internal error" not in result.err, result.err
        assert project.run("--json", "backups").json == []
        assert not [p for p in (tiny_disk / "backups").iterdir() if p.name.endswith(".tmp")], "a failed backup left its temp file"


def test_a_sidecar_that_cannot_be_written_fails_the_backup_and_changes_nothing(sqlite_project):
    project = _applied(sqlite_project)
    target = project.root / "copy.sqlite3"
    (project.root / "copy.sqlite3.meta.json").mkdir()  # where the sidecar must go: it cannot
    before = project.snapshot()
    result = project.run("--json", "backup", "--output", str(target))
    assert result.code == 1 and "sidecar" in result.err and "internal error" not in result.err, result.err
    assert _error_document(result)["kind"] == "failed"
    assert not target.exists(), "a backup without its sidecar is taken back"
    assert project.snapshot() == before


MY_ODD = """\
up:
  - sql: |
      CREATE TABLE odd (
        id INTEGER PRIMARY KEY,
        j JSON, dt DATETIME(6), ts TIMESTAMP(3) NULL, d DATE, t TIME(2), y YEAR, b BIT(10), e ENUM('a', 'b'), s SET('x', 'y'),
        n DECIMAL(65, 30), f DOUBLE, r FLOAT, bl BLOB, vb VARBINARY(8), tx TEXT,
        g INTEGER AS (id * 10) STORED, gv INTEGER AS (id + 1) VIRTUAL
      )
  - sql: |
      INSERT INTO odd (id, j, dt, ts, d, t, y, b, e, s, n, f, r, bl, vb, tx) VALUES
        (1, 'null', '2025-01-02 03:04:05.678901', '2025-06-01 12:00:00.123', '1000-01-01', '838:59:59.99', 2155, b'1010101010',
         'b', 'x,y', '12345678901234567890123456789012345.123456789012345678901234567890', 1e308, 0.1, x'00FF', x'', 'ünïcødé'),
        (2, '{"a": [1, null]}', NULL, NULL, '9999-12-31', '-838:59:59', 1901, b'0', NULL, '', '-0.000000000000000000000000000001',
         -0.0, -1.5, NULL, x'DEADBEEF', '')
"""


def test_mysql_json_backups_round_trip_every_odd_value(tmp_path):
    _json_round_trip(tmp_path, "mysql", MY_ODD, "SELECT id, JSON_TYPE(j), CAST(j AS CHAR), CAST(dt AS CHAR), CAST(ts AS CHAR),"
                     " CAST(d AS CHAR), CAST(t AS CHAR), y, HEX(b), e, s, CAST(n AS CHAR), f, r, HEX(bl), HEX(vb), tx, g, gv FROM odd ORDER BY id")


def test_backups_a_killed_run_left_without_a_sidecar_are_swept_by_the_next_run(sqlite_project):
    import time

    project = _applied(sqlite_project)
    made = project.root / project.run("backup").out.strip()
    sidecar = made.with_name(made.name + ".meta.json")
    sidecar.unlink()  # as a kill between the rename and the sidecar leaves it
    stale = made.with_name(f".{made.name}.999999.tmp")
    stale.write_bytes(b"half")
    foreign = made.with_name("notes.txt")
    foreign.write_text("the operator's own file")
    old = time.time() - 3600
    os.utime(made, (old, old))
    assert project.run("apply").code == 0  # the next command that may write, even with nothing to do
    assert not made.exists() and not stale.exists()
    assert foreign.exists(), "only what matches migrund's own backup names goes"


@pytest.mark.server
def test_mariadb_an_interrupted_restore_is_never_taken_for_a_clean_database(tmp_path):
    from tests import servers

    db = servers.create("mysql", tmp_path / "proj")
    try:
        project = Project(tmp_path / "proj", db=db)
        project.write(f"{V1}_good.yaml", GOOD)
        assert project.run("apply").code == 0
        saved = project.run("backup", "--output", str(tmp_path / "saved.sql")).out.strip()
        # What a restore killed between its drop and the end of its load leaves: the marker, a partial database.
        db.execute("CREATE TABLE migrund_restoring (source TEXT NOT NULL, started_at VARCHAR(40) NOT NULL)")
        db.execute("INSERT INTO migrund_restoring VALUES ('/backups/x.sql', '2025-01-01T00:00:00Z')")
        status = project.run("--json", "status")
        assert status.code == 0 and status.json["interrupted_restore"].startswith("/backups/x.sql")
        assert project.run("status", "--check").code == 6
        for command in (["apply"], ["reconcile"], ["plan"], ["rollback"], ["backup"], ["repair", str(V1), "--applied"]):
            result = project.run(*command)
            assert result.code == 5 and "restore of /backups/x.sql (started" in result.err and "interrupted" in result.err, (command, result.err)
        restored = project.run("restore", saved)
        assert restored.code == 0, restored.err
        assert project.run("--json", "status").json["interrupted_restore"] is None
        assert project.run("apply").code == 0 and project.applied() == [V1]
    finally:
        servers.drop(db)
