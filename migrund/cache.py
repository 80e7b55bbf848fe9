"""A small on-disk cache of documents that already parsed and validated, keyed by content hash.

Parsing YAML and importing jsonschema cost far more than the work of a no-op run; a file
whose bytes were read and validated before is taken from here instead (docs/performance.md).
Only valid documents are stored, so a hit can never hide a problem; a cache
that cannot be read or written only costs time.

A cached document holds the split statements that decide what SQL runs, so the cache is
trusted only as far as the migrations folder is: it is read only when it is a regular file
(not a link) owned by this user and writable by nobody else, in a folder of the same
kind; otherwise it is ignored and the files are parsed again. Whoever could still write
it could as well edit the migration files themselves.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from functools import lru_cache
from pathlib import Path

from . import paths
from .files import replace_private

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional


class KeyedCache:
    """A JSON object on disk, ``key -> document``, rewritten atomically when it changed."""

    def __init__(self, name: str, *, limit: Optional[int] = None) -> None:
        self.path = paths.state_dir() / "cache" / f"{name}.json"
        self.limit = limit
        self._data: Optional[dict[str, Any]] = None
        self._changed = False

    @classmethod
    def for_folder(cls, prefix: str, folder: Path) -> "KeyedCache":
        """The cache of one folder (one per migrations folder, so pruning stays local)."""
        digest = hashlib.sha256(str(folder.absolute()).encode()).hexdigest()[:16]
        return cls(f"{prefix}-{digest}")

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                data = json.loads(_read_trusted(self.path))
                self._data = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._data = {}
        return self._data

    @property
    def loaded(self) -> bool:
        """Whether this run has looked at the cache at all."""
        return self._data is not None

    def get(self, key: str) -> Any:
        """The document stored under ``key``, or None."""
        return self._load().get(key)

    def put(self, key: str, document: Any) -> None:
        """Store ``document`` (JSON-able) under ``key``."""
        data = self._load()
        if data.get(key) != document:
            data[key] = document
            self._changed = True

    def save(self, keep: Optional[Iterable[str]] = None) -> None:
        """Write back if anything changed, keeping only ``keep`` when given."""
        if self._data is None:
            return
        if keep is not None:
            wanted = set(keep)
            stale = [k for k in self._data if k not in wanted]
        else:
            stale = []
        if self.limit is not None:
            fresh = [k for k in self._data if k not in stale]
            stale += fresh[: max(len(fresh) - self.limit, 0)]  # oldest entries first
        for key in stale:
            del self._data[key]
        self._changed = self._changed or bool(stale)
        if not self._changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            replace_private(self.path, json.dumps(self._data, separators=(",", ":")).encode())
            self._changed = False
        except OSError:
            pass


def _private(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_trusted(path: Path) -> bytes:
    """The bytes of ``path`` if it and its folder are this user's alone; else ``PermissionError``."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not (stat.S_ISREG(info.st_mode) and _private(info) and _private(os.stat(path.parent))):
            raise PermissionError(f"{path} is not private to this user: ignored")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def content_key(salt: bytes, data: bytes) -> str:
    """The cache key of what is derived from ``data`` under ``salt`` (a schema, a purpose)."""
    return hashlib.sha256(_salted(salt) + data).hexdigest()


@lru_cache(maxsize=None)
def _salted(salt: bytes) -> bytes:
    return hashlib.sha256(salt).digest()
