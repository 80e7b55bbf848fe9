"""The configuration: find, read, expand ``${VAR}``, apply ``MIGRUND_*`` overrides, validate.

The settings that come from the environment (``MIGRUND_CONFIG``, ``MIGRUND_DATABASE_URL``,
``MIGRUND_TARGET``, ``${VAR}``) are read here; ``paths`` reads where the state folder is
(``STATE_DIRECTORY``, ``XDG_STATE_HOME``). Elsewhere the environment is only passed on
(client programs) or belongs to the host (``COLUMNS``, systemd's ``NOTIFY_SOCKET``) or
to the tests (``MIGRUND_CRASH_AT``).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .dburl import DatabaseURL, parse_url
from .redact import mask_url, redact
from .errors import ConfigError
from .files import read_regular
from . import paths
from .cache import KeyedCache, content_key
from .record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

MAX_CONFIG_BYTES = 1 << 20
DEFAULT_PLACES = (Path("config/migrund.yaml"), Path("migrund.yaml"))
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TARGET = re.compile(r"^(latest|[0-9]{1,19})$")


@record
class BackupSettings:
    """``backup.*``."""

    dir: Path
    format: str = "native"
    schedule: Optional[str] = None
    timezone: str = "UTC"
    keep: int = 14
    compress: bool = True
    before_rollback: bool = True
    before_risky: bool = True


@record
class SafetySettings:
    """``safety.*``."""

    allow_destructive_rollback: bool = False
    on_checksum_mismatch: str = "fail"
    strict_permissions: bool = True


@record
class DaemonSettings:
    """``daemon.*``."""

    status_file: Path
    debounce_seconds: float = 2.0
    rescan_seconds: float = 60.0
    retry_min_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    http: Optional[str] = None


@record
class Settings:
    """A loaded, validated configuration with every path made absolute."""

    source: Optional[Path]
    base_dir: Path
    url: DatabaseURL
    db_schema: Optional[str]
    migrations_dir: Path
    out_of_order: bool
    target: str
    lock_path: Path
    lock_timeout: float
    backup: BackupSettings
    safety: SafetySettings
    daemon: DaemonSettings
    log_level: str
    log_format: str
    masked: Mapping[str, Any]
    baseline: Optional[str] = None  # migrations.baseline: recorded, not run, at the first start
    ddl_lock_timeout: Optional[float] = None  # database.ddl_lock_timeout: how long a statement waits for a table lock
    ddl_lock_retries: int = 3  # database.ddl_lock_retries: a migration that timed out on a lock is tried again

    @property
    def dialect(self) -> str:
        """``sqlite``, ``postgresql`` or ``mysql``."""
        return self.url.dialect


def find_config(explicit: Optional[str], cwd: Path) -> Optional[Path]:
    """``--config``, else ``$MIGRUND_CONFIG``, else the default places; None when none exists."""
    named = explicit or os.environ.get("MIGRUND_CONFIG")
    if named:
        path = Path(named)
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            raise ConfigError(f"config file {named} does not exist")
        return path
    for place in DEFAULT_PLACES:
        if (cwd / place).is_file():
            return cwd / place
    return None


def load(explicit: Optional[str] = None, *, cwd: Optional[Path] = None) -> Settings:
    """Find and load the config file."""
    cwd = cwd or Path.cwd()
    path = find_config(explicit, cwd)
    if path is None:
        if not os.environ.get("MIGRUND_DATABASE_URL"):
            raise ConfigError(
                "no config file found (looked for --config, $MIGRUND_CONFIG, config/migrund.yaml and migrund.yaml); "
                "run `migrund init` or set MIGRUND_DATABASE_URL"
            )
        return from_mapping({}, base_dir=cwd, config_name="migrund", anchor=cwd, source=None)
    cache = KeyedCache("config", limit=64)
    raw = read_yaml_config(path, cache)
    path = Path(os.path.abspath(path))
    return from_mapping(raw, base_dir=path.parent, config_name=path.stem, anchor=path, source=path, cache=cache)


def read_yaml_config(path: Path, cache: KeyedCache) -> dict:
    """Parse the config file as plain YAML; it must hold a mapping (or nothing)."""
    try:
        raw = read_regular(path, limit=MAX_CONFIG_BYTES)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    key = content_key(b"config-yaml", raw)
    data = cache.get(key)
    if data is not None:
        return data
    from .yamlsafe import load_yaml, YamlProblem

    try:
        data = load_yaml(text)
    except YamlProblem as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping")
    try:
        text_form = json.dumps(data)
        # Kept only without a secret in it: a password written into the config stays in
        # the config (the parse is then paid on every run).
        if json.loads(text_form) == data and mask_url(text_form) == text_form:
            cache.put(key, data)
    except (TypeError, ValueError):
        pass  # not JSON-able (dates and the like): parsed every time
    return data


def expand(value: Any, where: str = "") -> Any:
    """Expand ``${VAR}`` and ``${VAR:-default}`` in every string of ``value``."""
    if isinstance(value, dict):
        return {k: expand(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):

        def substitute(match: re.Match) -> str:
            name, default = match.group(1), match.group(2)
            found = os.environ.get(name)
            if found is None or (found == "" and default is not None):
                if default is None:
                    raise ConfigError(f"config key {where}: environment variable {name} is not set and has no default")
                return default
            return found

        return _VAR.sub(substitute, value)
    return value


def from_mapping(
    raw: Mapping[str, Any],
    *,
    base_dir: Path,
    config_name: str = "migrund",
    anchor: Optional[Path] = None,
    source: Optional[Path] = None,
    cache: Optional[KeyedCache] = None,
) -> Settings:
    """Build Settings from a config mapping; relative paths are taken from ``base_dir``."""
    from .validate import schema_bytes, schema_problems

    data = expand(dict(raw))
    env_url = os.environ.get("MIGRUND_DATABASE_URL")
    if env_url:
        data.setdefault("database", {})
        data["database"] = dict(data["database"] or {}, url=env_url)
    env_target = os.environ.get("MIGRUND_TARGET")
    if env_target:
        data["target"] = env_target
    where = f"config file {source}" if source else "config"
    if env_url or env_target:
        overridden = " and ".join(n for n, v in (("MIGRUND_DATABASE_URL", env_url), ("MIGRUND_TARGET", env_target)) if v)
        where += f" (with {overridden} from the environment)"
    cache = cache or KeyedCache("config", limit=64)
    odd = _non_text_key(data)
    if odd is not None:  # YAML allows `~:` or `3:` as keys; no config key is one
        raise ConfigError(f"{where}: the key {odd[1]!r} {f'under {odd[0]} ' if odd[0] else ''}is not text")
    valid_key = content_key(schema_bytes("config"), json.dumps(data, sort_keys=True, default=repr).encode())
    if cache.get(valid_key) is None:
        problems = schema_problems("config", data, text=_text_of(source))
        if problems:
            raise ConfigError(f"{where} is invalid", details=problems)
        cache.put(valid_key, True)
    cache.save()
    database = data.get("database") or {}
    if not database.get("url"):
        raise ConfigError(f"{where} gives no database.url (set it, or MIGRUND_DATABASE_URL)")
    target = str(data.get("target", "latest"))
    if not _TARGET.match(target):
        raise ConfigError(f"{where}: target {target!r} must be latest, 0 or a migration's version")
    url = parse_url(database["url"], base_dir)

    def path_of(value: Optional[str], default: Path) -> Path:
        if not value:
            return default
        p = Path(value)
        return Path(os.path.normpath(p if p.is_absolute() else base_dir / p))

    anchor = anchor or base_dir
    lock = data.get("lock") or {}
    if url.path is not None:
        default_lock = url.path.with_name(url.path.name + ".migrund.lock")
    else:
        default_lock = paths.state_file(config_name, anchor, ".lock")
    backup = dict(data.get("backup") or {})
    backup_dir = path_of(backup.pop("dir", None), base_dir / "backups")
    daemon = dict(data.get("daemon") or {})
    status_file = path_of(daemon.pop("status_file", None), paths.state_file(config_name, anchor, ".status.json"))
    logging_cfg = data.get("logging") or {}
    migrations = data.get("migrations") or {}
    migrations_dir = path_of(migrations.get("path"), base_dir / "migrations")
    lock_path = path_of(lock.get("path"), default_lock)
    http = daemon.get("http")
    if http:
        port = int(http.rpartition(":")[2])  # the schema holds it to host:digits
        if not 0 < port < 65536:
            line = key_line(source, ["daemon", "http"])
            raise ConfigError(
                f"{where}: daemon.http port {port}{f' (line {line})' if line else ''} is out of range (1-65535)", key="daemon.http", line=line
            )
    _check_places(where, url, source, migrations_dir, {"lock.path": lock_path, "daemon.status_file": status_file}, backup_dir)
    return Settings(
        source=source,
        base_dir=base_dir,
        url=url,
        db_schema=database.get("schema"),
        migrations_dir=migrations_dir,
        out_of_order=bool(migrations.get("out_of_order", False)),
        baseline=None if migrations.get("baseline") is None else str(migrations["baseline"]),
        ddl_lock_timeout=None if database.get("ddl_lock_timeout") is None else float(database["ddl_lock_timeout"]),
        ddl_lock_retries=int(database.get("ddl_lock_retries", 3)),
        target=target,
        lock_path=lock_path,
        lock_timeout=float(lock.get("timeout", 60)),
        backup=BackupSettings(dir=backup_dir, **backup),
        safety=SafetySettings(**(data.get("safety") or {})),
        daemon=DaemonSettings(status_file=status_file, **daemon),
        log_level=logging_cfg.get("level", "info"),
        log_format=logging_cfg.get("format", "text"),
        masked=_masked(data),
    )


def _text_of(source: Optional[Path]) -> Optional[str]:
    """The config file's text, for line numbers in an error (read again: errors are rare)."""
    try:
        return source.read_text(encoding="utf-8") if source else None
    except (OSError, UnicodeDecodeError):
        return None


def key_line(source: Optional[Path], path: list[str]) -> Optional[int]:
    """The line of the key at ``path`` in the config file ``source``, when it can be told."""
    from .validate import line_of

    return line_of(_text_of(source), path)


def _check_places(
    where: str, url: DatabaseURL, source: Optional[Path], migrations_dir: Path, written: Mapping[str, Path], backup_dir: Path
) -> None:
    """Refuse files migrund writes that would land on the database, the config or the migrations.

    A lock file on the database truncates it; a status file there replaces it; either in
    the migrations folder is a file event for every write (the daemon would never rest).
    Symbolic links are followed, so a link cannot disguise one place as another.
    """
    real = os.path.realpath
    folder = real(migrations_dir)
    guarded: dict[str, str] = {}
    if url.path is not None:
        database = real(url.path)
        for suffix in ("", "-wal", "-shm", "-journal"):
            guarded[database + suffix] = "the database file"
    if source is not None:
        guarded[real(source)] = "the config file"

    def refuse(key: str, path: Path, what: str) -> None:
        raise ConfigError(f"{where}: {key} {path} is {what}; migrund would overwrite it", key=key)

    seen: dict[str, str] = {}
    for key, path in written.items():
        place = real(path)
        if place in guarded:
            refuse(key, path, guarded[place])
        if place == folder or place.startswith(folder + os.sep):
            refuse(key, path, f"inside the migrations folder {migrations_dir}")
        if place in seen:
            refuse(key, path, f"also {seen[place]}")
        if os.path.exists(place) and not os.path.isfile(place):  # a folder, a FIFO, a device
            raise ConfigError(f"{where}: {key} {path} is not a regular file; name a file", key=key)
        seen[place] = key
    backups = real(backup_dir)
    if backups == folder or backups.startswith(folder + os.sep) or folder.startswith(backups + os.sep):
        raise ConfigError(f"{where}: backup.dir {backup_dir} overlaps the migrations folder {migrations_dir}", key="backup.dir")
    if backups in guarded or backups in seen:
        refuse("backup.dir", backup_dir, guarded.get(backups) or seen[backups])


def _non_text_key(value: Any, path: str = "") -> Optional[tuple[str, Any]]:
    """(where, key) of the first mapping key that is not a string, or None."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str):
                return path, key
            found = _non_text_key(inner, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found = _non_text_key(inner, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value
