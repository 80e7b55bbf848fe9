"""Crashes everywhere: a process killed (SIGKILL) at every crash point and at random moments.

After each crash: `status` works; every migration is whole with its history row, or absent,
or (outside a transaction, and on MariaDB) reported dirty at the migration in progress;
SQLite's integrity_check is ok; no lock is left held; the next run completes.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time

import pytest

from tests import servers
from tests.daemonproc import FAST, DaemonProcess
from tests.helpers import Project, clean_env
from tests.reliability.checks import (
    TRIALS,
    V,
    assert_consistent,
    assert_no_leftovers,
    assert_no_orphans,
    converge,
    crash_points,
    kill_at_random,
    reset,
    sample,
    versions,
    with_password,
    write_workload,
)


@pytest.fixture
def workload(project):
    write_workload(project)
    with_password(project)
    return project


def run_crashing(project: Project, point, *args: str, rng: random.Random, span: float) -> bool:
    """Run the CLI with a crash point (or kill it at a random moment); True if it died."""
    env = clean_env(project.state_home, **({"MIGRUND_CRASH_AT": point} if point else {}))
    proc = subprocess.Popen([sys.executable, "-m", "migrund", *args], cwd=project.root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if point is None:
        return kill_at_random(proc, rng, span)
    proc.wait(timeout=120)
    err = proc.stderr.read()
    assert "Traceback" not in err, err
    return proc.returncode == -9


def timed(project: Project, *args: str) -> float:
    started = time.monotonic()
    assert project.run(*args).code == 0
    return time.monotonic() - started


@pytest.mark.parametrize("operation", ["apply", "rollback"])
@pytest.mark.parametrize("dialect", servers.DIALECTS)
def test_crashes_during_apply_and_rollback(workload, dialect, operation, tally):
    project = workload
    args = ["apply"] if operation == "apply" else ["rollback", "--to", "0"]
    starting_state = reset if operation == "apply" else converge
    converge(project)
    starting_state(project)
    span = timed(project, *args)
    rng = random.Random(f"{operation}-{dialect}")
    for point in sample(crash_points(operation), f"{operation}-{dialect}"):
        starting_state(project)
        tally["trials"] += 1
        tally["faults"] += run_crashing(project, point, *args, rng=rng, span=span)
        assert_no_orphans(project, tally)
        assert_consistent(project, tally)
        converge(project)
        assert_no_leftovers(project, tally)


@pytest.mark.parametrize("dialect", servers.DIALECTS)
def test_crashes_during_backup(workload, dialect, tally):
    project = workload
    assert project.run("apply").code == 0
    span = timed(project, "backup")
    rng = random.Random(f"backup-{dialect}")
    for point in sample(crash_points("backup"), f"backup-{dialect}"):
        tally["trials"] += 1
        tally["faults"] += run_crashing(project, point, "backup", rng=rng, span=span)
        assert_no_orphans(project, tally)
        listed = project.run("backups", "--json")
        assert listed.code == 0, listed.err
        assert all(entry["ok"] for entry in listed.json), "a crashed backup is never listed as usable"
        assert_consistent(project, tally)
        again = project.run("backup", "--lock-timeout", "2")
        assert again.code == 0, again.err
        assert json.loads(project.run("backups", "--json").out)[-1]["ok"]
        assert_no_leftovers(project, tally)


@pytest.mark.parametrize("dialect", servers.DIALECTS)
def test_crashes_during_restore(workload, dialect, tally):
    project = workload
    assert project.run("apply", "--to", str(V + 3)).code == 0
    # Outside backup.dir: the before_restore backups of many trials must not prune it away.
    saved = project.run("backup", "--output", str(project.root / "saved.backup"), "--json").json["path"]
    rng = random.Random(f"restore-{dialect}")
    span = None
    for point in sample(crash_points("restore"), f"restore-{dialect}"):
        converge(project)
        if span is None:
            span = timed(project, "restore", saved)
            converge(project)
        tally["trials"] += 1
        tally["faults"] += run_crashing(project, point, "restore", saved, rng=rng, span=span)
        assert_no_orphans(project, tally)
        status = project.run("status", "--json")
        assert status.code == 0, status.err
        if status.json["interrupted_restore"]:
            # MySQL restores drop, then reload (not atomic): a half-loaded database says so, and nothing acts on it
            assert dialect == "mysql", "only MySQL restores are not atomic"
            refused = project.run("apply", "--lock-timeout", "2")
            assert refused.code == 5 and "restore" in refused.err, refused.err
            tally["interrupted_restores"] += 1
        else:
            applied = assert_consistent(project, tally)
            assert applied in (versions(), versions()[:3]), "the database is the old one or the backup, nothing between"
        done = project.run("restore", saved, "--lock-timeout", "2")
        assert done.code == 0, done.err
        assert project.applied() == versions()[:3]
        assert_consistent(project, tally)
        assert_no_leftovers(project, tally)


@pytest.mark.parametrize("dialect", servers.DIALECTS)
def test_crashes_during_a_daemon_reconcile(workload, dialect, tally, tmp_path):
    project = workload
    project.daemon = FAST
    project.configure()
    span = timed(project, "apply")
    reset(project)
    rng = random.Random(f"daemon-{dialect}")
    for trial in range(max(TRIALS // 2, 3)):
        tally["trials"] += 1
        daemon = DaemonProcess(project, log_name=f"daemon-{trial}.log")
        try:
            daemon.wait(lambda: daemon.proc.poll() is None, "the daemon to run")
            tally["faults"] += kill_at_random(daemon.proc, rng, span + 0.5)
            assert_no_orphans(project, tally)
        finally:
            daemon.close()
        assert_consistent(project, tally)
        survivor = DaemonProcess(project, log_name=f"daemon-{trial}-next.log")
        try:
            survivor.wait_state("idle", current_version=versions()[-1])
            assert survivor.stop() == 0
        finally:
            survivor.close()
        assert project.applied() == versions()
        reset(project)
        assert_no_leftovers(project, tally)
