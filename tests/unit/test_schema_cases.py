"""Each file in tests/schema_cases/ is one case; its first line says what validation must say."""
from __future__ import annotations

from pathlib import Path

import pytest

from migrund.validate import schema_problems
from migrund.yamlsafe import load_yaml

CASES = sorted((Path(__file__).resolve().parent.parent / "schema_cases").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_schema_case(path):
    text = path.read_text()
    first = text.splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: '"
    expected = first[len("# expect: "):]
    problems = schema_problems("migration", load_yaml(text), text=text)
    if expected == "valid":
        assert problems == []
        assert path.name.startswith("valid_")
    else:
        assert path.name.startswith("invalid_")
        assert any(expected in p for p in problems), problems


def test_cases_exist():
    assert len([p for p in CASES if p.name.startswith("invalid_")]) >= 15
