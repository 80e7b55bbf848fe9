"""The daemon as a real subprocess: real files, real signals, a real NOTIFY_SOCKET, real databases."""
from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests import servers
from tests.daemonproc import FAST, DaemonProcess, free_port
from tests.helpers import REPO, Project, clean_env, second_host

V = 20250101000000

# Hooks find their marker files through the environment (a hook's __file__ is its path in the migrations folder).
SLOW_HOOK = """\
import os, time
from pathlib import Path


def slow(conn, ctx):
    Path(os.environ["MIGRUND_TEST_MARKER"]).write_text("yes")
    time.sleep(2.5)
"""

COUNTING_HOOK = """\
import os
from pathlib import Path


def boom(conn, ctx):
    counter = Path(os.environ["MIGRUND_TEST_MARKER"])
    counter.write_text(counter.read_text() + "x" if counter.exists() else "x")
    raise RuntimeError("the hook failed on purpose")
"""


@pytest.fixture
def daemons():
    """Start daemons; whatever a test leaves running is killed."""
    started: list[DaemonProcess] = []

    def start(project: Project, **options) -> DaemonProcess:
        daemon = DaemonProcess(project, **options)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.close()


def fast(project: Project, extra: str = "", daemon: str = FAST) -> None:
    """Short timers, and ``extra`` YAML at the top level."""
    project.daemon = daemon
    project.configure(extra)


def idle_at_first(project: Project, daemons, **options) -> DaemonProcess:
    """A daemon on ``project`` (fast timers) that has applied one migration and is idle."""
    fast(project)
    project.table(V + 1, "a", "t1")
    d = daemons(project, **options)
    d.wait_state("idle", current_version=V + 1)
    return d


def test_converges_on_new_files_and_on_a_raised_and_lowered_target(project, daemons):
    fast(project)
    project.table(V + 1, "a", "t1")
    d = daemons(project)
    d.ready()
    d.wait_state("idle", current_version=V + 1)
    project.table(V + 2, "b", "t2")
    project.table(V + 3, "c", "t3")
    d.wait_state("idle", current_version=V + 3, pending=[])
    assert project.applied() == [V + 1, V + 2, V + 3]

    fast(project, f"target: {V + 1}\n")
    d.wait_state("idle", current_version=V + 1, target_version=V + 1)
    assert project.applied() == [V + 1]
    assert "t2" not in project.tables() and "t3" not in project.tables()

    fast(project, f"target: {V + 2}\n")
    d.wait_state("idle", current_version=V + 2, target_version=V + 2, pending=[])
    assert project.applied() == [V + 1, V + 2]
    seen = project.run("status", "--json").json
    assert seen["daemon"]["state"] == "idle" and seen["daemon"]["pid"] == d.proc.pid
    assert d.stop() == 0
    log = d.log()
    assert f"applied {V + 3} c in" in log and f"rolled back {V + 3} c in" in log and f"rolled back {V + 2} b in" in log


def test_an_invalid_file_blocks_and_its_fix_unblocks(sqlite_project, daemons):
    project = sqlite_project
    port = free_port()
    fast(project, daemon=FAST + f"  http: 127.0.0.1:{port}\n")
    project.table(V + 1, "a", "t1")
    d = daemons(project)
    d.wait_state("idle", current_version=V + 1)
    assert d.http(port, "/healthz")[0] == 200
    broken = project.write(f"{V + 2}_b.yaml", "up:\n  - sql: CREATE TABLE t2 (id INTEGER)\n  - [unclosed\n")
    project.table(V + 3, "c", "t3")
    doc = d.wait_state("blocked")
    assert broken.name in doc["last_error"]
    assert project.applied() == [V + 1], "a blocked daemon applies nothing, not even the valid file"
    code, body = d.http(port, "/healthz")
    assert code == 503 and json.loads(body)["state"] == "blocked"
    cli = project.run("status")
    assert cli.code == 2 and broken.name in cli.err

    project.table(V + 2, "b", "t2")
    d.wait_state("idle", current_version=V + 3)
    assert project.applied() == [V + 1, V + 2, V + 3]
    assert d.http(port, "/healthz")[0] == 200
    assert d.stop() == 0


def test_a_file_written_in_chunks_with_long_pauses_is_never_applied_half_written(sqlite_project, daemons):
    project = sqlite_project
    d = idle_at_first(project, daemons)
    chunks = [
        "description: three tables, written slowly\nup:\n  - sql: CREATE TABLE c1 (id INTEGER)\n",
        "  - sql: CREATE TABLE c2 (id INTEGER)\n",
        "  - sql: CREATE TABLE c3 (id INTEGER)\ndown:\n  - sql: DROP TABLE c3\n  - sql: DROP TABLE c2\n  - sql: DROP TABLE c1\n",
    ]
    with open(project.migrations / f"{V + 2}_slow_writer.yaml", "w") as handle:
        for chunk in chunks:
            handle.write(chunk)
            handle.flush()
            time.sleep(1.2)  # four times the debounce: each prefix is a valid migration on its own
            assert project.applied() == [V + 1], "a file still open for writing was read"
    d.wait_state("idle", current_version=V + 2)
    assert {"c1", "c2", "c3"} <= set(project.tables())
    assert d.stop() == 0


def _git(cwd, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def test_a_git_pull_of_20_migrations_and_a_new_target_is_one_reconcile(tmp_path, daemons):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    origin = Project(tmp_path / "origin")
    fast(origin, f"target: {V + 1}\n")
    origin.table(V + 1, "first", "t1")
    (origin.root / ".gitignore").write_text("data/\n.state/\nbackups/\n*.log\n")
    _git(origin.root, "init", "-q", "-b", "main")
    _git(origin.root, "add", "-A")
    _git(origin.root, "commit", "-q", "-m", "first")
    _git(tmp_path, "clone", "-q", str(origin.root), "clone")
    clone = Project(tmp_path / "clone")
    fast(clone, f"target: {V + 1}\n")
    assert _git(clone.root, "status", "--porcelain") == ""
    d = daemons(clone)
    d.wait_state("idle", current_version=V + 1)

    for i in range(2, 22):
        origin.table(V + i, f"m{i}", f"t{i}")
    fast(origin, f"target: {V + 21}\n")
    _git(origin.root, "add", "-A")
    _git(origin.root, "commit", "-q", "-m", "twenty more")
    before = d.log().count("reconcile (")
    _git(clone.root, "pull", "-q", "--ff-only")
    d.wait_state("idle", current_version=V + 21, target_version=V + 21)
    time.sleep(1)  # room for a second, unwanted reconcile
    assert d.log().count("reconcile (") - before == 1, d.log()
    assert clone.applied() == [V + i for i in range(1, 22)]
    assert d.stop() == 0


def test_sighup_with_a_broken_config_keeps_the_old_one(sqlite_project, daemons):
    project = sqlite_project
    port = free_port()
    fast(project, daemon=FAST + f"  http: 127.0.0.1:{port}\n")
    project.table(V + 1, "a", "t1")
    project.table(V + 2, "b", "t2")
    d = daemons(project)
    d.wait_state("idle", current_version=V + 2)
    config = project.root / "config" / "migrund.yaml"
    good = config.read_text()
    config.write_text(good + "surprise: [unclosed\n")
    d.signal(signal.SIGHUP)
    doc = d.wait_state("blocked")
    assert "config" in doc["last_error"]
    d.wait(lambda: "the config is invalid, keeping the one loaded before" in d.log(), "the rejection in the log")
    assert d.proc.poll() is None
    assert d.http(port, "/status")[0] == 200, "the old config's endpoint still serves"

    config.write_text(good.replace("backup:", f"target: {V + 1}\nbackup:"))
    d.signal(signal.SIGHUP)
    d.wait_state("idle", current_version=V + 1, target_version=V + 1)
    assert "config reloaded" in d.log()
    assert d.stop() == 0


@pytest.mark.parametrize("dialect", servers.DIALECTS)
def test_sigterm_during_a_long_migration_finishes_it_and_exits_0(project, daemons, dialect):
    fast(project)
    project.write("hooks/slow.py", SLOW_HOOK)
    project.write(f"{V + 1}_slow.yaml", "up:\n  - sql: CREATE TABLE b (id INTEGER)\n  - python: hooks/slow.py:slow\ndown:\n  - sql: DROP TABLE b\n")
    project.table(V + 2, "after", "t2")
    marker = project.root / "started"
    d = daemons(project, env={"MIGRUND_TEST_MARKER": str(marker)})
    d.wait(marker.exists, "the slow migration to start")
    # the status file follows within a tenth of a second (status.QUIET_SECONDS); the hook sleeps 2.5 s
    during = d.wait_state("applying", timeout=1)
    assert during["current_version"] == 0 and during["pending"] == [V + 1, V + 2]
    d.signal(signal.SIGTERM)
    assert d.proc.wait(timeout=30) == 0, d.log()
    assert project.applied() == [V + 1], "the migration in progress completed and nothing else started"
    assert "t2" not in project.tables()
    assert any("STOPPING=1" in m for m in d.messages)
    after = project.run("apply", "--lock-timeout", "1")
    assert after.code == 0, after.err  # the lock was released
    assert project.applied() == [V + 1, V + 2]


def test_the_status_file_always_parses_during_activity(sqlite_project, daemons):
    project = sqlite_project
    fast(project)
    d = daemons(project)
    d.wait_state("idle")
    path = project.root / "data" / "status.json"
    reads, states = 0, set()
    for i in range(1, 41):
        project.table(V + i, f"m{i}", f"t{i}")
        if i % 10 == 0:
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                states.add(json.loads(path.read_text())["state"])  # raises on a torn write
                reads += 1
    d.wait_state("idle", current_version=V + 40)
    for _ in range(200):
        json.loads(path.read_text())
    assert reads > 200 and "idle" in states
    assert d.stop() == 0


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_two_daemons_with_their_own_lock_files_apply_each_migration_once(project, daemons, dialect):
    fast(project)
    host_b = second_host(project, "host-b")
    fast(host_b)
    a, b = daemons(project), daemons(host_b)
    a.ready()
    b.ready()
    versions = [V + i for i in range(1, 11)]
    for i, version in enumerate(versions, 1):
        project.table(version, f"m{i}", f"t{i}")
        shutil.copy(project.migrations / f"{version}_m{i}.yaml", host_b.migrations)
    a.wait_state("idle", current_version=versions[-1])
    b.wait_state("idle", current_version=versions[-1])
    assert project.applied() == versions
    runs = [int(m) for m in re.findall(r"applied (\d+) ", a.log() + b.log())]
    assert sorted(runs) == versions, "each migration ran in exactly one of the daemons"
    assert a.stop() == 0 and b.stop() == 0


def test_ready_status_and_watchdog_messages_and_metrics(sqlite_project, daemons):
    project = sqlite_project
    port = free_port()
    fast(project, daemon=FAST + f"  http: 127.0.0.1:{port}\n")
    project.table(V + 1, "a", "t1")
    d = daemons(project, watchdog_usec=400_000)
    d.ready()
    ready = next(m for m in d.messages if "READY=1" in m)
    assert f"STATUS=idle: at {V + 1}" in ready, "READY comes after the first reconcile"
    start = len([m for m in d.messages if m == "WATCHDOG=1"])
    began = time.monotonic()
    d.wait(lambda: len([m for m in d.messages if m == "WATCHDOG=1"]) - start >= 3, "three more WATCHDOG=1 pings", timeout=10)
    assert time.monotonic() - began < 3, "pings come every half period (0.2 s), not now and then"
    code, body = d.http(port, "/metrics")
    text = body.decode()
    assert code == 200
    assert re.search(r"^migrund_current_version 20250101000001$", text, re.M), text
    assert re.search(r'^migrund_state\{migrund_state="idle"\} 1\.0$', text, re.M)
    assert re.search(r'^migrund_migration_duration_seconds_count\{direction="up"\} 1\.0$', text, re.M)
    assert json.loads(d.http(port, "/status")[1])["current_version"] == V + 1
    assert d.http(port, "/nope")[0] == 404
    assert d.stop() == 0
    assert any("STOPPING=1" in m for m in d.messages)


def test_a_failed_migration_waits_for_a_change_before_it_runs_again(sqlite_project, daemons):
    project = sqlite_project
    fast(project, daemon=FAST.replace("rescan_seconds: 60", "rescan_seconds: 0.3"))
    project.write("hooks/boom.py", COUNTING_HOOK)
    failing = project.write(f"{V + 1}_boom.yaml", "up:\n  - sql: CREATE TABLE b (id INTEGER)\n  - python: hooks/boom.py:boom\n")
    attempts = project.root / "attempts"
    d = daemons(project, env={"MIGRUND_TEST_MARKER": str(attempts)})
    doc = d.wait_state("error")
    assert "failed on purpose" in doc["last_error"]
    passes = d.log().count("error: ")
    d.wait(lambda: d.log().count("error: ") >= passes + 3, "three more rescans")
    assert attempts.read_text() == "x", "no retry without a change"
    d.signal(signal.SIGHUP)
    d.wait(lambda: attempts.read_text() == "xx", "a retry after SIGHUP")
    passes = d.log().count("error: ")
    d.wait(lambda: d.log().count("error: ") >= passes + 2, "two more rescans")
    assert attempts.read_text() == "xx"
    failing.write_text("up:\n  - sql: CREATE TABLE b (id INTEGER)\n")
    d.wait_state("idle", current_version=V + 1)
    assert d.stop() == 0


def test_an_unreachable_database_is_retried_with_backoff(sqlite_project, daemons):
    project = sqlite_project
    port, closed = free_port(), free_port()
    project.url = f"postgresql://migrund:canary-pw-7731@127.0.0.1:{closed}/nowhere"
    fast(project, daemon=FAST + f"  http: 127.0.0.1:{port}\n")
    d = daemons(project)
    d.ready()
    doc = d.wait_state("error")
    assert f"127.0.0.1:{closed}" in doc["last_error"] or str(closed) in doc["last_error"]
    d.wait(lambda: d.log().count("retrying in 0.8 s") >= 2, "the backoff to reach its cap")
    waits = re.findall(r"retrying in ([0-9.]+) s", d.log())
    assert waits[:4] == ["0.2", "0.4", "0.8", "0.8"]
    assert d.http(port, "/healthz")[0] == 503
    shown = d.http(port, "/status")[1].decode() + d.http(port, "/metrics")[1].decode()
    assert d.stop() == 0
    shown += d.log() + (project.root / "data" / "status.json").read_text() + "".join(d.messages)
    assert "canary-pw-7731" not in shown and "migrund:***@" in shown


def test_scheduled_backups_follow_the_cron_expression(sqlite_project, daemons):
    project = sqlite_project
    fast(project, "backup:\n  dir: ../backups\n  schedule: '* * * * *'\n  keep: 2\n")
    project.table(V + 1, "a", "t1")
    d = daemons(project)
    doc = d.wait_state("idle", current_version=V + 1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", doc["next_backup_at"])
    sidecars = lambda: sorted((project.root / "backups").glob("*.meta.json")) if (project.root / "backups").exists() else []  # noqa: E731
    found = d.wait(sidecars, "a scheduled backup", timeout=75)
    meta = json.loads(found[0].read_text())
    assert meta["reason"] == "scheduled" and meta["schema_version"] == V + 1
    after = d.wait_state("idle")
    assert after["next_backup_at"] > doc["next_backup_at"]
    assert "scheduled backup written" in d.log()
    assert d.stop() == 0


def test_the_cli_and_the_daemon_exclude_each_other_through_the_lock(sqlite_project, daemons):
    project = sqlite_project
    fast(project)
    project.write("hooks/slow.py", SLOW_HOOK)
    project.write(f"{V + 1}_slow.yaml", "up:\n  - sql: CREATE TABLE b (id INTEGER)\n  - python: hooks/slow.py:slow\ndown:\n  - sql: DROP TABLE b\n")
    project.table(V + 2, "after", "t2")
    marker = project.root / "started"
    cli = subprocess.Popen(
        [sys.executable, "-m", "migrund", "apply", "--to", str(V + 1)],
        cwd=project.root, env=clean_env(project.state_home, MIGRUND_TEST_MARKER=str(marker)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # The daemon starts only once the CLI holds the lock (its slow migration has begun):
    # started together, either may win the lock, and the test would measure a race.
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline and cli.poll() is None:
        time.sleep(0.02)
    assert marker.exists(), cli.stderr.read() if cli.poll() is not None else "the CLI's slow migration did not start"
    d = daemons(project, env={"MIGRUND_TEST_MARKER": str(marker)})
    d.wait(lambda: d.status() is not None, "the daemon's first status document")
    time.sleep(0.5)
    assert (d.status() or {"state": "starting"})["state"] == "starting", "the daemon waits for the CLI's lock"
    assert cli.wait(timeout=30) == 0, cli.stderr.read()
    d.wait_state("idle", current_version=V + 2)
    assert project.applied() == [V + 1, V + 2]
    assert f"applied {V + 1} " not in d.log() and f"applied {V + 2} after" in d.log()
    assert d.stop() == 0


def test_a_failed_automatic_backup_is_retried_and_the_rollback_waits_for_it(sqlite_project, daemons):
    project = sqlite_project
    port = free_port()
    daemon_keys = FAST + f"  http: 127.0.0.1:{port}\n"
    fast(project, daemon=daemon_keys)
    project.table(V + 1, "a", "t1")
    project.table(V + 2, "b", "t2")
    d = daemons(project)
    d.wait_state("idle", current_version=V + 2)
    blocker = project.root / "backups"
    shutil.rmtree(blocker, ignore_errors=True)
    blocker.write_text("a file where the backup folder should be")
    fast(project, f"target: {V + 1}\n", daemon=daemon_keys)
    doc = d.wait_state("error")
    assert "before_rollback backup failed" in doc["last_error"] and "retrying in" in doc["last_error"]
    assert project.applied() == [V + 1, V + 2], "no rollback without its backup"
    blocker.unlink()
    d.wait_state("idle", current_version=V + 1)
    assert list(blocker.glob("*before_rollback*"))
    metrics = d.http(port, "/metrics")[1].decode()
    last = re.search(r"^migrund_last_backup_success_timestamp_seconds (\S+)$", metrics, re.M)
    assert last and float(last[1]) > 0, "an automatic backup counts as a successful backup"
    assert d.stop() == 0


def test_a_migrations_folder_that_appears_later_is_watched(sqlite_project, daemons):
    project = sqlite_project
    fast(project)
    project.migrations.rmdir()
    d = daemons(project)
    doc = d.wait_state("blocked")
    assert "does not exist" in doc["last_error"]
    project.migrations.mkdir()
    d.wait_state("idle")
    project.table(V + 1, "a", "t1")  # a file event inside the new folder, not a rescan (60 s away)
    d.wait_state("idle", current_version=V + 1, timeout=10)
    assert d.stop() == 0


def test_json_logs_are_one_object_a_line(sqlite_project, daemons):
    project = sqlite_project
    fast(project, "logging:\n  format: json\n")
    project.table(V + 1, "a", "t1")
    d = daemons(project)
    d.wait_state("idle", current_version=V + 1)
    assert d.stop() == 0
    lines = [json.loads(line) for line in d.log().splitlines()]
    applied = [line for line in lines if line.get("event") == "applied"]
    assert applied and applied[0]["version"] == V + 1 and isinstance(applied[0]["ms"], int)
    reconcile = [line for line in lines if line.get("event") == "reconcile"]
    assert reconcile and reconcile[0]["result"] == "done" and reconcile[0]["level"] == "info"
    assert all(line["time"].endswith("Z") for line in lines)
    # the guide shows an `applied` line: it has the keys a real one has
    guide = (REPO / "docs" / "guide.md").read_text()
    shown = json.loads(re.search(r"```json\n(.*?)\n```", guide[guide.index("### Logs"):], re.S)[1])
    assert set(shown) == set(applied[0]) and shown["event"] == "applied"


def test_a_reload_whose_http_port_is_taken_keeps_the_daemon_running(sqlite_project, daemons):
    import socket

    project = sqlite_project
    d = idle_at_first(project, daemons)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        fast(project, f"target: {V + 1}\n", daemon=FAST + f"  http: 127.0.0.1:{port}\n")
        d.wait(lambda: "cannot listen on" in d.log(), "the endpoint's error in the log")
        passes = d.log().count("reconcile (file change)")
        project.table(V + 2, "b", "t2")
        d.wait(lambda: d.log().count("reconcile (file change)") > passes, "the reconcile of the new file")
        assert d.proc.poll() is None and project.applied() == [V + 1], "alive, and at the new target"
    assert d.stop() == 0


@pytest.mark.parametrize("tz,zone,at", [
    ("ACC+7", "", "T03:00:00Z"),  # POSIX rules no zone database knows, as containers set them
    ("UTC0", "", "T03:00:00Z"),
    ("EST5EDT", "", "T03:00:00Z"),
    ("UTC", "  timezone: Asia/Kolkata\n", "T21:30:00Z"),  # 03:00 at UTC+05:30
])
def test_schedules_are_read_in_backup_timezone_whatever_tz_says(sqlite_project, daemons, tz, zone, at):
    project = sqlite_project
    fast(project, f"backup:\n  dir: ../backups\n  schedule: '0 3 * * *'\n{zone}")
    project.table(V + 1, "a", "t1")
    d = daemons(project, env={"TZ": tz})
    doc = d.wait_state("idle", current_version=V + 1)
    assert doc["next_backup_at"].endswith(at), doc
    assert d.stop() == 0


@pytest.mark.parametrize("extra,words", [
    ("backup:\n  schedule: '61 * * * *'\n", ["backup.schedule", "61 * * * *", "not a valid cron expression", "line"]),
    ("backup:\n  schedule: 'every day'\n", ["backup.schedule", "every day"]),
    ("backup:\n  schedule: 5\n", ["backup.schedule", "line"]),
    ("backup:\n  schedule: '0 3 * * *'\n  timezone: Mars/Olympus\n", ["backup.timezone", "Mars/Olympus"]),
    ("daemon:\n  http: 127.0.0.1:99999\n", ["daemon.http", "99999", "out of range", "line"]),
    ("daemon:\n  http: 9187\n", ["daemon.http", "line"]),
])
def test_validate_checks_every_value_the_daemon_uses(sqlite_project, extra, words):
    project = sqlite_project
    project.table(V + 1, "a", "t1")
    project.configure(extra)
    for command in ("validate", "daemon"):
        result = project.run(command, timeout=30)
        assert result.code == 2, (command, result.err)
        for word in words:
            assert word in result.err, (command, word, result.err)
