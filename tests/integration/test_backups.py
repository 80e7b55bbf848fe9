"""Backups, the backups list and restore (SPEC 6) on SQLite; native backups on the servers."""
from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from tests.helpers import Project

AWKWARD = [
    (1, None, None, None),
    (2, "ünïcødé ✓ 😀", b"\x00\xff\x10", 1.5),
    (3, "it's; \"quoted\"\n", b"", float("inf")),
    (4, "", b"x" * 1000, -0.0),
    (9223372036854775807, "big", None, 1e-300),
]


def seeded(project: Project) -> None:
    project.write("20250101000000_t.yaml", "up:\n  - sql: CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB, f REAL)\n"
                  "  - sql: CREATE INDEX t_s ON t (s)\ndown:\n  - sql: DROP TABLE t\n")
    assert project.run("apply").code == 0
    conn = sqlite3.connect(project.db_path)
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", AWKWARD)
    conn.commit()
    conn.close()


def rows(project: Project) -> list[tuple]:
    conn = sqlite3.connect(project.db_path)
    found = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
    conn.close()
    return found


@pytest.mark.parametrize("fmt", ["native", "json"])
def test_round_trip_restores_data_schema_and_history(sqlite_project, fmt):
    project = sqlite_project
    seeded(project)
    made = project.run("backup", "--format", fmt, "--json")
    assert made.code == 0, made.err
    path = made.json["path"]
    before = project.snapshot()
    conn = sqlite3.connect(project.db_path)
    conn.execute("DELETE FROM t")
    conn.execute("CREATE TABLE later (x INTEGER)")
    conn.commit()
    conn.close()
    restored = project.run("restore", path, "--json")
    assert restored.code == 0, restored.err
    assert rows(project) == AWKWARD
    assert project.snapshot() == before, "schema, data and migrund's own tables all come back"
    assert "later" not in project.tables()
    assert restored.json["before_restore"] and os.path.exists(restored.json["before_restore"])
    assert sqlite3.connect(project.db_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_files_are_private_and_listed_with_ok(sqlite_project):
    project = sqlite_project
    seeded(project)
    first = project.run("backup").out.strip()
    second = project.run("backup", "--format", "json").out.strip()
    folder = project.root / "backups"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (first, second):
        full = project.root / path
        assert stat.S_IMODE(full.stat().st_mode) == 0o600
        meta = json.loads(full.with_name(full.name + ".meta.json").read_text())
        assert meta["backend"] == "sqlite" and meta["schema_version"] == 20250101000000 and meta["reason"] == "manual"
        assert meta["database"].startswith("sqlite:///")
    (folder / ".leftover.sqlite3.123.tmp").write_bytes(b"half")
    listed = project.run("backups", "--json").json
    assert [os.path.basename(r["path"]) for r in listed] == [os.path.basename(first), os.path.basename(second)]
    assert all(r["ok"] for r in listed)
    assert set(listed[0]) == {"path", "created_at", "schema_version", "reason", "format", "backend", "size", "ok"}
    with open(project.root / first, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x01")
    assert [r["ok"] for r in project.run("backups", "--json").json] == [False, True]


def test_tampered_backup_is_refused_even_with_force(sqlite_project):
    project = sqlite_project
    seeded(project)
    path = project.run("backup").out.strip()
    with open(project.root / path, "ab") as handle:
        handle.write(b"\x00")
    before = project.snapshot()
    for args in ([], ["--force"]):
        result = project.run("restore", path, *args)
        assert result.code == 4 and "sha256" in result.err
    assert project.snapshot() == before
    assert not list((project.root / "backups").glob("*before_restore*")), "a refused restore takes no backup"


def test_missing_sidecar_and_unknown_version(sqlite_project):
    project = sqlite_project
    seeded(project)
    path = project.root / project.run("backup").out.strip()
    sidecar = path.with_name(path.name + ".meta.json")
    meta = json.loads(sidecar.read_text())
    sidecar.rename(sidecar.with_suffix(".bak"))
    assert project.run("restore", str(path), "--force").code == 4
    gone = project.run("restore", str(path) + ".nope")
    assert gone.code == 2 and "does not exist" in gone.err
    meta["schema_version"] = 20990101000000
    sidecar.write_text(json.dumps(meta))
    unknown = project.run("restore", str(path))
    assert unknown.code == 4 and "--force" in unknown.err
    assert project.run("restore", str(path), "--force").code == 0


def test_output_path_is_not_listed_or_pruned(sqlite_project, tmp_path):
    project = sqlite_project
    seeded(project)
    target = tmp_path / "elsewhere" / "copy.sqlite3"
    target.parent.mkdir()
    assert project.run("backup", "--output", str(target)).code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.with_name("copy.sqlite3.meta.json").exists()
    assert project.run("backups", "--json").json == []


def test_keep_prunes_oldest(sqlite_project):
    project = sqlite_project
    project.configure("")
    config = project.root / "config" / "migrund.yaml"
    config.write_text(config.read_text().replace("backup:\n  dir: ../backups\n", "backup:\n  dir: ../backups\n  keep: 2\n"))
    seeded(project)
    made = [project.run("backup").out.strip() for _ in range(4)]
    listed = [os.path.basename(r["path"]) for r in project.run("backups", "--json").json]
    assert listed == [os.path.basename(p) for p in made[-2:]]


def test_restoring_the_oldest_backup_does_not_prune_it_first(sqlite_project):
    # Found by the reliability soak: the before_restore backup's pruning deleted the very
    # backup being restored when it was the oldest one kept.
    project = sqlite_project
    config = project.root / "config" / "migrund.yaml"
    config.write_text(config.read_text().replace("backup:\n  dir: ../backups\n", "backup:\n  dir: ../backups\n  keep: 2\n"))
    seeded(project)
    made = [project.run("backup").out.strip() for _ in range(2)]
    restored = project.run("restore", made[0])
    assert restored.code == 0, restored.err
    kept = [b["path"] for b in project.run("backups", "--json").json]
    assert len(kept) == 2 and str(project.root / made[0]) in kept, "the restored one is spared; the other old one goes"
    assert project.run("backup").code == 0
    kept = [b["path"] for b in project.run("backups", "--json").json]
    assert len(kept) == 2 and str(project.root / made[0]) not in kept, "and pruned by the next backup"


def test_restore_waits_for_the_lock(sqlite_project):
    import subprocess
    import sys

    project = sqlite_project
    seeded(project)
    path = project.run("backup").out.strip()
    project.configure(timeout=0.3)
    lock = project.root / "data" / "migrund.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import filelock,sys,time; l=filelock.FileLock(sys.argv[1]); l.acquire(); print('held', flush=True); time.sleep(30)", str(lock)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert project.run("restore", path).code == 3
        assert project.run("backup").code == 3
    finally:
        holder.kill()
        holder.wait()


def test_native_backup_on_every_database(project):
    project.table(20250101000000, "a", "a")
    assert project.run("apply").code == 0
    made = project.run("backup", "--json")
    assert made.code == 0, made.err
    listed = project.run("backups", "--json").json
    assert len(listed) == 1 and listed[0]["ok"] and listed[0]["backend"] == project.dialect
    assert listed[0]["schema_version"] == 20250101000000 and listed[0]["size"] > 0


def test_native_restore_on_every_database(project):
    project.table(20250101000000, "a", "a")
    project.table(20250102000000, "b", "b")
    assert project.run("apply", "--to", "20250101000000").code == 0
    project.db.execute("INSERT INTO a (id, v) VALUES (1, 'ünïcode; ''quoted''')")
    path = project.run("backup").out.strip()
    before = project.snapshot()
    assert project.run("apply").code == 0
    project.db.execute("DELETE FROM a")
    restored = project.run("restore", path, "--json")
    assert restored.code == 0, restored.err
    assert project.snapshot() == before, "tables made after the backup are gone, data and history are back"
    assert project.applied() == [20250101000000]
    assert project.run("apply").code == 0, "the database works on after a restore"


def big_table(project: Project, count: int) -> None:
    project.write("20250101000000_big.yaml", "up:\n  - sql: CREATE TABLE big (id INTEGER PRIMARY KEY, s TEXT)\n")
    assert project.run("apply").code == 0
    conn = sqlite3.connect(project.db_path)
    conn.executemany("INSERT INTO big VALUES (?, ?)", ((i, f"row {i} " + "x" * 50) for i in range(count)))
    conn.commit()
    conn.close()


def test_kill_9_during_a_backup_leaves_nothing_listed(sqlite_project):
    import signal
    import subprocess
    import sys
    import time

    from tests.helpers import clean_env

    project = sqlite_project
    big_table(project, 300_000)
    for delay in (0.3, 0.6, 0.9):
        proc = subprocess.Popen([sys.executable, "-m", "migrund", "backup", "--format", "json"], cwd=project.root,
                                env=clean_env(project.state_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        listed = project.run("backups", "--json").json
        assert all(entry["ok"] for entry in listed), "whatever is listed is whole"
        for entry in listed:  # a backup that finished before the kill must restore
            assert entry["size"] > 0
    assert project.run("backup").code == 0, "the lock died with the killed process"


SERVER_TABLE = {
    "postgresql": "CREATE TABLE odd (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, s TEXT, b BYTEA, n NUMERIC(30, 10),"
                  " at TIMESTAMPTZ, d DATE, j JSONB, tags TEXT[], u UUID, f DOUBLE PRECISION);"
                  " CREATE INDEX odd_s ON odd (s); CREATE TABLE child (id INTEGER PRIMARY KEY, odd_id BIGINT REFERENCES odd (id))",
    "mysql": "CREATE TABLE odd (id BIGINT AUTO_INCREMENT PRIMARY KEY, s TEXT, b BLOB, n DECIMAL(30, 10), at DATETIME(6),"
             " d DATE, j TEXT, tags TEXT, u CHAR(36), f DOUBLE, KEY odd_s (s(20)));"
             " CREATE TABLE child (id INTEGER PRIMARY KEY, odd_id BIGINT, FOREIGN KEY (odd_id) REFERENCES odd (id))",
}
SERVER_ROWS = {
    "postgresql": "INSERT INTO odd (s, b, n, at, d, j, tags, u, f) VALUES"
                  " (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
                  " ('ünïcode ✓ 😀 it''s', '\\x00ff10', 12345678901234567890.0123456789, '2025-03-04 05:06:07.123456+02',"
                  " '2025-03-04', '{\"a\": [1, 2.5, null]}', ARRAY['x', 'y;z'], 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'Infinity');"
                  " INSERT INTO child VALUES (1, 2)",
    "mysql": "INSERT INTO odd (s, b, n, at, d, j, tags, u, f) VALUES"
             " (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
             " ('ünïcode ✓ 😀 it''s', x'00ff10', 12345678901234567890.0123456789, '2025-03-04 05:06:07.123456',"
             " '2025-03-04', '{\"a\": 1}', 'x,y;z', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1e308);"
             " INSERT INTO child VALUES (1, 2)",
}


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
@pytest.mark.parametrize("fmt", ["native", "json"])
def test_server_round_trip_with_awkward_values(project, fmt):
    project.write("20250101000000_odd.yaml", f"up:\n  - sql: {json.dumps(SERVER_TABLE[project.dialect])}\n")
    assert project.run("apply").code == 0
    for statement in SERVER_ROWS[project.dialect].split("; "):
        project.db.execute(statement)
    made = project.run("backup", "--format", fmt, "--json")
    assert made.code == 0, made.err
    before = project.snapshot()
    project.db.execute("DELETE FROM child")
    project.db.execute("CREATE TABLE later (x INTEGER)")
    restored = project.run("restore", made.json["path"])
    assert restored.code == 0, restored.err
    assert project.snapshot() == before
    assert "later" not in project.tables()
    project.db.execute("INSERT INTO odd (s) VALUES ('after')")  # identities continue past the restored rows
    assert project.db.rows("SELECT max(id) FROM odd")[0][0] == 3


def test_pruning_spares_the_newest_intact_backup(sqlite_project):
    from migrund import backup

    project = sqlite_project
    seeded(project)
    identity = f"sqlite:{project.db_path}"
    older = project.root / project.run("backup").out.strip()
    newer = project.root / project.run("backup").out.strip()
    with open(newer, "r+b") as handle:
        handle.write(b"junk")
    backup.prune(project.root / "backups", 1, identity)
    assert older.exists(), "the only intact backup is never pruned"
    assert newer.exists(), "the newest is within keep"
    good = project.run("backup").out.strip()
    backup.prune(project.root / "backups", 1, identity)
    assert not older.exists() and not newer.exists() and (project.root / good).exists()


def test_a_backup_that_cannot_be_taken_stops_the_rollback(sqlite_project):
    project = sqlite_project
    seeded(project)
    (project.root / "backups").write_text("a file where the folder should be")
    before = project.snapshot()
    result = project.run("rollback")
    assert result.code == 1 and "backup folder" in result.err
    assert project.snapshot() == before
    as_json = project.run("rollback", "--json")
    assert as_json.code == 1 and as_json.json["steps"] == [] and as_json.json["error"]["step"] == 0
    assert "before_rollback backup failed" in as_json.json["error"]["message"]
    assert project.snapshot() == before


def test_missing_client_program_suggests_json(project):
    if project.dialect == "sqlite":
        pytest.skip("SQLite needs no client program")
    project.table(20250101000000, "a", "a")
    assert project.run("apply").code == 0
    result = project.run("backup", env={"PATH": "/nonexistent"})
    assert result.code == 1 and "was not found" in result.err and "format: json" in result.err
    assert project.run("backup", "--format", "json", env={"PATH": "/nonexistent"}).code == 0


def test_before_risky_backup_on_every_database(project):
    project.table(20250101000000, "a", "a")
    project.write("20250102000000_purge.yaml", "risky: true\ntransaction: false\nup:\n  - sql: DELETE FROM a\n  - sql: INSERT INTO nowhere VALUES (1)\n")
    assert project.run("apply", "--to", "20250101000000").code == 0
    project.db.execute("INSERT INTO a (id, v) VALUES (1, 'keep me'), (2, 'and me')")
    failed = project.run("apply")
    assert failed.code == 1 and "before_risky" in failed.err
    assert project.db.rows("SELECT count(*) FROM a")[0][0] == 0, "outside a transaction the first step stayed"
    path = next(p for p in (project.root / "backups").glob("*before_risky*") if not p.name.endswith(".meta.json"))
    restored = project.run("restore", str(path))
    assert restored.code == 0, restored.err
    assert sorted(project.db.rows("SELECT id, v FROM a")) == [(1, "keep me"), (2, "and me")]
    assert project.run("status", "--json").json["dirty"] is None


FILL = {
    "postgresql": "INSERT INTO big SELECT i, repeat('x', 60) FROM generate_series(1, 300000) i",
    "mysql": "INSERT INTO big SELECT seq, REPEAT('x', 60) FROM seq_1_to_300000",
}


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
@pytest.mark.parametrize("fmt", ["native", "json"])
def test_kill_9_during_a_server_backup_leaves_nothing_bad(project, fmt):
    import signal
    import subprocess
    import sys
    import time

    from tests.helpers import clean_env

    project.write("20250101000000_big.yaml", "up:\n  - sql: CREATE TABLE big (id INTEGER PRIMARY KEY, s TEXT)\n")
    assert project.run("apply").code == 0
    project.db.execute(FILL[project.dialect])
    for delay in (0.2, 0.5):
        proc = subprocess.Popen([sys.executable, "-m", "migrund", "backup", "--format", fmt], cwd=project.root,
                                env=clean_env(project.state_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert all(entry["ok"] for entry in project.run("backups", "--json").json)
    assert project.run("backup", "--format", fmt).code == 0, "the locks died with the killed process"
    assert project.run("backups", "--json").json[-1]["ok"]


WRITER = """
import os, sys, time
dialect, url, name, path, stop = sys.argv[1:6]
if dialect == "sqlite":
    import sqlite3
    conn = sqlite3.connect(path, timeout=30, isolation_level=None); mark = "?"
    run = conn.execute
elif dialect == "postgresql":
    import psycopg
    conn = psycopg.connect(url, autocommit=True); mark = "%s"
    run = conn.execute
else:
    import pymysql
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=name, autocommit=True)
    cur = conn.cursor(); mark = "%s"
    run = cur.execute
end = time.monotonic() + 60  # a bound only: the test says when to stop
i = 0
while time.monotonic() < end and not os.path.exists(stop):
    i += 1
    run("BEGIN")
    run(f"INSERT INTO pa (id) VALUES ({mark})", (i,))
    run(f"INSERT INTO pb (id) VALUES ({mark})", (i,))
    run("COMMIT")
print(i)
"""


@pytest.mark.parametrize("fmt", ["native", "json"])
def test_backup_under_a_writer_is_one_point_in_time(project, fmt):
    import subprocess
    import sys

    from tests.helpers import REPO

    project.write("20250101000000_pair.yaml", "up:\n  - sql: CREATE TABLE pa (id INTEGER PRIMARY KEY); CREATE TABLE pb (id INTEGER PRIMARY KEY)\n")
    assert project.run("apply").code == 0
    # The writer keeps writing until the backup is done (SQLite readers can wait a long
    # while behind a busy writer on a loaded machine), then a little longer.
    stop = project.root / "stop-writer"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, project.dialect, project.db.url, project.db.name or "",
                               str(project.db_path), str(stop)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        import time

        time.sleep(0.5)
        made = project.run("backup", "--format", fmt, "--json")
        assert made.code == 0, made.err
        time.sleep(0.3)
    finally:
        stop.touch()
        written = int(writer.communicate(timeout=90)[0].strip())
    assert project.run("restore", made.json["path"]).code == 0
    count_a = project.db.rows("SELECT count(*) FROM pa")[0][0]
    count_b = project.db.rows("SELECT count(*) FROM pb")[0][0]
    assert count_a == count_b, "both tables from the same moment"
    assert 0 < count_a < written, "taken while the writer was busy"


@pytest.mark.parametrize("fmt", ["native", "json"])
def test_a_backup_gone_after_its_checks_is_a_clear_error(tmp_path, fmt):
    from migrund import backup
    from migrund.dburl import parse_url
    from migrund.drivers.base import load_driver
    from migrund.errors import OperationFailed

    driver = load_driver(parse_url("sqlite:///app.db", tmp_path), create=True, schema=None)
    try:
        with pytest.raises(OperationFailed, match="cannot (open|read) the backup"):
            backup.restore_into(driver, tmp_path / "vanished.backup", {"format": fmt, "backend": "sqlite"})
    finally:
        driver.close()
