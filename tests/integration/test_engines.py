"""Engines are found through the migrund.drivers entry-point group: a third-party engine is a package."""
from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points

from migrund.engines import BUILT_IN, GROUP
from tests.helpers import REPO, clean_env

V1 = 20250101000000

ENGINE = '''
from pathlib import Path

from migrund.dburl import DatabaseURL
from migrund.drivers.sqlite import SQLiteDriver


class ThirdPartyDriver(SQLiteDriver):
    """An engine from outside migrund: SQLite underneath, its own URL scheme."""

    dialect = "thirdsql"

    @classmethod
    def connect(cls, url, *, create, schema=None):
        local = DatabaseURL("sqlite", url.raw, path=Path.cwd() / url.database)
        return super().connect(local, create=True, schema=schema)  # like a server: the database exists
'''


def test_the_built_in_table_is_what_the_package_registers():
    registered = {point.name: point.value for point in entry_points(group=GROUP)}
    assert {name: registered.get(name) for name in BUILT_IN} == BUILT_IN


def test_a_package_registering_an_engine_is_used_for_its_url_scheme(sqlite_project, tmp_path):
    site = tmp_path / "site"
    (site / "thirdsql_engine").mkdir(parents=True)
    (site / "thirdsql_engine" / "__init__.py").write_text(ENGINE)
    info = site / "thirdsql_engine-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdsql-engine\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\nthirdsql = thirdsql_engine:ThirdPartyDriver\n")
    project = sqlite_project
    project.configure("database:\n  url: thirdsql://localhost/third.db\n")
    project.write(f"{V1}_t.yaml", "up:\n  - sql: CREATE TABLE t (id INTEGER)\ndown:\n  - sql: DROP TABLE t\n")
    env = clean_env(project.state_home, PYTHONPATH=os.pathsep.join([str(site), str(REPO)]))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "migrund", *args], cwd=project.root, env=env, capture_output=True, text=True)

    applied = run("apply")
    assert applied.returncode == 0, applied.stderr
    assert (project.root / "third.db").exists(), "the engine's own connect() ran"
    status = run("status", "--json")
    assert '"current_version": 20250101000000' in status.stdout and "thirdsql://localhost/third.db" in status.stdout
    # without the package, the scheme is unknown: a config error (2) that says so
    missing = subprocess.run([sys.executable, "-m", "migrund", "status"], cwd=project.root, capture_output=True, text=True,
                             env=clean_env(project.state_home, PYTHONPATH=str(REPO)))
    assert missing.returncode == 2 and "unknown scheme" in missing.stderr
