"""The workload the crash trials run, and the checks that follow every trial."""
from __future__ import annotations

import os
import random
import sqlite3
import time
from typing import Optional

from tests.helpers import Project

V = 20250301000000
COUNT = 6
NONTX = V + 4  # a two-step migration outside a transaction: the dirty protocol on every engine
TRIALS = int(os.environ.get("MIGRUND_TRIALS", "6"))


def versions() -> list[int]:
    return [V + i for i in range(1, COUNT + 1)]


def write_workload(project: Project) -> None:
    """Six migrations of three statements each (table, index, ten rows); one is non-transactional."""
    rows = ", ".join(f"({n}, 'value {n}')" for n in range(1, 11))
    for i in range(1, COUNT + 1):
        if V + i == NONTX:
            body = (
                "transaction: false\nup:\n"
                f"  - sql: CREATE TABLE r{i} (id INTEGER PRIMARY KEY, v VARCHAR(40))\n"
                f"  - sql: |\n      CREATE INDEX ix_r{i} ON r{i} (v);\n      INSERT INTO r{i} (id, v) VALUES {rows};\n"
            )
        else:
            body = (
                "up:\n  - sql: |\n"
                f"      CREATE TABLE r{i} (id INTEGER PRIMARY KEY, v VARCHAR(40));\n"
                f"      CREATE INDEX ix_r{i} ON r{i} (v);\n"
                f"      INSERT INTO r{i} (id, v) VALUES {rows};\n"
            )
        project.write(f"{V + i}_r{i}.yaml", body + f"down:\n  - sql: DROP TABLE r{i}\n")


def crash_points(operation: str) -> list[str]:
    """Every ``MIGRUND_CRASH_AT`` value worth trying for ``operation``, in a fixed order."""
    if operation in ("apply", "rollback"):
        statements = 3 * COUNT if operation == "apply" else COUNT
        return (
            [f"statement:{n}" for n in range(1, statements + 1)]
            + [f"{p}:{n}" for p in ("before_commit", "after_commit") for n in range(1, COUNT + 1)]
            + [f"dirty:{n}" for n in (1, 2)]
        )
    if operation == "backup":
        return ["backup_written:1", "backup_renamed:1"]
    return ["restore:1"]


def sample(points: list[str], seed: str) -> list[Optional[str]]:
    """``TRIALS`` trials: crash points spread evenly, then random kill -9 moments (None)."""
    if TRIALS >= len(points):
        return list(points) + [None] * (TRIALS - len(points))
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(points)), max(TRIALS - 1, 1)))
    return [points[i] for i in chosen] + [None] * (TRIALS - len(chosen))


def row_count(project: Project, table: str) -> int:
    return project.db.rows(f"SELECT COUNT(*) FROM {table}")[0][0]


def assert_consistent(project: Project, tally) -> list[int]:
    """After a crash: status works, each migration whole or absent (or honestly dirty), no lock held.

    Returns the versions applied. Leaves a dirty database repaired, the way an operator would.
    """
    status = project.run("status", "--json")
    assert status.code == 0, status.err
    doc = status.json
    applied = project.applied()
    assert applied == versions()[: len(applied)], f"applied {applied} is not a prefix: a migration was skipped"
    assert doc["applied"] == applied
    tables = set(project.tables())
    dirty = doc["dirty"]
    for index, version in enumerate(versions(), 1):
        table = f"r{index}"
        if dirty is not None and dirty["version"] == version:
            continue  # reported: partly done is what "dirty" says
        if version in applied:
            if table not in tables or row_count(project, table) != 10:
                tally["losses"] += 1
                raise AssertionError(f"{version} has its history row but {table} is missing or incomplete")
        elif table in tables:
            tally["losses"] += 1
            raise AssertionError(f"{version} has no history row, is not reported dirty, yet {table} exists")
    if project.dialect == "sqlite":
        with sqlite3.connect(project.db_path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if dirty is not None:
        version = dirty["version"]
        expected = applied[-1] if dirty["direction"] == "down" else versions()[len(applied)]
        assert version == expected, f"dirty at {version}, but the migration in progress was {expected}"
        if version != NONTX:
            assert project.dialect == "mysql", f"a transactional migration left a dirty marker on {project.dialect}"
        # What an operator does: put the migration's objects back to "not applied", then say so.
        index = versions().index(version) + 1
        project.db.execute(f"DROP TABLE IF EXISTS r{index}")
        repaired = project.run("repair", str(version), "--rolled-back")
        assert repaired.code == 0, repaired.err
        tally["dirty_repaired"] += 1
    return project.applied()


def converge(project: Project) -> None:
    """The next run completes (and proves no lock is left held): apply all, then roll back all."""
    done = project.run("apply", "--lock-timeout", "2")
    assert done.code == 0, done.err
    assert project.applied() == versions()


def reset(project: Project) -> None:
    """Back to an empty database for the next trial."""
    back = project.run("rollback", "--to", "0", "--lock-timeout", "2")
    assert back.code == 0, back.err
    assert project.applied() == []


def kill_at_random(proc, rng: random.Random, span: float) -> bool:
    """SIGKILL ``proc`` at a random moment within ``span`` seconds; True if it was still running."""
    time.sleep(rng.uniform(0, span))
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        return True
    return False


# A password with the characters that break naive masking, as the crash trials' servers get it.
CANARY = "Cr@sh:pw/#1 x%"
CLIENTS = ("pg_dump", "pg_restore", "psql", "mariadb", "mysql", "mariadb-dump", "mysqldump")


def with_password(project: Project) -> None:
    """Connect the project to its server database with ``CANARY`` as the password (a user made for it on MariaDB)."""
    from urllib.parse import quote

    if project.dialect == "sqlite":
        return
    secret = quote(CANARY, safe="")
    if project.dialect == "postgresql":  # trust authentication: the password is sent and ignored
        project.url = project.db.url.replace("postgres@", f"postgres:{secret}@")
    else:
        user = project.db.name[-16:]
        project.db.execute(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{CANARY}'")
        project.db.execute(f"GRANT ALL ON `{project.db.name}`.* TO '{user}'@'%'")
        project.url = project.db.url.replace("root@", f"{user}:{secret}@")
    project.configure()


def _processes_naming(*markers: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0].decode(errors="replace")) in CLIENTS and any(m.encode() in b" ".join(argv) for m in markers):
            found.append(f"{pid}: {b' '.join(argv).decode(errors='replace')}")
    return found


def assert_no_orphans(project: Project, tally) -> None:
    """Right after a kill: no client program migrund started (pg_dump, psql, mariadb...) is still running."""
    deadline = time.monotonic() + 0.5  # the kernel's parent-death signal is prompt
    markers = [m for m in (project.db.name, str(project.root)) if m]
    orphans = _processes_naming(*markers)
    while orphans and time.monotonic() < deadline:
        time.sleep(0.02)
        orphans = _processes_naming(*markers)
    if orphans:
        tally["orphans"] += 1
        raise AssertionError(f"a child of a killed migrund is still running: {orphans}")


def assert_no_leftovers(project: Project, tally) -> None:
    """After a trial and the next run: no temp files, no secret written anywhere migrund writes."""
    from urllib.parse import quote

    stale = [p for p in (project.root / "backups").glob(".*.tmp")] if (project.root / "backups").exists() else []
    work = project.state_home / "migrund" / "work"
    stale += list(work.iterdir()) if work.exists() else []
    if stale:
        tally["temp_files"] += 1
        raise AssertionError(f"files a killed run left are still there after the next run: {stale}")
    secrets = (CANARY.encode(), quote(CANARY, safe="").encode())
    config = project.root / "config" / "migrund.yaml"  # the operator's own file holds the URL
    for folder in (project.root, project.state_home):
        for path in folder.rglob("*"):
            if path == config or not path.is_file() or path.is_symlink():
                continue
            data = path.read_bytes()
            if any(secret in data for secret in secrets):
                tally["secrets"] += 1
                raise AssertionError(f"the password was written into {path}")
