"""Immutable records: ``typing.NamedTuple``'s class syntax at a fraction of its start-up cost.

``typing.NamedTuple`` evaluates every field annotation and needs ``typing`` imported,
which together cost more than the tuple class itself; start-up time is most of a
no-op run. ``record`` builds the same ``collections.namedtuple`` from the class body and
leaves the annotations as the strings PEP 563 makes them.
"""
from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

_NOT_COPIED = {"__dict__", "__weakref__", "__module__", "__qualname__"}


def record(cls: type[T]) -> type[T]:
    """``cls`` as a namedtuple: its annotated names are the fields, their values the defaults."""
    names = list(cls.__dict__.get("__annotations__", {}))
    with_default = [name for name in names if name in cls.__dict__]
    if with_default != names[len(names) - len(with_default):]:
        raise TypeError(f"{cls.__name__}: the fields with a default must come last")
    made = namedtuple(cls.__name__, names, defaults=[cls.__dict__[n] for n in with_default], module=cls.__module__)
    for key, value in cls.__dict__.items():
        if key not in _NOT_COPIED and key not in with_default:
            setattr(made, key, value)
    made.__qualname__ = cls.__qualname__
    return made  # type: ignore[return-value]
