"""Immutable records: a frozen dataclass to the type checker, a namedtuple at run time.

``dataclasses`` and ``typing.NamedTuple`` both cost more to import and to build than the
tuple class itself, and start-up time is most of a no-op run. ``record`` builds a
``collections.namedtuple`` from the class body (its annotated names are the fields, their
values the defaults) and fixes what a bare tuple gets wrong for a record: two records of
different classes never compare equal, and the repr never shows a password.
"""
from __future__ import annotations

from collections import namedtuple

from migrund.redact import redact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform

    T = TypeVar("T")
else:
    def dataclass_transform(**_options):  # the type checker's view only
        return lambda function: function

_NOT_COPIED = {"__dict__", "__weakref__", "__module__", "__qualname__"}


def _eq(self: tuple, other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other)  # type: ignore[arg-type]


def _ne(self: tuple, other: object) -> bool:
    return not _eq(self, other)


def _hash(self: tuple) -> int:
    return hash((type(self).__qualname__, tuple(self)))


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """``cls`` as an immutable record: its annotated names are the fields, their values the defaults."""
    names = list(cls.__dict__.get("__annotations__", {}))
    with_default = [name for name in names if name in cls.__dict__]
    if with_default != names[len(names) - len(with_default):]:
        raise TypeError(f"{cls.__name__}: the fields with a default must come last")
    build: Any = namedtuple
    made = build(cls.__name__, names, defaults=[cls.__dict__[n] for n in with_default], module=cls.__module__)
    plain_repr = made.__repr__
    own = {"__eq__": _eq, "__ne__": _ne, "__hash__": _hash, "__repr__": lambda self: redact(plain_repr(self))}
    for key, value in [*own.items(), *cls.__dict__.items()]:
        if key not in _NOT_COPIED and key not in with_default:
            setattr(made, key, value)
    made.__qualname__ = cls.__qualname__
    return made  # type: ignore[no-any-return]
