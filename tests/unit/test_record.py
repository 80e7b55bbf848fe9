"""``@record``: the namedtuple that ``typing.NamedTuple`` would make, built cheaply."""
from __future__ import annotations

import pickle

import pytest

from migrund.model import Event, Step
from migrund.record import record


@record
class Pair:
    """A test record."""

    left: int
    right: str = "r"

    @property
    def both(self) -> str:
        """Both fields as text."""
        return f"{self.left}{self.right}"


def test_fields_defaults_and_methods():
    pair = Pair(1)
    assert tuple(pair) == (1, "r") and Pair._fields == ("left", "right")
    assert Pair(left=2, right="x").both == "2x"
    assert pair._replace(right="s") == Pair(1, "s")
    assert Pair.__doc__ == "A test record." and Pair.__qualname__ == "Pair"
    with pytest.raises(AttributeError):
        pair.left = 3  # type: ignore[misc]


@record
class Twin:
    """Another record with the same fields as ``Pair``."""

    left: int
    right: str = "r"


def test_records_equal_only_to_records_of_their_own_class():
    assert Pair(1) == Pair(1) and hash(Pair(1)) == hash(Pair(1))
    assert Pair(1) != Twin(1) and not Pair(1) == Twin(1)
    assert Pair(1) != (1, "r")
    assert len({Pair(1), Twin(1), Pair(1)}) == 2


def test_the_repr_never_shows_a_password():
    shown = repr(Pair(1, "postgresql://app:hunter22@db/prod"))
    assert "hunter22" not in shown and "postgresql://app:***@db/prod" in shown


def test_a_field_without_default_after_one_with_is_refused():
    with pytest.raises(TypeError, match="must come last"):

        @record
        class Bad:
            first: int = 0
            second: int


def test_model_records_pickle_and_compare_by_value():
    event = Event("done", 20250101000000, "x", "up", ms=3)
    assert pickle.loads(pickle.dumps(event)) == event
    assert Step("sql", sql="SELECT 1").sql_for("sqlite") == "SELECT 1"
