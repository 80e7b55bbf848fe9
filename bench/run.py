"""Speed of migrund against floors measured in the same run (issue 2's workload).

Every figure is a ratio to a floor that runs the same work with plain sqlite3 in one
Python process; databases live on a tmpfs (/dev/shm) so the figures measure migrund,
not the disk. Each ratio is given twice: of the medians, and of the fastest runs (noise
from other work on the machine only ever adds time, so the fastest run of each side is
the steadiest estimate of its own cost). Usage: python bench/run.py [--n 1000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable

MIGRATION = """\
description: table {i}
up:
  - sql: |
      CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);
      CREATE INDEX ix_t_{i}_name ON t_{i} (name{prefix});
      INSERT INTO t_{i} (id, name, created_at) VALUES {rows};
down:
  - sql: DROP TABLE t_{i}
"""
ROWS = ", ".join(f"({r}, 'name {r}', '2025-01-01T00:00:{r:02d}Z')" for r in range(10))

FLOOR_APPLY = r"""
import sqlite3, sys, time, json
db, n, direction = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("CREATE TABLE IF NOT EXISTS h (version INTEGER PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, ms INTEGER, body TEXT)")
rows = ", ".join(f"({r}, 'name {r}', '2025-01-01T00:00:{r:02d}Z')" for r in range(10))
order = range(n) if direction == "up" else reversed(range(n))
for i in order:
    conn.execute("BEGIN")
    if direction == "up":
        conn.execute(f"CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT)")
        conn.execute(f"CREATE INDEX ix_t_{i}_name ON t_{i} (name)")
        conn.execute(f"INSERT INTO t_{i} (id, name, created_at) VALUES {rows}")
        conn.execute("INSERT INTO h VALUES (?, ?, ?, ?, ?, ?)", (20000101000000 + i, f"t{i}", "x" * 64, "2025-01-01T00:00:00Z", 1, "body"))
    else:
        conn.execute(f"DROP TABLE t_{i}")
        conn.execute("DELETE FROM h WHERE version = ?", (20000101000000 + i,))
    conn.execute("COMMIT")
"""

FLOOR_NOOP = r"""
import hashlib, os, sqlite3, sys
folder, db = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(folder)):
    with open(os.path.join(folder, name), "rb") as f:
        hashlib.sha256(f.read()).hexdigest()
conn = sqlite3.connect(db)
conn.execute("SELECT version, name, checksum FROM migrund_history ORDER BY seq").fetchall()
"""


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
    return elapsed


def best(samples: list[float]) -> float:
    """The median: robust against a noisy neighbour on a 2-core machine."""
    return statistics.median(samples)


class Workspace:
    """A project with N migrations on tmpfs."""

    def __init__(self, root: Path, n: int, *, mysql_index: bool = False, rollback_backup: bool = False) -> None:
        self.root = root
        self.n = n
        self.migrations = root / "migrations"
        self.migrations.mkdir(parents=True)
        (root / "config").mkdir()
        (root / "config" / "migrund.yaml").write_text(
            "database:\n  url: sqlite:///../data/app.db\nmigrations:\n  path: ../migrations\n"
            f"lock:\n  path: ../data/migrund.lock\nbackup:\n  before_rollback: {'true' if rollback_backup else 'false'}\n"
            "daemon:\n  status_file: ../data/status.json\n"
        )
        for i in range(n):
            # MySQL indexes a TEXT column only by a prefix; the same workload there needs one.
            text = MIGRATION.format(i=i, rows=ROWS, prefix="(100)" if mysql_index else "")
            (self.migrations / f"{20000101000000 + i}_t{i}.yaml").write_text(text)
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env.update(XDG_STATE_HOME=str(root / "state"), PYTHONPATH=str(REPO))
        self.db = root / "data" / "app.db"

    def migrund(self, *args: str) -> float:
        return timed([PY, "-m", "migrund", *args], self.env, self.root)

    def reset_db(self) -> None:
        shutil.rmtree(self.root / "data", ignore_errors=True)

    def floor_apply(self, direction: str, db: Path) -> float:
        return timed([PY, "-c", FLOOR_APPLY, str(db), str(self.n), direction], self.env, self.root)


def peak_rss(cmd: list[str], ws: Workspace) -> int:
    """The largest resident set of ``cmd`` (bytes), from the kernel's account of that one child."""
    proc = subprocess.Popen(cmd, env=ws.env, cwd=ws.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode})")
    return usage.ru_maxrss * 1024  # Linux reports kilobytes


def memory(big: Workspace, small: Workspace) -> None:
    """Peak memory of each path at both sizes, and what each migration adds."""
    runs = {
        "apply, cold validation cache": lambda ws: (ws.reset_db(), shutil.rmtree(ws.root / "state", ignore_errors=True)),
        "apply, warm validation cache": lambda ws: ws.reset_db(),
        "status": lambda ws: None,
        "rollback of all": lambda ws: None,
    }
    args = {"status": ["status", "--json"], "rollback of all": ["rollback", "--to", "0", "-q"]}
    print(f"\n{'peak memory (RSS)':<30}  {f'at {small.n}':>10}  {f'at {big.n}':>10}  {'per migration':>14}")
    for label, prepare in runs.items():
        sizes = []
        for ws in (small, big):
            prepare(ws)
            sizes.append(peak_rss([PY, "-m", "migrund", *args.get(label, ["apply", "-q"])], ws))
        per = (sizes[1] - sizes[0]) / (big.n - small.n)
        print(f"{label:<30}  {sizes[0] / 1e6:>8.1f}MB  {sizes[1] / 1e6:>8.1f}MB  {per / 1e3:>11.1f} KB")


def measure_apply(ws: Workspace, repeat: int, warm: bool) -> tuple[list[float], list[float]]:
    ours, floor = [], []
    for _ in range(repeat):
        ws.reset_db()
        if not warm:
            shutil.rmtree(ws.root / "state", ignore_errors=True)
        ours.append(ws.migrund("apply", "-q"))
        floor_db = ws.root / "floor.db"
        floor_db.unlink(missing_ok=True)
        floor.append(ws.floor_apply("up", floor_db))
    return ours, floor


class Row:
    """One measure: migrund's and the floor's run times (or per-migration slopes) by estimator."""

    def __init__(self, label: str, ours: list[float], floor: list[float]) -> None:
        self.label = label
        self.median = (best(ours), best(floor))
        self.fastest = (min(ours), min(floor))

    @classmethod
    def slope(cls, label: str, big: "Row", small: "Row", steps: int) -> "Row":
        """The per-migration cost between two sizes, for each estimator."""
        row = cls.__new__(cls)
        row.label = label
        row.median = tuple((b - s) / steps for b, s in zip(big.median, small.median))
        row.fastest = tuple((b - s) / steps for b, s in zip(big.fastest, small.fastest))
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    # Installed packages carry compiled bytecode; measure migrund the same way.
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "migrund")], check=True)
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    tmp = Path(tempfile.mkdtemp(prefix="migrund-bench-", dir=base))
    try:
        big = Workspace(tmp / "big", args.n)
        small = Workspace(tmp / "small", args.small)
        print(f"python {sys.version.split()[0]}, databases under {base}, medians of {args.repeat} runs, interleaved")
        print()
        rows = []
        for label, warm in (("cold validation cache", False), ("warm validation cache", True)):
            if warm:
                big.migrund("validate")
                small.migrund("validate")
            at_n = Row(f"apply {args.n}, {label}", *measure_apply(big, args.repeat, warm))
            at_small = Row("", *measure_apply(small, args.repeat, warm))
            rows.append(at_n)
            rows.append(Row.slope(f"per-migration slope ({args.small}->{args.n}), {label}", at_n, at_small, args.n - args.small))
        # big now holds N applied migrations
        noop, status, floor_noop, fresh_noop, fresh_status = [], [], [], [], []
        for _ in range(args.repeat):
            noop.append(big.migrund("apply", "-q"))
            status.append(big.migrund("status", "--json"))
            floor_noop.append(timed([PY, "-c", FLOOR_NOOP, str(big.migrations), str(big.db)], big.env, big.root))
            # A fresh state folder (a new container, a CI job): nothing cached, the config checked again.
            shutil.rmtree(big.root / "state", ignore_errors=True)
            fresh_noop.append(big.migrund("apply", "-q"))
            shutil.rmtree(big.root / "state", ignore_errors=True)
            fresh_status.append(big.migrund("status", "--json"))
        rows.append(Row(f"no-op apply, {args.n} applied", noop, floor_noop))
        rows.append(Row(f"status, {args.n} applied", status, floor_noop))
        rows.append(Row(f"no-op apply, {args.n} applied, fresh state folder", fresh_noop, floor_noop))
        rows.append(Row(f"status, {args.n} applied, fresh state folder", fresh_status, floor_noop))
        backs, floors = [], []
        for _ in range(args.repeat):
            big.reset_db()
            big.migrund("apply", "-q")
            backs.append(big.migrund("rollback", "--to", "0", "-q"))
            floor_db = big.root / "floor.db"
            floor_db.unlink(missing_ok=True)
            big.floor_apply("up", floor_db)
            floors.append(big.floor_apply("down", floor_db))
        rows.append(Row(f"rollback of all {args.n}", backs, floors))
        helps, yaml_only = [], []
        for _ in range(args.repeat * 2):
            helps.append(timed([PY, "-m", "migrund", "--help"], big.env, big.root))
            yaml_only.append(timed([PY, "-c", "import yaml"], big.env, big.root))
        rows.append(Row("migrund --help vs python -c 'import yaml'", helps, yaml_only))
        width = max(len(r.label) for r in rows)
        print(f"{'measure':<{width}}  {'migrund':>10}  {'floor':>10}  ratio  {'fastest runs':>12}")
        for row in rows:
            (ours, floor), (ours_min, floor_min) = row.median, row.fastest
            print(
                f"{row.label:<{width}}  {ours * 1000:>8.2f}ms  {floor * 1000:>8.2f}ms  {ours / floor:.2f}x"
                f"  {ours_min / floor_min:>11.2f}x"
            )
        memory(big, small)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
