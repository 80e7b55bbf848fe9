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
