"""The Kratos corpus converted to migrund YAML: applies completely and rolls back to 0 on SQLite."""
from __future__ import annotations

import os
import sqlite3

import pytest

from tests import corpus
from tests.helpers import Project


@pytest.fixture(autouse=True)
def corpus_present():
    """The corpus sits beside the repository; CI must have it, elsewhere its absence is a skip."""
    if not corpus.SQL_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{corpus.SQL_DIR} is missing")
        pytest.skip("../shared/corpus is not beside the repository")


def sqlite_schema(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " WHERE name NOT LIKE 'migrund_%' AND name NOT LIKE 'sqlite_%' ORDER BY type, name"
    ).fetchall()
    conn.close()
    return rows


def test_kratos_on_sqlite(tmp_path):
    project = Project(tmp_path / "kratos")
    assert project.dialect == "sqlite"
    versions = corpus.write_yaml(project.migrations, "sqlite")
    assert len(versions) == 702

    applied = project.run("apply", "--json", timeout=600)
    assert applied.code == 0, applied.err
    assert len(applied.json["steps"]) == 702
    assert project.applied() == versions

    raw = tmp_path / "raw.db"
    conn = sqlite3.connect(raw, isolation_level=None)
    for text, autocommit in corpus.raw_script("up", "sqlite"):
        conn.executescript(text if autocommit else f"BEGIN;\n{text}\nCOMMIT;")
    conn.close()
    expected = sqlite_schema(raw)
    assert len(expected) > 50
    assert sqlite_schema(project.db_path) == expected

    status = project.run("status", "--check", "--json")
    assert status.code == 0 and status.json["pending"] == []
    assert project.run("verify").code == 0

    back = project.run("rollback", "--to", "0", "--json", timeout=600)
    assert back.code == 0, back.err
    assert len(back.json["steps"]) == 702 and back.json["to_version"] == 0
    assert sqlite_schema(project.db_path) == []
    conn = sqlite3.connect(project.db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
