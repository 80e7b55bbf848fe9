"""The Kratos corpus (../shared/corpus/kratos) as migrund YAML, and its raw SQL run directly.

Conversion follows the corpus NOTICE: one YAML migration per version with per-dialect
``sql`` maps; the exact dialect's file wins over the generic one; a dialect with no file
runs nothing; ``.autocommit`` files run with ``transaction: false``. The 20-digit versions
become consecutive 14-digit ones, keeping their order.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import CORPUS

SQL_DIR = CORPUS / "kratos" / "sql"
_NAME = re.compile(r"^(\d+)_([^.]+)(\.[a-z0-9]+)?(\.autocommit)?\.(up|down)\.sql$")
_DIALECTS = {"sqlite3": "sqlite", "sqlite": "sqlite", "postgres": "postgresql", "mysql": "mysql", None: "default"}
FIRST_VERSION = 20000101000000


@dataclass
class Version:
    """All files of one corpus version."""

    number: int
    name: str
    files: dict = field(default_factory=dict)  # (direction, dialect) -> (text, autocommit)

    def chosen(self, direction: str, dialect: str):
        """The file a ``dialect`` database runs: its own, else the generic one, else None."""
        return self.files.get((direction, dialect)) or self.files.get((direction, "default"))


def versions() -> list[Version]:
    """Every corpus version in order."""
    found: dict[int, Version] = {}
    for path in sorted(SQL_DIR.iterdir()):
        match = _NAME.match(path.name)
        assert match, path.name
        number, name, dialect, autocommit, direction = match.groups()
        if dialect == ".autocommit":  # the generic autocommit form: no dialect
            dialect, autocommit = None, ".autocommit"
        version = found.setdefault(int(number), Version(int(number), name))
        key = (direction, _DIALECTS[dialect.lstrip(".") if dialect else None])
        version.files[key] = (path.read_text(), bool(autocommit))
    return [found[n] for n in sorted(found)]


def _sql(text: str) -> str:
    return text if text.strip() else "-- empty in the corpus\n"


def write_yaml(dest: Path, dialect: str) -> list[int]:
    """Write one YAML migration per version into ``dest``; return the migrund versions."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for index, version in enumerate(versions()):
        number = FIRST_VERSION + index
        doc: dict = {"description": f"kratos {version.number} {version.name}"}
        chosen_up = version.chosen("up", dialect)
        if chosen_up and chosen_up[1]:
            doc["transaction"] = False
        for direction in ("up", "down"):
            sql = {d: _sql(text) for (dr, d), (text, _) in version.files.items() if dr == direction}
            sql.setdefault("default", "-- nothing for this dialect\n")
            doc[direction] = [{"sql": sql}]
        # JSON is YAML: the corpus text passes through unchanged.
        (dest / f"{number}_{version.name}.yaml").write_text(json.dumps(doc, indent=1) + "\n")
        written.append(number)
    return written


def raw_script(direction: str, dialect: str, count: int | None = None) -> list[tuple[str, bool]]:
    """The raw SQL texts a ``dialect`` database runs (the first ``count`` versions), in order."""
    ordered = versions()[:count]
    ordered = ordered if direction == "up" else list(reversed(ordered))
    return [chosen for v in ordered if (chosen := v.chosen(direction, dialect)) and chosen[0].strip()]
