"""The shape of the code, guarded by tests: the import layers, and what start-up may import."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.helpers import REPO, Project, clean_env

# Libraries a command that does not need them must never pay for at start-up.
HEAVY = {"jsonschema", "jsonschema_rs", "watchdog", "apscheduler", "prometheus_client", "psycopg", "pymysql", "filelock",
         "typing", "logging", "subprocess", "ctypes", "zoneinfo", "yaml", "asyncio", "inspect", "dataclasses"}
ALLOWED = {"--help": set(), "status": {"sqlite3"}}


def test_the_import_layers_hold():
    linter = shutil.which("lint-imports", path=str(REPO / ".venv" / "bin")) or shutil.which("lint-imports")
    if linter is None:
        pytest.skip("import-linter is not installed (it is in the dev extra)")
    result = subprocess.run([linter, "--config", str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _top_level_imports(project: Project, *args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "migrund", *args], cwd=project.root,
                          env=clean_env(project.state_home), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize("command", list(ALLOWED))
def test_start_up_imports_stay_within_budget(sqlite_project, command):
    project = sqlite_project
    project.write("20250101000000_a.yaml", "up:\n  - sql: CREATE TABLE a (id INTEGER)\n")
    assert project.run("apply").code == 0
    assert project.run("status").code == 0  # a warm cache, as every run after the first on a host
    imported = _top_level_imports(project, command)
    assert "migrund" in imported
    assert not (imported & HEAVY), f"migrund {command} imports {sorted(imported & HEAVY)}"


def test_help_imports_no_command_rooms(sqlite_project):
    """--help builds every command's parser: none of them may import what its command runs (import's readers, say)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "migrund", "--help"], cwd=sqlite_project.root,
                          env=clean_env(sqlite_project.state_home), capture_output=True, text=True)
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:") and "|" in line}
    rooms = {m for m in modules if m.startswith(("migrund.adopt", "migrund.commands", "migrund.loader", "migrund.ticker", "migrund.sql"))}
    assert proc.returncode == 0 and not rooms, sorted(rooms)
