"""Two hosts on one database, and runners killed mid-migration."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import Project, clean_env, second_host

SLOW_HOOK = """\
import os, time
from pathlib import Path


def slow(conn, ctx):
    Path(os.environ["MIGRUND_TEST_MARKER"]).write_text("started")
    time.sleep(float(os.environ.get("MIGRUND_TEST_SLEEP", "30")))
"""


def start(project: Project, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "migrund", *args], cwd=project.root, env=clean_env(project.state_home, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_two_hosts_apply_each_migration_exactly_once(project, dialect):
    for index in range(6):
        project.table(20250101000000 + index, f"m{index}", f"t{index}")
    host_b = second_host(project, "host-b")
    rounds = int(os.environ.get("MIGRUND_TRIALS", "4"))
    for _ in range(rounds):
        runners = [start(project, "apply", "--json"), start(host_b, "apply", "--json")]
        codes = [r.wait(timeout=120) for r in runners]
        errors = [r.stderr.read() for r in runners]
        assert all(code in (0, 3) for code in codes), errors
        assert 0 in codes
        assert project.applied() == [20250101000000 + i for i in range(6)]
        done = [step["version"] for r in runners for step in __import__("json").loads(r.stdout.read() or '{"steps": []}')["steps"]]
        assert sorted(done) == [20250101000000 + i for i in range(6)], "each migration ran exactly once"
        assert project.run("rollback", "--to", "0").code == 0


def test_kill_9_mid_migration(project, tmp_path):
    marker = tmp_path / "started"
    project.table(20250101000000, "a", "a")
    project.write("hooks/slow.py", SLOW_HOOK)
    project.write(
        "20250102000000_slow.yaml",
        "up:\n  - sql: CREATE TABLE b (id INTEGER)\n  - python: hooks/slow.py:slow\ndown:\n  - sql: DROP TABLE b\n",
    )
    runner = start(project, "apply", MIGRUND_TEST_MARKER=str(marker))
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert runner.poll() is None, runner.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    finally:
        runner.kill()
    env = {"MIGRUND_TEST_MARKER": str(marker), "MIGRUND_TEST_SLEEP": "0"}
    if project.dialect == "mysql":
        # DDL committed by itself: the database is dirty at the hook's step
        assert project.tables() == ["a", "b"]
        status = project.run("status", "--json")
        assert status.code == 0 and status.json["dirty"] == {"version": 20250102000000, "direction": "up", "step": 2}
        assert project.run("apply", env=env).code == 5
        project.db.execute("DROP TABLE b")
        assert project.run("repair", "20250102000000", "--rolled-back").code == 0
    else:
        # the migration's transaction died with its connection: nothing of it remains
        assert project.tables() == ["a"] and project.applied() == [20250101000000]
        assert project.run("status", "--json").json["dirty"] is None
    final = project.run("apply", env=env)
    assert final.code == 0, final.err
    assert project.applied() == [20250101000000, 20250102000000]
    if project.dialect == "sqlite":
        assert project.db.rows("PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_marker_of_a_running_migration_is_not_dirty(project, tmp_path):
    marker = tmp_path / "started"
    project.write("hooks/slow.py", SLOW_HOOK)
    project.write("20250101000000_slow.yaml", "transaction: false\nup:\n  - sql: CREATE TABLE b (id INTEGER)\n  - python: hooks/slow.py:slow\n")
    project.configure(timeout=0.5)
    runner = start(project, "apply", MIGRUND_TEST_MARKER=str(marker), MIGRUND_TEST_SLEEP="8")
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert runner.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        status = project.run("status", "--json")
        assert status.code == 0 and status.json["dirty"] is None, "in progress, not dirty"
        second = project.run("apply")
        assert second.code == 3 and "held by" in second.err
        assert runner.wait(timeout=60) == 0
    finally:
        runner.kill()
    assert project.applied() == [20250101000000]
