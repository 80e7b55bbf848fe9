"""Test helpers: a throwaway project on disk and the real CLI as a subprocess."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from tests.servers import Database, create

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"

CONFIG = """\
database:
  url: {url}
migrations:
  path: ../migrations
lock:
  path: ../data/migrund.lock
  timeout: {timeout}
backup:
  dir: ../backups
daemon:
  status_file: ../data/status.json
{daemon}{extra}"""


@dataclass
class Result:
    """What one CLI run did."""

    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        """stdout parsed as the one JSON document it must be."""
        return json.loads(self.out)


def clean_env(state_home: Path, **extra: str) -> dict[str, str]:
    """The environment for a CLI run: no inherited MIGRUND_* variables, a private state folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRUND_") and k != "STATE_DIRECTORY"}
    env["XDG_STATE_HOME"] = str(state_home)
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


class Project:
    """A project folder: config/migrund.yaml, migrations/, and its database (SQLite by default)."""

    def __init__(self, root: Path, *, db: Optional[Database] = None, extra: str = "", timeout: float = 5, daemon: str = "") -> None:
        self.root = root
        self.migrations = root / "migrations"
        self.migrations.mkdir(parents=True, exist_ok=True)
        (root / "config").mkdir(exist_ok=True)
        self.db = db or create("sqlite", root)
        self.dialect = self.db.dialect
        self.db_path = root / "data" / "app.db"
        self.url = self.db.url
        self.state_home = root / ".state"
        self.daemon = daemon  # extra `daemon:` keys, one "  key: value" line each
        self.configure(extra, timeout=timeout)

    def configure(self, extra: str = "", *, timeout: float = 5) -> None:
        """Rewrite the config file with the keys of ``extra`` YAML merged in (a duplicate key is an error)."""
        import yaml

        base = yaml.safe_load(CONFIG.format(url=self.url, timeout=timeout, daemon=self.daemon, extra=""))
        added = yaml.safe_load(textwrap.dedent(extra)) or {}
        for key, value in added.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                base[key].update(value)
            else:
                base[key] = value
        (self.root / "config" / "migrund.yaml").write_text(yaml.safe_dump(base, sort_keys=False))

    def write(self, name: str, text: str) -> Path:
        """Write a file under migrations/ (dedented)."""
        path = self.migrations / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def table(self, version: int, name: str, table: str, *, down: bool = True, extra: str = "") -> Path:
        """A simple migration creating ``table``."""
        body = f"description: create {table}\n{extra}up:\n  - sql: CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)\n"
        if down:
            body += f"down:\n  - sql: DROP TABLE {table}\n"
        return self.write(f"{version}_{name}.yaml", body)

    def run(self, *args: str, env: Optional[dict[str, str]] = None, timeout: float = 60) -> Result:
        """Run ``python -m migrund ARGS`` in the project folder (a traceback fails the test, except with -v)."""
        proc = subprocess.run(
            [sys.executable, "-m", "migrund", *args],
            cwd=self.root,
            env=clean_env(self.state_home, **(env or {})),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        assert "-v" in args or "Traceback" not in proc.stderr, proc.stderr
        return result

    def schema(self) -> list[tuple]:
        """User tables, columns and indexes (migrund's own tables left out)."""
        return self.db.schema()

    def tables(self) -> list[str]:
        """User table names."""
        return self.db.tables()

    def snapshot(self) -> Any:
        """Every table and row, migrund's included: for "nothing changed" checks."""
        return self.db.snapshot()

    def applied(self) -> list[int]:
        """Versions in migrund_history, in application order."""
        return self.db.applied()


def second_host(project: Project, name: str) -> Project:
    """Another checkout of the same project, with its own lock file, on the same database."""
    other = Project.__new__(Project)
    other.__dict__.update(project.__dict__)
    other.root = project.root.parent / name
    other.migrations = other.root / "migrations"
    shutil.copytree(project.root / "migrations", other.root / "migrations")
    (other.root / "config").mkdir(parents=True)
    other.state_home = other.root / ".state"
    other.configure()
    return other
