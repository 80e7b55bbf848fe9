"""Reading runs no code; hooks stay inside the migrations folder; unsafe files and lock paths are refused."""
from __future__ import annotations

import os

import pytest

from tests.helpers import Project

CANARY_HOOK = """\
import os
from pathlib import Path

Path(os.environ["MIGRUND_TEST_MARKER"]).write_text("imported")  # runs at import time


def run(conn, ctx):
    Path(os.environ["MIGRUND_TEST_MARKER"]).write_text("called")
"""


def test_status_validate_plan_and_friends_run_no_hook_code(sqlite_project, tally):
    project = sqlite_project
    canary = project.root / "canary"
    env = {"MIGRUND_TEST_MARKER": str(canary)}
    project.write("hooks/canary.py", CANARY_HOOK)
    project.write("20250101000000_hooked.yaml", "up:\n  - python: hooks/canary.py:run\ndown:\n  - python: hooks/canary.py:run\n")
    project.write("20250102000000_module.py", f"import os\nopen({str(canary)!r}, 'w').write('module')\n\ndef up(conn, ctx):\n    pass\n")
    for command in (["status"], ["validate"], ["plan"], ["apply", "--dry-run"], ["verify"], ["history"], ["check-safety", "20250101000000"]):
        result = project.run(*command, env=env)
        assert result.code in (0, 2), (command, result.err)
        assert not canary.exists(), f"`{' '.join(command)}` ran user code"
        tally["fuzzed"] += 1
    assert project.run("apply", "--to", "20250101000000", env=env).code == 0
    assert canary.read_text() == "called", "the canary works: applying does run the hook"


@pytest.mark.parametrize("hook", ["../outside.py:run", "/tmp/outside.py:run", "hooks/../../outside.py:run", "hooks/link.py:run"])
def test_hooks_leading_out_are_refused_before_any_import(sqlite_project, tmp_path, hook):
    project = sqlite_project
    canary = project.root / "canary"
    outside = project.root / "outside.py"
    outside.write_text(CANARY_HOOK)
    (project.migrations / "hooks").mkdir(exist_ok=True)
    os.symlink(outside, project.migrations / "hooks" / "link.py")
    project.write("20250101000000_escape.yaml", f"up:\n  - python: {hook}\n")
    for command in ("apply", "status", "validate", "plan"):
        result = project.run(command, env={"MIGRUND_TEST_MARKER": str(canary)})
        assert result.code == 2 and "20250101000000_escape.yaml" in result.err, result.err
    assert not canary.exists()
    assert not project.db.touched()


@pytest.mark.skipif(os.geteuid() != 0, reason="strict_permissions applies only when running as root")
@pytest.mark.parametrize("how", ["world-writable", "group-writable", "foreign-owner"])
@pytest.mark.parametrize("target", ["config", "folder", "file"])
def test_strict_permissions_as_root(sqlite_project, how, target):
    project = sqlite_project
    project.table(20250101000000, "a", "t1")
    path = {
        "config": project.root / "config" / "migrund.yaml",
        "folder": project.migrations,
        "file": project.migrations / "20250101000000_a.yaml",
    }[target]
    if how == "foreign-owner":
        os.chown(path, 65534, 65534)
    else:
        path.chmod(path.stat().st_mode | (0o002 if how == "world-writable" else 0o020))
    result = project.run("apply")
    assert result.code == 4 and path.name in result.err and "safety.strict_permissions" in result.err, result.err
    assert not project.db.touched()


def test_a_lock_path_that_is_a_symlink_is_refused(sqlite_project, tmp_path):
    project = sqlite_project
    project.table(20250101000000, "a", "t1")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (project.root / "data").mkdir(exist_ok=True)
    os.symlink(victim, project.root / "data" / "migrund.lock")
    result = project.run("apply")
    assert result.code == 4 and "symbolic link" in result.err, result.err
    assert victim.read_text() == "precious\n"
    assert project.applied() == []


def test_yaml_cannot_reach_python_anywhere(tmp_path):
    project = Project(tmp_path / "proj")
    (project.root / "config" / "migrund.yaml").write_text("database:\n  url: !!python/object/apply:os.system ['touch CANARY']\n")
    result = project.run("status")
    assert result.code == 2 and "migrund.yaml" in result.err
    assert not (project.root / "CANARY").exists()
