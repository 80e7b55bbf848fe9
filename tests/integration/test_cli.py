"""The real CLI as a subprocess: every command, exit code and --json shape of SPEC 4."""
from __future__ import annotations

import re
import sys
from pathlib import Path
import shutil

import pytest

from tests.helpers import REPO, Project

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
PLAN_KEYS = {"from_version", "to_version", "dry_run", "steps"}


def three(project: Project) -> None:
    project.table(20250101000000, "a", "a")
    project.table(20250102000000, "b", "b")
    project.table(20250103000000, "c", "c")


def test_help_lists_every_command(project):
    result = project.run("--help")
    assert result.code == 0
    for name in ("init", "new", "validate", "status", "plan", "apply", "rollback", "reconcile", "history", "check-safety", "verify"):
        assert name in result.out


def test_status_json_shape_on_missing_database(project):
    three(project)
    result = project.run("status", "--json")
    assert result.code == 0, result.err
    doc = result.json
    assert doc["current_version"] == 0
    assert doc["target_version"] == 20250103000000
    assert doc["applied"] == [] and doc["pending"] == [20250101000000, 20250102000000, 20250103000000]
    assert doc["modified"] == [] and doc["missing"] == [] and doc["dirty"] is None and doc["daemon"] is None
    assert not project.db.touched(), "a reading command must create nothing"


def test_apply_json_then_idempotent(project):
    three(project)
    first = project.run("apply", "--json")
    assert first.code == 0, first.err
    assert set(first.json) >= PLAN_KEYS
    assert first.json["from_version"] == 0 and first.json["to_version"] == 20250103000000
    assert first.json["dry_run"] is False
    assert first.json["steps"] == [
        {"version": v, "name": n, "direction": "up"} for v, n in [(20250101000000, "a"), (20250102000000, "b"), (20250103000000, "c")]
    ]
    again = project.run("apply", "--json")
    assert again.code == 0 and again.json["steps"] == []
    assert project.applied() == [20250101000000, 20250102000000, 20250103000000]


def test_up_alias_and_global_options_after_command(project):
    three(project)
    result = project.run("up", "--to", "20250102000000", "--json", "--lock-timeout", "2")
    assert result.code == 0, result.err
    assert [s["version"] for s in result.json["steps"]] == [20250101000000, 20250102000000]


def test_apply_to_unknown_version_is_exit_2(project):
    three(project)
    for bad in ("20250101000001", "abc", "123"):
        result = project.run("apply", "--to", bad)
        assert result.code == 2, (bad, result.err)
        assert bad in result.err and result.out == ""  # no --json: nothing on stdout
    assert project.applied() == []


def test_apply_dry_run_changes_nothing(project):
    three(project)
    result = project.run("apply", "--dry-run", "--json")
    assert result.code == 0
    assert result.json["dry_run"] is True and len(result.json["steps"]) == 3
    assert not project.db.touched()


def test_apply_below_current_is_exit_2(project):
    three(project)
    assert project.run("apply").code == 0
    result = project.run("apply", "--to", "20250101000000")
    assert result.code == 2 and "rollback" in result.err


def test_out_of_order_refused_then_allowed(project):
    project.table(20250101000000, "a", "a")
    project.table(20250103000000, "c", "c")
    assert project.run("apply").code == 0
    project.table(20250102000000, "b", "b")
    refused = project.run("apply", "--json")
    assert refused.code == 2 and "20250102000000" in refused.err and refused.json["error"]["exit_code"] == refused.code
    assert project.applied() == [20250101000000, 20250103000000]
    plan = project.run("plan", "--json")
    assert plan.code == 2 and plan.json["steps"][0]["version"] == 20250102000000
    allowed = project.run("apply", "--out-of-order", "--json")
    assert allowed.code == 0 and [s["version"] for s in allowed.json["steps"]] == [20250102000000]
    # history keeps the order of application, and rollback follows it
    assert project.applied() == [20250101000000, 20250103000000, 20250102000000]
    back = project.run("rollback", "--json")
    assert back.json["steps"][0]["version"] == 20250102000000


def test_atomic_applies_all_or_nothing(project):
    project.table(20250101000000, "a", "a")
    project.write("20250102000000_bad.yaml", "up:\n  - sql: CREATE TABLE b (id INTEGER); INSERT INTO nowhere VALUES (1)\n")
    result = project.run("apply", "--atomic", "--json")
    if project.dialect == "mysql":
        assert result.code == 2 and "--atomic" in result.err and result.json["error"]["exit_code"] == result.code
        assert not project.db.touched()
        return
    assert result.code == 1
    assert result.json["steps"] == [] and result.json["error"]["version"] == 20250102000000
    assert project.schema() == [] and project.applied() == []


def test_atomic_refuses_non_transactional(project):
    project.write("20250101000000_nt.yaml", "transaction: false\nup:\n  - sql: CREATE TABLE a (id INTEGER)\n")
    result = project.run("apply", "--atomic")
    assert result.code == 2 and ("20250101000000" in result.err or project.dialect == "mysql")


def test_failed_migration_json_error_document(project):
    project.table(20250101000000, "a", "a")
    project.write(
        "20250102000000_broken.yaml",
        "up:\n  - sql: CREATE TABLE b (id INTEGER)\n  - sql: |\n      INSERT INTO b VALUES (1);\n      INSERT INTO missing_table VALUES (2);\n",
    )
    project.table(20250103000000, "c", "c")
    result = project.run("apply", "--json")
    assert result.code == 1
    doc = result.json
    assert doc["steps"] == [{"version": 20250101000000, "name": "a", "direction": "up"}]
    assert doc["to_version"] == 20250101000000
    assert doc["error"]["version"] == 20250102000000 and doc["error"]["step"] == 2
    assert "missing_table" in doc["error"]["message"]
    assert "missing_table" in result.err and "20250102000000" in result.err
    assert project.applied() == [20250101000000]
    if project.dialect == "mysql":
        # DDL commits on its own there: step 1 stays, and the database says where it stopped
        assert project.tables() == ["a", "b"] and project.db.dirty() == (20250102000000, "up", 2)
        status = project.run("status", "--json")
        assert status.json["dirty"] == {"version": 20250102000000, "direction": "up", "step": 2}
        assert project.run("apply").code == 5
        return
    # nothing of the failed migration, the earlier one kept, the later one not run
    assert project.tables() == ["a"]


def test_rollback_steps_to_and_zero(project):
    three(project)
    project.run("apply")
    one = project.run("rollback", "--json")
    assert one.code == 0 and one.json["steps"] == [{"version": 20250103000000, "name": "c", "direction": "down"}]
    assert one.json["to_version"] == 20250102000000
    down = project.run("down", "--to", "0", "--json")
    assert down.code == 0 and [s["version"] for s in down.json["steps"]] == [20250102000000, 20250101000000]
    assert project.tables() == []
    nothing = project.run("rollback", "--steps", "5", "--json")
    assert nothing.code == 0 and nothing.json["steps"] == []


def test_rollback_range_errors(project):
    three(project)
    project.run("apply", "--to", "20250102000000")
    too_many = project.run("rollback", "--steps", "3")
    assert too_many.code == 2 and "3" in too_many.err
    above = project.run("rollback", "--to", "20250103000000")
    assert above.code == 2 and "above" in above.err
    unknown = project.run("rollback", "--to", "20250101000009")
    assert unknown.code == 2
    assert project.applied() == [20250101000000, 20250102000000]


def test_rollback_refusals_change_nothing_and_take_no_backup(project):
    project.table(20250101000000, "a", "a", down=False)
    project.table(20250102000000, "b", "b", extra="data_destructive: true\n")
    project.run("apply")
    before = project.snapshot()
    destructive = project.run("rollback", "--json")
    assert destructive.code == 4 and "20250102000000" in destructive.err and destructive.json["error"]["exit_code"] == destructive.code
    irreversible = project.run("rollback", "--to", "0", "--allow-destructive")
    assert irreversible.code == 4 and "20250101000000" in irreversible.err
    assert project.snapshot() == before
    assert not (project.root / "backups").exists()
    allowed = project.run("rollback", "--allow-destructive", "--json")
    assert allowed.code == 0 and allowed.json["steps"][0]["version"] == 20250102000000
    backups = [p for p in (project.root / "backups").glob("*before_rollback*") if not p.name.endswith(".meta.json")]
    assert len(backups) == 1


def test_rollback_dry_run(project):
    three(project)
    project.run("apply")
    before = project.snapshot()
    result = project.run("rollback", "--steps", "2", "--dry-run", "--json")
    assert result.code == 0 and result.json["dry_run"] is True and len(result.json["steps"]) == 2
    assert project.snapshot() == before


def test_modified_file_blocks_apply_and_rollback_but_from_history_works(project):
    project.table(20250101000000, "a", "a")
    project.run("apply")
    project.write("20250101000000_a.yaml", "up:\n  - sql: CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)\ndown:\n  - sql: DROP TABLE nonexistent_table\n")
    project.table(20250102000000, "b", "b")
    apply = project.run("apply")
    assert apply.code == 4 and "20250101000000" in apply.err
    status = project.run("status", "--json")
    assert status.json["modified"] == [20250101000000]
    verify = project.run("verify", "--json")
    assert verify.code == 4 and verify.json["ok"] is False and verify.json["modified"] == [20250101000000]
    diff = verify.json["diffs"]["20250101000000"]
    assert "--- applied/20250101000000_a.yaml" in diff and "+++ on disk/20250101000000_a.yaml" in diff
    assert "+  - sql: DROP TABLE nonexistent_table" in diff
    rollback = project.run("rollback")
    assert rollback.code == 4
    from_history = project.run("rollback", "--from-history", "--json")
    assert from_history.code == 0, from_history.err
    assert project.tables() == []
    rows = project.run("history", "--rollbacks", "--json").json
    assert rows[-1]["version"] == 20250101000000


def test_checksum_warn_mode_warns_and_applies(project):
    project.configure("safety:\n  on_checksum_mismatch: warn\n")
    project.table(20250101000000, "a", "a")
    project.run("apply")
    project.write("20250101000000_a.yaml", "description: edited\nup:\n  - sql: CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)\n")
    project.table(20250102000000, "b", "b")
    result = project.run("apply")
    assert result.code == 0 and "20250101000000" in result.err and "warning" in result.err


def test_missing_file_does_not_block_apply_and_shows_in_status(project):
    three(project)
    project.run("apply", "--to", "20250102000000")
    (project.migrations / "20250101000000_a.yaml").unlink()
    result = project.run("apply", "--json")
    assert result.code == 0 and [s["version"] for s in result.json["steps"]] == [20250103000000]
    status = project.run("status", "--check", "--json")
    assert status.code == 0 and status.json["missing"] == [20250101000000]
    verify = project.run("verify", "--json")
    assert verify.code == 4 and verify.json["missing"] == [20250101000000] and verify.json["diffs"] == {}
    safety = project.run("check-safety", "20250101000000", "--json")
    assert safety.code == 4 and safety.json["safe"] is False and safety.json["diff"] is None
    rollback_all = project.run("rollback", "--to", "0")
    assert rollback_all.code == 4 and "--from-history" in rollback_all.err


def test_status_check_exit_6_and_text(project):
    three(project)
    result = project.run("status", "--check", "--json")
    assert result.code == 6 and result.json["pending"] == [20250101000000, 20250102000000, 20250103000000]
    project.run("apply")
    assert project.run("status", "--check").code == 0
    text = project.run("status")
    assert "current   20250103000000" in text.out


def test_status_check_explicit_target_counts_applied_above(project):
    three(project)
    project.run("apply")
    project.configure("target: 20250102000000\n")
    result = project.run("status", "--check", "--json")
    assert result.code == 6 and result.json["target_version"] == 20250102000000


def test_history_json_shape_and_limit(project):
    three(project)
    project.run("apply")
    rows = project.run("history", "--json").json
    assert [r["version"] for r in rows] == [20250101000000, 20250102000000, 20250103000000]
    for row in rows:
        assert set(row) == {"version", "name", "checksum", "applied_at", "execution_ms"}
        assert ISO_UTC.match(row["applied_at"]) and len(row["checksum"]) == 64 and isinstance(row["execution_ms"], int)
    limited = project.run("history", "--limit", "2", "--json").json
    assert [r["version"] for r in limited] == [20250102000000, 20250103000000]
    assert project.run("history", "--limit", "0", "--json").json == []
    assert len(project.run("history", "--limit", "9", "--json").json) == 3
    project.run("rollback", "--steps", "2")
    rollbacks = project.run("history", "--rollbacks", "--json").json
    assert [r["version"] for r in rollbacks] == [20250103000000, 20250102000000]
    assert all(set(r) == {"version", "name", "rolled_back_at"} and ISO_UTC.match(r["rolled_back_at"]) for r in rollbacks)


def test_history_checksum_covers_hooks(project):
    project.write("hooks/h.py", "def go(conn, ctx):\n    conn.cursor().execute('CREATE TABLE h (id INTEGER)')\n")
    project.write("20250101000000_h.yaml", "up:\n  - python: hooks/h.py:go\n")
    project.run("apply")
    import hashlib

    expected = hashlib.sha256(
        (project.migrations / "20250101000000_h.yaml").read_bytes() + (project.migrations / "hooks/h.py").read_bytes()
    ).hexdigest()
    assert project.run("history", "--json").json[0]["checksum"] == expected
    project.write("hooks/h.py", "def go(conn, ctx):\n    conn.cursor().execute('CREATE TABLE h2 (id INTEGER)')\n")
    assert project.run("status", "--json").json["modified"] == [20250101000000]
    diff = project.run("verify", "--json").json["diffs"]["20250101000000"]
    assert "--- applied/hooks/h.py" in diff and "+++ on disk/hooks/h.py" in diff


def test_check_safety_shapes_and_codes(project):
    project.table(20250101000000, "a", "a")
    project.table(20250102000000, "b", "b", extra="data_destructive: true\n")
    project.run("apply")
    safe = project.run("check-safety", "20250101000000", "--json")
    assert safe.code == 0
    assert safe.json == {"safe": True, "data_destructive": False, "has_down": True, "version": 20250101000000, "name": "a", "warning": None, "diff": None}
    unsafe = project.run("check-safety", "20250102000000", "--json")
    assert unsafe.code == 4 and unsafe.json["safe"] is False and unsafe.json["data_destructive"] is True
    assert "destructive" in unsafe.json["warning"]
    # safe describes the migration, not the config
    project.configure("safety:\n  allow_destructive_rollback: true\n")
    assert project.run("check-safety", "20250102000000").code == 4
    not_applied = project.run("check-safety", "20250109000000", "--json")
    assert not_applied.code == 2 and not_applied.json["error"]["exit_code"] == not_applied.code


def test_plan_shows_sql_for_the_dialect_and_changes_nothing(project):
    project.write(
        "20250101000000_x.yaml",
        "up:\n  - sql:\n      postgresql: CREATE TABLE x (id bigserial)\n      default: CREATE TABLE x (id INTEGER)\n",
    )
    text = project.run("plan")
    mine, other = ("bigserial", "INTEGER") if project.dialect == "postgresql" else ("INTEGER", "bigserial")
    assert text.code == 0 and f"CREATE TABLE x (id {mine})" in text.out and other not in text.out
    doc = project.run("plan", "--json").json
    assert doc["dry_run"] is True and doc["steps"] == [{"version": 20250101000000, "name": "x", "direction": "up"}]
    assert not project.db.touched()


def test_plan_to_lower_version_plans_rollback_and_names_refusal(project):
    three(project)
    project.table(20250104000000, "d", "d", extra="data_destructive: true\n")
    project.run("apply")
    result = project.run("plan", "--to", "20250102000000", "--json")
    assert result.code == 4 and "20250104000000" in result.err
    assert [(s["version"], s["direction"]) for s in result.json["steps"]] == [(20250104000000, "down"), (20250103000000, "down")]


def test_reconcile_to_config_target_both_ways(project):
    three(project)
    project.configure("target: 20250102000000\n")
    up = project.run("reconcile", "--json")
    assert up.code == 0 and up.json["to_version"] == 20250102000000
    project.configure("target: '0'\n")
    down = project.run("reconcile", "--json")
    assert down.code == 0 and [s["direction"] for s in down.json["steps"]] == ["down", "down"]
    assert project.tables() == []
    project.configure("target: latest\n")
    assert project.run("reconcile", "--json").json["to_version"] == 20250103000000
    assert project.run("reconcile", "--json").json["steps"] == []


def test_reconcile_latest_never_rolls_back(project):
    three(project)
    project.run("apply")
    (project.migrations / "20250103000000_c.yaml").unlink()
    result = project.run("reconcile", "--json")
    assert result.code == 0 and result.json["steps"] == []
    assert project.applied()[-1] == 20250103000000


def test_target_env_override_and_invalid_target(project):
    three(project)
    result = project.run("reconcile", "--json", env={"MIGRUND_TARGET": "20250101000000"})
    assert result.code == 0 and result.json["to_version"] == 20250101000000
    bad = project.run("reconcile", env={"MIGRUND_TARGET": "tomorrow"})
    assert bad.code == 2 and "tomorrow" in bad.err
    missing_file = project.run("reconcile", env={"MIGRUND_TARGET": "20250109000000"})
    assert missing_file.code == 2 and "20250109000000" in missing_file.err


def test_database_url_env_override(sqlite_project, tmp_path):
    project = sqlite_project
    three(project)
    other = tmp_path / "other.db"
    result = project.run("apply", env={"MIGRUND_DATABASE_URL": f"sqlite:///{other}"})
    assert result.code == 0, result.err
    assert other.exists() and not project.db_path.exists()


def test_config_env_expansion_and_masking(sqlite_project):
    project = sqlite_project
    project.url = "${DB_URL:-sqlite:///../data/app.db}"
    project.configure()
    three(project)
    assert project.run("apply").code == 0
    project.url = "${NOT_SET_ANYWHERE}"
    project.configure()
    result = project.run("status")
    assert result.code == 2 and "NOT_SET_ANYWHERE" in result.err
    project.url = "postgresql://app:s3cret-canary@127.0.0.1:1/nodb"
    project.configure()
    status = project.run("status")
    assert "s3cret-canary" not in status.out + status.err


def test_validate_reports_every_problem(project):
    project.write("20250101000000_a.yaml", "up:\n  - sqll: SELECT 1\n")
    project.write("20250102000000_b.yaml", "description: 5\nup: []\n")
    project.write("notes.txt", "not a migration")
    result = project.run("validate")
    assert result.code == 2
    assert "20250101000000_a.yaml" in result.err and "up[0].sqll" in result.err
    assert "20250102000000_b.yaml" in result.err and "description" in result.err and "up:" in result.err
    assert "notes.txt" in result.err and "ignored" in result.err


def test_validate_ok_and_editor_leftovers_silent(project):
    three(project)
    for junk in (".hidden.yaml", "20250101000000_a.yaml~", "x.swp", "y.tmp", "#z#"):
        (project.migrations / junk).write_text("garbage: [")
    result = project.run("validate")
    assert result.code == 0 and "3" in result.out and result.err == ""


def test_new_yaml_and_python_pass_validate_and_apply(project):
    first = project.run("new", "add_things", "-d", "Add the things")
    assert first.code == 0
    path = first.out.strip()
    assert path.endswith("_add_things.yaml")
    second = project.run("new", "add_things", "--python")
    assert second.code == 0 and second.out.strip().endswith("_add_things.py")
    v1 = int((project.root / path).name[:14])
    v2 = int((project.root / second.out.strip()).name[:14])
    assert v2 > v1, "a clash bumps the version"
    assert project.run("validate").code == 0
    drafts = project.run("apply", "--json")
    assert drafts.code == 0 and drafts.json["steps"] == [], "templates are drafts: nothing is applied"
    assert project.run("status", "--json").json["drafts"] == [v1, v2]
    yaml_file = project.root / path
    yaml_file.write_text(yaml_file.read_text().replace("-- CREATE TABLE example", "CREATE TABLE example", 1)
                         .replace("-- DROP TABLE example;", "DROP TABLE example;", 1))
    py_file = project.root / second.out.strip()
    py_file.write_text(py_file.read_text().replace("DRAFT = True", "# ready"))
    applied = project.run("apply", "--json")
    assert applied.code == 0 and [s["version"] for s in applied.json["steps"]] == [v1, v2], applied.err
    assert project.run("rollback", "--to", "0").code == 0
    bad = project.run("new", "bad-name")
    assert bad.code == 2 and "bad-name" in bad.err


def test_init_writes_project_and_never_overwrites(tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    runner = Project.__new__(Project)
    runner.root = root
    runner.state_home = tmp_path / "state"
    result = runner.run("init", "--json")
    assert result.code == 0, result.err
    created = result.json["created"]
    assert any(p.endswith("config/migrund.yaml") for p in created)
    config_text = (root / "config" / "migrund.yaml").read_text()
    for key in ("path: ../migrations", "dir: ../backups", "path: ../data/migrund.lock", "status_file:"):
        assert key in config_text
    assert (root / "backups").stat().st_mode & 0o777 == 0o700
    assert len(list((root / "migrations").glob("*.yaml"))) == 1
    again = runner.run("init", "--json")
    assert again.code == 0 and again.json["created"] == [] and len(again.json["kept"]) == 3
    assert (root / "config" / "migrund.yaml").read_text() == config_text
    apply = runner.run("apply")
    assert apply.code == 0, apply.err
    assert runner.run("status", "--check").code == 0


def test_lock_busy_is_exit_3_naming_holder(project):
    import subprocess
    import sys
    import time

    three(project)
    project.configure(timeout=0.5)
    lock_path = project.root / "data" / "migrund.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import filelock,sys,time; l=filelock.FileLock(sys.argv[1]); l.acquire();"
         "open(sys.argv[1],'w').write('pid 4242 on test-host since now\\n'); print('held', flush=True); time.sleep(30)", str(lock_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        result = project.run("apply", "--json")
        assert result.code == 3 and "pid 4242 on test-host" in result.err and result.json["error"]["exit_code"] == result.code
        assert time.monotonic() - started < 10
        assert not project.db.touched()
        faster = project.run("apply", "--lock-timeout", "0")
        assert faster.code == 3
    finally:
        holder.kill()
        holder.wait()
    assert project.run("apply").code == 0


def test_unreachable_database_is_exit_1(sqlite_project):
    project = sqlite_project
    project.url = "sqlite:////proc/no/such/dir/app.db"
    project.configure()
    three(project)
    result = project.run("apply")
    assert result.code == 1 and "app.db" in result.err


def test_python_m_and_console_script_agree(project):
    three(project)
    beside = Path(sys.executable).with_name("migrund")  # the virtualenv's, even when it is not on PATH
    exe = str(beside) if beside.exists() else shutil.which("migrund")
    if exe is None:
        pytest.skip("the console script is not installed (pip install -e .)")
    import subprocess

    via_script = subprocess.run([exe, "status", "--json"], cwd=project.root, capture_output=True, text=True,
                                env={**__import__("os").environ, "XDG_STATE_HOME": str(project.state_home)})
    assert via_script.returncode == 0 and via_script.stdout == project.run("status", "--json").out


def test_example_project_applies_and_rolls_back(tmp_path, dialect):
    from tests import servers

    root = tmp_path / "example"
    db = servers.create(dialect, root)
    shutil.copytree(REPO / "config", root / "config")
    shutil.copytree(REPO / "migrations", root / "migrations")
    runner = Project.__new__(Project)
    runner.root = root
    runner.state_home = tmp_path / "state"
    env = {} if dialect == "sqlite" else {"MIGRUND_EXAMPLE_URL": db.url}
    try:
        assert runner.run("validate", env=env).code == 0
        applied = runner.run("apply", "--json", env=env)
        assert applied.code == 0, applied.err
        assert len(applied.json["steps"]) == 6
        if dialect == "sqlite":
            assert list((root / "backups").glob("*before_risky*.sqlite3")), "the risky migration is preceded by a backup"
        assert db.rows("SELECT count(*) FROM plans")[0][0] == 3
        refused = runner.run("rollback", "--to", "0", env=env)
        assert refused.code == 4 and "20251123120000" in refused.err
        done = runner.run("rollback", "--to", "0", "--allow-destructive", "--json", env=env)
        assert done.code == 0, done.err
        assert db.tables() == []
    finally:
        servers.drop(db)


def test_new_sorts_last_beside_other_tools_versions(sqlite_project):
    project = sqlite_project
    project.write("00005_sequential.yaml", "up:\n  - sql: SELECT 1\n")
    first = project.run("new", "after_sequence")
    assert first.code == 0, first.err
    assert len(first.out.strip().split("/")[-1].split("_")[0]) == 14, "a time, above the sequence"
    project.write("20240115120000001_flyway_long.yaml", "up:\n  - sql: SELECT 1\n")  # a 17-digit version, above any time
    second = project.run("new", "after_long")
    assert second.code == 0 and second.out.strip().endswith("/20240115120000002_after_long.yaml"), second.out
    assert project.run("validate").code == 0
    versions = sorted(int(p.name.split("_")[0]) for p in project.migrations.iterdir())
    assert versions[-1] == 20240115120000002, "the new migration sorts last"
    project.write("9223372036854775807_the_largest.yaml", "up:\n  - sql: SELECT 1\n")
    full = project.run("new", "beyond")
    assert full.code == 2 and "no version above 9223372036854775807 is left" in full.err and "Traceback" not in full.err
    assert not list(project.migrations.glob("*_beyond.*")), "nothing written"
