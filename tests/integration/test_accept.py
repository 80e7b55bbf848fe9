"""accept VERSION: an intentional edit of an applied file becomes the applied version, with an audit row."""
from __future__ import annotations

import json

V = 20250101000000


def test_an_accepted_edit_unblocks_everything_and_is_audited(project):
    path = project.table(V, "users", "users")
    project.table(V + 1, "orders", "orders")
    assert project.run("apply", "--to", str(V)).code == 0
    # an intended change to what runs (the table as it was created in production, say)
    path.write_text(path.read_text().replace("v TEXT)", "v TEXT, note TEXT)", 1))
    blocked = project.run("apply")
    assert blocked.code == 4 and "modified" in blocked.err
    done = project.run("accept", str(V), "--json")
    assert done.code == 0, done.err
    assert done.json["accepted"] is True and done.json["previous_checksum"] != done.json["checksum"]
    assert "note TEXT" in done.json["diff"] and done.json["diff"].count("\n+") >= 1
    assert project.applied() == [V], "nothing ran"
    assert project.run("verify").code == 0
    audit = project.db.rows("SELECT action, detail FROM migrund_audit")
    assert audit[0][0] == "accept" and "note TEXT" in json.loads(audit[0][1])["diff"]
    stored = project.db.rows(f"SELECT body FROM migrund_history WHERE version = {V}")[0][0]
    assert "note TEXT" in stored, "the stored body is the accepted file (--from-history runs it)"
    assert project.run("apply").code == 0 and project.applied() == [V, V + 1]
    again = project.run("accept", str(V))
    assert again.code == 0 and "nothing to accept" in again.out


def test_accept_refusals(project):
    path = project.table(V, "users", "users")
    assert project.run("apply").code == 0
    assert project.run("accept", str(V + 5)).code == 2, "not applied"
    assert project.run("accept", "12").code == 2, "not a version"
    path.unlink()
    gone = project.run("accept", str(V))
    assert gone.code == 2 and "gone" in gone.err
    assert project.db.rows("SELECT COUNT(*) FROM migrund_audit") == [(0,)]
