"""Shared fixtures."""
from __future__ import annotations

import pytest

from tests import servers
from tests.helpers import Project


@pytest.fixture(params=servers.DIALECTS)
def dialect(request):
    """Each dialect in turn."""
    return request.param


@pytest.fixture
def project(tmp_path, dialect):
    """An empty project on a throwaway database of each dialect."""
    root = tmp_path / "proj"
    db = servers.create(dialect, root)
    yield Project(root, db=db)
    servers.drop(db)


@pytest.fixture
def sqlite_project(tmp_path):
    """An empty SQLite project (for what only SQLite has: files, paths)."""
    return Project(tmp_path / "proj")


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    """In-process tests get their own state folder and no inherited MIGRUND_* variables."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    for name in ("MIGRUND_CONFIG", "MIGRUND_DATABASE_URL", "MIGRUND_TARGET"):
        monkeypatch.delenv(name, raising=False)
