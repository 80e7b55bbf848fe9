"""What to tell an operator about a file in the migrations folder that is not a migration.

A folder of another tool's files, or a migration with a misspelt extension, must not
pass as "nothing to do": each such file is named with what to do about it, and a folder
that holds files but no migration is an error.
"""
from __future__ import annotations

import re

# Another tool's naming, by the habits each documents, and the import that converts it.
_TOOLS = (
    ("golang-migrate", re.compile(r"^\d+_[\w-]+\.(up|down)\.sql$"), "`migrund import --from golang-migrate DIR`"),
    ("Flyway", re.compile(r"^[VUR](\d+([._]\d+)*)?__[\w-]+\.sql$"), "`migrund import --from flyway DIR`"),
    ("goose or dbmate", re.compile(r"^\d+_[\w-]+\.(sql|go)$"), "`migrund import --from goose DIR` (or `--from dbmate`)"),
)
_NEAR_EXTENSIONS = re.compile(r"\.(yam|ymal|yml~|yaml\.txt|ysml|yaml\.bak|jaml|pyc|py\.txt|json)$", re.IGNORECASE)
_MIGRATION_NAME = re.compile(r"^[0-9]{8}_?[0-9]{6}_[A-Za-z0-9_]+$")


def advice(name: str) -> str:
    """One sentence saying what ``name`` looks like and what to do about it."""
    for tool, pattern, command in _TOOLS:
        if pattern.match(name):
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
