"""Hostile input: fuzzed migration files and configs never crash, hang or half-apply.

The CLI runs in-process here (thousands of runs would take minutes as subprocesses); each
run is bounded by an alarm, so a hang fails the test.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrund import cli
from tests.fuzzing import EDITS, TREES, mutate
from tests.helpers import Project

GOOD = "description: a good one\nup:\n  - sql: CREATE TABLE good (id INTEGER PRIMARY KEY, name TEXT)\ndown:\n  - sql: DROP TABLE good\n"
VALID = "description: fuzzed\nup:\n  - sql: CREATE TABLE fuzzed (id INTEGER)\n  - sql: INSERT INTO fuzzed VALUES (1)\ndown:\n  - sql: DROP TABLE fuzzed\n"
CONFIG_EXTRA = "safety:\n  strict_permissions: false\n"
EXAMPLES = int(os.environ.get("MIGRUND_FUZZ_EXAMPLES", "60"))


class Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise Hang()


def run_cli(*argv: str) -> tuple[int, str]:
    """(exit code, stderr) of one in-process CLI run, bounded at 20 s."""
    err = io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(list(argv))
    except Hang:
        pytest.fail(f"migrund {' '.join(argv)} hung")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory):
    """One project with one migration applied; each example starts from a copy of its database."""
    root = tmp_path_factory.mktemp("fuzz") / "proj"
    project = Project(root, extra=CONFIG_EXTRA)
    project.write("20250101000000_good.yaml", GOOD)
    assert project.run("apply").code == 0
    pristine = root / "pristine.db"
    shutil.copy(project.db_path, pristine)
    return project, pristine


def fresh(project: Project, pristine: Path) -> bytes:
    shutil.copy(pristine, project.db_path)
    for leftover in project.migrations.glob("2025010200*"):
        leftover.unlink()
    return project.db_path.read_bytes()


def judge(code: int, err: str, culprit: str, unchanged: bool) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        assert err.startswith("migrund: error: ") and culprit in err, err
        assert unchanged, "an invalid input changed the database"
    if code == 1:
        assert "failed" in err and unchanged, err  # SQL the database refused: rolled back whole


NAMES = st.sampled_from(["fuzz", "ünïcødé", "名前", "a-b", "x" * 80, "tab\tname"])
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _file_case(fuzz_home, tally, data: bytes, name: str = "fuzz") -> None:
    project, pristine = fuzz_home
    before = fresh(project, pristine)
    filename = f"20250102000000_{name}.yaml"
    try:
        (project.migrations / filename).write_bytes(data)
    except (OSError, ValueError):
        return  # a name this file system refuses is not migrund's input
    code, err = run_cli("--config", str(project.root / "config" / "migrund.yaml"), "apply")
    judge(code, err, "20250102000000", project.db_path.read_bytes() == before)
    tally["fuzzed"] += 1


@FUZZ_SETTINGS
@given(data=st.binary(max_size=3000))
def test_binary_junk(fuzz_home, tally, data):
    _file_case(fuzz_home, tally, data)


@FUZZ_SETTINGS
@given(edits=EDITS, crlf=st.booleans(), name=NAMES)
def test_mutated_migrations(fuzz_home, tally, edits, crlf, name):
    text = mutate(VALID, edits)
    if crlf:
        text = text.replace("\n", "\r\n")
    _file_case(fuzz_home, tally, text.encode("utf-8", "surrogatepass"), name)


@FUZZ_SETTINGS
@given(tree=TREES, wrap=st.booleans())
def test_wrong_types_and_shapes(fuzz_home, tally, tree, wrap):
    document = {"up": tree} if wrap else tree
    _file_case(fuzz_home, tally, yaml.safe_dump(document, allow_unicode=True).encode())


@pytest.mark.parametrize(
    "text",
    [
        "up:\n  - sql: !!python/object/apply:os.system ['touch CANARY']\n",
        "up:\n  - sql: !!python/name:os.system\n",
        "up: !!python/object:collections.OrderedDict {}\n",
        "up:\n  - sql: !custom SELECT 1\n",
        "up:\n  - sql: !!binary aGVsbG8=\n",
        "a: " + "[" * 20_000 + "]" * 20_000 + "\nup:\n  - sql: SELECT 1\n",
        "a: " + "{x: " * 5_000 + "1" + "}" * 5_000 + "\nup:\n  - sql: SELECT 1\n",
        "up:\n  - sql: SELECT 1\n" + "# padding\n" * 600_000,
        "up:\n  - sql: '" + "x" * 5_000_000 + "'\n",
    ],
    ids=["python-apply", "python-name", "python-object", "custom-tag", "binary-tag", "deep-lists", "deep-maps", "huge-comments", "huge-string"],
)
def test_tags_deep_nesting_and_huge_files_are_refused(fuzz_home, tally, text):
    project, pristine = fuzz_home
    before = fresh(project, pristine)
    (project.migrations / "20250102000000_hostile.yaml").write_text(text)
    code, err = run_cli("--config", str(project.root / "config" / "migrund.yaml"), "apply")
    assert code == 2, err
    judge(code, err, "20250102000000_hostile.yaml", project.db_path.read_bytes() == before)
    assert not (project.root / "CANARY").exists() and not Path("CANARY").exists()
    tally["fuzzed"] += 1


@FUZZ_SETTINGS
@given(edits=EDITS)
def test_mutated_configs(fuzz_home, tally, edits):
    project, pristine = fuzz_home
    before = fresh(project, pristine)
    config = project.root / "config" / "migrund.yaml"
    original = config.read_text()
    try:
        config.write_text(mutate(original, edits), encoding="utf-8", errors="surrogatepass")
        code, err = run_cli("--config", str(config), "apply")
        assert "Traceback" not in err and "internal error" not in err, err
        assert code in (0, 1, 2), (code, err)
        if code == 2:
            assert err.startswith("migrund: error: "), err
            assert project.db_path.read_bytes() == before
        if code == 1:
            assert "cannot" in err or "failed" in err, err
    finally:
        config.write_text(original)
    tally["fuzzed"] += 1
