"""Bad input: exit 2, one clear message naming the culprit, no traceback, database unchanged."""
from __future__ import annotations

import os

import pytest

from tests.helpers import Project

GOOD = "up:\n  - sql: CREATE TABLE good (id INTEGER)\ndown:\n  - sql: DROP TABLE good\n"

# (file name, content, words the message must contain)
BAD_FILES = [
    ("20250102000000_unknown_key.yaml", "up:\n  - sql: SELECT 1\ncolour: blue\n", ["20250102000000_unknown_key.yaml", "colour", "unknown key", "line 3"]),
    ("20250102000000_wrong_type.yaml", "risky: maybe\nup:\n  - sql: SELECT 1\n", ["wrong_type.yaml", "risky", "boolean", "line 1"]),
    ("20250102000000_empty_up.yaml", "up: []\n", ["empty_up.yaml", "up", "at least one step"]),
    ("20250102000000_no_up.yaml", "description: nothing\n", ["no_up.yaml", "'up' is a required property"]),
    ("20250102000000_blank_sql.yaml", "up:\n  - sql: '  '\n", ["blank_sql.yaml", "up[0].sql"]),
    ("20250102000000_empty_down.yaml", "up:\n  - sql: SELECT 1\ndown: []\n", ["empty_down.yaml", "down"]),
    ("20250102000000_bad_yaml.yaml", "up:\n  - sql: [unclosed\n", ["bad_yaml.yaml", "invalid YAML", "line"]),
    ("20250102000000_not_mapping.yaml", "- up\n- down\n", ["not_mapping.yaml", "mapping"]),
    ("20250102000000_two_docs.yaml", "up:\n  - sql: SELECT 1\n---\nup:\n  - sql: SELECT 2\n", ["two_docs.yaml", "one YAML document"]),
    ("20250102000000_python_tag.yaml", "up:\n  - sql: !!python/object/apply:os.system ['touch CANARY']\n", ["python_tag.yaml", "invalid YAML"]),
    ("20250102000000_two_keys.yaml", "up:\n  - sql: SELECT 1\n    python: hooks/h.py:f\n", ["two_keys.yaml", "exactly one"]),
    ("20250102000000_missing_dep.yaml", "dependencies: [20240101000000]\nup:\n  - sql: SELECT 1\n", ["missing_dep.yaml", "20250102000000", "20240101000000"]),
    ("20250102000000_higher_dep.yaml", "dependencies: [20250103000000]\nup:\n  - sql: SELECT 1\n", ["higher_dep.yaml", "20250103000000", "not lower"]),
    ("20250102000000_hook_escape.yaml", "up:\n  - python: ../outside.py:run\n", ["hook_escape.yaml", "'..'", "up[0].python"]),
    ("20250102000000_hook_absolute.yaml", "up:\n  - python: /etc/outside.py:run\n", ["hook_absolute.yaml", "relative"]),
    ("20250102000000_hook_missing.yaml", "up:\n  - python: hooks/nope.py:run\n", ["hook_missing.yaml", "does not exist"]),
    ("20250102000000_hook_no_function.yaml", "up:\n  - python: hooks/real.py:absent\n", ["hook_no_function.yaml", "absent"]),
    ("20250102000000_no_dialect.yaml", "up:\n  - sql:\n      postgresql: SELECT 1\n      mysql: SELECT 1\n", ["no_dialect.yaml", "sqlite", "up[0].sql", "line 2"]),
    ("20250102000000_unknown_dialect.yaml", "up:\n  - sql:\n      oracle: SELECT 1\n", ["unknown_dialect.yaml", "up[0].sql"]),
    ("20250102000000_version_mismatch.yaml", "version: 20250102000001\nup:\n  - sql: SELECT 1\n", ["version_mismatch.yaml", "20250102000001"]),
    ("20250102000000.yaml", GOOD, ["20250102000000.yaml", "bad version"]),
    ("20250102000000_bad_date.yaml", "description: 2025-00-01\nup:\n  - sql: SELECT 1\n", ["bad_date.yaml", "line 1", "cannot be read as a timestamp"]),
    ("20250102-000000_dashed.yaml", GOOD, ["20250102-000000_dashed.yaml", "bad version"]),
    ("99999999999999999999_too_big.yaml", GOOD, ["99999999999999999999_too_big.yaml", "bad version"]),
    ("9223372036854775808_above_bigint.yaml", GOOD, ["9223372036854775808_above_bigint.yaml", "above the largest"]),
    ("20250102000000_py_syntax.py", "def up(conn, ctx)\n    pass\n", ["py_syntax.py", "syntax error", "line 1"]),
    ("20250102000000_py_no_up.py", "def down(conn, ctx):\n    pass\n", ["py_no_up.py", "up(conn, ctx)"]),
    ("20250102000000_py_not_literal.py", "import os\nRISKY = os.name == 'x'\ndef up(conn, ctx):\n    pass\n", ["py_not_literal.py", "RISKY", "line 2", "literal"]),
    ("20250102000000_py_wrong_type.py", "DEPENDENCIES = 'abc'\ndef up(conn, ctx):\n    pass\n", ["py_wrong_type.py", "DEPENDENCIES"]),
    ("20250102000000_latin1.yaml", None, ["latin1.yaml", "UTF-8"]),
    ("20250102000000_alias_bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nup:\n  - sql: SELECT 1\n", ["alias_bomb.yaml", "alias bomb"]),
]


def _prepared(project: Project) -> None:
    project.write("20250101000000_good.yaml", GOOD)
    project.write("hooks/real.py", "def present(conn, ctx):\n    pass\n")
    (project.root / "outside.py").write_text("def run(conn, ctx):\n    open('CANARY', 'w').close()\n")


@pytest.mark.parametrize("name,content,words", BAD_FILES, ids=[b[0][15:] for b in BAD_FILES])
def test_bad_migration_file(sqlite_project, name, content, words):
    project = sqlite_project
    _prepared(project)
    assert project.run("apply", "--to", "20250101000000").code == 0
    before = project.snapshot()
    path = project.migrations / name
    if content is None:
        path.write_bytes("up:\n  - sql: SELECT 'caf\xe9'\n".encode("latin-1"))
    else:
        path.write_text(content)
    for command in (["apply"], ["validate"], ["status"], ["plan"], ["reconcile"], ["rollback"]):
        result = project.run(*command, "--json")
        assert result.code == 2, (command, result.err)
        assert result.json["error"]["exit_code"] == result.code, command
        for word in words:
            assert word in result.err, (command, word, result.err)
    assert project.snapshot() == before
    assert not (project.root / "CANARY").exists()
    assert not (project.root / "migrations" / "CANARY").exists()


def test_duplicate_version_names_both_files(sqlite_project):
    project = sqlite_project
    _prepared(project)
    project.write("20250101_000000_again.yml", GOOD.replace("good", "again"))
    result = project.run("apply")
    assert result.code == 2
    assert "20250101000000_good.yaml" in result.err and "20250101_000000_again.yml" in result.err
    assert not project.db.touched()


def test_every_problem_of_a_run_is_reported_together(sqlite_project):
    project = sqlite_project
    _prepared(project)
    for name, content, _ in BAD_FILES[:5]:
        project.write(name.replace("20250102000000", str(20250102000000 + BAD_FILES.index((name, content, _)))), content)
    result = project.run("validate")
    assert result.code == 2
    for word in ("colour", "risky", "at least one step", "'up' is a required property", "up[0].sql"):
        assert word in result.err


def test_hook_symlink_leading_outside_is_refused(sqlite_project, tmp_path):
    project = sqlite_project
    _prepared(project)
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def run(conn, ctx):\n    open('CANARY', 'w').close()\n")
    (project.migrations / "hooks").mkdir(exist_ok=True)
    os.symlink(outside, project.migrations / "hooks" / "link.py")
    project.write("20250102000000_link.yaml", "up:\n  - python: hooks/link.py:run\n")
    result = project.run("apply")
    assert result.code == 2 and "outside the migrations folder" in result.err
    assert not (project.root / "CANARY").exists()


BAD_CONFIGS = [
    ("database:\n  url: sqlite:///../data/app.db\n  pasword: x\n", ["database.pasword", "unknown key"]),
    ("database:\n  url: sqlite:///../data/app.db\nlock:\n  timeout: soon\n", ["lock.timeout"]),
    ("database:\n  url: oracle://x/y\n", ["oracle://x/y", "scheme"]),
    ("database:\n  url: postgresql://u:pw@host:99999/db\n", ["port"]),
    ("database:\n  url: sqlite:///../data/app.db\ntarget: someday\n", ["target", "someday"]),
    ("database:\n  url: sqlite:///../data/app.db\nmigrations:\n  path: ../migrations\ntarget: 20250109000000\n", ["20250109000000"]),
    ("database:\n  url: sqlite:///../data/app.db\nsafety:\n  on_checksum_mismatch: ignore\n", ["safety.on_checksum_mismatch"]),
    ("", ["database.url"]),
    ("database: [\n", ["invalid YAML"]),
    ("- a\n- b\n", ["mapping"]),
    ("database:\n  url: ${NO_SUCH_VARIABLE_HERE}\n", ["NO_SUCH_VARIABLE_HERE"]),
    ("database:\n  url: sqlite:///../data/app.db\n  ~: 1\n  3: x\n", ["the key None under database is not text"]),  # found by fuzzing
]


@pytest.mark.parametrize("text,words", BAD_CONFIGS)
def test_bad_config(sqlite_project, text, words):
    project = sqlite_project
    _prepared(project)
    assert project.run("apply").code == 0
    before = project.snapshot()
    (project.root / "config" / "migrund.yaml").write_text(text)
    # status still reports a target whose file has not arrived (the daemon's blocked state)
    commands = [["apply"], ["validate"], ["reconcile"]] + ([] if "20250109000000" in text else [["status"]])
    for command in commands:
        result = project.run(*command)
        assert result.code == 2, (command, result.err)
        for word in words:
            assert word in result.err, (command, word, result.err)
    assert project.snapshot() == before


def test_missing_config_file_is_exit_2(sqlite_project):
    result = sqlite_project.run("--config", "nowhere.yaml", "status")
    assert result.code == 2 and "nowhere.yaml" in result.err


def test_usage_errors_are_exit_2(sqlite_project):
    project = sqlite_project
    _prepared(project)
    for args in (["rollback", "--steps", "x"], ["rollback", "--steps", "1", "--to", "0"], ["frobnicate"], ["history", "--limit", "-1"]):
        assert project.run(*args).code == 2, args


@pytest.mark.skipif(os.geteuid() != 0, reason="strict_permissions applies only when running as root")
@pytest.mark.parametrize("target", ["file", "folder", "config", "hook"])
def test_strict_permissions_refuse_writable_files_as_root(sqlite_project, target):
    project = sqlite_project
    _prepared(project)
    project.write("20250102000000_hooked.yaml", "up:\n  - python: hooks/real.py:present\n")
    path = {
        "file": project.migrations / "20250101000000_good.yaml",
        "folder": project.migrations,
        "config": project.root / "config" / "migrund.yaml",
        "hook": project.migrations / "hooks" / "real.py",
    }[target]
    path.chmod(path.stat().st_mode | 0o022)
    result = project.run("apply")
    assert result.code == 4 and str(path.name) in result.err and "safety.strict_permissions" in result.err
    assert not project.db.touched()
    if target != "config":
        project.configure("safety:\n  strict_permissions: false\n")
        assert project.run("apply").code == 0


SERVER_CASES = [BAD_FILES[0], BAD_FILES[6], BAD_FILES[11], BAD_FILES[18]]


@pytest.mark.parametrize("name,content,words", SERVER_CASES, ids=[b[0][15:] for b in SERVER_CASES])
def test_bad_file_leaves_every_database_unchanged(project, name, content, words):
    _prepared(project)
    assert project.run("apply").code == 0
    before = project.snapshot()
    (project.migrations / name).write_text(content)
    for command in (["apply"], ["reconcile"], ["rollback"]):
        result = project.run(*command)
        assert result.code == 2 and all(word in result.err for word in words), result.err
    assert project.snapshot() == before
