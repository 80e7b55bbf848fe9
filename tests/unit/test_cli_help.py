"""Every command's --help lists its options and ends with an example that the parser accepts."""
from __future__ import annotations

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
    assert words[0] == "migrund"
    args = build_parser().parse_args(words[1:])
    assert args.command == name


@pytest.mark.parametrize("name", ["apply", "rollback", "backup"])
def test_help_shows_the_options_and_the_example(name):
    shown = subprocess.run([sys.executable, "-m", "migrund", name, "--help"], cwd=REPO, capture_output=True, text=True)
    assert shown.returncode == 0
    assert f"example: {EXAMPLES[name]}" in " ".join(shown.stdout.split())
    assert "--json" in shown.stdout and "--config" in shown.stdout
