"""Backup and restore at several sizes against the engines' own tools as the floor.

SQLite: migrund's native backup and restore against sqlite3's backup API called directly;
PostgreSQL: against pg_dump -Fc and pg_restore run directly; MariaDB: against mariadb-dump
and the mariadb client. Restores go into an empty database (a restore over an existing
one also takes the before_restore backup, which the floor does not). Sizes are of the
table's data (about 25,000 rows a MB), so fixed costs (small sizes) and per-byte costs
(large ones) show apart; MB/s is of that size. The JSON format's throughput is printed
beside (smaller sizes only: it is not the fast path).
Usage: python bench/backups.py [--sizes 1,100,1000] [--skip-postgresql] [--skip-mysql]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
PG = "postgresql://postgres@127.0.0.1:5432"


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr}")
    return time.perf_counter() - start


def project(root: Path, url: str) -> dict[str, str]:
    (root / "config").mkdir(parents=True)
    (root / "migrations").mkdir()
    (root / "config" / "migrund.yaml").write_text(
        f"database:\n  url: {url}\nmigrations:\n  path: ../migrations\nlock:\n  path: ../migrund.lock\n"
        "backup:\n  dir: ../backups\n  keep: 0\ndaemon:\n  status_file: ../status.json\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(XDG_STATE_HOME=str(root / "state"), PYTHONPATH=str(REPO))
    return env


def fill_sqlite(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, payload BLOB)")
    conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", ((i, f"item {i}", i * 0.25, os.urandom(16)) for i in range(rows)))
    conn.commit()
    conn.close()


ROWS_PER_MB = 25_000
MY = ["mariadb", "-h", "127.0.0.1", "-u", "root"]


def line(label: str, ours: float, floor: float, mb: float) -> None:
    print(f"{mb:>6.0f} MB  {label:<28} {ours * 1000:>9.0f}ms {floor * 1000:>9.0f}ms  {ours / floor:.2f}x"
          f"  {mb / ours:>7.1f} MB/s {mb / floor:>7.1f} MB/s")


def bench_sqlite(tmp: Path, rows: int) -> None:
    mb = rows / ROWS_PER_MB
    root = tmp / "sqlite"
    env = project(root, "sqlite:///../data/app.db")
    (root / "data").mkdir()
    fill_sqlite(root / "data" / "app.db", rows)
    copy = "import sqlite3,sys; s=sqlite3.connect(sys.argv[1]); d=sqlite3.connect(sys.argv[2]); s.backup(d); d.close()"
    floor_backup = timed([PY, "-c", copy, str(root / "data" / "app.db"), str(tmp / "floor.sqlite3")], env, root)
    ours_backup = timed([PY, "-m", "migrund", "backup", "--output", str(tmp / "ours.sqlite3")], env, root)
    shutil.move(root / "data" / "app.db", tmp / "original.db")
    floor_restore = timed([PY, "-c", copy, str(tmp / "floor.sqlite3"), str(tmp / "restored.db")], env, root)
    ours_restore = timed([PY, "-m", "migrund", "restore", str(tmp / "ours.sqlite3"), "--force"], env, root)
    shutil.move(tmp / "original.db", root / "data" / "app.db")
    line("sqlite native backup", ours_backup, floor_backup, mb)
    line("sqlite native restore", ours_restore, floor_restore, mb)
    if mb <= 100:
        json_backup = timed([PY, "-m", "migrund", "backup", "--format", "json", "--output", str(tmp / "ours.json.gz")], env, root)
        (root / "data" / "app.db").unlink()
        json_restore = timed([PY, "-m", "migrund", "restore", str(tmp / "ours.json.gz"), "--force"], env, root)
        print(f"{mb:>6.0f} MB  {'sqlite json backup':<28} {json_backup * 1000:>9.0f}ms  {rows / json_backup:,.0f} rows/s")
        print(f"{mb:>6.0f} MB  {'sqlite json restore':<28} {json_restore * 1000:>9.0f}ms  {rows / json_restore:,.0f} rows/s")
    shutil.rmtree(root)
    for name in ("floor.sqlite3", "ours.sqlite3", "restored.db", "ours.json.gz"):
        (tmp / name).unlink(missing_ok=True)


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", f"{PG}/{db}", "-c", sql], check=True, capture_output=True)


def mariadb(sql: str, db: str = "") -> None:
    subprocess.run([*MY, *([db] if db else []), "-e", sql], check=True, capture_output=True)


# Per server: how to run SQL, quote a database name, fill the table, the URL, the floor's
# backup and restore commands (the engine's own tools, given the dump path and databases),
# and migrund's native backup file name.
SERVERS = {
    "postgresql": dict(
        run=psql, quote='"{}"', drop=' WITH (FORCE)', url=PG + "/{}", ext="pgdump",
        fill="CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price DOUBLE PRECISION, payload BYTEA);"
             "INSERT INTO items SELECT i, 'item ' || i, i * 0.25, decode(md5(i::text), 'hex') FROM generate_series(0, {last}) i",
        backup="pg_dump -Fc -f {dump} -d " + PG + "/{source}",
        restore="pg_restore --no-owner -d " + PG + "/{target} {dump}",
    ),
    "mariadb": dict(
        run=mariadb, quote="`{}`", drop="", url="mysql://root@127.0.0.1:3306/{}", ext="sql",
        fill="CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL, price DOUBLE, payload VARBINARY(16));"
             "INSERT INTO items SELECT seq, CONCAT('item ', seq), seq * 0.25, UNHEX(MD5(seq)) FROM seq_0_to_{last}",
        backup="mariadb-dump -h 127.0.0.1 -u root --single-transaction {source} > {dump}",
        restore="mariadb -h 127.0.0.1 -u root {target} < {dump}",
    ),
}


def bench_server(tmp: Path, rows: int, engine: str) -> None:
    spec: dict = SERVERS[engine]
    source, target, floor_target = (f"migrund_bench_{uuid.uuid4().hex[:8]}" for _ in range(3))
    for name in (source, target, floor_target):
        spec["run"](f"CREATE DATABASE {spec['quote'].format(name)}")
    try:
        spec["run"](spec["fill"].format(last=rows - 1), source)
        root = tmp / engine
        env = project(root, spec["url"].format(source))
        dump, ours = tmp / "floor.dump", tmp / f"ours.{spec['ext']}"
        floor_backup = timed(["sh", "-c", spec["backup"].format(dump=dump, source=source)], env, root)
        ours_backup = timed([PY, "-m", "migrund", "backup", "--output", str(ours)], env, root)
        floor_restore = timed(["sh", "-c", spec["restore"].format(dump=dump, target=floor_target)], env, root)
        env["MIGRUND_DATABASE_URL"] = spec["url"].format(target)
        ours_restore = timed([PY, "-m", "migrund", "restore", str(ours), "--force"], env, root)
        line(f"{engine} native backup", ours_backup, floor_backup, rows / ROWS_PER_MB)
        line(f"{engine} native restore", ours_restore, floor_restore, rows / ROWS_PER_MB)
    finally:
        for name in (source, target, floor_target):
            spec["run"](f"DROP DATABASE IF EXISTS {spec['quote'].format(name)}{spec['drop']}")
        shutil.rmtree(tmp / engine, ignore_errors=True)
        for leftover in ("floor.dump", f"ours.{spec['ext']}"):
            (tmp / leftover).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,100,1000", help="MB of table data, comma-separated")
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--skip-mysql", action="store_true")
    args = parser.parse_args()
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    tmp = Path(tempfile.mkdtemp(prefix="migrund-bench-", dir=base))
    try:
        print(f"{'size':>9}  {'measure':<28} {'migrund':>11} {'floor':>11}  ratio  {'migrund':>12} {'floor':>12}")
        for mb in (float(s) for s in args.sizes.split(",")):
            rows = int(mb * ROWS_PER_MB)
            bench_sqlite(tmp, rows)
            if not args.skip_postgresql:
                bench_server(tmp, rows, "postgresql")
            if not args.skip_mysql:
                bench_server(tmp, rows, "mariadb")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
