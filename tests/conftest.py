"""Shared fixtures."""
from __future__ import annotations

import re

import pytest

from tests import servers
from tests.helpers import Project


# Modules that run many processes, kill -9 trials or long waits: the full run only (`make test`).
SLOW = {"test_crashes", "test_races", "test_db_faults", "test_fuzz_places", "test_daemon", "test_concurrency", "test_corpus",
        "test_hostile_input", "test_wait", "test_drafts", "test_progress", "test_backups", "test_ticker"}


def pytest_collection_modifyitems(items):
    """Mark what needs a database server (``server``) and what is slow (``slow``), for `make test-fast`."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        dialect = callspec.params.get("dialect") if callspec is not None else None
        if dialect in ("postgresql", "mysql") or (dialect is None and re.search(r"postgresql|mysql|mariadb", item.name)):
            item.add_marker(pytest.mark.server)
        if item.module.__name__.rpartition(".")[2] in SLOW:
            item.add_marker(pytest.mark.slow)


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
