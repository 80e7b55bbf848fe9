"""An imported migration as a migrund YAML file: a header saying where it came from, then its SQL as written."""
from __future__ import annotations

import re

from ..loader import FILE_NAME
from ..yamlsafe import YamlProblem, load_yaml
from .sources import TITLES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .sources import Converted

_PRINTABLE = re.compile(r"^[^\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff]*$")


def file_name(migration: Converted) -> str:
    """``VERSION_name.yaml``, with the tool's own digits when they read back as the same version."""
    digits = migration.label if migration.label.isdigit() and int(migration.label) == migration.version else str(migration.version)
    for candidate in (f"{digits}_{migration.name}.yaml", f"{digits}__{migration.name}.yaml"):
        match = FILE_NAME.match(candidate)
        # 20230101_120000_x would read as a 14-digit time: the second underscore keeps the number whole
        if match is not None and int(match["number"] or match["date"] + match["time"]) == migration.version:
            return candidate
    return f"{migration.version}__{migration.name}.yaml"


def _quoted(value: str) -> str:
    """``value`` as a YAML double-quoted scalar on one line (escapes for what YAML cannot hold as is)."""
    import yaml

    dumped: str = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=1 << 30)
    return dumped.removesuffix("\n...\n").rstrip("\n")


def _block(sql: str) -> list[str]:
    """One ``sql`` step; a literal block where the text allows it (checked by reading it back), else a quoted string."""
    text = sql.strip("\n")
    if not text.strip():
        text = "-- (no statements)"
    if _PRINTABLE.match(text) and not text.endswith((" ", "\t")):
        indicator = "2" if text[0] in " \t" else ""
        candidate = [f"  - sql: |{indicator}"] + [f"      {line}" if line else "" for line in text.split("\n")]
        try:
            if load_yaml("up:\n" + "\n".join(candidate) + "\n") == {"up": [{"sql": text + "\n"}]}:
                return candidate
        except YamlProblem:
            pass
    return [f"  - sql: {_quoted(text + chr(10))}"]


def yaml_text(migration: Converted, tool: str) -> str:
    """The YAML migration file for ``migration`` imported from ``tool``."""
    title = TITLES[tool]
    lines = [f"# Imported by `migrund import --from {tool}` from {', '.join(migration.sources)}."]
    if migration.label != str(migration.version) and not migration.label.isdigit():
        lines.append(f"# {title} version {migration.label} is migrund version {migration.version} (the order of versions is kept).")
    lines.extend(f"# {note}" for note in migration.notes)
    if migration.description:
        lines.append(f"description: {_quoted(migration.description)}")
    if not migration.transaction:
        lines.append("transaction: false")
    lines.append("up:")
    lines.extend(_block(migration.up))
    if migration.down is not None:
        lines.append("down:")
        lines.extend(_block(migration.down))
    return "\n".join(lines) + "\n"
