"""Applied files edited, deleted or reordered afterwards: reported everywhere, blocking what SPEC 5.2/5.4 say."""
from __future__ import annotations

import pytest

from tests.daemonproc import FAST, DaemonProcess
from tests.helpers import Project

V = 20250701000000


def three(project: Project) -> None:
    for i in (1, 2, 3):
        project.table(V + i, f"m{i}", f"t{i}")
    assert project.run("apply").code == 0


def test_an_edited_applied_file(project, tally):
    three(project)
    edited = project.migrations / f"{V + 2}_m2.yaml"
    edited.write_text(edited.read_text().replace("v TEXT", "v TEXT, w TEXT"))
    project.table(V + 4, "m4", "t4")
    status = project.run("status", "--json").json
    assert status["modified"] == [V + 2] and status["missing"] == []
    verify = project.run("verify", "--json")
    assert verify.code == 4 and verify.json["modified"] == [V + 2] and "w TEXT" in verify.json["diffs"][str(V + 2)]
    safety = project.run("check-safety", str(V + 2), "--json")
    assert safety.code == 4 and safety.json["safe"] is False and "w TEXT" in safety.json["diff"]
    for command in (["apply"], ["reconcile"], ["rollback", "--to", str(V + 1)]):
        refused = project.run(*command)
        assert refused.code == 4 and str(V + 2) in refused.err, (command, refused.err)
    assert project.applied() == [V + 1, V + 2, V + 3], "refusals changed nothing"
    assert project.run("rollback", "--steps", "1").code == 0, "migrations outside the range are not blocked"
    project.configure("safety:\n  on_checksum_mismatch: warn\n")
    warned = project.run("apply")
    assert warned.code == 0 and str(V + 2) in warned.err, warned.err
    assert project.applied() == [V + 1, V + 2, V + 3, V + 4]
    tally["trials"] += 1


def test_a_deleted_applied_file(project, tally):
    three(project)
    (project.migrations / f"{V + 3}_m3.yaml").unlink()
    project.table(V + 4, "m4", "t4")
    status = project.run("status", "--json").json
    assert status["missing"] == [V + 3] and status["modified"] == []
    verify = project.run("verify", "--json")
    assert verify.code == 4 and verify.json["missing"] == [V + 3]
    safety = project.run("check-safety", str(V + 3), "--json")
    assert safety.code == 4 and safety.json["safe"] is False
    assert project.run("apply").code == 0, "a missing file does not block apply (another host may be ahead)"
    assert project.applied() == [V + 1, V + 2, V + 3, V + 4]
    refused = project.run("rollback", "--to", str(V + 2))
    assert refused.code == 4 and str(V + 3) in refused.err
    via_history = project.run("rollback", "--to", str(V + 2), "--from-history")
    assert via_history.code == 0, via_history.err
    assert project.applied() == [V + 1, V + 2] and "t3" not in project.tables()
    tally["trials"] += 1


def test_a_reordered_applied_file(project, tally):
    three(project)
    # The file of V+3 renamed to a version below the others: the applied version is now
    # missing, and the file's new version is a pending migration older than the current one.
    (project.migrations / f"{V + 3}_m3.yaml").rename(project.migrations / f"{V}_m3.yaml")
    status = project.run("status", "--json").json
    assert status["missing"] == [V + 3] and status["pending"] == [V]
    refused = project.run("apply")
    assert refused.code == 2 and str(V) in refused.err and "out-of-order" in refused.err, refused.err
    assert project.applied() == [V + 1, V + 2, V + 3]
    assert project.run("verify").code == 4
    tally["trials"] += 1


def test_the_daemon_blocks_on_an_edited_file_and_resumes_when_it_is_reverted(sqlite_project, tally):
    project = sqlite_project
    project.daemon = FAST
    project.configure()
    three(project)
    d = DaemonProcess(project)
    try:
        d.wait_state("idle", current_version=V + 3)
        edited = project.migrations / f"{V + 1}_m1.yaml"
        original = edited.read_text()
        # a change to what runs (a comment alone would be cosmetic, and block nothing)
        edited.write_text(original.replace("CREATE TABLE t1", "CREATE TABLE t1_renamed"))
        assert edited.read_text() != original
        project.table(V + 4, "m4", "t4")
        doc = d.wait_state("blocked")
        assert str(V + 1) in doc["last_error"]
        assert project.applied() == [V + 1, V + 2, V + 3]
        edited.write_text(original)
        d.wait_state("idle", current_version=V + 4)
        assert d.stop() == 0
    finally:
        d.close()
    tally["trials"] += 1


@pytest.fixture
def project(sqlite_project):
    return sqlite_project
