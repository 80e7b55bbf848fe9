"""SPEC 5.3: non-transactional migrations, the dirty state, and repair, on every database."""
from __future__ import annotations

import pytest

from tests.helpers import Project

BROKEN = """\
transaction: false
up:
  - sql: CREATE TABLE half (id INTEGER PRIMARY KEY)
  - sql: INSERT INTO no_such_table VALUES (1)
  - sql: CREATE TABLE never (id INTEGER)
down:
  - sql: DROP TABLE half
"""


def make_dirty(project: Project) -> None:
    project.table(20250101000000, "a", "a")
    project.write("20250102000000_half.yaml", BROKEN)
    result = project.run("apply", "--json")
    assert result.code == 1
    assert result.json["error"] == {"version": 20250102000000, "step": 2, "message": result.json["error"]["message"], "dirty": True}
    assert "dirty" in result.err and "repair" in result.err


def test_failure_outside_a_transaction_leaves_a_dirty_database(project):
    make_dirty(project)
    assert project.tables() == ["a", "half"], "steps before the failing one stay"
    status = project.run("status", "--json")
    assert status.code == 0 and status.json["dirty"] == {"version": 20250102000000, "direction": "up", "step": 2}
    assert "20250102000000 up step 2" in project.run("status").out
    for command in (["apply"], ["rollback"], ["reconcile"], ["apply", "--dry-run"]):
        refused = project.run(*command)
        assert refused.code == 5, command
        assert "repair" in refused.err
    plan = project.run("plan", "--json")
    assert plan.code == 5 and plan.json["steps"]


def test_repair_rolled_back_then_the_fixed_file_applies(project):
    make_dirty(project)
    project.db.execute("DROP TABLE half")  # the operator's fix by hand
    repaired = project.run("repair", "20250102000000", "--rolled-back", "--json")
    assert repaired.code == 0, repaired.err
    assert repaired.json == {"version": 20250102000000, "direction": "up", "step": 2, "recorded": "rolled_back"}
    assert project.db.dirty() is None and project.applied() == [20250101000000]
    project.write("20250102000000_half.yaml", BROKEN.replace("INSERT INTO no_such_table VALUES (1)", "INSERT INTO half VALUES (1)"))
    assert project.run("apply").code == 0
    assert project.applied() == [20250101000000, 20250102000000]
    assert project.db.rows("SELECT outcome FROM migrund_repairs") == [("rolled_back",)]


def test_repair_applied_records_the_current_file(project):
    make_dirty(project)
    repaired = project.run("repair", "20250102000000", "--applied")
    assert repaired.code == 0, repaired.err
    assert project.applied() == [20250101000000, 20250102000000]
    by = project.db.rows("SELECT applied_by FROM migrund_history WHERE version = 20250102000000")[0][0]
    assert by.endswith("via repair --applied")
    assert project.run("status", "--check").code == 0


def test_repair_refuses_clean_database_and_wrong_version(project):
    project.table(20250101000000, "a", "a")
    project.run("apply")
    clean = project.run("repair", "20250101000000", "--applied")
    assert clean.code == 2 and "not dirty" in clean.err
    project.write("20250102000000_half.yaml", BROKEN)
    project.run("apply")
    wrong = project.run("repair", "20250101000000", "--rolled-back")
    assert wrong.code == 2 and "20250102000000" in wrong.err
    usage = project.run("repair", "20250102000000")
    assert usage.code == 2


def test_dirty_rollback_repaired_as_rolled_back_writes_a_rollback_row(project):
    project.write(
        "20250101000000_nt.yaml",
        "transaction: false\nup:\n  - sql: CREATE TABLE t (id INTEGER)\ndown:\n  - sql: DROP TABLE t\n  - sql: DROP TABLE not_there\n",
    )
    assert project.run("apply").code == 0
    failed = project.run("rollback")
    assert failed.code == 1
    assert project.run("status", "--json").json["dirty"] == {"version": 20250101000000, "direction": "down", "step": 2}
    assert project.run("repair", "20250101000000", "--rolled-back").code == 0
    assert project.applied() == []
    assert [r["version"] for r in project.run("history", "--rollbacks", "--json").json] == [20250101000000]


def test_transaction_false_migration_that_succeeds_leaves_no_marker(project):
    project.write("20250101000000_nt.yaml", "transaction: false\nup:\n  - sql: CREATE TABLE t (id INTEGER)\n  - sql: CREATE TABLE u (id INTEGER)\n")
    assert project.run("apply").code == 0
    assert project.db.dirty() is None and project.tables() == ["t", "u"]


@pytest.mark.parametrize("dialect", ["postgresql"])
def test_transaction_false_allows_create_index_concurrently(project):
    project.table(20250101000000, "a", "a")
    project.write("20250102000000_idx.yaml", "transaction: false\nup:\n  - sql: CREATE INDEX CONCURRENTLY a_v ON a (v)\ndown:\n  - sql: DROP INDEX CONCURRENTLY a_v\n")
    assert project.run("apply").code == 0
    assert ("a_v",) in project.db.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'a'")
    assert project.run("rollback").code == 0
    project.write("20250103000000_bad.yaml", "up:\n  - sql: CREATE INDEX CONCURRENTLY a_v2 ON a (v)\n")
    inside = project.run("apply")
    assert inside.code == 1 and "CONCURRENTLY" in inside.err and "transaction" in inside.err
