"""The compiled validator (jsonschema-rs) and jsonschema agree on every document: the schema cases and the fuzzers' inputs.

The compiled one only ever says "valid" on the happy path; were it to pass a document
jsonschema refuses, a bad file would run. So they must agree both ways.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from migrund import validate
from migrund.yamlsafe import YamlProblem, load_yaml
from tests.fuzzing import EDITS, TREES, mutate

CASES = sorted((Path(__file__).parents[1] / "schema_cases").glob("*.yaml"))
MIGRATION = (Path(validate.__file__).parent / "templates" / "example_migration.yaml").read_text()
CONFIG = (Path(validate.__file__).parent / "templates" / "migrund.yaml").read_text()
FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _agree(name: str, doc) -> None:
    full = validate._validator(name).is_valid(doc)
    assert validate.passes(name, doc) == full, (name, doc)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_schema_cases(case):
    doc = load_yaml(case.read_text())
    _agree("migration", doc)
    assert validate.passes("migration", doc) == case.name.startswith("valid_")


@FUZZ
@given(edits=EDITS, which=st.sampled_from(["migration", "config"]))
def test_mutated_files(edits, which):
    try:
        doc = load_yaml(mutate(MIGRATION if which == "migration" else CONFIG, edits))
    except YamlProblem:
        return
    _agree(which, doc)


@FUZZ
@given(tree=TREES, key=st.sampled_from(["up", "down", "description", "dependencies", "version", "sql", None]))
def test_wrong_types_and_shapes(tree, key):
    for doc in ({key: tree} if key else tree, {"up": [{"sql": tree}]}, {"up": [{key or "python": tree}]}, {"database": {"url": tree}},
                {"up": [{"sql": "SELECT 1"}], key or "risky": tree}, {"database": {"url": "sqlite:///x.db"}, key or "target": tree}):
        _agree("migration", doc)
        _agree("config", doc)


@FUZZ
@given(text=st.text(max_size=12))
def test_text_at_every_pattern(text):
    for doc in ({"up": [{"sql": text}]}, {"up": [{"python": text}]}, {"up": [{"python": f"hooks/{text}.py:run"}]},
                {"up": [{"python": f"h.py:{text}"}]}):
        _agree("migration", doc)
    for target in (text, f"{text}5", f"5{text}"):
        _agree("config", {"database": {"url": "sqlite:///x.db"}, "target": target})
        _agree("config", {"database": {"url": "sqlite:///x.db", "schema": target}})
        _agree("config", {"database": {"url": "sqlite:///x.db"}, "daemon": {"http": f"h:{target}"}})


def test_the_blank_pattern_is_the_schemas():
    import json

    assert json.loads(validate.schema_bytes("migration"))["$defs"]["sqlText"]["pattern"] == validate.NOT_BLANK
