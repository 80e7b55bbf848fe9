"""Progress: lines as each migration starts and ends, and the daemon's running migration and step."""
from __future__ import annotations

import json
import re

from tests.daemonproc import FAST, DaemonProcess, free_port

V = 20250101000000

SLOW = "import time\n\ndef slow(conn, ctx):\n    time.sleep(3)\n"


def test_the_cli_says_when_each_migration_starts_and_ends_and_agrees_with_history(sqlite_project):
    project = sqlite_project
    project.configure()
    project.write(f"{V}_three.yaml", "up:\n  - sql: CREATE TABLE a (id INTEGER)\n  - sql: CREATE TABLE b (id INTEGER)\n"
                                     "  - sql: CREATE TABLE c (id INTEGER)\n")
    result = project.run("apply")
    lines = result.out.splitlines()
    assert lines[0] == f"applying {V} three (3 steps)"
    ms = int(re.fullmatch(rf"applied {V} three in (\d+) ms", lines[1])[1])
    assert project.run("history", "--json").json[0]["execution_ms"] == ms, "the output and the history agree"
    assert project.run("apply", "--json").out.count("applying") == 0, "no progress lines with --json"


def test_the_daemon_shows_the_migration_and_step_running_now(sqlite_project):
    project = sqlite_project
    port = free_port()
    project.daemon = FAST + f"  http: 127.0.0.1:{port}\n"
    project.configure()
    project.write("hooks/slow.py", SLOW)
    project.write(f"{V}_slow.yaml", "up:\n  - sql: CREATE TABLE a (id INTEGER)\n  - python: hooks/slow.py:slow\n")
    daemon = DaemonProcess(project)
    try:
        doc = daemon.wait(lambda: (daemon.status() or {}).get("running") and daemon.status()["running"]["step"] == 2 and daemon.status(),
                          "the daemon's status showing step 2 running")
        running = doc["running"]
        assert (running["version"], running["name"], running["direction"], running["steps"]) == (V, "slow", "up", 2)
        assert running["since"].endswith("Z") and running["step_since"] >= running["since"]
        shown = project.run("status")
        assert f"running   up {V} slow, step 2 of 2" in shown.out, shown.out
        health = json.loads(daemon.http(port, "/healthz")[1])
        assert health["state"] == "applying" and health["running"]["version"] == V and health["running"]["step"] == 2
        code, body = daemon.http(port, "/metrics")
        text = body.decode()
        assert re.search(r"^migrund_running_step 2\.0$", text, re.M) and re.search(r"^migrund_running_migration 20250101000000$", text, re.M), text
        assert re.search(r'^migrund_reconcile_failures_total\{result="blocked"\} 0\.0$', text, re.M), "counters exist from the start"
        done = daemon.wait_state("idle", current_version=V)
        assert done["running"] is None
        assert re.search(r"^migrund_running_migration 0$", daemon.http(port, "/metrics")[1].decode(), re.M)
        assert daemon.stop() == 0
    finally:
        daemon.close()
