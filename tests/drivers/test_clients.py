"""Client programs run by the drivers: a stream from one program into another commits only when whole."""
from __future__ import annotations

import os
import time

import pytest

from migrund.dburl import parse_url
from migrund.drivers.base import load_driver
from migrund.drivers.dbapi import run_piped
from migrund.errors import OperationFailed
from tests import servers


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


def test_a_whole_stream_arrives_after_the_head(tmp_path):
    out = tmp_path / "out"
    run_piped(sh("seq 1 200000"), sh(f"cat > {out}"), head=b"BEGIN\n", env_extra={}, what="the copy")
    lines = out.read_text().splitlines()
    assert lines[0] == "BEGIN" and lines[1:] == [str(i) for i in range(1, 200001)]


def test_a_producer_failing_midway_never_lets_the_consumer_see_an_end(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OperationFailed, match=r"^sh failed: error: archive truncated at block 7$"):
        run_piped(sh("seq 1 1000; echo 'error: archive truncated at block 7' >&2; echo 'DETAIL: row 12' >&2; exit 1"),
                  sh(f"cat > {out}; echo end-seen >> {out}"),
                  head=b"BEGIN\n", env_extra={}, what="the copy")
    text = out.read_text() if out.exists() else ""
    assert "end-seen" not in text, "the consumer was killed before it saw the end of its input"


def test_a_consumer_that_stops_reading_is_the_error_reported(tmp_path):
    started = time.monotonic()
    # The producer could write for ever: the consumer's failure must end both, and name itself.
    with pytest.raises(OperationFailed, match=r"^the load failed: password authentication failed$"):
        run_piped(["yes"], sh("head -c 10 > /dev/null; echo 'password authentication failed' >&2; exit 2"),
                  head=b"", env_extra={}, what="the load")
    assert time.monotonic() - started < 10


def test_secrets_reach_the_consumer_only(tmp_path):
    out = tmp_path / "out"
    run_piped(sh("echo producer=${MIGRUND_T_SECRET:-unset}"), sh(f"cat > {out}; echo consumer=$MIGRUND_T_SECRET >> {out}"),
              head=b"", env_extra={"MIGRUND_T_SECRET": "s3cret"}, what="the copy")
    assert out.read_text().split() == ["producer=unset", "consumer=s3cret"]
    assert "MIGRUND_T_SECRET" not in os.environ


def test_postgresql_restore_from_an_archive_cut_short_leaves_the_database_as_it_was(tmp_path):
    db = servers.create("postgresql", tmp_path)
    driver = load_driver(parse_url(db.url, tmp_path / "config"), create=False)
    try:
        driver.execute("CREATE TABLE kept (id INTEGER PRIMARY KEY, s TEXT)")
        driver.execute("INSERT INTO kept SELECT i, repeat('x', 200) || i FROM generate_series(1, 50000) i")
        archive = tmp_path / "full.pgdump"
        driver.backup_native(archive)
        driver.execute("CREATE TABLE made_after (id INTEGER)")
        before = db.snapshot()
        data = archive.read_bytes()
        cut = tmp_path / "cut.pgdump"
        cut.write_bytes(data[: len(data) * 2 // 3])  # the table of contents whole, the data cut off
        with pytest.raises(OperationFailed, match="pg_restore failed"):
            driver.restore_native(cut)
        assert db.snapshot() == before, "nothing dropped, nothing half-loaded"
        driver.restore_native(archive)
        assert "made_after" not in db.tables()
        assert db.rows("SELECT count(*) FROM kept") == [(50000,)]
    finally:
        driver.close()
        servers.drop(db)


def test_postgresql_restore_with_large_objects_is_still_one_transaction(tmp_path):
    # pg_restore's script wraps large objects in BEGIN ... COMMIT of their own: fed as is,
    # that COMMIT would make the schema drops and half the data stick if a later statement
    # failed. Here a later statement does fail: a foreign key whose rows were loaded with
    # the triggers off, which the restore's ALTER TABLE ... ADD CONSTRAINT checks.
    db = servers.create("postgresql", tmp_path)
    driver = load_driver(parse_url(db.url, tmp_path / "config"), create=False)
    try:
        driver.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        driver.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))")
        driver.execute("SELECT lo_from_bytea(0, 'a large object')")
        driver.execute("ALTER TABLE child DISABLE TRIGGER ALL")
        driver.execute("INSERT INTO child VALUES (1, 42)")  # no parent 42: the restore's constraint check fails
        archive = tmp_path / "bad.pgdump"
        driver.backup_native(archive)
        driver.execute("DROP TABLE child")
        driver.execute("CREATE TABLE kept (id INTEGER)")
        before = db.snapshot()
        with pytest.raises(OperationFailed, match="violates foreign key constraint"):
            driver.restore_native(archive)
        assert db.snapshot() == before, "nothing of the restore stayed"
        assert db.rows("SELECT count(*) FROM pg_largeobject_metadata") == [(1,)]
    finally:
        driver.close()
        servers.drop(db)
