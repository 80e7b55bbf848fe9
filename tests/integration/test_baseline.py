"""baseline: an existing database joins without re-running anything; on the three engines, and through the daemon."""
from __future__ import annotations

import pytest

from tests.daemonproc import FAST, DaemonProcess

V = 20250101000000


@pytest.fixture
def existing(project):
    """A database that already holds what migrations V and V+1 create (another tool made it), and three files."""
    project.table(V, "users", "users")
    project.table(V + 1, "orders", "orders")
    project.table(V + 2, "items", "items")
    project.db.path and project.db.path.parent.mkdir(parents=True, exist_ok=True)
    for table in ("users", "orders"):
        project.db.execute(f"CREATE TABLE {table} (id INTEGER)")
    project.db.execute("INSERT INTO users VALUES (7)")
    return project


def test_baseline_records_without_running_then_apply_runs_the_rest(existing):
    project = existing
    assert len(project.run("plan", "--json").json["steps"]) == 3, "without a baseline all three would run"
    preview = project.run("baseline", str(V + 1), "--dry-run", "--json")
    assert preview.code == 0 and preview.json == {"version": V + 1, "recorded": [V, V + 1], "dry_run": True}
    assert project.applied() == [], "a dry run records nothing"
    done = project.run("baseline", str(V + 1))
    assert done.code == 0 and "recorded 2 migration(s)" in done.out, done.err
    assert project.applied() == [V, V + 1]
    assert project.db.rows("SELECT id FROM users") == [(7,)], "nothing ran: the data is untouched"
    audit = project.db.rows("SELECT action, detail FROM migrund_audit")
    assert audit == [("baseline", f'{{"recorded": [{V}, {V + 1}], "version": {V + 1}}}')]
    history = project.run("history", "--json").json
    assert [row["execution_ms"] for row in history] == [0, 0]
    assert project.db.rows("SELECT applied_by FROM migrund_history ORDER BY seq")[0][0].endswith("via baseline")
    assert project.run("verify").code == 0, "the stored bodies and checksums are the files'"
    assert project.run("apply").code == 0 and project.applied() == [V, V + 1, V + 2]
    again = project.run("baseline", str(V + 1))
    assert again.code == 0 and "nothing to record" in again.out
    assert project.run("rollback").code == 0 and project.applied() == [V, V + 1], "a baselined database rolls back as usual"


def test_baseline_refusals(existing):
    project = existing
    assert project.run("baseline", "20990101000000").code == 2, "not a file's version"
    assert project.run("baseline", "0").code == 2
    assert project.run("baseline", "latest", "--json").json["recorded"] == [V, V + 1, V + 2]
    assert project.applied() == [V, V + 1, V + 2]


def test_a_dirty_database_is_settled_before_a_baseline(sqlite_project):
    project = sqlite_project
    project.write(f"{V}_half.yaml", "transaction: false\nup:\n  - sql: CREATE TABLE a (id INTEGER)\n  - sql: FAIL HERE\n")
    project.table(V + 1, "b", "b")
    assert project.run("apply").code == 1
    refused = project.run("baseline", str(V + 1))
    assert refused.code == 5 and "dirty" in refused.err
    assert project.applied() == []


def test_the_first_start_records_the_configured_baseline_once(existing):
    project = existing
    project.configure(f"migrations:\n  path: ../migrations\n  baseline: {V + 1}\n")
    first = project.run("apply")
    assert first.code == 0, first.err
    assert "first start: 2 migration(s) up to" in first.err
    assert project.applied() == [V, V + 1, V + 2]
    assert project.db.rows("SELECT id FROM users") == [(7,)]
    assert project.run("apply").code == 0
    assert len(project.db.rows("SELECT action FROM migrund_audit")) == 1, "later runs do not baseline again"


def test_a_format_1_database_gains_the_audit_table_at_the_next_write(sqlite_project):
    project = sqlite_project
    project.table(V, "a", "a")
    project.table(V + 1, "b", "b")
    assert project.run("apply", "--to", str(V)).code == 0
    project.db.execute("DROP TABLE migrund_audit")
    project.db.execute("UPDATE migrund_meta SET value = '1' WHERE name = 'format'")
    assert project.run("status").code == 0, "readers read format 1 as it is"
    assert "migrund_audit" not in project.db.all_tables()
    assert project.run("apply").code == 0
    assert "migrund_audit" in project.db.all_tables()
    assert project.db.rows("SELECT value FROM migrund_meta WHERE name = 'format'") == [("2",)]


def test_the_daemon_joins_an_existing_database_with_the_configured_baseline(existing, tmp_path):
    project = existing
    project.daemon = FAST
    project.configure(f"migrations:\n  path: ../migrations\n  baseline: {V + 1}\n")
    daemon = DaemonProcess(project)
    try:
        doc = daemon.wait_state("idle", current_version=V + 2)
        assert doc["last_error"] is None
        assert project.applied() == [V, V + 1, V + 2]
        assert project.db.rows("SELECT id FROM users") == [(7,)]
        assert "recorded as applied without running them" in daemon.log()
        assert daemon.stop() == 0
    finally:
        daemon.close()
