"""migrund new while a daemon runs: the template is a draft, applied once it is written, never before."""
from __future__ import annotations

import time

from tests.daemonproc import idle_daemon

V = 20250101000000


def test_a_new_template_waits_for_its_content_then_is_applied_once(sqlite_project):
    project = sqlite_project
    daemon = idle_daemon(project, V)
    try:
        created = project.run("new", "add_b")
        assert created.code == 0
        path = project.root / created.out.strip()
        version = int(path.name[:14])
        assert "# migrund:draft" in path.read_text(), "the file says it is a draft"
        passes = daemon.log().count("reconcile (file change)")
        daemon.wait(lambda: daemon.log().count("reconcile (file change)") > passes, "the daemon's look at the new file")
        time.sleep(0.5)
        assert project.applied() == [V], "the empty template was not applied"
        status = project.run("status", "--json").json
        assert status["drafts"] == [version] and status["pending"] == [] and status["target_version"] == V
        assert f"drafts    {version}" in project.run("status").out
        assert any("a draft" in w for w in project.run("validate", "--json").json["warnings"])
        path.write_text(path.read_text().replace("-- CREATE TABLE example", "CREATE TABLE example", 1)
                        .replace("-- DROP TABLE example;", "DROP TABLE example;", 1))
        daemon.wait_state("idle", current_version=version)
        assert project.applied() == [V, version] and "example" in project.tables()
        assert daemon.log().count(f"applied {version} ") == 1
        assert daemon.stop() == 0
    finally:
        daemon.close()


def test_a_comment_only_migration_without_the_mark_is_an_ordinary_no_op(sqlite_project):
    # other tools' sets hold migrations that do nothing on some engines: they still apply
    project = sqlite_project
    project.configure()
    project.write(f"{V}_noop.yaml", "up:\n  - sql: |\n      -- nothing to do on this engine\n")
    assert project.run("apply").code == 0 and project.applied() == [V]
