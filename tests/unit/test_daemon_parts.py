"""The daemon's pure parts: backoff, sd_notify addressing, the watcher's bookkeeping, JSON log lines."""
from __future__ import annotations

import json
import logging
import os
import socket
import types

import pytest

from migrund.daemon.policy import backoff, describe
from migrund.daemon.requests import Requests
from migrund.logs import JsonLines
from migrund.daemon.notify import Notifier


def test_backoff_doubles_from_the_minimum_up_to_the_maximum():
    assert [backoff(n, 5, 300) for n in range(1, 9)] == [5, 10, 20, 40, 80, 160, 300, 300]


def test_a_timer_never_postpones_a_request_and_requests_are_debounced():
    r = Requests()
    r.reconcile("file change", delay=10, debounce=True)
    first = r.reconcile_at
    r.schedule("rescan", 60)
    assert r.reconcile_at == first, "the rescan timer does not move an asked-for reconcile"
    r.reconcile("file change", delay=20, debounce=True)
    assert r.reconcile_at > first, "another event pushes a debounced reconcile back"
    r.reconcile("SIGHUP")
    assert r.reconcile_at <= first and r.reasons == {"file change", "SIGHUP"}


def test_notifier_sends_to_a_path_and_to_an_abstract_socket(tmp_path):
    path = str(tmp_path / "n")
    plain = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    plain.bind(path)
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"migrund-test-{os.getpid()}"
    abstract.bind("\0" + name)
    Notifier({"NOTIFY_SOCKET": path}).send(READY="1", STATUS="idle")
    Notifier({"NOTIFY_SOCKET": "@" + name}).send(WATCHDOG="1")
    assert plain.recv(100) == b"READY=1\nSTATUS=idle"
    assert abstract.recv(100) == b"WATCHDOG=1"
    Notifier({}).send(READY="1")  # no socket: nothing happens, nothing raises
    Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).send(READY="1")


@pytest.mark.parametrize(
    ("environ", "seconds"),
    [
        ({"WATCHDOG_USEC": "4000000"}, 4.0),
        ({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}, 4.0),
        ({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({}, None),
    ],
)
def test_the_watchdog_period_is_read_only_when_it_is_ours(environ, seconds):
    assert Notifier(environ).watchdog_seconds == seconds


def test_describe_is_one_status_line():
    doc = {"state": "blocked", "current_version": 1, "target_version": 2, "pending": [2], "last_error": "x.yaml is invalid"}
    assert describe(doc) == "blocked: at 1, target 2, 1 pending; x.yaml is invalid"


def test_json_log_lines_carry_the_record_fields():
    record = logging.LogRecord("migrund.daemon", logging.INFO, __file__, 1, "applied %d in %d ms", (7, 3), None)
    record.fields = {"event": "applied", "version": 7, "ms": 3}
    doc = json.loads(JsonLines().format(record))
    assert doc["message"] == "applied 7 in 3 ms" and doc["level"] == "info" and doc["version"] == 7
    assert doc["time"].endswith("Z")


def test_the_watcher_holds_back_files_open_for_writing(tmp_path):
    pytest.importorskip("watchdog")
    from migrund.daemon.watch import Watcher

    migrations = tmp_path / "migrations"
    migrations.mkdir()
    config = tmp_path / "config" / "migrund.yaml"
    config.parent.mkdir()
    asked: list[str] = []
    w = Watcher(migrations, config, [tmp_path / "config" / "status.json"], asked.append)
    w.tracks_writers = True

    def event(kind: str, path, dest="", directory=False):
        w._event(types.SimpleNamespace(event_type=kind, src_path=str(path), dest_path=str(dest), is_directory=directory))

    file = migrations / "20250101000000_a.yaml"
    event("opened", file)
    assert asked == [], "reading a file is not a change"
    event("modified", file)
    assert w.being_written(60) == [str(file)]
    event("closed", file)
    assert w.being_written(60) == []
    event("modified", file)
    assert w.being_written(60) == [str(file)]
    assert w.being_written(-1) == [] and w.being_written(60) == [], "an entry older than the limit is dropped for good"
    event("modified", tmp_path / "config" / "status.json")
    event("modified", tmp_path / "config" / "other.yaml")
    event("modified", migrations / "__pycache__" / "x.pyc")
    assert len(asked) == 3, "the daemon's own files, other files beside the config and caches are ignored"
    event("moved", tmp_path / "config" / ".tmp", config)
    assert asked[-1] == str(config), "a config replaced by a rename counts"


def test_the_status_file_is_written_at_most_every_quiet_interval_and_always_catches_up(tmp_path):
    import time

    from migrund.daemon.status import QUIET_SECONDS, StatusDocument

    path = tmp_path / "status.json"
    told: list[str] = []
    writes: list[dict] = []
    doc = StatusDocument("sqlite:///x.db", lambda: path, told.append)
    real_publish = doc._publish

    def counting(document, changed):
        writes.append(document)
        real_publish(document, changed)

    doc._publish = counting
    doc.flush(whole=True)
    assert json.loads(path.read_text())["state"] == "starting" and len(writes) == 1
    started = time.monotonic()
    doc.update(state="applying")  # a pass starts: at once
    assert json.loads(path.read_text())["state"] == "applying"
    for version in range(1, 1001):  # a pass over a thousand quick migrations: two changes each
        doc.update(running={"version": version})
        doc.update(current_version=version, running=None)
    assert time.monotonic() - started < QUIET_SECONDS, "the updates themselves are quick here"
    assert len(writes) <= 3, "not a write per change"
    deadline = time.monotonic() + 5
    while json.loads(path.read_text())["current_version"] != 1000:
        assert time.monotonic() < deadline, "the last change reaches the file without a further update"
        time.sleep(0.01)
    assert json.loads(path.read_text())["running"] is None
    assert told and "1000" in told[-1], "systemd's status line follows too"
    doc.update(running={"version": 1001})
    doc.update(running=None, current_version=1001)
    doc.update(state="idle")  # the end of a pass: written at once, with the progress before it
    written = json.loads(path.read_text())
    assert written["state"] == "idle" and written["current_version"] == 1001
    doc.update(last_error="x")
    doc.flush()  # what the daemon does before it exits: written at once
    assert json.loads(path.read_text())["last_error"] == "x"
