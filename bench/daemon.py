"""The daemon's responsiveness and footprint (issue 5).

- Latency from a pushed migration file to its migration applied, over N pushes, against
  the debounce setting as the floor (the daemon is asked to wait that long on purpose).
- CPU of an idle daemon over a window, as a share of one core.
- Memory (RSS) of the idle daemon, with every component loaded (watcher, HTTP endpoint,
  metrics, backup schedule), with ``--applied`` migrations applied before it starts.
- A ``git pull`` of ``--pull`` new files at once (renamed in one after another as git
  does): the time until the last is applied and how many passes it took, against plain
  sqlite3 running the same SQL plus the debounce.

The project lives on a tmpfs (/dev/shm) so the figures measure migrund, not the disk.
Usage: python bench/daemon.py [--pushes 20] [--debounce 1.0] [--idle 60] [--applied 0] [--pull 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CONFIG = """\
database:
  url: sqlite:///../data/app.db
migrations:
  path: ../migrations
lock:
  path: ../data/migrund.lock
backup:
  dir: ../backups
  schedule: "0 3 * * *"
daemon:
  debounce_seconds: {debounce}
  rescan_seconds: 60
  status_file: ../data/status.json
  http: 127.0.0.1:{port}
"""

MIGRATION = "up:\n  - sql: CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, name TEXT)\ndown:\n  - sql: DROP TABLE t_{i}\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(root: Path) -> dict:
    try:
        return json.loads((root / "data" / "status.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}


def wait_for(predicate, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        time.sleep(0.002)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


FLOOR = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("CREATE TABLE IF NOT EXISTS h (version INTEGER PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, body TEXT)")
for i in range(int(sys.argv[2])):
    conn.execute("BEGIN")
    conn.execute(f"CREATE TABLE t_p{i} (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO h VALUES (?, ?, ?, ?, ?)", (i, f"p{i}", "x" * 64, "2025-01-01T00:00:00Z", "body"))
    conn.execute("COMMIT")
"""


def _pull(root: Path, count: int, pid: int) -> tuple[float, int, float]:
    """Bring ``count`` files in one after another, as a checkout does; time to all applied, passes taken, the floor."""
    staging = root / "pulled"
    staging.mkdir()
    first = 20260101000000
    for i in range(count):
        (staging / f"{first + i}_p{i}.yaml").write_text(MIGRATION.format(i=f"p{i}"))
    # The floor starts from the same database: SQLite's cost of a CREATE TABLE grows with the schema.
    with sqlite3.connect(root / "data" / "app.db") as source, sqlite3.connect(root / "floor.db") as copy:
        source.backup(copy)
    passes_before = (root / "daemon.log").read_text().count("reconcile (")
    started = time.monotonic()
    for path in sorted(staging.iterdir()):
        os.rename(path, root / "migrations" / path.name)
    wait_for(lambda: status(root).get("current_version") == first + count - 1 and status(root).get("state") == "idle", timeout=600)
    took = time.monotonic() - started
    time.sleep(0.5)
    passes = (root / "daemon.log").read_text().count("reconcile (") - passes_before
    floor_started = time.monotonic()
    subprocess.run([sys.executable, "-c", FLOOR, str(root / "floor.db"), str(count)], check=True)
    return took, passes, time.monotonic() - floor_started


def _flips(root: Path, env: dict) -> tuple[int, int, int]:
    """Edit the target ten times within a second, back and forth; passes, rollbacks and applies it cost."""
    config = root / "config" / "migrund.yaml"
    base = config.read_text()
    latest = status(root)["current_version"]

    def count(*args: str) -> int:
        out = subprocess.run([sys.executable, "-m", "migrund", "--config", str(config), "history", "--json", *args],
                             cwd=root, env=env, capture_output=True, text=True, check=True).stdout
        return len(json.loads(out))

    rollbacks, applied = count("--rollbacks"), count()
    passes_before = (root / "daemon.log").read_text().count("reconcile (")
    for k in range(10):
        target = latest - 1 if k % 2 else "latest"
        (root / "config" / ".next.yaml").write_text(base + f"target: {target}\n")
        os.rename(root / "config" / ".next.yaml", config)
        time.sleep(0.09)
    wait_for(lambda: status(root).get("current_version") == latest - 1 and status(root).get("state") == "idle", timeout=120)
    time.sleep(1.5)
    passes = (root / "daemon.log").read_text().count("reconcile (") - passes_before
    done_rollbacks = count("--rollbacks") - rollbacks
    return passes, done_rollbacks, count() - (applied - done_rollbacks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--debounce", type=float, default=1.0)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--applied", type=int, default=0, help="migrations applied before the daemon starts")
    parser.add_argument("--pull", type=int, default=1000, help="files brought in at once (0: none)")
    args = parser.parse_args()

    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        root = Path(tmp)
        for folder in ("config", "migrations", "data"):
            (root / folder).mkdir()
        (root / "config" / "migrund.yaml").write_text(CONFIG.format(debounce=args.debounce, port=free_port()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRUND_")}
        env.update(XDG_STATE_HOME=str(root / "state"), PYTHONPATH=str(REPO))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "migrund")], check=True)
        for i in range(args.applied):
            (root / "migrations" / f"{20000101000000 + i}_a{i}.yaml").write_text(MIGRATION.format(i=f"a{i}"))
        if args.applied:
            subprocess.run([sys.executable, "-m", "migrund", "--config", "config/migrund.yaml", "-q", "apply"], cwd=root, env=env, check=True)
        log = open(root / "daemon.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "migrund", "--config", "config/migrund.yaml", "daemon"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: status(root).get("state") == "idle")
            latencies = []
            for i in range(1, args.pushes + 1):
                version = 20250101000000 + i
                target = root / "migrations" / f"{version}_t{i}.yaml"
                tmp_file = root / "migrations" / f".{version}.tmp"
                tmp_file.write_text(MIGRATION.format(i=i))
                pushed = time.monotonic()
                os.rename(tmp_file, target)  # how git and editors publish a file
                wait_for(lambda: status(root).get("current_version") == version)
                latencies.append(time.monotonic() - pushed)
                time.sleep(0.2)
            wait_for(lambda: status(root).get("state") == "idle")
            time.sleep(2)
            rss_before = rss_mb(proc.pid)
            cpu_start, wall_start = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.idle)
            cpu = (cpu_seconds(proc.pid) - cpu_start) / (time.monotonic() - wall_start)
            rss = max(rss_before, rss_mb(proc.pid))
            pull = _pull(root, args.pull, proc.pid) if args.pull else None
            flips = _flips(root, env) if args.pull else None
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
            log.close()

    median, worst = statistics.median(latencies), max(latencies)
    print(f"push -> applied, {args.pushes} pushes, debounce {args.debounce:g} s (the floor):")
    print(f"  median {median:.3f} s (debounce + {median - args.debounce:.3f} s), worst {worst:.3f} s (debounce + {worst - args.debounce:.3f} s); target: debounce + 0.3 s")
    print(f"idle CPU over {args.idle:g} s: {cpu * 100:.3f} % of one core (target: under 1 %)")
    print(f"idle RSS with {args.applied} applied: {rss:.1f} MB (targets: under 60 MB; under 40 MB with 10,000 applied)")
    if pull is not None:
        took, passes, floor = pull
        print(f"pull of {args.pull} files -> all applied: {took:.2f} s in {passes} pass(es); floor (plain sqlite3, same SQL) {floor:.2f} s"
              f" + debounce {args.debounce:g} s: {took / (floor + args.debounce):.2f}x; after the debounce,"
              f" {(took - args.debounce) / floor:.2f}x the floor (target: the cold-apply ratio)")
    if flips is not None:
        passes, rollbacks, applies = flips
        print(f"target edited 10 times within a second, back and forth, ending one below latest: {passes} pass(es),"
              f" {rollbacks} rollback(s) and {applies} apply(ies) in all (no extra work: 1 rollback, 0 applies)")
    print(f"exit code after SIGTERM: {code}")


if __name__ == "__main__":
    main()
