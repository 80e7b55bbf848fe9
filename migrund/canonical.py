"""What runs, apart from how it is written: so that cosmetic edits of an applied file block nothing.

Two versions of a migration are the same when their canonical forms are: YAML read as
data (so comments, quoting, indentation and key order do not count), and every text
(SQL, hook and module source) with line endings made ``\\n``, trailing blanks removed,
and, in SQL, lines that hold only a ``--`` comment dropped. Anything else, a changed
statement, flag or step, is still a change. The exact-bytes checksum is kept and shown.
"""
from __future__ import annotations

import hashlib
import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping


def _text(text: str, *, sql: bool) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if sql:
        lines = [line for line in lines if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip("\n")


def _document(value: Any) -> Any:
    """A YAML migration's data with every string (SQL, descriptions) in its canonical form."""
    if isinstance(value, str):
        return _text(value, sql=True)
    if isinstance(value, dict):
        return {str(k): _document(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_document(v) for v in value]
    return value


def fingerprint(files: Mapping[str, str]) -> str:
    """The SHA-256 of what a migration's files (path -> text, the migration first) run, not of how they are written."""
    canonical: dict[str, Any] = {}
    for path, text in files.items():
        if path.endswith((".yaml", ".yml")):
            from .yamlsafe import YamlProblem, load_yaml

            try:
                canonical[path] = _document(load_yaml(text))
            except YamlProblem:
                canonical[path] = _text(text, sql=False)
        else:
            canonical[path] = _text(text, sql=False)
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
