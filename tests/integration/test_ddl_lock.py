"""database.ddl_lock_timeout: DDL that cannot get its table lock gives up, and is retried with backoff."""
from __future__ import annotations

import threading
import time

import pytest

V = 20250101000000


def _hold_the_table(project, seconds: float, ready: threading.Event) -> None:
    """Another session keeps table t locked for ``seconds`` (an open transaction that read it)."""
    conn = project.db.connect()
    cursor = conn.cursor()
    if project.dialect == "postgresql":
        cursor.execute("BEGIN")
        cursor.execute("LOCK TABLE t IN ACCESS SHARE MODE")
    else:
        cursor.execute("START TRANSACTION")
        cursor.execute("SELECT * FROM t")  # holds the table's metadata lock until the transaction ends
    ready.set()
    time.sleep(seconds)
    cursor.execute("ROLLBACK")
    conn.close()


def _apply_behind_a_held_table(project, *, retries: int, hold: float) -> tuple:
    """Run ``apply`` of an ALTER TABLE while another session holds the table ``hold`` s; (result, seconds it took)."""
    project.configure(f"database:\n  ddl_lock_timeout: 0.3\n  ddl_lock_retries: {retries}\n")
    project.db.execute("CREATE TABLE t (id INTEGER)")
    project.write(f"{V}_alter.yaml", "up:\n  - sql: ALTER TABLE t ADD COLUMN x INTEGER\n")
    ready = threading.Event()
    holder = threading.Thread(target=_hold_the_table, args=(project, hold, ready))
    holder.start()
    ready.wait(10)
    started = time.monotonic()
    result = project.run("apply")
    elapsed = time.monotonic() - started
    holder.join()
    return result, elapsed


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_ddl_waiting_for_a_lock_is_retried_until_it_gets_it(project, dialect):
    result, elapsed = _apply_behind_a_held_table(project, retries=6, hold=2.0)
    assert result.code == 0, result.err
    assert "could not get a lock in time" in result.err and "trying again" in result.err
    assert project.applied() == [V] and elapsed >= 1.5
    assert project.run("status", "--json").json["dirty"] is None


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_without_retries_the_ddl_gives_up_after_the_timeout_and_leaves_nothing(project, dialect):
    result, elapsed = _apply_behind_a_held_table(project, retries=0, hold=4.0)
    assert result.code in (1, 5) and elapsed < 3.5, (result.code, result.err, elapsed)
    assert project.applied() == []
    if dialect == "mysql":  # the dirty protocol: step 1 never ran, but the marker says so
        assert project.run("repair", str(V), "--rolled-back").code == 0
    assert project.run("apply").code == 0 and project.applied() == [V]
