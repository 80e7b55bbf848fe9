"""SPEC 8: as root, refuse config and migration files others could change (strict_permissions)."""
from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path

from .config import Settings
from .errors import Refused

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterable, Optional


def _applies(settings: Settings) -> bool:
    return settings.safety.strict_permissions and hasattr(os, "geteuid") and os.geteuid() == 0


def _judge(path: Path) -> None:
    try:
        info = path.stat()  # symlinks are judged by their target
    except OSError:
        return  # a missing path is reported by whoever reads it
    judge_status(str(path), info)


@lru_cache(maxsize=None)
def _euid() -> int:
    return os.geteuid()


def judge_status(path: str, info: os.stat_result) -> None:
    """Refuse (exit 4) a file or folder that others could change."""
    problem = None
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = "is group- or world-writable"
    elif info.st_uid not in (0, _euid()):
        problem = f"is owned by another user (uid {info.st_uid})"
    if problem:
        raise Refused(
            f"{path} {problem}; fix its permissions, or set safety.strict_permissions: false to accept it"
        )


def _between(root: Path, path: Path) -> Iterable[Path]:
    """Folders strictly between ``root`` and ``path``."""
    try:
        relative = path.parent.resolve().relative_to(root.resolve())
    except ValueError:
        return []
    folders = []
    current = root.resolve()
    for part in relative.parts:
        current = current / part
        folders.append(current)
    return folders


def check_project(settings: Settings) -> Optional[Callable[[str, os.stat_result], None]]:
    """Judge the config file and the migrations folder; return the judge for migration files."""
    if not _applies(settings):
        return None
    if settings.source is not None:
        _judge(settings.source)
    _judge(settings.migrations_dir)
    return judge_status


def check_hooks(settings: Settings, found) -> None:
    """Every referenced hook file and the folders leading to it."""
    if not _applies(settings):
        return
    folder = settings.migrations_dir
    seen: set[str] = set()
    for source in found.files.values():
        for ref in source.hooks:
            if ref in seen:
                continue
            seen.add(ref)
            target = folder / ref
            for between in _between(folder, target):
                _judge(between)
            _judge(target)
