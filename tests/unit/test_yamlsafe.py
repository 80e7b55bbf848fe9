"""YAML loading: the plain fast path gives exactly what the full loader gives, errors included."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from migrund import yamlsafe
from tests.fuzzing import EDITS, mutate

_SAMPLES = [
    (Path(yamlsafe.__file__).parent / "templates" / name).read_text()
    for name in ("example_migration.yaml", "migration.yaml", "migrund.yaml")
] + ["2: a\ntrue: b\nn: ~\nf: .inf\ni: 0x1F\nb: yes\n", "- a\n- b: {c: [d]}\n"]
_NOT_PLAIN = ["a: &x [1, 2]\nb: *x\n", "<<: {a: 1}\nb: 2\n", "d: 2025-01-01\n", "k: !!binary aGk=\n", "? [1, 2]\n: x\n",
              "x: 1\nx: 2\n", "1: a\ntrue: b\n", "a: [\n", "---\na: 1\n---\nb: 2\n"]
_SAMPLES += _NOT_PLAIN


def _either(call, text):
    try:
        return "ok", call(text)
    except yamlsafe.YamlProblem as exc:
        return "problem", str(exc)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=st.sampled_from(_SAMPLES), edits=EDITS)
def test_the_plain_path_and_the_full_loader_agree(sample, edits):
    text = mutate(sample, edits)
    fast, full = _either(yamlsafe.load_yaml, text), _either(yamlsafe._full, text)
    assert fast == full and repr(fast) == repr(full), text  # repr: 1 and True, 1.0 and 1 differ there


def test_the_plain_path_is_taken_for_plain_files_only():
    for plain in _SAMPLES[:5]:
        assert yamlsafe._plain(plain) == yamlsafe._full(plain)
    for text in _NOT_PLAIN:
        with pytest.raises(yamlsafe._NotPlain):
            yamlsafe._plain(text)


@pytest.mark.parametrize("text", ["d: 2025-00-01\n", "up:\n  - sql: x\nwhen: 2025-13-45 10:00:00\n"])
def test_a_value_that_looks_like_a_date_but_is_none_is_a_worded_problem(text):
    with pytest.raises(yamlsafe.YamlProblem, match=r"invalid YAML at line \d+, column \d+: '2025-\d\d-\d\d.*' cannot be read as a timestamp"):
        yamlsafe.load_yaml(text)
