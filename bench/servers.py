"""Apply and rollback of N migrations on PostgreSQL and MariaDB against a plain-driver floor.

The floor runs the same SQL with plain psycopg / PyMySQL in one process: on PostgreSQL one
transaction per migration with its history row, on MariaDB the statements plus one history
write per migration. Each run gets a fresh database on the local server. The rollback is
measured twice: without the automatic backup migrund takes before a rollback (the same
work as the floor) and with it, as the default config has it (a pg_dump / mariadb-dump of
every table first: what a harness with the default config counts). The no-op apply is
compared with reading and hashing every file plus one history query over the same driver.
Usage: python bench/servers.py [--n 1000] [--repeat 3] [--dialect postgresql mysql]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PY, Workspace, best, timed  # noqa: E402

ADMIN = {"postgresql": "postgresql://postgres@127.0.0.1:5432", "mysql": "mysql://root@127.0.0.1:3306"}

FLOOR = r"""
import sys
dialect, url, name, n, direction = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
rows = ", ".join(f"({r}, 'name {r}', '2025-01-01T00:00:{r:02d}Z')" for r in range(10))
if dialect == "postgresql":
    import psycopg
    conn = psycopg.connect(f"{url}/{name}", autocommit=True)
    run = conn.execute
else:
    import pymysql
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=name, autocommit=True, charset="utf8mb4")
    cur = conn.cursor()
    run = cur.execute
run("CREATE TABLE IF NOT EXISTS h (version BIGINT PRIMARY KEY, name VARCHAR(255), checksum VARCHAR(64), applied_at VARCHAR(40), body TEXT)")
order = range(n) if direction == "up" else reversed(range(n))
for i in order:
    if dialect == "postgresql":
        run("BEGIN")
    if direction == "up":
        run(f"CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT)")
        run(f"CREATE INDEX ix_t_{i}_name ON t_{i} (name{'(100)' if dialect == 'mysql' else ''})")
        run(f"INSERT INTO t_{i} (id, name, created_at) VALUES {rows}")
        run("INSERT INTO h VALUES (%s, %s, %s, %s, %s)", (20000101000000 + i, f"t{i}", "x" * 64, "2025-01-01T00:00:00Z", "body"))
    else:
        run(f"DROP TABLE t_{i}")
        run("DELETE FROM h WHERE version = %s", (20000101000000 + i,))
    if dialect == "postgresql":
        run("COMMIT")
"""


# The no-op floor: read and hash every migration file, then one history query, over the
# same driver (what a no-op apply must do at the least).
FLOOR_NOOP = r"""
import hashlib, os, sys
dialect, url, name, folder = sys.argv[1:5]
for entry in sorted(os.listdir(folder)):
    with open(os.path.join(folder, entry), "rb") as f:
        hashlib.sha256(f.read()).hexdigest()
if dialect == "postgresql":
    import psycopg
    conn = psycopg.connect(f"{url}/{name}", autocommit=True)
    conn.execute("SELECT version, name, checksum FROM migrund_history ORDER BY seq").fetchall()
else:
    import pymysql
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=name, autocommit=True)
    cur = conn.cursor()
    cur.execute("SELECT version, name, checksum FROM migrund_history ORDER BY seq")
    cur.fetchall()
"""


def admin(dialect: str):
    if dialect == "postgresql":
        import psycopg

        conn = psycopg.connect(f"{ADMIN[dialect]}/postgres", autocommit=True)
        return lambda sql: conn.execute(sql), conn
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    cur = conn.cursor()
    return lambda sql: cur.execute(sql), conn


def fresh(dialect: str) -> str:
    run, conn = admin(dialect)
    name = f"migrund_bench_{uuid.uuid4().hex[:10]}"
    run(f'CREATE DATABASE "{name}"' if dialect == "postgresql" else f"CREATE DATABASE `{name}`")
    conn.close()
    return name


def drop(dialect: str, name: str) -> None:
    run, conn = admin(dialect)
    run(f'DROP DATABASE "{name}" WITH (FORCE)' if dialect == "postgresql" else f"DROP DATABASE `{name}`")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dialect", nargs="+", default=["postgresql", "mysql"])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="migrund-bench-"))
    try:
        ws = Workspace(tmp / "ws", args.n, mysql_index=True)
        guarded = Workspace(tmp / "guarded", args.n, mysql_index=True, rollback_backup=True)
        for each in (ws, guarded):
            each.migrund("validate")  # warm the parse cache, as any earlier command on this host would
        print(f"{args.n} migrations, median of {args.repeat} runs")
        print(f"{'measure':<36}  {'migrund':>10}  {'floor':>10}  ratio")
        for dialect in args.dialect:
            applies, noops, floor_noop, rollbacks, backed, floor_up, floor_down = [], [], [], [], [], [], []
            for _ in range(args.repeat):
                name = fresh(dialect)
                try:
                    ws.env["MIGRUND_DATABASE_URL"] = guarded.env["MIGRUND_DATABASE_URL"] = f"{ADMIN[dialect]}/{name}"
                    applies.append(ws.migrund("apply", "-q"))
                    noops.append(ws.migrund("apply", "-q"))
                    floor_noop.append(timed([PY, "-c", FLOOR_NOOP, dialect, ADMIN[dialect], name, str(ws.migrations)], ws.env, ws.root))
                    rollbacks.append(ws.migrund("rollback", "--to", "0", "-q"))
                    ws.migrund("apply", "-q")
                    backed.append(guarded.migrund("rollback", "--to", "0", "-q"))
                finally:
                    drop(dialect, name)
                name = fresh(dialect)
                try:
                    floor_up.append(timed([PY, "-c", FLOOR, dialect, ADMIN[dialect], name, str(args.n), "up"], ws.env, ws.root))
                    floor_down.append(timed([PY, "-c", FLOOR, dialect, ADMIN[dialect], name, str(args.n), "down"], ws.env, ws.root))
                finally:
                    drop(dialect, name)
            for label, ours, floor in ((f"{dialect} apply", applies, floor_up), (f"{dialect} no-op apply, {args.n} applied", noops, floor_noop),
                                       (f"{dialect} rollback", rollbacks, floor_down),
                                       (f"{dialect} rollback, backup first", backed, floor_down)):
                print(f"{label:<36}  {best(ours) * 1000:>8.0f}ms  {best(floor) * 1000:>8.0f}ms  {best(ours) / best(floor):.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
