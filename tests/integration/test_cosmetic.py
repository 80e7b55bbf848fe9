"""Cosmetic edits of applied files (line endings, trailing blanks, comments, YAML layout) block nothing."""
from __future__ import annotations

V = 20250101000000

FILE = """\
description: users
up:
  - sql: |
      CREATE TABLE users (id INTEGER, name VARCHAR(20));
      INSERT INTO users VALUES (1, 'a');
down:
  - sql: DROP TABLE users
"""

REFORMATTED = (
    "# reviewed in PR 7: no change to what runs\r\n"
    "description: 'users'\r\n"
    "down: [{sql: DROP TABLE users}]   \r\n"
    "up:\r\n"
    "- sql: |\r\n"
    "    -- the users table\r\n"
    "    CREATE TABLE users (id INTEGER, name VARCHAR(20));   \r\n"
    "    INSERT INTO users VALUES (1, 'a');\r\n"
)


def test_a_cosmetic_edit_is_reported_but_blocks_nothing(project):
    path = project.write(f"{V}_users.yaml", FILE)
    project.table(V + 1, "orders", "orders")
    assert project.run("apply", "--to", str(V)).code == 0
    path.write_bytes(REFORMATTED.encode())
    applied = project.run("apply")
    assert applied.code == 0, applied.err
    assert project.applied() == [V, V + 1]
    verify = project.run("verify", "--json")
    assert verify.code == 0 and verify.json["ok"] is True and verify.json["cosmetic"] == [V] and verify.json["modified"] == []
    assert "edited in form only" in verify.err
    status = project.run("status", "--json")
    assert status.json["cosmetic"] == [V] and status.json["modified"] == []
    assert project.run("check-safety", str(V), "--json").json["safe"] is True
    history = project.run("history", "--json").json
    assert history[0]["checksum"] != __import__("hashlib").sha256(REFORMATTED.encode()).hexdigest(), "the exact-bytes hash is kept"
    assert project.run("rollback", "--to", "0").code == 0 and project.applied() == []


def test_a_change_to_what_runs_is_still_a_mismatch(project):
    path = project.write(f"{V}_users.yaml", FILE)
    assert project.run("apply").code == 0
    path.write_text(FILE.replace("VARCHAR(20)", "VARCHAR(40)"))
    project.table(V + 1, "orders", "orders")
    refused = project.run("apply")
    assert refused.code == 4 and "modified" in refused.err
    verify = project.run("verify", "--json")
    assert verify.code == 4 and verify.json["modified"] == [V] and verify.json["cosmetic"] == []
