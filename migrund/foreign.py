"""What to tell an operator about a file in the migrations folder that is not a migration.

A folder of another tool's files, or a migration with a misspelt extension, must not
pass as "nothing to do": each such file is named with what to do about it, and a folder
that holds files but no migration is an error.
"""
from __future__ import annotations

import re
from types import MappingProxyType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping

# Another tool's naming, by the habits each documents, and the import that converts it.
_TOOLS = (
    ("golang-migrate", re.compile(r"^\d+_[\w-]+\.(up|down)\.sql$"), "`migrund import --from golang-migrate DIR`"),
    ("Flyway", re.compile(r"^[VUR](\d+([._]\d+)*)?__[\w-]+\.sql$"), "`migrund import --from flyway DIR`"),
    ("goose or dbmate", re.compile(r"^\d+_[\w-]+\.(sql|go)$"), "`migrund import --from goose DIR` (or `--from dbmate`)"),
)
_LEADING_NUMBER = re.compile(r"^(\d+)_")
_NEAR_EXTENSIONS = re.compile(r"\.(yam|ymal|yml~|yaml\.txt|ysml|yaml\.bak|jaml|pyc|py\.txt|json)$", re.IGNORECASE)
_MIGRATION_NAME = re.compile(r"^[0-9]+_[A-Za-z0-9_]+$")


def advice(name: str, migrations: Mapping[int, Any] = MappingProxyType({})) -> str:
    """One sentence saying what ``name`` looks like and what to do about it (``migrations``: the folder's, by version)."""
    for tool, pattern, command in _TOOLS:
        if pattern.match(name):
            number = _LEADING_NUMBER.match(name)
            if number is not None and int(number[1]) in migrations:  # converted in place: the tool's file has done its work
                return f"a {tool} migration already imported as {migrations[int(number[1])].filename}: remove it once the switch is done"
            return (f"looks like a {tool} migration; migrund reads YAML or Python migrations (VERSION_name.yaml):"
                    f" convert the folder with {command}")
    if name.lower().endswith(".sql"):
        return ("is plain SQL; migrund reads YAML or Python migrations (VERSION_name.yaml): convert NNN_name.sql files"
                " with `migrund import --from sql DIR`, or put the SQL under `up: - sql: |`")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    if _NEAR_EXTENSIONS.search(name) or (_MIGRATION_NAME.match(stem) and stem != name):
        return "has a migration's name but not its extension: rename it to .yaml (or .py)"
    return "is not a migration: move it out of the migrations folder (names starting with '.' are skipped silently)"


def no_migrations(folder: str, names: list[str]) -> str:
    """The error for a folder that holds files but not one migration."""
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"migrations folder {folder} holds {len(names)} file(s) but no migration ({shown}); see the warnings above for each"
