"""plan --sql and rollback/apply --dry-run --sql print the exact statements that would run, in order."""
from __future__ import annotations

V = 20250101000000

MIGRATION = """\
up:
  - sql: |
      CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER);
  - sql:
      postgresql: CREATE INDEX child_parent ON child (parent_id)
      mysql: CREATE INDEX child_parent ON child (parent_id)
      default: CREATE INDEX child_parent ON child (parent_id)
  - python: hooks/h.py:up
down:
  - sql: |
      DROP TABLE child;
      DROP TABLE parent;
"""


def _statements(script: str) -> list[str]:
    return [line for line in script.splitlines() if line and not line.startswith("--")]


def test_the_printed_statements_are_what_apply_and_rollback_run(project):
    project.write("hooks/h.py", "def up(conn, ctx):\n    pass\n")
    project.write(f"{V}_family.yaml", MIGRATION)
    planned = project.run("plan", "--sql")
    assert planned.code == 0, planned.err
    assert _statements(planned.out) == [
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);",
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER);",
        "CREATE INDEX child_parent ON child (parent_id);",
    ]
    assert f"-- up {V} family" in planned.out and "-- python hooks/h.py:up (runs Python" in planned.out
    assert project.run("apply", "--dry-run", "--sql").out == planned.out
    assert project.tables() == [], "printing changes nothing"
    # the script itself, run by hand, builds what apply builds
    if project.db.path is not None:
        project.db.path.parent.mkdir(parents=True, exist_ok=True)
    for statement in _statements(planned.out):
        project.db.execute(statement)
    assert sorted(project.tables()) == ["child", "parent"]
    for statement in ("DROP TABLE child", "DROP TABLE parent"):
        project.db.execute(statement)
    assert project.run("apply").code == 0
    down = project.run("rollback", "--dry-run", "--sql")
    assert down.code == 0 and _statements(down.out) == ["DROP TABLE child;", "DROP TABLE parent;"]
    assert f"-- down {V} family" in down.out
    assert sorted(project.tables()) == ["child", "parent"], "a dry run rolls nothing back"
    as_json = project.run("rollback", "--dry-run", "--json")
    assert as_json.json["details"][0]["steps"][0]["statements"] == ["DROP TABLE child", "DROP TABLE parent"]


def test_sql_without_a_dry_run_is_a_usage_error(project):
    project.table(V, "a", "a")
    for command in (["apply", "--sql"], ["rollback", "--sql"]):
        result = project.run(*command)
        assert result.code == 2 and "use it with --dry-run" in result.err, result.err
    assert project.applied() == []
