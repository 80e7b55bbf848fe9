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


MYSQL_MODE = "NO_ENGINE_SUBSTITUTION"


# Kratos targets MySQL 8; from this migration on it uses a functional index on a generated
# column that MariaDB 10.11 refuses, so on MariaDB the comparison stops just before it.
MARIADB_LAST = 693


def run_raw(db, dialect: str, count: int | None = None) -> None:
    """Each corpus file's whole text in one call, as Ory's migrator sends it."""
    if dialect == "postgresql":
        conn = db.connect()
        for text, autocommit in corpus.raw_script("up", dialect, count):
            conn.execute(text if autocommit else f"BEGIN;\n{text}\nCOMMIT;")
        conn.close()
        return
    import pymysql
    from pymysql.constants import CLIENT
    from urllib.parse import urlsplit

    parts = urlsplit(db.url)
    conn = pymysql.connect(host=parts.hostname, port=parts.port, user=parts.username, password=parts.password or "",
                           database=db.name, autocommit=True, charset="utf8mb4", client_flag=CLIENT.MULTI_STATEMENTS,
                           init_command=f"SET SESSION sql_mode = '{MYSQL_MODE}'")
    with conn.cursor() as cursor:
        for text, _ in corpus.raw_script("up", dialect, count):
            cursor.execute(text)
            while cursor.nextset():
                pass
    conn.close()


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_kratos_on_servers(tmp_path, server):
    from tests import servers

    ours = servers.create(server, tmp_path / "ours")
    raw = servers.create(server, tmp_path / "raw")
    try:
        if server == "mysql":
            # Kratos targets MySQL 8, which accepts an INSERT ... SELECT of zero rows that
            # leaves a NOT NULL column without default; MariaDB refuses it in strict mode.
            ours.url += f"?sql_mode={MYSQL_MODE}"
        project = Project(tmp_path / "kratos", db=ours)
        versions = corpus.write_yaml(project.migrations, server)
        count = MARIADB_LAST + 1 if server == "mysql" else len(versions)
        applied = project.run("apply", "--to", str(versions[count - 1]), "--json", timeout=900)
        assert applied.code == 0, applied.err
        assert project.applied() == versions[:count]
        run_raw(raw, server, count)
        expected = raw.schema()
        assert len(expected) > 100
        assert ours.schema() == expected
        back = project.run("rollback", "--to", "0", "--json", timeout=900)
        assert back.code == 0, back.err
        assert back.json["to_version"] == 0 and ours.tables() == []
    finally:
        servers.drop(ours)
        servers.drop(raw)
