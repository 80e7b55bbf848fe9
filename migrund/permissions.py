"""As root, refuse config and migration files others could change (strict_permissions)."""
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


def _judge(path: Path, judge: Callable[[str, os.stat_result], None]) -> None:
    try:
        info = path.stat()  # symlinks are judged by their target
    except OSError:
        return  # a missing path is reported by whoever reads it
    judge(str(path), info)


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


def check_project(settings: Settings, warn: Optional[Callable[[str], None]] = None) -> Optional[Callable[[str, os.stat_result], None]]:
    """Judge the config file and the migrations folder; return the judge for migration files.

    With ``warn`` (a command that only reads: it runs no migration code and writes
    nothing), a problem is a warning, not a refusal: files owned by an unmapped user in a
    container must not stop ``status``.
    """
    if not _applies(settings):
        return None
    judge = judge_status if warn is None else _warning_judge(warn)
    if settings.source is not None:
        _judge(settings.source, judge)
    _judge(settings.migrations_dir, judge)
    return judge


def _warning_judge(warn: Callable[[str], None]) -> Callable[[str, os.stat_result], None]:
    def judge(path: str, info: os.stat_result) -> None:
        try:
            judge_status(path, info)
        except Refused as exc:
            warn(f"{exc.message} (only read now; commands that run migrations refuse it)")

    return judge


def check_hooks(settings: Settings, found, warn: Optional[Callable[[str], None]] = None) -> None:
    """Every referenced hook file and the folders leading to it (``warn``: see ``check_project``)."""
    if not _applies(settings):
        return
    judge = judge_status if warn is None else _warning_judge(warn)
    folder = settings.migrations_dir
    seen: set[str] = set()
    for source in found.files.values():
        for ref in source.hooks:
            if ref in seen:
                continue
            seen.add(ref)
            target = folder / ref
            for between in _between(folder, target):
                _judge(between, judge)
            _judge(target, judge)
