"""The commands that write files or print text, not touching the database: init, new, completion."""
from __future__ import annotations

from pathlib import Path

from ..session import Project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def init(folder: str) -> Any:
    """``init``: a project skeleton in ``folder`` (config, migrations folder, example)."""
    from ..scaffold import init as scaffold

    return scaffold(Path(folder))


def new(project: Project, name: str, description: str = "", *, python: bool = False) -> Path:
    """``new``: a migration file from the template; its path."""
    from ..scaffold import new_migration

    return new_migration(project.settings, name, description, python=python)


def completion(shell: str) -> str:
    """``completion``: the code that makes ``shell`` complete migrund's commands and options (argcomplete)."""
    from argcomplete import shellcode

    return shellcode(["migrund"], shell=shell)
