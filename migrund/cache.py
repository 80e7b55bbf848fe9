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
    """A JSON object on disk, ``key -> document``, rewritten atomically when it changed.

    With ``shards``, the object is split by the keys' last hex digits into that many
    files in a folder, and only the files a run looks up are read or rewritten: a daemon
    pass that parses one new file among ten thousand reads and writes one small file,
    not all ten thousand entries (0.18 s a pass).
    """

    def __init__(self, name: str, *, limit: Optional[int] = None, shards: int = 0) -> None:
        folder = paths.state_dir() / "cache"
        self.path = folder / f"{name}.json"
        self.folder = folder / name  # where the shards are
        self.limit = limit
        self.shards = shards
        self._parts: dict[str, dict[str, Any]] = {}  # shard name ("" unsharded) -> its entries
        self._changed: set[str] = set()

    @classmethod
    def for_folder(cls, prefix: str, folder: Path) -> "KeyedCache":
        """The cache of one folder (one per migrations folder, so pruning stays local), in 256 shards."""
        digest = hashlib.sha256(str(folder.absolute()).encode()).hexdigest()[:16]
        return cls(f"{prefix}-{digest}", shards=256)

    def _shard(self, key: str) -> str:
        return f"{int(key[-4:], 16) % self.shards:02x}" if self.shards else ""

    def _file(self, shard: str) -> Path:
        return self.folder / f"{shard}.json" if self.shards else self.path

    def _load(self, shard: str) -> dict[str, Any]:
        data = self._parts.get(shard)
        if data is None:
            try:
                found = json.loads(_read_trusted(self._file(shard)))
                data = found if isinstance(found, dict) else {}
            except (OSError, ValueError):
                data = {}
            self._parts[shard] = data
        return data

    @property
    def loaded(self) -> bool:
        """Whether this run has looked at the cache at all."""
        return bool(self._parts)

    def get(self, key: str) -> Any:
        """The document stored under ``key``, or None."""
        return self._load(self._shard(key)).get(key)

    def put(self, key: str, document: Any) -> None:
        """Store ``document`` (JSON-able) under ``key``."""
        shard = self._shard(key)
        data = self._load(shard)
        if data.get(key) != document:
            data[key] = document
            self._changed.add(shard)

    def save(self, keep: Optional[Iterable[str]] = None) -> None:
        """Write back what changed, keeping only ``keep`` when given (in the parts this run read)."""
        wanted = set(keep) if keep is not None else None
        wrote = False
        for shard, data in self._parts.items():
            stale = [k for k in data if k not in wanted] if wanted is not None else []
            if self.limit is not None:
                fresh = [k for k in data if k not in stale]
                stale += fresh[: max(len(fresh) - self.limit, 0)]  # oldest entries first
            for key in stale:
                del data[key]
            if stale or shard in self._changed:
                self._write(shard, data)
                wrote = True
        if wrote and self.shards:  # the whole cache in one file, as migrund wrote it before 2026-12: never read now
            try:
                self.path.unlink(missing_ok=True)
            except OSError:
                pass

    def _write(self, shard: str, data: dict[str, Any]) -> None:
        path = self._file(shard)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            replace_private(path, json.dumps(data, separators=(",", ":")).encode())
            self._changed.discard(shard)
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
