"""Backup policy: when, where, naming, the sidecar, permissions and pruning.

The dump itself belongs to the driver (``driver.backup_native``); this module decides the
rest, the same way for every engine.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import faults
from .config import Settings
from .files import read_regular, replace_private, sweep_stale_temps
from .errors import FeatureUnavailable, InvalidInput, OperationFailed, Refused
from .dburl import identity_of
from .clock import utc_compact, utc_iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional

REASONS = ("manual", "scheduled", "before_rollback", "before_risky", "before_restore")
_EXTENSIONS = {"sqlite": ".sqlite3", "postgresql": ".pgdump", "mysql": ".sql"}


def take(driver: Any, settings: Settings, *, reason: str, schema_version: int, output: Optional[Path] = None,
         fmt: Optional[str] = None, warn=lambda message: None, spare: Optional[Path] = None) -> Path:
    """Write one backup and its sidecar; prune ``backup.dir`` (never ``spare``); return the backup's path."""
    fmt = fmt or settings.backup.format
    if f"{fmt}_backup" not in driver.capabilities:
        raise FeatureUnavailable(
            f"{fmt} backups of {settings.dialect} databases are not available in this version of migrund"
        )
    if fmt == "native":
        extension = _EXTENSIONS.get(settings.dialect, ".backup")
    else:
        extension = ".json.gz" if settings.backup.compress else ".json"
    created_at = utc_iso()
    header = {
        "format": fmt,
        "backend": settings.dialect,
        "schema_version": schema_version,
        "database": settings.url.masked(),
        "created_at": created_at,
        "reason": reason,
    }
    if output is None:
        folder = settings.backup.dir
        try:
            _prepare_folder(folder, warn)
        except OSError as exc:
            raise OperationFailed(f"cannot use the backup folder {folder}: {exc.strerror or exc}") from exc
        stamp = utc_compact()
        stem = _stem(settings)
        path = folder / f"{stem}-{stamp}-{reason}-v{schema_version}{extension}"
        counter = 1
        while path.exists() or _sidecar(path).exists():
            counter += 1
            path = folder / f"{stem}-{stamp}-{reason}-v{schema_version}-{counter}{extension}"
    else:
        path = output
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _no_death_by_file_size()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        if fmt == "native":
            driver.backup_native(tmp)
            # A client program can exit 0 with a short file (seen: pg_dump on a full disk):
            # the archive is read back before it is published.
            driver.verify_native(tmp)
        else:
            from . import portable

            portable.write(tmp, {"metadata": header, **driver.dump_json()}, compress=settings.backup.compress)
        os.chmod(tmp, 0o600)
        digest, size = _digest(tmp)
        faults.point("backup_written")
        os.replace(tmp, path)
        faults.point("backup_renamed")
    except OSError as exc:
        _unlink(tmp)
        raise OperationFailed(f"backup to {path} failed: {exc.strerror or exc}") from exc
    except OperationFailed as exc:  # the engine's own message, e.g. "disk I/O error": say which backup
        _unlink(tmp)
        raise OperationFailed(f"backup to {path} failed: {exc.message}") from exc
    except BaseException:
        _unlink(tmp)
        raise
    meta = {**header, "sha256": digest, "size": size}
    try:
        replace_private(_sidecar(path), (json.dumps(meta, indent=2) + "\n").encode())
    except OSError as exc:  # without its sidecar the backup is unusable: take it back, say why
        _unlink(path)
        raise OperationFailed(f"backup to {path} failed: its sidecar {_sidecar(path).name} cannot be written: {exc.strerror or exc}") from exc
    if output is None and settings.backup.keep:
        prune(settings.backup.dir, settings.backup.keep, settings.url.identity(), spare={path, *([spare] if spare else [])})
    return path


def _stem(settings: Settings) -> str:
    return settings.url.path.stem if settings.url.path else settings.url.database


def sweep_leftovers(settings: Settings) -> None:
    """Remove what killed backups of this database left in ``backup.dir`` (called under the lock).

    Half-written ``.tmp`` files, and backups renamed into place whose sidecar was never
    written (never listed, never pruned: they would pile up, a whole dump each). A file
    younger than a minute is left alone: a database sharing the folder may be between
    its rename and its sidecar right now.
    """
    import re
    import time

    folder = settings.backup.dir
    sweep_stale_temps(folder)
    ours = re.compile(
        re.escape(_stem(settings)) + r"-[0-9]{8}T[0-9]{6}Z-(" + "|".join(REASONS) + r")-v[0-9]+(-[0-9]+)?(\.json|\.json\.gz|"
        + "|".join(re.escape(e) for e in _EXTENSIONS.values()) + ")"
    )
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    names = {e.name for e in entries}
    for entry in entries:
        if ours.fullmatch(entry.name) and entry.name + ".meta.json" not in names and entry.is_file(follow_symlinks=False):
            try:
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > 60:
                    os.unlink(entry.path)
            except OSError:
                pass


def _no_death_by_file_size() -> None:
    # Past a file size limit (ulimit -f) the kernel sends SIGXFSZ, which kills by default;
    # ignored, the write fails with EFBIG instead and the backup reports it (also pg_dump
    # and mysqldump, which inherit the setting).
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _prepare_folder(folder: Path, warn) -> None:
    if folder.exists():
        mode = folder.stat().st_mode & 0o777
        if mode & 0o077:
            warn(f"backup folder {folder} has permissions {mode:o}, wider than 700")
        return
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o700)


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def listed(folder: Path, warn=lambda message: None) -> list[dict[str, Any]]:
    """Backups in ``folder`` with a readable sidecar, oldest first, each with ``path``."""
    found = []
    try:
        sidecars = sorted(folder.glob("*.meta.json"))
    except OSError:
        return []
    for sidecar in sidecars:
        if sidecar.name.startswith("."):
            continue
        try:
            meta = json.loads(read_regular(sidecar, limit=1 << 20))
            created = str(meta["created_at"])
        except (OSError, ValueError, KeyError, TypeError):
            warn(f"backup sidecar {sidecar} is unreadable; that backup is not listed")
            continue
        found.append({"path": str(sidecar.with_name(sidecar.name[: -len(".meta.json")])), **meta, "created_at": created})
    return sorted(found, key=lambda m: m["created_at"])


def inspect(entry: dict[str, Any]) -> dict[str, Any]:
    """A listed backup in the ``backups`` shape, with ``ok``: its bytes still match the sidecar."""
    path = Path(entry["path"])
    try:
        digest, size = _digest(path)
        ok = digest == entry.get("sha256") and size == entry.get("size")
    except OSError:
        ok, size = False, 0
    keys = ("path", "created_at", "schema_version", "reason", "format", "backend")
    return {**{k: entry.get(k) for k in keys}, "size": size, "ok": ok}


def check_restorable(path: Path, settings: Settings, versions: Any, *, force: bool) -> dict[str, Any]:
    """The sidecar of ``path`` if the restore checks let it be restored; else exit 4 saying why."""
    if not path.exists():
        raise InvalidInput(f"backup {path} does not exist", kind="missing_file", file=str(path))
    if not path.is_file():
        raise InvalidInput(f"backup {path} is not a regular file", kind="invalid_input", file=str(path))
    sidecar = _sidecar(path)
    try:
        meta = json.loads(read_regular(sidecar, limit=1 << 20))
        expected = str(meta["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        raise Refused(f"backup {path} has no readable sidecar {sidecar.name}; refusing to restore it") from None
    try:
        digest, _ = _digest(path)
    except OSError as exc:
        raise Refused(f"backup {path} cannot be read: {exc.strerror}") from None
    if digest != expected:
        raise Refused(f"backup {path} does not match the sha256 in its sidecar; it was changed or damaged")
    if meta.get("backend") != settings.dialect:
        raise Refused(f"backup {path} is of a {meta.get('backend')} database, not {settings.dialect}")
    if not _looks_like(path, str(meta.get("format")), settings.dialect):
        raise Refused(
            f"backup {path} is not a {meta.get('format')} {settings.dialect} backup as its sidecar {sidecar.name} says;"
            " the two do not belong together", file=str(path)
        )
    source = identity_of(str(meta.get("database", "")))
    if source != settings.url.identity() and not force:
        raise Refused(
            f"backup {path} was taken from another database ({meta.get('database')}), not {settings.url.masked()};"
            " pass --force to restore it here anyway", kind="other_database", file=str(path)
        )
    version = meta.get("schema_version")
    if version != 0 and version not in versions and not force:
        raise Refused(
            f"backup {path} is at schema version {version}, which no migration file here has; pass --force to restore it anyway"
        )
    return meta


_NATIVE_MAGIC = {"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}


def _looks_like(path: Path, fmt: str, dialect: str) -> bool:
    """Whether the first bytes of ``path`` are those of a ``fmt`` backup of ``dialect``."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if fmt == "json":
        return head.startswith(b"\x1f\x8b") or head.lstrip().startswith(b"{")
    magic = _NATIVE_MAGIC.get(dialect)
    if magic is not None:
        return head.startswith(magic)
    # a mysqldump script: text, none of the other formats
    return not head.startswith((b"\x1f\x8b", b"{", *_NATIVE_MAGIC.values()))


def restore_into(driver: Any, path: Path, meta: dict[str, Any]) -> None:
    """Replace the database with the backup at ``path`` (the driver makes it atomic)."""
    faults.point("restore")
    try:
        _restore_into(driver, path, meta)
    except OSError as exc:  # the file went away or became unreadable after its checks
        raise OperationFailed(f"restore failed: cannot read the backup {path}: {exc.strerror or exc}") from exc


def _restore_into(driver: Any, path: Path, meta: dict[str, Any]) -> None:
    if meta.get("format") == "json":
        if "json_backup" not in driver.capabilities:
            raise FeatureUnavailable(f"restoring JSON backups of {meta.get('backend')} databases is not available yet")
        from . import portable

        driver.restore_json(portable.read(path))
    else:
        if "native_backup" not in driver.capabilities:
            raise FeatureUnavailable(f"restoring native backups of {meta.get('backend')} databases is not available yet")
        driver.restore_native(path)


def prune(folder: Path, keep: int, identity: str, spare: Iterable[Path] = ()) -> None:
    """Delete the oldest backups of database ``identity`` beyond ``keep``.

    Backups of other databases sharing the folder are not counted and never touched.
    ``spare`` (the backup just written, one about to be restored) and the newest intact
    backup are never deleted, whatever the sidecars' clocks say.
    """
    spared = set(spare)
    mine = [b for b in listed(folder) if identity_of(str(b.get("database", ""))) == identity]
    candidates = [b for b in mine if Path(b["path"]) not in spared]
    doomed = candidates[: max(len(mine) - keep, 0)]
    if not doomed:
        return
    # Usually the newest kept backup is intact and this stops at once; if every kept one
    # is damaged, the newest intact backup among the doomed is spared.
    newest_good = next((b for b in reversed(mine) if inspect(b)["ok"]), None)
    for old in doomed:
        if old is not newest_good:
            _unlink(Path(old["path"]))
            _unlink(_sidecar(Path(old["path"])))
