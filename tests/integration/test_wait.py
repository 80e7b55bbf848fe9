"""migrund wait: what a deploy pipeline runs after a push; against the daemon as a real process."""
from __future__ import annotations

import pytest

from tests.daemonproc import idle_daemon

V = 20250101000000

SLOW_HOOK = "import time\n\ndef slow(conn, ctx):\n    time.sleep(4)\n"


@pytest.fixture
def running(sqlite_project):
    project = sqlite_project
    daemon = idle_daemon(project, V)
    yield project, daemon
    daemon.close()


def test_wait_returns_once_the_pushed_migration_is_applied(running):
    project, daemon = running
    project.table(V + 1, "b", "b")  # the push; the daemon has not seen it yet (debounce)
    result = project.run("wait", "--timeout", "30", "--json")
    assert result.code == 0, result.err
    assert result.json["current_version"] == V + 1 and result.json["state"] == "idle"
    assert project.applied() == [V, V + 1], "wait did not return before the daemon was done"


def test_wait_exits_with_the_blocked_states_code_and_reason(running):
    project, daemon = running
    project.write(f"{V + 1}_broken.yaml", "up:\n  - sql: 5\n")
    result = project.run("wait", "--timeout", "30")
    assert result.code == 2, (result.code, result.err)
    assert "the daemon is blocked" in result.err and f"{V + 1}_broken.yaml" in result.err
    as_json = project.run("wait", "--timeout", "30", "--json")
    assert as_json.code == 2 and as_json.json["state"] == "blocked" and as_json.json["last_exit_code"] == 2


def test_wait_gives_up_at_its_timeout_with_exit_6(running):
    project, daemon = running
    project.write("hooks/slow.py", SLOW_HOOK)
    project.write(f"{V + 1}_slow.yaml", "up:\n  - sql: CREATE TABLE s (id INTEGER)\n  - python: hooks/slow.py:slow\n")
    result = project.run("wait", "--timeout", "1")
    assert result.code == 6 and "gave up after 1 s" in result.err, result.err
    assert project.run("wait", "--timeout", "30").code == 0


def test_wait_without_a_daemon_says_so(sqlite_project):
    import time

    project = sqlite_project
    project.configure()
    project.table(V, "a", "a")
    began = time.monotonic()
    result = project.run("wait", "--timeout", "3")
    assert result.code == 1 and "no daemon is running" in result.err and "waited 3 s for one to start" in result.err
    assert time.monotonic() - began >= 3, "a daemon about to start is given the grace"


def test_the_daemon_looks_again_at_once_after_a_cli_change(running):
    import time

    project, daemon = running
    project.table(V + 1, "b", "b")
    daemon.wait_state("idle", current_version=V + 1)
    # rescans are a minute apart here: only the CLI's signal can bring the daemon back this fast
    started = time.monotonic()
    assert project.run("rollback").code == 0
    daemon.wait(lambda: "reconcile (CLI change)" in daemon.log(), "the daemon's reconcile after the CLI's rollback", timeout=5)
    daemon.wait_state("idle", current_version=V + 1)
    assert time.monotonic() - started < 5
    assert project.applied() == [V, V + 1], "target latest: the daemon converged again"
    base = project.run("baseline", str(V + 1))  # nothing to record: no change, no signal
    assert base.code == 0 and daemon.log().count("reconcile (CLI change)") == 1


def test_a_stale_status_file_naming_another_program_is_not_signalled(sqlite_project):
    import json
    import subprocess
    import sys

    project = sqlite_project
    project.configure()
    project.table(V, "a", "a")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        status = project.root / "data" / "status.json"
        status.parent.mkdir(parents=True, exist_ok=True)
        status.write_text(json.dumps({"state": "idle", "pid": other.pid, "current_version": 0, "target_version": 0, "pending": []}))
        assert project.run("apply").code == 0
        assert other.poll() is None, "SIGUSR1 would have ended a program that is not a migrund daemon"
    finally:
        other.kill()
        other.wait()


def test_wait_started_before_the_daemon_waits_for_it(sqlite_project):
    """`systemctl restart migrund && migrund wait`: the daemon may not have written its status file yet."""
    import subprocess
    import sys

    from tests.daemonproc import FAST, DaemonProcess
    from tests.helpers import clean_env

    project = sqlite_project
    project.daemon = FAST
    project.configure()
    project.table(V, "a", "a")
    waiting = subprocess.Popen([sys.executable, "-m", "migrund", "wait", "--timeout", "30"], cwd=project.root,
                               env=clean_env(project.state_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    daemon = DaemonProcess(project)
    try:
        out, err = waiting.communicate(timeout=40)
        assert waiting.returncode == 0, err
        assert "the database is at its target" in out and project.applied() == [V]
    finally:
        daemon.close()
