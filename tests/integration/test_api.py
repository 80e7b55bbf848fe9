"""The Python API of SPEC 9, in process, on real SQLite files."""
from __future__ import annotations

import pytest

from migrund import DatabaseManager, MigrationError
from migrund.errors import InvalidInput, Refused, StepFailed
from tests.helpers import Project


@pytest.fixture
def manager(project: Project) -> DatabaseManager:
    project.table(20250101000000, "a", "a")
    project.table(20250102000000, "b", "b", extra="data_destructive: true\n")
    project.table(20250103000000, "c", "c")
    return DatabaseManager.from_config(project.root / "config" / "migrund.yaml")


def test_run_and_roll_back(manager, project):
    assert manager.run_migrations() == [20250101000000, 20250102000000, 20250103000000]
    assert manager.run_migrations() == []
    assert manager.rollback_migration(steps=1) == [20250103000000]
    with pytest.raises(Refused) as refused:
        manager.rollback_to_version(0)
    assert refused.value.exit_code == 4 and isinstance(refused.value, MigrationError)
    assert manager.rollback_to_version(0, allow_destructive=True) == [20250102000000, 20250101000000]
    assert project.tables() == []


def test_histories_have_cli_shapes(manager):
    manager.run_migrations()
    manager.rollback_migration()
    history = manager.get_migration_history()
    assert [row["version"] for row in history] == [20250101000000, 20250102000000]
    assert set(history[0]) == {"version", "name", "checksum", "applied_at", "execution_ms"}
    assert manager.get_rollback_history()[0]["version"] == 20250103000000


def test_check_rollback_safety_returns_document_or_raises_2(manager):
    manager.run_migrations()
    assert manager.check_rollback_safety(20250101000000)["safe"] is True
    unsafe = manager.check_rollback_safety(20250102000000)
    assert unsafe["safe"] is False and unsafe["data_destructive"] is True
    with pytest.raises(InvalidInput) as caught:
        manager.check_rollback_safety(20250109000000)
    assert caught.value.exit_code == 2


def test_create_migration_and_backup(manager, project):
    path = manager.create_migration("add_users", "Create users")
    assert path.exists() and path.name.endswith("_add_users.yaml")
    assert int(path.name[:14]) not in manager.run_migrations(), "a template is a draft"
    path.write_text(path.read_text().replace("-- CREATE TABLE example", "CREATE TABLE example", 1))
    assert manager.run_migrations()[-1] == int(path.name[:14])
    backup = manager.backup_database()
    assert backup.exists() and (backup.stat().st_mode & 0o777) == 0o600
    assert backup.with_name(backup.name + ".meta.json").exists()
    assert [b["path"] for b in manager.list_backups()] == [str(backup)]
    manager.rollback_migration()
    assert manager.restore_database(backup) is None
    assert manager.get_migration_history()[-1]["version"] == int(path.name[:14])


def test_dict_config_resolves_against_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migs").mkdir()
    (tmp_path / "migs" / "20250101000000_a.yaml").write_text("up:\n  - sql: CREATE TABLE a (id INTEGER)\n")
    manager = DatabaseManager({"database": {"url": "sqlite:///app.db"}, "migrations": {"path": "migs"}})
    assert manager.run_migrations() == [20250101000000]
    assert (tmp_path / "app.db").exists()
    assert manager.settings.lock_path == tmp_path / "app.db.migrund.lock"


def test_failure_raises_with_exit_code_1(project):
    project.write("20250101000000_bad.yaml", "up:\n  - sql: CREATE TABLE x (id INTEGER); INSERT INTO nope VALUES (1)\n")
    manager = DatabaseManager.from_config(project.root / "config" / "migrund.yaml")
    with pytest.raises(StepFailed) as caught:
        manager.run_migrations()
    assert caught.value.exit_code == 1 and caught.value.step == 1 and "nope" in str(caught.value)
    # on MySQL the CREATE TABLE committed by itself and the database is reported dirty
    assert project.tables() == (["x"] if project.dialect == "mysql" else [])


def test_hook_receives_conn_in_transaction_and_ctx(sqlite_project):
    project = sqlite_project
    project.write(
        "hooks/h.py",
        "def go(conn, ctx):\n"
        "    assert conn.in_transaction\n"
        "    conn.execute('CREATE TABLE seen (dialect TEXT, version INTEGER, name TEXT, direction TEXT, url TEXT)')\n"
        "    conn.execute('INSERT INTO seen VALUES (?, ?, ?, ?, ?)', (ctx.dialect, ctx.version, ctx.name, ctx.direction, ctx.config['database']['url']))\n"
        "    ctx.log.info('hello from the hook')\n",
    )
    project.write("20250101000000_hooked.yaml", "up:\n  - python: hooks/h.py:go\n")
    DatabaseManager.from_config(project.root / "config" / "migrund.yaml").run_migrations()
    assert project.db.rows("SELECT * FROM seen") == [("sqlite", 20250101000000, "hooked", "up", "sqlite:///../data/app.db")]


def _same(api_doc, cli_doc, volatile=("applied_at", "execution_ms", "daemon")):
    """The two documents agree except for times (each run has its own)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in volatile}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    assert strip(api_doc) == strip(cli_doc)


def test_every_command_has_its_cli_name_and_result(manager, project):
    """The API is a front like the CLI: same command names, same documents, same error classes and exit codes."""
    _same(manager.validate(), project.run("validate", "--json").json)
    _same(manager.plan(), project.run("plan", "--json").json)
    _same(manager.apply(to=20250101000000, dry_run=True), project.run("apply", "--to", "20250101000000", "--dry-run", "--json").json)
    assert [s["version"] for s in manager.apply(to=20250102000000)["steps"]] == [20250101000000, 20250102000000]
    _same(manager.status(), project.run("status", "--json").json)
    with pytest.raises(MigrationError) as not_there:
        manager.status(check=True)
    assert not_there.value.exit_code == project.run("status", "--check").code == 6
    _same(manager.reconcile(), {"from_version": 20250102000000, "to_version": 20250103000000, "dry_run": False,
                               "steps": [{"version": 20250103000000, "name": "c", "direction": "up"}]})
    _same(manager.history(), project.run("history", "--json").json)
    _same(manager.history(limit=1), project.run("history", "--limit", "1", "--json").json)
    _same(manager.verify(), project.run("verify", "--json").json)
    _same(manager.check_safety(20250103000000), project.run("check-safety", "20250103000000", "--json").json)
    with pytest.raises(Refused) as unsafe:
        manager.check_safety(20250102000000)
    assert unsafe.value.exit_code == project.run("check-safety", "20250102000000").code == 4
    assert unsafe.value.document == project.run("check-safety", "20250102000000", "--json").json
    _same(manager.rollback(dry_run=True), project.run("rollback", "--dry-run", "--json").json)
    assert [s["version"] for s in manager.rollback()["steps"]] == [20250103000000]
    _same(manager.history(rollbacks=True), project.run("history", "--rollbacks", "--json").json)
    taken = manager.backup(format="json")
    assert taken["path"].endswith(".json.gz") and [b["path"] for b in manager.backups()][-1] == taken["path"]
    _same(manager.backups(), project.run("backups", "--json").json)
    restored = manager.restore(taken["path"])
    assert restored["restored"] == taken["path"] and restored["schema_version"] == 20250102000000
    assert restored["before_restore"] and restored["before_restore"] != taken["path"]
    with pytest.raises(InvalidInput) as clean:
        manager.repair(20250102000000, applied=True)
    assert clean.value.exit_code == project.run("repair", "20250102000000", "--applied").code == 2
    created = manager.new("add_users")
    assert created["path"].endswith("_add_users.yaml")


def test_import_baseline_and_accept_match_the_cli(sqlite_project):
    from tests.foreign_history import DATA

    project = sqlite_project
    folder = DATA / "goose" / "sqlite"
    manager = DatabaseManager.from_config(project.root / "config" / "migrund.yaml")
    _same(manager.import_("goose", folder, dry_run=True), project.run("import", "--from", "goose", str(folder), "--dry-run", "--json").json)
    assert [m["version"] for m in manager.import_("goose", folder)["written"]] == [1, 2, 3, 4, 5]
    (project.migrations / "00005_no_tx.yaml").write_text("up:\n  - sql: SELECT 1\n")
    with pytest.raises(InvalidInput) as again:
        manager.import_("goose", folder)
    assert again.value.exit_code == project.run("import", "--from", "goose", str(folder)).code == 2
    (project.migrations / "00005_no_tx.yaml").unlink()
    manager.import_("goose", folder)
    _same(manager.baseline(2, dry_run=True), project.run("baseline", "2", "--dry-run", "--json").json)
    assert manager.baseline(2)["recorded"] == [1, 2] and project.applied() == [1, 2]
    edited = project.migrations / "00002_insert.yaml"
    edited.write_text(edited.read_text().replace("'lucas'", "'luke'"))
    accepted = manager.accept(2)
    assert accepted["accepted"] is True and "luke" in accepted["diff"]
    assert project.run("accept", "2", "--json").json["accepted"] is False


def test_a_daemon_pass_reports_where_status_would_after_it(project):
    from migrund import commands
    from migrund.config import load

    for day in (1, 2, 3):
        project.table(20250100000000 + day * 1000000, f"t{day}", f"t{day}")
    project.configure("target: 20250102000000\n")
    settings = load(str(project.root / "config" / "migrund.yaml"))
    result, figures = commands.reconcile_pass(commands.Project(settings))
    assert [s["version"] for s in result["steps"]] == [20250101000000, 20250102000000]
    status = commands.status(commands.Project(settings))
    assert figures == {k: status[k] for k in ("current_version", "target_version", "applied", "pending")}
    assert figures["pending"] == [] and figures["current_version"] == 20250102000000
    project.configure("target: 20250101000000\n")  # down again, and nothing to do then
    for expected in ([20250101000000], [20250101000000]):
        _, figures = commands.reconcile_pass(commands.Project(load(str(project.root / "config" / "migrund.yaml"))))
        assert figures["applied"] == expected and figures["current_version"] == expected[-1]
