"""import: other tools' real migration folders (tests/data/foreign, see its NOTICE) become migrund files, on the three engines.

With --adopt-history the tool's history table, laid out as each tool writes it (the
tool's own source, cited in tests/foreign_history.py; dbmate itself where it is
installed), decides what is recorded as applied: nothing that ran before runs again.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from migrund import sql
from tests.foreign_history import DATA, dbmate_binary, record, tool_sets

SETS = [(dialect, tool, folder) for dialect in ("sqlite", "postgresql", "mysql") for tool, folder in tool_sets(dialect)]
HISTORY_SETS = [s for s in SETS if s[1] != "sql"]  # plain SQL files come with no history table


def _source_files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _run_sql(project, text):
    """Run a migration's SQL directly, statement by statement, as the other tool would have."""
    for statement in sql.split(text, project.dialect):
        project.db.execute(statement)


@pytest.fixture
def set_project(request, tmp_path):
    from tests import servers
    from tests.helpers import Project

    dialect, tool, folder = request.param
    db = servers.create(dialect, tmp_path / "proj")
    project = Project(tmp_path / "proj", db=db)
    if (tool, dialect) == ("flyway", "postgresql"):
        # Conductor's schema is owned by its role (a cluster-wide object), and Conductor runs
        # Flyway with schemas=conductor, its search path: the database's default here.
        db.execute("DO $$ BEGIN CREATE ROLE conductor; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
        db.execute(f"ALTER DATABASE {db.name} SET search_path TO conductor, public")
    yield project, tool, folder
    servers.drop(db)


@pytest.mark.parametrize("set_project", SETS, indirect=True, ids=[f"{d}-{t}-{f.parent.name if f.name == 'any' else f.name}" for d, t, f in SETS])
def test_real_folders_import_apply_and_roll_back(set_project):
    project, tool, folder = set_project
    done = project.run("import", "--from", tool, str(folder), "--json")
    assert done.code == 0, done.err
    doc = done.json
    accounted = sorted({name for m in doc["written"] for name in m["from"]} | {u["file"] for u in doc["unmapped"]})
    assert accounted == _source_files(folder), "every file of the folder is imported or reported"
    assert doc["unmapped"] == []
    written = sorted(p.name for p in project.migrations.iterdir())
    assert written == sorted(m["file"] for m in doc["written"])
    versions = [m["version"] for m in doc["written"]]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    for entry in doc["written"]:
        if tool != "flyway":
            assert entry["file"].split("_")[0] == entry["tool_version"], "the tool's version digits are kept in the name"
    assert project.run("validate").code == 0
    applied = project.run("apply")
    assert applied.code == 0, applied.err
    assert project.applied() == versions
    assert project.run("status", "--check").code == 0
    if all(project.migrations.joinpath(m["file"]).read_text().count("\ndown:") for m in doc["written"]):
        back = project.run("rollback", "--to", "0", "--allow-destructive")
        assert back.code == 0, back.err
        assert project.applied() == []
    again = project.run("import", "--from", tool, str(folder))
    assert again.code == 0 and sorted(p.name for p in project.migrations.iterdir()) == written, "the same import again changes nothing"
    edited = project.migrations / written[0]
    edited.write_text(edited.read_text() + "# edited since\n")
    clash = project.run("import", "--from", tool, str(folder))
    assert clash.code == 2 and "already" in clash.err and written[0] in clash.err
    assert sorted(p.name for p in project.migrations.iterdir()) == written


@pytest.mark.parametrize("dialect", ["postgresql"])  # CREATE INDEX CONCURRENTLY is PostgreSQL's
def test_statements_that_need_no_transaction_are_found(project):
    doc = project.run("import", "--from", "golang-migrate", str(DATA / "golang-migrate" / "postgres"), "--json").json
    by_version = {m["version"]: m for m in doc["written"]}
    assert [v for v, m in by_version.items() if not m["transaction"]] == [1285849751]
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in by_version[1285849751]["notes"][0]
    text = (project.migrations / "1285849751_add_index_on_user_emails.yaml").read_text()
    assert "transaction: false" in text and "# runs outside a transaction" in text
    assert project.run("apply").code == 0
    assert ("users", "users_email_index") in [(t, i) for t, i, *_ in project.schema() if i]


def test_sequential_versions_stay_and_are_targets(project):
    folder = DATA / "goose" / ("postgres" if project.dialect == "postgresql" else project.dialect)
    assert project.run("import", "--from", "goose", str(folder)).code == 0
    names = sorted(p.name for p in project.migrations.iterdir())
    assert names[:3] == ["00001_table.yaml", "00002_insert.yaml", "00003_alter.yaml"]
    up = project.run("apply", "--to", "3", "--json")
    assert up.code == 0 and [s["version"] for s in up.json["steps"]] == [1, 2, 3]
    assert project.run("status", "--json").json["current_version"] == 3
    assert project.run("rollback", "--to", "2").code == 0 and project.applied() == [1, 2]
    assert project.run("plan", "--to", "4", "--json").json["steps"] == [{"version": 3, "name": "alter", "direction": "up"},
                                                                         {"version": 4, "name": "empty", "direction": "up"}]


@pytest.mark.parametrize("set_project", HISTORY_SETS, indirect=True, ids=[f"{d}-{t}" for d, t, f in HISTORY_SETS])
def test_adopt_history_records_what_the_tool_applied_and_runs_the_rest(set_project):
    project, tool, folder = set_project
    if project.db.path:
        project.db.path.parent.mkdir(parents=True, exist_ok=True)
    converted = project.run("import", "--from", tool, str(folder), "--dry-run", "--json").json["written"]
    assert not any(project.migrations.iterdir()), "a dry run writes nothing"
    first, rest = converted[:2], converted[2:]
    for entry in first:  # what the tool ran: its SQL, then its history rows
        text = (folder / entry["from"][0]).read_text()
        _run_sql(project, _up_section(tool, text) if tool in ("dbmate", "goose") else text)
    record(project.db, tool, [e["tool_version"] for e in first])
    before = project.db.schema()
    done = project.run("import", "--from", tool, str(folder), "--adopt-history", "--json")
    assert done.code == 0, done.err
    assert done.json["adopted"] == [e["version"] for e in first]
    assert project.applied() == [e["version"] for e in first]
    assert project.db.schema() == before, "nothing ran"
    assert project.db.rows("SELECT action FROM migrund_audit") == [("import",)]
    assert all(r[0].endswith("via import") for r in project.db.rows("SELECT applied_by FROM migrund_history"))
    assert project.run("verify").code == 0, "stored bodies and checksums are the written files'"
    plan = project.run("plan", "--json").json
    assert [s["version"] for s in plan["steps"]] == [e["version"] for e in rest]
    assert project.run("apply").code == 0
    assert project.applied() == [e["version"] for e in converted]


def _up_section(tool, text):
    marker = "-- migrate:up" if tool == "dbmate" else "-- +goose Up"
    end = "-- migrate:down" if tool == "dbmate" else "-- +goose Down"
    lower = text.lower()
    body = text[lower.index(marker.lower()) + len(marker):]
    cut = body.lower().find(end.lower())
    body = body if cut < 0 else body[:cut]
    return "\n".join(line for line in body.splitlines() if "+goose" not in line.lower())


@pytest.mark.parametrize("tool", ["golang-migrate", "flyway"])
def test_a_dirty_or_failed_history_is_refused_and_nothing_is_written(project, tool):
    folder = dict(tool_sets("postgresql"))[tool]
    first = project.run("import", "--from", tool, str(folder), "--dry-run", "--json").json["written"][0]
    record(project.db, tool, [first["tool_version"]], failed=True)
    before = project.db.snapshot()
    refused = project.run("import", "--from", tool, str(folder), "--adopt-history")
    assert refused.code == 5, refused.err
    assert ("dirty" in refused.err) if tool == "golang-migrate" else ("failed" in refused.err and "flyway repair" in refused.err)
    assert not any(project.migrations.iterdir()) and project.db.snapshot() == before


def test_an_applied_version_without_a_file_is_refused(sqlite_project, tmp_path):
    project = sqlite_project
    folder = tmp_path / "gm"
    shutil.copytree(DATA / "golang-migrate" / "sqlite", folder)
    project.db_path.parent.mkdir(parents=True, exist_ok=True)
    record(project.db, "dbmate", ["99"])
    for path in folder.iterdir():
        path.rename(folder / path.name.replace(".up.sql", ".sql").replace(".down.sql", ".down"))
    (folder / "33_create_table.down").unlink()
    (folder / "44_alter_table.down").unlink()
    (folder / "33_create_table.sql").write_text("-- migrate:up\nCREATE TABLE pets (name TEXT);\n")
    (folder / "44_alter_table.sql").write_text("-- migrate:up\nALTER TABLE pets ADD predator BOOLEAN;\n")
    refused = project.run("import", "--from", "dbmate", str(folder), "--adopt-history")
    assert refused.code == 2 and "99" in refused.err and "no file" in refused.err
    assert not any(project.migrations.iterdir())


def test_what_cannot_be_mapped_is_named_by_file_and_line(sqlite_project, tmp_path):
    project = sqlite_project
    folder = tmp_path / "fw"
    (folder / "sub").mkdir(parents=True)
    (folder / "V1__create.sql").write_text("CREATE TABLE a (id INTEGER);\n")
    (folder / "sub" / "V1_1__more.sql").write_text("CREATE TABLE b (id INTEGER);\n")
    (folder / "R__views.sql").write_text("CREATE VIEW v AS SELECT 1;\n")
    (folder / "V2__Backfill.java").write_text("class V2__Backfill {}\n")
    (folder / "V3__owner.sql").write_text("CREATE TABLE c (id INTEGER);\n\nGRANT ALL ON c TO ${owner};\n")
    (folder / "V4__commit.sql").write_text("CREATE TABLE d (id INTEGER);\nCOMMIT;\nCREATE TABLE e (id INTEGER);\n")
    refused = project.run("import", "--from", "flyway", str(folder))
    assert refused.code == 2
    for expected in ("R__views.sql: a repeatable", "V2__Backfill.java: a Java-based", "V3__owner.sql:3: Flyway placeholder ${owner}",
                     "V4__commit.sql:2: COMMIT"):
        assert expected in refused.err, (expected, refused.err)
    assert not any(project.migrations.iterdir()), "nothing is written while something cannot be mapped"
    done = project.run("import", "--from", "flyway", str(folder), "--skip-unmapped", "--json")
    assert done.code == 0
    assert [(m["file"], m["tool_version"]) for m in done.json["written"]] == [("10_create.yaml", "1"), ("11_more.yaml", "1.1")]
    assert len(done.json["unmapped"]) == 4
    assert project.run("apply").code == 0 and project.tables() == ["a", "b"]


def test_flyway_dotted_versions_keep_their_order_and_say_so(sqlite_project, tmp_path):
    project = sqlite_project
    folder = tmp_path / "fw"
    folder.mkdir()
    for label, table in (("1", "a"), ("1.1", "b"), ("1_2", "c"), ("2", "d"), ("10.3", "e"), ("2.0.1", "f")):
        (folder / f"V{label}__make_{table}.sql").write_text(f"CREATE TABLE {table} (id INTEGER);\n")
    (folder / "U2__make_d.sql").write_text("DROP TABLE d;\n")
    (folder / "V2.0.1__make_f.sql.conf").write_text("executeInTransaction=false\n")
    doc = project.run("import", "--from", "flyway", str(folder), "--json").json
    mapping = {m["tool_version"]: m["version"] for m in doc["written"]}
    assert mapping == {"1": 100, "1.1": 110, "1.2": 120, "2": 200, "2.0.1": 201, "10.3": 1030}
    assert [m["version"] for m in doc["written"]] == sorted(mapping.values())
    assert "# Flyway version 2.0.1 is migrund version 201" in (project.migrations / "201_make_f.yaml").read_text()
    assert "transaction: false" in (project.migrations / "201_make_f.yaml").read_text()
    assert "down:" in (project.migrations / "200_make_d.yaml").read_text()
    for written in list(project.migrations.iterdir()):
        written.unlink()
    record(project.db, "flyway", ["1.2"], baseline="1.1")
    adopted = project.run("import", "--from", "flyway", str(folder), "--adopt-history", "--json")
    assert adopted.code == 0, adopted.err
    assert adopted.json["adopted"] == [100, 110, 120], "the baseline covers 1 and 1.1; 1.2 ran"
    assert project.run("apply", "--to", "200", "--json").json["steps"] == [{"version": 200, "name": "make_d", "direction": "up"}]


def test_dbmate_itself_then_import_adopts_its_history(project, tmp_path):
    binary = dbmate_binary()
    if binary is None:
        pytest.skip("dbmate is not installed (make tools installs it from npm)")
    folder = tmp_path / "dbmate"
    folder.mkdir()
    shutil.copy(DATA / "dbmate" / "any" / "20151129054053_test_migration.sql", folder)
    url = {"sqlite": f"sqlite:{project.db.path}", "postgresql": project.url + "?sslmode=disable",
           "mysql": project.url}[project.dialect]
    if project.db.path:
        project.db.path.parent.mkdir(parents=True, exist_ok=True)
    ran = subprocess.run([binary, "--url", url, "--migrations-dir", str(folder), "--no-dump-schema", "up"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    shutil.copy(DATA / "dbmate" / "any" / "20200227231541_test_posts.sql", folder)
    done = project.run("import", "--from", "dbmate", str(folder), "--adopt-history", "--json")
    assert done.code == 0, done.err
    assert done.json["adopted"] == [20151129054053]
    assert project.db.rows("SELECT id, name FROM users") == [(1, "alice")], "the migration dbmate ran did not run again"
    assert project.run("apply").code == 0 and project.applied() == [20151129054053, 20200227231541]


def test_converting_in_place_then_the_old_files_are_named_as_imported(sqlite_project):
    project = sqlite_project
    for path in (DATA / "golang-migrate" / "sqlite").iterdir():
        shutil.copy(path, project.migrations)
    assert project.run("status").code == 2, "a folder of only another tool's files is not 'nothing to do'"
    assert project.run("import", "--from", "golang-migrate", str(project.migrations)).code == 0
    checked = project.run("status")
    assert checked.code == 0
    assert "33_create_table.up.sql: ignored: a golang-migrate migration already imported as 33_create_table.yaml" in checked.err
    assert project.run("apply").code == 0 and project.applied() == [33, 44]


def test_an_import_cut_short_completes_when_run_again(sqlite_project):
    project = sqlite_project
    folder = DATA / "goose" / "sqlite"
    assert project.run("import", "--from", "goose", str(folder)).code == 0
    whole = {p.name: p.read_bytes() for p in project.migrations.iterdir()}
    for name in sorted(whole)[2:]:  # as a kill midway leaves it: some files in, the rest not
        (project.migrations / name).unlink()
    stale = project.migrations / f".import-{2**22 + 1}-x"  # above Linux's largest pid: a process that is gone
    stale.mkdir()
    (stale / "00003_alter.yaml").write_text("half")
    done = project.run("import", "--from", "goose", str(folder))
    assert done.code == 0, done.err
    assert {p.name: p.read_bytes() for p in project.migrations.iterdir()} == whole, "completed, byte for byte; the stale stage swept"


def test_plain_sql_has_no_history_to_adopt_and_joins_by_baseline(sqlite_project):
    project = sqlite_project
    folder = DATA / "sql" / "sqlite"
    refused = project.run("import", "--from", "sql", str(folder), "--adopt-history")
    assert refused.code == 2 and "migrund baseline VERSION" in refused.err and not any(project.migrations.iterdir())
    project.db_path.parent.mkdir(parents=True, exist_ok=True)
    _run_sql(project, (folder / "20200718111257_todos.sql").read_text())  # run by hand before migrund
    assert project.run("import", "--from", "sql", str(folder)).code == 0
    assert project.run("baseline", "20200718111257").code == 0
    assert project.run("apply").code == 0 and project.applied() == [20200718111257]


def test_links_out_fifos_huge_and_non_ascii_files_are_reported_not_read(sqlite_project, tmp_path):
    import os

    project = sqlite_project
    folder = tmp_path / "gm"
    shutil.copytree(DATA / "golang-migrate" / "sqlite", folder)
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2\n")
    os.symlink(secret, folder / "50_leak.up.sql")
    os.mkfifo(folder / "51_pipe.up.sql")  # reading it would block forever
    (folder / "52_huge.up.sql").write_bytes(b"-- x\n" * (1 << 20))  # 5 MiB, above any migration file
    (folder / "53_ünïcødé.up.sql").write_text("CREATE TABLE u (id INTEGER);\n")
    refused = project.run("import", "--from", "golang-migrate", str(folder))
    assert refused.code == 2, refused.err
    assert "50_leak.up.sql: a symbolic link leading outside" in refused.err
    assert "51_pipe.up.sql: cannot be read: not a regular file" in refused.err
    assert "52_huge.up.sql: cannot be read: larger than" in refused.err
    assert not any(project.migrations.iterdir())
    done = project.run("import", "--from", "golang-migrate", str(folder), "--skip-unmapped", "--json")
    assert done.code == 0, done.err
    assert {m["file"] for m in done.json["written"]} == {"33_create_table.yaml", "44_alter_table.yaml", "53_n_c_d.yaml"}
    assert not any("hunter2" in p.read_text() for p in project.migrations.iterdir())
    assert project.run("apply").code == 0 and "u" in project.tables()
