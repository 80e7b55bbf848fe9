"""canonical.fingerprint: the same for edits in form, different for any change to what runs."""
from __future__ import annotations

from migrund.canonical import fingerprint

ORIGINAL = """\
description: users
up:
  - sql: |
      CREATE TABLE users (id INTEGER, name TEXT);
      INSERT INTO users VALUES (1, 'a  b');
down:
  - sql: DROP TABLE users
"""


def _same(text: str) -> bool:
    return fingerprint({"1_x.yaml": ORIGINAL}) == fingerprint({"1_x.yaml": text})


def test_form_does_not_count():
    assert _same(ORIGINAL.replace("\n", "\r\n"))
    assert _same(ORIGINAL.replace("name TEXT);", "name TEXT);   "))
    assert _same("# reviewed\n" + ORIGINAL.replace("up:", "up:   # the change"))
    assert _same(ORIGINAL.replace("  - sql: |\n      CREATE", "  - sql: |\n      -- the users\n      CREATE"))
    assert _same('{"description": "users", "down": [{"sql": "DROP TABLE users"}], "up": [{"sql": '
                 '"CREATE TABLE users (id INTEGER, name TEXT);\\nINSERT INTO users VALUES (1, \'a  b\');\\n"}]}')


def test_what_runs_counts():
    assert not _same(ORIGINAL.replace("name TEXT", "name VARCHAR(5)"))
    assert not _same(ORIGINAL.replace("'a  b'", "'a b'")), "inside a statement, spacing is content"
    assert not _same(ORIGINAL + "transaction: false\n")
    assert not _same(ORIGINAL.replace("DROP TABLE users", "DROP TABLE users CASCADE"))
    assert fingerprint({"1_x.yaml": ORIGINAL, "hooks/h.py": "x = 1\n"}) != fingerprint({"1_x.yaml": ORIGINAL, "hooks/h.py": "x = 2\n"})
    assert fingerprint({"hooks/h.py": "x = 1\n"}) == fingerprint({"hooks/h.py": "x = 1   \r\n"})
