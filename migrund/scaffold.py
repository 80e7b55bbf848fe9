"""``init`` and ``new``: files written from the templates shipped in the package."""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .config import Settings
from .errors import InvalidInput, OperationFailed
from .loader import FILE_NAME, display
from .model import MAX_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_TEMPLATES = Path(__file__).with_name("templates")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _template(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def _write_new(path: Path, text: str) -> None:
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise OperationFailed(f"cannot write {display(path)}: {exc.strerror}") from exc


def init(folder: Path) -> dict[str, Any]:
    """Scaffold a project in ``folder``; never overwrite anything."""
    created: list[str] = []
    kept: list[str] = []
    config = folder / "config" / "migrund.yaml"
    migrations = folder / "migrations"
    backups = folder / "backups"
    try:
        for made in (config.parent, migrations):
            made.mkdir(parents=True, exist_ok=True)
        if backups.exists():
            kept.append(display(backups))
        else:
            backups.mkdir(mode=0o700, parents=True)
            created.append(display(backups))
    except OSError as exc:
        raise OperationFailed(f"cannot create folders in {display(folder)}: {exc.strerror}") from exc
    if config.exists():
        kept.append(display(config))
    else:
        _write_new(config, _template("migrund.yaml"))
        created.append(display(config))
    if any(FILE_NAME.match(p.name) for p in migrations.iterdir()):
        kept.append(display(migrations))
    else:
        example = migrations / f"{_now().strftime('%Y%m%d%H%M%S')}_create_notes.yaml"
        _write_new(example, _template("example_migration.yaml"))
        created.append(display(example))
    return {"created": created, "kept": kept}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def new_migration(settings: Settings, name: str, description: str, *, python: bool = False) -> Path:
    """Write a migration named ``name`` with the current UTC time as version; return its path.

    A migration written now must sort last: when the folder already holds a higher
    version (written within this second, a clock behind another host's, or another
    tool's longer numbers), the new one goes just above it: a second later when the
    highest is a time, the next number when it is not.
    """
    if not _NAME.match(name):
        raise InvalidInput(f"migration name {name!r} may hold only letters, digits and underscores")
    folder = settings.migrations_dir
    if not folder.is_dir():
        raise InvalidInput(f"migrations folder {display(folder)} does not exist; run `migrund init`")
    highest = 0
    for entry in os.listdir(folder):
        match = FILE_NAME.match(entry)
        if match:
            highest = max(highest, int(match["number"] or match["date"] + match["time"]))
    version = _now().strftime("%Y%m%d%H%M%S")
    if int(version) <= highest:
        try:
            version = (datetime.strptime(str(highest), "%Y%m%d%H%M%S") + timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
        except ValueError:  # not a time: the next number
            version = str(highest + 1)
    if int(version) > MAX_VERSION:
        raise InvalidInput(f"no version above {highest} is left for a new migration (the largest is {MAX_VERSION})")
    description = description or name.replace("_", " ")
    if python:
        path = folder / f"{version}_{name}.py"
        text = _template("migration.py").format(description=json.dumps(description), description_doc=description.replace('"""', "'''"))
    else:
        path = folder / f"{version}_{name}.yaml"
        text = _template("migration.yaml").format(description=json.dumps(description))
    _write_new(path, text)
    return path
