"""Database faults: the server gone mid-migration, the connection killed, a full disk, a read-only file.

Each gives exit 1 with one clear sentence and no traceback, and leaves nothing half-done
that `status` does not report; the next run completes.
"""
from __future__ import annotations

import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import Project, clean_env
from tests.reliability.proxy import Relay

V = 20250401000000
SLEEP = {"postgresql": "SELECT pg_sleep(60)", "mysql": "SELECT SLEEP(60)"}
SLEEPING = {
    "postgresql": "SELECT pid FROM pg_stat_activity WHERE datname = %s AND query LIKE 'SELECT pg_sleep%%'",
    "mysql": "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s AND INFO LIKE 'SELECT SLEEP%%'",
}
KILL = {"postgresql": "SELECT pg_terminate_backend({})", "mysql": "KILL CONNECTION {}"}


def slow_workload(project: Project, dialect: str) -> None:
    project.table(V + 1, "a", "t1")
    project.write(
        f"{V + 2}_slow.yaml",
        f"up:\n  - sql: CREATE TABLE t2 (id INTEGER PRIMARY KEY)\n  - sql: {SLEEP[dialect]}\ndown:\n  - sql: DROP TABLE t2\n",
    )


def start_apply(project: Project) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "migrund", "apply"], cwd=project.root, env=clean_env(project.state_home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sleeping_session(project: Project, proc: subprocess.Popen) -> int:
    for _ in range(400):
        rows = project.db.rows(SLEEPING[project.dialect], (project.db.name,))
        if rows:
            return rows[0][0]
        assert proc.poll() is None, proc.stderr.read()
        __import__("time").sleep(0.05)
    raise AssertionError("the slow statement never started")


def after_the_fault(project: Project, proc: subprocess.Popen, tally) -> None:
    assert proc.wait(timeout=60) == 1
    err = proc.stderr.read()
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert "migration 20250401000002 (slow) up step 2 failed" in err
    assert proc.stdout.read().splitlines()[-1] == "1 applied; the database is at 20250401000001"
    status = project.run("status", "--json")
    assert status.code == 0, status.err
    doc = status.json
    assert project.applied() == [V + 1]
    if project.dialect == "postgresql":
        assert doc["dirty"] is None and "t2" not in project.tables(), "the failed migration left nothing"
    else:  # MySQL: DDL committed on its own; the marker says where it stopped
        if doc["dirty"] is None:  # the server still runs the statement of a client it lost: in progress, not yet dirty
            assert "still running on the server" in status.err, status.err
        else:
            assert doc["dirty"] == {"version": V + 2, "direction": "up", "step": 2}
        project.db.execute("DROP TABLE IF EXISTS t2")
        assert project.run("repair", str(V + 2), "--rolled-back").code == 0
    tally["faults"] += 1
    tally["trials"] += 1
    project.write(f"{V + 2}_slow.yaml", "up:\n  - sql: CREATE TABLE t2 (id INTEGER PRIMARY KEY)\ndown:\n  - sql: DROP TABLE t2\n")
    done = project.run("apply", "--lock-timeout", "5")
    assert done.code == 0, done.err
    assert project.applied() == [V + 1, V + 2]


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_the_server_gone_mid_migration(project, dialect, tally):
    parts = urlsplit(project.url)
    relay = Relay(parts.hostname, parts.port)
    try:
        project.url = project.url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{relay.port}")
        project.configure()
        slow_workload(project, dialect)
        proc = start_apply(project)
        sleeping_session(project, proc)
        relay.cut()
        after_the_fault(project, proc, tally)
    finally:
        relay.close()


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_the_connection_killed_mid_migration(project, dialect, tally):
    slow_workload(project, dialect)
    proc = start_apply(project)
    session = sleeping_session(project, proc)
    project.db.execute(KILL[dialect].format(session))
    after_the_fault(project, proc, tally)


@pytest.mark.parametrize(("dialect", "fmt"), [("sqlite", "native"), ("sqlite", "json"), ("postgresql", "native"), ("mysql", "native")])
def test_a_full_disk_while_a_backup_is_written(project, dialect, fmt, tally):
    noise = random.Random(7)  # data that does not compress away: json.gz and pg_dump -Fc compress
    rows = ", ".join(f"({n}, '{noise.getrandbits(800):0200x}')" for n in range(1, 501))
    project.write(f"{V + 1}_big.yaml", f"up:\n  - sql: CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT)\n  - sql: INSERT INTO big (id, v) VALUES {rows}\n")
    assert project.run("apply").code == 0
    assert project.run("backups", "--json").json == []
    limit = 16 * 1024

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([sys.executable, "-m", "migrund", "backup", "--format", fmt], cwd=project.root,
                          env=clean_env(project.state_home), capture_output=True, text=True, preexec_fn=small_disk)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "migrund: error: backup to " in proc.stderr and " failed: " in proc.stderr
    assert project.run("backups", "--json").json == [], "a backup cut short is never listed"
    leftovers = [p.name for p in (project.root / "backups").iterdir()] if (project.root / "backups").exists() else []
    assert leftovers == [], leftovers
    assert project.run("status").code == 0
    assert project.run("backup", "--format", fmt).code == 0, "with room again, the backup works"
    tally["faults"] += 1
    tally["trials"] += 1


def make_read_only(path: Path) -> None:
    """Read-only even for root: the immutable attribute (root ignores file modes)."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a file read-only for root here (chattr +i failed)")


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    os.chmod(path, 0o644)


def test_a_read_only_database_file(sqlite_project, tally):
    project = sqlite_project
    project.table(V + 1, "a", "t1")
    assert project.run("apply").code == 0
    before = project.snapshot()
    project.table(V + 2, "b", "t2")
    make_read_only(project.db_path)
    try:
        failed = project.run("apply")
        assert failed.code == 1, (failed.code, failed.out, failed.err)
        assert failed.err.count("\n") == 1 and "readonly" in failed.err.replace("read-only", "readonly"), failed.err
    finally:
        make_writable(project.db_path)
    assert project.snapshot() == before, "nothing changed"
    with sqlite3.connect(project.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert project.run("apply").code == 0
    assert project.applied() == [V + 1, V + 2]
    tally["faults"] += 1
    tally["trials"] += 1
