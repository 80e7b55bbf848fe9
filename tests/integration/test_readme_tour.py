"""The README's five-minute tour, run as written: its commands in a fresh folder, their output compared.

Versions and times differ from run to run, so both sides are normalised: each distinct
14-digit version becomes V1, V2... in order of appearance, times and durations become
placeholders, runs of blanks one blank; ``...`` in the README stands for any lines.
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys

from tests.helpers import REPO, clean_env


def _sections(text: str, heading: str) -> list[tuple[str, str]]:
    """The fenced blocks under ``heading``, in order: (language, body)."""
    tour = text[text.index(heading):]
    tour = tour[: tour.index("\n## ", 1)]
    return re.findall(r"```(\w+)\n(.*?)```", tour, re.S)


def _normalise(lines: list[str], cwd: str) -> list[str]:
    versions: dict[str, str] = {}

    def version(match: re.Match) -> str:
        return versions.setdefault(match[0], f"V{len(versions) + 1}")

    out = []
    for line in lines:
        line = line.replace(cwd, "/tmp/tour")
        line = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "TIME", line)
        line = re.sub(r"\d{8}T\d{6}Z", "STAMP", line)
        line = re.sub(r"(?<!\d)\d{14}(?!\d)", version, line)
        line = re.sub(r"\b\d+ ms\b", "N ms", line)
        line = re.sub(r"\bpid \d+", "pid N", line)
        out.append(" ".join(line.split()))
    return out


def _matches(expected: list[str], actual: list[str]) -> bool:
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and _matches(expected[1:], actual[1:])


def test_the_tour_runs_as_the_readme_shows_it(tmp_path):
    _run_tour(tmp_path, "## A five-minute tour", lambda tour, env: None)


def _goose_project(tour, env):
    """A project made by `migrund init` (example removed) whose database goose brought to 3, its files in db/migrations."""
    from migrund import sql as splitter
    from tests.foreign_history import DATA, record
    from tests.servers import Database

    subprocess.run(["migrund", "init"], cwd=tour, env=env, check=True, capture_output=True)
    for example in (tour / "migrations").iterdir():
        example.unlink()
    shutil.copytree(DATA / "goose" / "sqlite", tour / "db" / "migrations")
    db = Database("sqlite", "", tour / "data" / "app.db")
    db.path.parent.mkdir(exist_ok=True)
    for name in sorted(p.name for p in (tour / "db" / "migrations").iterdir())[:3]:
        up = re.split(r"(?im)^--\s*\+goose\s+down", (tour / "db" / "migrations" / name).read_text())[0]
        for statement in splitter.split(up, "sqlite"):
            db.execute(statement)
    record(db, "goose", ["1", "2", "3"])
    shutil.copytree(DATA / "sql" / "sqlite", tour / "db" / "by-hand")
    db.execute((tour / "db" / "by-hand" / "20200718111257_todos.sql").read_text())  # run by hand, long ago


def test_bringing_an_existing_project_runs_as_the_readme_shows_it(tmp_path):
    _run_tour(tmp_path, "## Bring an existing project", _goose_project)


def _run_tour(tmp_path, heading, setup):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "migrund").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m migrund "$@"\n')
    (bin_dir / "migrund").chmod(0o755)
    tour = tmp_path / "tour"
    tour.mkdir()
    # unbuffered: errors and results interleave as on a terminal
    env = clean_env(tmp_path / "state", PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(REPO),
                    COLUMNS="100", PYTHONUNBUFFERED="1")
    readme_versions: list[str] = []  # in order of first appearance, the README's and this run's
    run_versions: list[str] = []
    expected_all: list[str] = []
    actual_all: list[str] = []
    created: list[str] = []
    setup(tour, env)
    for language, body in _sections((REPO / "README.md").read_text(), heading):
        if language == "yaml":  # "Edit the new file": the file `migrund new` just wrote
            first = re.search(r"\d{14}", body)[0]
            real_first = re.search(r"/(\d{14})_", created[0])[1]
            (tour / created[-1]).write_text(body.replace(first, real_first))
            continue
        assert language == "console"
        lines = body.splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("$ "):
                continue
            expected = []
            for following in lines[index + 1:]:
                if following.startswith("$ "):
                    break
                expected.append(following)
            command = line[2:]
            for version in re.findall(r"\d{14}", command):  # the README's version -> this run's
                command = command.replace(version, run_versions[readme_versions.index(version)])
            run = subprocess.run(["bash", "-c", command], cwd=tour, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            output = run.stdout.splitlines()
            for seen, found in ((readme_versions, expected), (run_versions, output)):
                for version in re.findall(r"(?<!\d)\d{14}(?!\d)", "\n".join(found)):
                    if version not in seen:
                        seen.append(version)
            created += [o for o in output if o.endswith(".yaml") and "migrations/" in o]
            expected_all += [f"$ {line[2:]}", *expected]
            actual_all += [f"$ {command}", *output]
    expected_norm = _normalise(expected_all, "/tmp/tour")
    actual_norm = _normalise(actual_all, str(tour))
    assert _matches(expected_norm, actual_norm), "the README's tour (-) differs from a run (+):\n" + "\n".join(
        difflib.unified_diff(expected_norm, actual_norm, lineterm="", n=2)
    )
