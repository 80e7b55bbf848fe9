"""Every command's --help lists its options and ends with an example that the parser accepts."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from migrund.arguments import COMMANDS, EXAMPLES, build_parser
from tests.helpers import REPO


def test_every_command_has_an_example():
    assert set(EXAMPLES) == {name for name, *_ in COMMANDS}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_example_parses_as_that_command(name):
    words = shlex.split(EXAMPLES[name])
    words = words[: words.index(">")] if ">" in words else words  # the shell's redirection, not ours
    assert words[0] == "migrund"
    args = build_parser().parse_args(words[1:])
    assert args.command == name


@pytest.mark.parametrize("name", ["apply", "rollback", "backup"])
def test_help_shows_the_options_and_the_example(name):
    shown = subprocess.run([sys.executable, "-m", "migrund", name, "--help"], cwd=REPO, capture_output=True, text=True)
    assert shown.returncode == 0
    assert f"example: {EXAMPLES[name]}" in " ".join(shown.stdout.split())
    assert "--json" in shown.stdout and "--config" in shown.stdout


def test_version_is_the_package_version():
    import re

    declared = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)[1]
    shown = subprocess.run([sys.executable, "-m", "migrund", "--version"], cwd=REPO, capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stdout.strip() == f"migrund {declared}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_code_for_each_shell(shell):
    code = subprocess.run([sys.executable, "-m", "migrund", "completion", shell], cwd=REPO, capture_output=True, text=True)
    assert code.returncode == 0 and "migrund" in code.stdout and "_ARGCOMPLETE" in code.stdout


@pytest.mark.parametrize(("line", "offered"), [("migrund ap", "apply"), ("migrund rollback --st", "--steps"),
                                               ("migrund backup --format j", "json"), ("migrund completion f", "fish")])
def test_the_shell_gets_completions_from_the_parser(line, offered):
    # what the shell code does: run migrund with _ARGCOMPLETE set; the answer comes on fd 8
    env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line)), "_ARGCOMPLETE": "1",
           "_ARGCOMPLETE_IFS": "\n", "PYTHONPATH": str(REPO)}
    done = subprocess.run(["bash", "-c", f'"{sys.executable}" -m migrund 8>&1 9>/dev/null'], env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and offered in done.stdout.split(), (done.stdout, done.stderr)
