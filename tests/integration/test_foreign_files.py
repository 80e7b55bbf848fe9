"""A migrations folder that holds another tool's files: named, with advice, and never "ok, nothing to do"."""
from __future__ import annotations

V = 20250101000000


def test_a_folder_of_another_tools_files_is_an_error_that_names_them(project):
    # golang-migrate's layout, as a team would bring it
    project.write("1_create_users.up.sql", "CREATE TABLE users (id INTEGER);\n")
    project.write("1_create_users.down.sql", "DROP TABLE users;\n")
    project.write("2_add_email.up.sql", "ALTER TABLE users ADD COLUMN email TEXT;\n")
    for command in (["validate"], ["status"], ["apply"], ["plan"]):
        result = project.run(*command)
        assert result.code == 2, (command, result.out, result.err)
        assert "holds 3 file(s) but no migration" in result.err, result.err
        assert "1_create_users.up.sql: ignored: looks like a golang-migrate migration" in result.err
    document = project.run("validate", "--json")
    assert document.code == 2 and document.json["error"]["kind"] == "invalid_migration"
    assert project.tables() == [], "nothing was created"


def test_stray_files_beside_migrations_are_named_in_validate_and_status(project):
    project.table(V, "users", "users")
    project.write(f"{V + 1}_orders.yam", "up:\n  - sql: CREATE TABLE orders (id INTEGER)\n")
    project.write("schema.sql", "CREATE TABLE x (id INTEGER);\n")
    checked = project.run("validate", "--json")
    assert checked.code == 0, checked.err
    assert any(f"{V + 1}_orders.yam: ignored: has a migration's name but not its extension: rename it to .yaml" in w
               for w in checked.json["warnings"])
    assert any("schema.sql: ignored: is plain SQL" in w for w in checked.json["warnings"])
    status = project.run("status", "--json")
    assert status.code == 0 and status.json["ignored"] == [f"{V + 1}_orders.yam", "schema.sql"]
    text = project.run("status")
    assert "ignored   2 file(s) that are not migrations" in text.out and "rename it to .yaml" in text.err
    assert project.run("apply").code == 0 and project.applied() == [V]
