"""Python code from the migrations folder: confined paths, the ``ctx`` object, isolated loading."""
from __future__ import annotations

import types
from pathlib import Path, PurePosixPath

from .record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging  # imported only when a hook runs
    from typing import Any, Callable, Mapping


class HookPathError(ValueError):
    """A hook path that is not allowed or does not exist; the message says why."""


def resolve(migrations_dir: Path, relative: str) -> Path:
    """The hook file for ``relative``, which must stay inside ``migrations_dir``."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or relative.startswith(("\\", "~")) or ":" in pure.parts[0]:
        raise HookPathError(f"hook path {relative!r} must be relative to the migrations folder")
    if ".." in pure.parts:
        raise HookPathError(f"hook path {relative!r} must not contain '..'")
    root = migrations_dir.resolve()
    path = (root / pure).resolve()
    if not path.is_relative_to(root):
        raise HookPathError(f"hook path {relative!r} leads outside the migrations folder")
    if not path.is_file():
        raise HookPathError(f"hook file {relative!r} does not exist")
    return path


def split_reference(reference: str) -> tuple[str, str]:
    """``hooks/x.py:up`` -> (``hooks/x.py``, ``up``)."""
    path, _, function = reference.rpartition(":")
    return path, function


def defined_functions(source: str, filename: str) -> dict[str, int]:
    """Top-level function names of a Python source, with their lines; SyntaxError propagates."""
    import ast

    tree = ast.parse(source, filename=filename)
    return {
        node.name: node.lineno
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


@record
class Context:
    """The ``ctx`` a hook receives (SPEC 2.2)."""

    dialect: str
    version: int
    name: str
    direction: str
    config: Mapping[str, Any]
    log: "logging.Logger"


def load_function(source: str, filename: str, function: str) -> Callable[..., Any]:
    """Execute ``source`` as a fresh module, not entered in ``sys.modules``, and return ``function``.

    The text run is the text that was checksummed (or stored in the history), never a
    second read of the file.
    """
    module = types.ModuleType(f"migrund_user_{abs(hash(filename))}")
    module.__file__ = filename
    code = compile(source, filename, "exec")
    exec(code, module.__dict__)  # noqa: S102 - running user migrations is the point
    found = module.__dict__.get(function)
    if not callable(found):
        raise AttributeError(f"{filename} defines no function {function}()")
    return found
