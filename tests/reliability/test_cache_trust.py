"""The parse cache decides what SQL runs, so it is read only when it is as private as the migrations folder."""
from __future__ import annotations

import json
import os

import pytest

V1 = 20250101000000


def _poison(project) -> list:
    """Have the cache say migration V1 creates table ``pwned``; return the cache files changed."""
    poisoned = []
    for path in (project.state_home / "migrund" / "cache").rglob("*.json"):
        text = path.read_text()
        if "CREATE TABLE t1" in text:
            path.write_text(text.replace("CREATE TABLE t1", "CREATE TABLE pwned"))
            poisoned.append(path)
    assert poisoned, "the cache holds the split statements (else this test proves nothing)"
    return poisoned


@pytest.mark.parametrize("loose", ["file", "folder"])
def test_a_cache_others_could_write_is_ignored(sqlite_project, loose):
    project = sqlite_project
    project.configure()
    project.write(f"{V1}_t.yaml", "up:\n  - sql: CREATE TABLE t1 (id INTEGER)\ndown:\n  - sql: DROP TABLE t1\n")
    assert project.run("validate").code == 0  # fills the cache
    for path in _poison(project):
        os.chmod(path if loose == "file" else path.parent, 0o666 if loose == "file" else 0o777)
    result = project.run("apply")
    assert result.code == 0, result.err
    assert "t1" in project.tables() and "pwned" not in project.tables()


def test_a_private_cache_is_trusted_as_the_folder_is(sqlite_project):
    # The control: the same poisoned cache, private to this user, is used. Whoever can
    # write it could as well edit the migration files; the check above is what guards.
    project = sqlite_project
    project.configure()
    project.write(f"{V1}_t.yaml", "up:\n  - sql: CREATE TABLE t1 (id INTEGER)\ndown:\n  - sql: DROP TABLE t1\n")
    assert project.run("validate").code == 0
    _poison(project)
    assert project.run("apply").code == 0
    assert "pwned" in project.tables()


def test_a_cache_that_is_a_link_is_ignored(sqlite_project, tmp_path):
    project = sqlite_project
    project.configure()
    project.write(f"{V1}_t.yaml", "up:\n  - sql: CREATE TABLE t1 (id INTEGER)\ndown:\n  - sql: DROP TABLE t1\n")
    assert project.run("validate").code == 0
    for path in _poison(project):
        elsewhere = tmp_path / f"elsewhere-{path.name}"
        os.replace(path, elsewhere)
        os.symlink(elsewhere, path)
    assert project.run("apply").code == 0
    assert "t1" in project.tables() and "pwned" not in project.tables()
    json.loads(next((project.state_home / "migrund" / "cache").rglob("*.json")).read_text())
