"""Issue 2's workload counted in CPU instructions (valgrind's callgrind) against the same floors.

Instruction counts repeat exactly whatever else the machine is doing, so they show a
change of a few percent that wall time on a shared machine hides. They are not time:
they do not see system calls or cache misses, and valgrind's CPU has no SHA extensions
(so hashing counts far more than it costs). Needs valgrind. Usage: python bench/instructions.py [--n 1000]
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import FLOOR_APPLY, FLOOR_NOOP, PY, REPO, Workspace  # noqa: E402


def instructions(cmd: list[str], ws: Workspace) -> int:
    """Instructions executed by ``cmd`` (a Python command line) run in ``ws``."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        env=ws.env, cwd=ws.root, capture_output=True, text=True,
    )
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"{' '.join(cmd)} failed under valgrind: {proc.stderr[-500:]}")
    return int(found.group(1))


def _fresh(ws: Workspace, cmd: list[str]) -> int:
    """Instructions of ``cmd`` with the state folder emptied first (then put back warm)."""
    shutil.rmtree(ws.root / "state", ignore_errors=True)
    count = instructions(cmd, ws)
    ws.migrund("validate")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--small", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "migrund")], check=True)
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    tmp = Path(tempfile.mkdtemp(prefix="migrund-instr-", dir=base))
    try:
        big, small = Workspace(tmp / "big", args.n), Workspace(tmp / "small", args.small)
        cold = {}
        for ws in (small, big):  # a fresh state folder: nothing cached (a new container, a CI job)
            cold[ws.n] = instructions([PY, "-m", "migrund", "apply", "-q"], ws)
            ws.reset_db()
        for ws in (big, small):
            ws.migrund("validate")  # a warm validation cache, as on every run after the first
        ours = {}
        for ws in (small, big):
            ws.reset_db()
            ours[ws.n] = instructions([PY, "-m", "migrund", "apply", "-q"], ws)
        floors = {}
        for ws in (small, big):
            floors[ws.n] = instructions([PY, "-c", FLOOR_APPLY, str(ws.root / "floor.db"), str(ws.n), "up"], ws)
        steps = args.n - args.small
        fresh_noop = _fresh(big, [PY, "-m", "migrund", "apply", "-q"])
        rows = [
            (f"apply {args.n}, fresh state folder", cold[args.n], floors[args.n]),
            (f"per-migration slope ({args.small}->{args.n}), fresh state folder", (cold[args.n] - cold[args.small]) // steps,
             (floors[args.n] - floors[args.small]) // steps),
            (f"apply {args.n}", ours[args.n], floors[args.n]),
            (f"per-migration slope ({args.small}->{args.n})", (ours[args.n] - ours[args.small]) // steps,
             (floors[args.n] - floors[args.small]) // steps),
            (f"no-op apply, {args.n} applied", instructions([PY, "-m", "migrund", "apply", "-q"], big),
             instructions([PY, "-c", FLOOR_NOOP, str(big.migrations), str(big.db)], big)),
        ]
        rows.append((f"status, {args.n} applied", instructions([PY, "-m", "migrund", "status", "--json"], big), rows[-1][2]))
        rows.append((f"no-op apply, {args.n} applied, fresh state folder", fresh_noop, rows[-1][2]))
        rows.append((f"rollback of all {args.n}", instructions([PY, "-m", "migrund", "rollback", "--to", "0", "-q"], big),
                     instructions([PY, "-c", FLOOR_APPLY, str(big.root / "floor.db"), str(args.n), "down"], big)))
        rows.append(("migrund --help vs python -c 'import yaml'", instructions([PY, "-m", "migrund", "--help"], big),
                     instructions([PY, "-c", "import yaml"], big)))
        width = max(len(r[0]) for r in rows)
        print(f"{'measure':<{width}}  {'migrund':>14}  {'floor':>14}  ratio")
        for label, mine, floor in rows:
            print(f"{label:<{width}}  {mine:>14,}  {floor:>14,}  {mine / floor:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
