"""Fuzzed configs and file-system oddities: whatever the operator points migrund at, nothing is lost or hung.

Beside ``test_hostile_input`` (which fuzzes the text of files), this fuzzes *where* things
are and *what kind* of file they are: config values naming the database, a migration, the
config itself, a FIFO, /dev/null or a dangling link; and migrations folders holding FIFOs,
sockets, links in and out, folders and unreadable files under migration names.
"""
from __future__ import annotations

import os
import shutil
import socket
import stat
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import Project
from tests.reliability.test_hostile_input import CONFIG_EXTRA, FUZZ_SETTINGS, GOOD, run_cli

# Paths as a config may give them (relative to config/), each a place an operator could name by mistake.
PLACES = [
    "../data/app.db", "../data/app.db-wal", "../data/app.db-journal", "../migrations", "../migrations/20250101000000_good.yaml",
    "../migrations/sub/x", "migrund.yaml", ".", "..", "/dev/null", "../data/fifo", "../data/link-to-db", "../data/dangling",
    "../data/nested/deeper/file", "", " ", "../data/ünï", "../data/" + "x" * 300, "../data/app.db/inside", "\x00bad",
]
KEYS = {
    "lock.path": st.sampled_from(PLACES),
    "daemon.status_file": st.sampled_from(PLACES),
    "backup.dir": st.sampled_from(PLACES),
    "migrations.path": st.sampled_from(PLACES),
    "database.url": st.sampled_from(["sqlite:///" + p for p in PLACES] + ["sqlite://", "sqlite:///", "postgresql://u:p@127.0.0.1:1/x",
                                                                         "mysql://u@[::1/x", "postgresql://h:99999/x", "nonsense"]),
    "daemon.http": st.sampled_from(["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", ":80", "x:y", 9187, None, "127.0.0.1:99999999"]),
    "backup.schedule": st.sampled_from(["* * * * *", "61 * * * *", "", "@reboot", "0 3 * * * *", 5, None, "0 3 31 2 *"]),
    "backup.timezone": st.sampled_from(["UTC", "Europe/Berlin", "ACC+7", "UTC0", "../../etc/passwd", "", 3]),
    "backup.keep": st.sampled_from([0, 1, -1, 2**70, "2", 1.5, None]),
    "lock.timeout": st.sampled_from([0, -1, 1e308, float("nan"), "x", None]),
    "target": st.sampled_from(["latest", "0", 0, "20250101000000", "٢٠٢٥٠١٠١٠٠٠٠٠٠", "20991231000000", -1, None, "LATEST"]),
}


@pytest.fixture(scope="module")
def place_home(tmp_path_factory):
    """A project with one migration applied, and the odd files the places above name."""
    root = tmp_path_factory.mktemp("places") / "proj"
    project = Project(root, extra=CONFIG_EXTRA)
    project.write("20250101000000_good.yaml", GOOD)
    assert project.run("apply").code == 0
    os.mkfifo(root / "data" / "fifo")
    os.symlink(project.db_path, root / "data" / "link-to-db")
    os.symlink(root / "data" / "nowhere", root / "data" / "dangling")
    return project, Pristine(project.db_path.read_bytes()), (project.migrations / "20250101000000_good.yaml").read_bytes()


class Pristine(bytes):
    """The database's bytes, shown short in a failing example."""

    def __repr__(self) -> str:
        return f"<database of {len(self)} bytes>"


def _set(document: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        document = document.setdefault(key, {}) if isinstance(document.get(key, {}), dict) else document
    document[last] = value


@FUZZ_SETTINGS
@given(choices=st.fixed_dictionaries({}, optional=KEYS), command=st.sampled_from(["apply", "status", "validate", "rollback", "backup"]))
def test_fuzzed_config_places_never_lose_data_or_hang(place_home, tally, choices, command):
    project, database, migration = place_home
    config = project.root / "config" / "migrund.yaml"
    original = config.read_text()
    document = yaml.safe_load(original)
    for key, value in choices.items():
        _set(document, key, value)
    try:
        config.write_text(yaml.safe_dump(document, allow_unicode=True))
        code, err = run_cli("--config", str(config), command)
        assert "Traceback" not in err and "internal error" not in err, err
        assert code in (0, 1, 2, 3, 4), (code, err)
        if code != 0:
            assert "migrund: error: " in err, err
        assert (project.migrations / "20250101000000_good.yaml").read_bytes() == migration, "a migration file was overwritten"
        assert config.read_text() == yaml.safe_dump(document, allow_unicode=True), "the config was overwritten"
        if command in ("status", "validate") or code == 2:
            assert project.db_path.read_bytes() == database, "the database changed on a reading or refused command"
        assert stat.S_ISFIFO((project.root / "data" / "fifo").stat().st_mode)
    finally:
        config.write_text(original)
        _reset(project, database)
    tally["fuzzed"] += 1


def _reset(project: Project, database: bytes) -> None:
    if project.db_path.is_symlink() or not project.db_path.is_file():
        project.db_path.unlink(missing_ok=True)
    project.db_path.write_bytes(database)
    for leftover in list(project.migrations.iterdir()):
        if leftover.name != "20250101000000_good.yaml":
            shutil.rmtree(leftover) if leftover.is_dir() and not leftover.is_symlink() else leftover.unlink()


KINDS = ["fifo", "socket", "link-out", "link-db", "link-in", "dangling", "folder", "unreadable", "empty", "link-config",
         "world-writable", "binary"]
NAMES = ["20250102000000_odd.yaml", "20250102000000_odd.py", "20250102_000000_odd.yml", "odd.yaml", "hooks", ".hidden.yaml",
         "20250102000000_ünï.yaml", "20250102000000_odd.yaml\n", "-rf.yaml", "20250102000000_odd.YAML", "20250102000000_" + "x" * 200 + ".yaml",
         "٢٠٢٥٠١٠٢٠٠٠٠٠٠_odd.yaml", "20250102000000_odd.yaml~", "#20250102000000_odd.yaml#"]


@FUZZ_SETTINGS
@given(entries=st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(NAMES)), min_size=1, max_size=3, unique_by=lambda e: e[1]),
       command=st.sampled_from(["apply", "status", "validate", "plan", "verify"]))
def test_fuzzed_migration_folder_oddities_are_named_never_opened_blocking(place_home, tally, tmp_path_factory, entries, command):
    project, database, _ = place_home
    outside = tmp_path_factory.mktemp("outside") / "evil.py"
    canary = outside.with_name("CANARY")
    outside.write_text(f"open({str(canary)!r}, 'w').close()\ndef up(conn, ctx):\n    open({str(canary)!r}, 'w').close()\n")
    sockets = []
    try:
        for kind, name in entries:
            path = project.migrations / name
            if kind == "fifo":
                os.mkfifo(path)
            elif kind == "socket":
                sock = socket.socket(socket.AF_UNIX)
                sockets.append(sock)
                try:
                    sock.bind(str(path))
                except OSError:  # a socket path over the kernel's 108 bytes cannot be made: not migrund's input
                    continue
            elif kind == "link-out":
                os.symlink(outside, path)
            elif kind == "link-db":
                os.symlink(project.db_path, path)
            elif kind == "link-in":
                os.symlink(project.migrations / "20250101000000_good.yaml", path)
            elif kind == "link-config":
                os.symlink(project.root / "config" / "migrund.yaml", path)
            elif kind == "dangling":
                os.symlink(project.migrations / "nowhere", path)
            elif kind == "folder":
                path.mkdir()
            elif kind == "unreadable":
                path.write_text(GOOD)
                path.chmod(0)
            elif kind == "world-writable":
                path.write_text(GOOD)
                path.chmod(0o666)
            elif kind == "binary":
                path.write_bytes(os.urandom(64))
            else:
                path.write_text("")
        code, err = run_cli("--config", str(project.root / "config" / "migrund.yaml"), command)
        assert "Traceback" not in err and "internal error" not in err, err
        assert code in (0, 1, 2, 4), (code, err)
        assert not canary.exists(), "code from outside the migrations folder ran"
        if code == 2:
            assert "migrund: error: " in err, err
        if code != 0 or command != "apply":
            assert project.db_path.read_bytes() == database
    finally:
        for sock in sockets:
            sock.close()
        _reset(project, database)
    tally["fuzzed"] += 1


def test_the_odd_places_exist(place_home):
    project, _, _ = place_home
    assert Path(project.root / "data" / "fifo").exists() and os.path.islink(project.root / "data" / "dangling")
