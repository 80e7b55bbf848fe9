"""Another tool's migration folder read as migrund migrations: each tool's file layout, markers and versions.

Pure: file names and texts in, ``Converted`` migrations and ``Unmapped`` reports out.
Nothing a tool would run is dropped without a report naming its file and line.
"""
from __future__ import annotations

import re

from ..model import MAX_VERSION
from ..record import record
from . import statements

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterable, Iterator, Mapping, Optional

TOOLS = ("golang-migrate", "dbmate", "flyway", "goose", "sql")
TITLES = {"golang-migrate": "golang-migrate", "dbmate": "dbmate", "flyway": "Flyway", "goose": "goose", "sql": "plain SQL"}


@record
class Converted:
    """One migration as migrund will hold it, with where it came from and what the import did to it."""

    version: int
    label: str  # the version as the tool writes it (``1.2`` for Flyway, ``00005`` for goose)
    name: str
    sources: tuple[str, ...]  # the tool's files it was made from
    description: str
    up: str
    down: Optional[str]
    transaction: bool
    notes: tuple[str, ...]  # each thing the import changed or inferred, said in the file too


@record
class Unmapped:
    """Something in the tool's folder that has no migrund equivalent: not imported."""

    file: str
    line: Optional[int]
    reason: str

    def __str__(self) -> str:
        return f"{self.file}{f':{self.line}' if self.line else ''}: {self.reason}"


class Conversion:
    """The result of reading one folder: migrations by version, and what could not be mapped."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.migrations: list[Converted] = []
        self.unmapped: list[Unmapped] = []


# A piece is what a tool's files say about one version before the shared checks:
# (label, number, name, sources, up, down, transaction, notes, description)
_Piece = tuple


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _name(raw: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", raw).strip("_")
    return cleaned or "migration"


# -- golang-migrate: VERSION_title.up.sql and VERSION_title.down.sql -----------------------

_GOLANG = re.compile(r"^(\d+)_(.*)\.(up|down)\.([^.]+)$")


def _golang_migrate(files: Mapping[str, str], found: Conversion, dialect: str) -> list[_Piece]:
    by_version: dict[int, dict[str, tuple[str, str, str]]] = {}
    for name, text in files.items():
        match = _GOLANG.match(name)
        if match is None:
            found.unmapped.append(Unmapped(name, None, "not named VERSION_title.up.sql or VERSION_title.down.sql: not a golang-migrate migration"))
            continue
        digits, title, direction, ext = match.groups()
        if ext != "sql":
            found.unmapped.append(Unmapped(name, None, f"a .{ext} migration: only SQL files can be imported"))
            continue
        slot = by_version.setdefault(int(digits), {})
        if direction in slot:
            found.unmapped.append(Unmapped(name, None, f"a second {direction} file for version {int(digits)} (beside {slot[direction][2]})"))
            continue
        slot[direction] = (digits, title, name)
    pieces = []
    for number, slot in sorted(by_version.items()):
        if "up" not in slot:
            found.unmapped.append(Unmapped(slot["down"][2], None, f"a down file without an up file for version {number}"))
            continue
        digits, title, up_name = slot["up"]
        down_name = slot["down"][2] if "down" in slot else None
        sources = (up_name,) + ((down_name,) if down_name else ())
        pieces.append((digits, number, title, sources, files[up_name], files[down_name] if down_name else None, True, (), title))
    return pieces


# -- dbmate: VERSION_name.sql with -- migrate:up / -- migrate:down -------------------------

_DBMATE_FILE = re.compile(r"^(\d+)_?(.*)\.sql$")
_DBMATE_MARK = re.compile(r"^--\s*migrate:(up|down)([^\n]*)$", re.MULTILINE)


def _named(files: Mapping[str, str], pattern: re.Pattern, found: Conversion, tool: str) -> Iterator[tuple[str, str, re.Match]]:
    """Each file whose name ``pattern`` matches, in name order; the others reported as not the tool's."""
    for name, text in sorted(files.items()):
        match = pattern.match(name)
        if match is None:
            found.unmapped.append(Unmapped(name, None, f"not named VERSION_name.sql: not a {tool} migration"))
        else:
            yield name, text, match


def _comment_only(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())


def _dbmate(files: Mapping[str, str], found: Conversion, dialect: str) -> list[_Piece]:
    pieces = []
    for name, text, match in _named(files, _DBMATE_FILE, found, "dbmate"):
        marks = list(_DBMATE_MARK.finditer(text))
        kinds = [m.group(1) for m in marks]
        if kinds not in (["up"], ["up", "down"]):
            line = _line(text, marks[0].start()) if marks else None
            found.unmapped.append(Unmapped(name, line, "needs one '-- migrate:up' and at most one '-- migrate:down' after it"))
            continue
        if not _comment_only(text[:marks[0].start()]):
            found.unmapped.append(Unmapped(name, 1, "SQL before '-- migrate:up': dbmate runs no such text"))
            continue
        transaction, notes, bad = True, [], None
        for mark in marks:
            for option in mark.group(2).split():
                if option == "transaction:false":
                    transaction = False
                    notes.append(f"dbmate: '-- migrate:{mark.group(1)} transaction:false' (runs outside a transaction)")
                elif option != "transaction:true":
                    bad = Unmapped(name, _line(text, mark.start()), f"unknown dbmate option {option!r}")
        if bad is not None:
            found.unmapped.append(bad)
            continue
        up_end = marks[1].start() if len(marks) > 1 else len(text)
        up = text[marks[0].end():up_end]
        down = text[marks[1].end():] if len(marks) > 1 else None
        pieces.append((match.group(1), int(match.group(1)), match.group(2), (name,), up, down, transaction, tuple(dict.fromkeys(notes)), match.group(2)))
    return pieces


# -- goose: VERSION_name.sql with -- +goose annotations ------------------------------------

_GOOSE_FILE = re.compile(r"^(\d+)_(.*)\.(sql|go)$")
_GOOSE_MARK = re.compile(r"^--\s*\+goose\s+([^\n]*?)\s*$", re.MULTILINE | re.IGNORECASE)


def _goose(files: Mapping[str, str], found: Conversion, dialect: str) -> list[_Piece]:
    pieces = []
    for name, text, match in _named(files, _GOOSE_FILE, found, "goose"):
        if match.group(3) == "go":
            found.unmapped.append(Unmapped(name, None, "a Go migration: its code cannot be imported; rewrite it as SQL or a Python migration"))
            continue
        sections: dict[str, list[str]] = {}
        current: Optional[str] = None
        transaction, bad = True, None
        position = 0
        for mark in _GOOSE_MARK.finditer(text):
            if current is not None:
                sections[current].append(text[position:mark.start()])
            position = mark.end()
            word = " ".join(mark.group(1).upper().split())
            if word in ("UP", "DOWN"):
                if word.lower() in sections:
                    bad = Unmapped(name, _line(text, mark.start()), f"a second '-- +goose {mark.group(1)}'")
                    break
                current = word.lower()
                sections[current] = []
            elif word == "NO TRANSACTION":
                transaction = False
            elif word in ("STATEMENTBEGIN", "STATEMENTEND", "ENVSUB OFF"):
                pass  # migrund's splitter finds statement ends itself (dollar quotes, BEGIN ... END bodies)
            elif word == "ENVSUB ON":
                bad = Unmapped(name, _line(text, mark.start()), "'-- +goose ENVSUB ON' substitutes environment variables; migrund runs SQL as written")
                break
            else:
                bad = Unmapped(name, _line(text, mark.start()), f"unknown goose annotation '{mark.group(1)}'")
                break
        if bad is not None:
            found.unmapped.append(bad)
            continue
        if current is not None:
            sections[current].append(text[position:])
        if "up" not in sections:
            found.unmapped.append(Unmapped(name, None, "no '-- +goose Up' annotation"))
            continue
        notes = ("goose: '-- +goose NO TRANSACTION' (runs outside a transaction)",) if not transaction else ()
        down = "".join(sections["down"]) if "down" in sections else None
        pieces.append((match.group(1), int(match.group(1)), match.group(2), (name,), "".join(sections["up"]), down, transaction, notes, match.group(2)))
    return pieces


# -- Flyway: V<version>__<description>.sql, U<version>__... (undo), R__... (repeatable) ------

_FLYWAY_FILE = re.compile(r"^([VU])(\d+(?:[._]\d+)*)__(.+)\.sql$")
_FLYWAY_OTHER = (
    (re.compile(r"^R__.+\.sql$"), "a repeatable migration (run again whenever it changes): migrund has none; keep it as a versioned migration"),
    (re.compile(r"^B\d.*__.+\.sql$"), "a Flyway baseline migration: import the versioned ones, then use `migrund baseline`"),
    (re.compile(r"\.(java|kt|class|scala|groovy)$"), "a Java-based migration: its code cannot be imported; rewrite it as SQL or a Python migration"),
)
_FLYWAY_CONF = re.compile(r"^([VU]\d+(?:[._]\d+)*__.+\.sql)\.conf$")
_PLACEHOLDER = re.compile(r"\$\{[^}\n]*\}")


def flyway_parts(label: str) -> tuple[int, ...]:
    """A Flyway version as Flyway compares it: numbers by part, trailing zeros dropped (1.0 is 1)."""
    parts = [int(p) for p in re.split(r"[._]", label)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def flyway_numbers(labels: Iterable[str]) -> dict[str, int]:
    """Each Flyway version as a migrund version, in the same order: parts after the first padded to a fixed width.

    1, 1.1, 1.2, 2 and 10.3 become 10, 11, 12, 20 and 103: the first part leads, every
    later part takes as many digits as its widest value in the folder.
    """
    parts = {label: flyway_parts(label) for label in labels}
    depth = max((len(p) for p in parts.values()), default=1)
    widths = [max((len(str(p[i])) for p in parts.values() if len(p) > i), default=1) for i in range(depth)]
    return {
        label: int(str(p[0]) + "".join(str(p[i] if i < len(p) else 0).zfill(widths[i]) for i in range(1, depth)))
        for label, p in parts.items()
    }


def _flyway_conf(text: str, name: str, found: Conversion) -> Optional[bool]:
    """``executeInTransaction`` from a script's .conf file (None: not set); other keys are reported."""
    transaction = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if key.strip() == "executeInTransaction" and value.strip().lower() in ("true", "false"):
            transaction = value.strip().lower() == "true"
        elif key.strip() != "encoding" or value.strip().upper() not in ("UTF-8", "UTF8"):
            found.unmapped.append(Unmapped(name, number, f"script setting {line!r} has no migrund equivalent"))
    return transaction


def _flyway(files: Mapping[str, str], found: Conversion, dialect: str) -> list[_Piece]:
    scripts: dict[tuple[int, ...], dict[str, tuple[str, str, str]]] = {}
    confs: dict[str, str] = {}
    for name, text in sorted(files.items()):
        base = name.rsplit("/", 1)[-1]
        conf = _FLYWAY_CONF.match(base)
        if conf is not None:
            confs[conf.group(1)] = name
            continue
        match = _FLYWAY_FILE.match(base)
        if match is None:
            reason = next((why for pattern, why in _FLYWAY_OTHER if pattern.search(base)), "not named V<version>__<description>.sql: not a Flyway migration")
            found.unmapped.append(Unmapped(name, None, reason))
            continue
        prefix, label, description = match.groups()
        label = label.replace("_", ".")
        placeholder = _PLACEHOLDER.search(text)
        if placeholder is not None:
            found.unmapped.append(Unmapped(name, _line(text, placeholder.start()),
                                           f"Flyway placeholder {placeholder.group(0)}: migrund runs SQL as written; put the value in the file"))
            continue
        slot = scripts.setdefault(flyway_parts(label), {})
        if prefix in slot:
            found.unmapped.append(Unmapped(name, None, f"version {label} is also {slot[prefix][2]} (Flyway reads 1.0 as 1)"))
            continue
        slot[prefix] = (label, description, name)
    numbers = flyway_numbers(slot["V"][0] for slot in scripts.values() if "V" in slot)
    pieces = []
    for key in sorted(scripts):
        slot = scripts[key]
        if "V" not in slot:
            found.unmapped.append(Unmapped(slot["U"][2], None, f"an undo migration without its versioned migration {slot['U'][0]}"))
            continue
        label, description, up_name = slot["V"]
        down_name = slot["U"][2] if "U" in slot else None
        transaction, notes = True, []
        for script in (up_name, down_name):
            conf_name = confs.pop(script.rsplit("/", 1)[-1], None) if script else None
            if conf_name is not None:
                setting = _flyway_conf(files[conf_name], conf_name, found)
                if setting is False:
                    transaction = False
                    notes.append(f"Flyway: executeInTransaction=false in {conf_name}")
        sources = (up_name,) + ((down_name,) if down_name else ())
        pieces.append((label, numbers[label], description, sources, files[up_name], files[down_name] if down_name else None,
                       transaction, tuple(notes), description))
    for script, conf_name in confs.items():
        found.unmapped.append(Unmapped(conf_name, None, f"settings for {script}, which is not a versioned migration here"))
    return pieces


# -- plain SQL: NNN_name.sql, one up each ---------------------------------------------------

_SQL_FILE = re.compile(r"^(\d+)[_-]?(.*)\.sql$")


def _plain_sql(files: Mapping[str, str], found: Conversion, dialect: str) -> list[_Piece]:
    pieces = []
    for name, text in sorted(files.items()):
        match = _SQL_FILE.match(name)
        if match is None or name.endswith((".up.sql", ".down.sql")):
            reason = ("an up/down pair: import the folder with --from golang-migrate" if match is not None
                      else "no version number at the start of its name: rename it NNN_name.sql")
            found.unmapped.append(Unmapped(name, None, reason))
            continue
        pieces.append((match.group(1), int(match.group(1)), match.group(2), (name,), text, None, True, (), match.group(2)))
    return pieces


_READERS: dict[str, Callable[[Mapping[str, str], Conversion, str], list[_Piece]]] = {
    "golang-migrate": _golang_migrate, "dbmate": _dbmate, "flyway": _flyway, "goose": _goose, "sql": _plain_sql,
}


def convert(tool: str, files: Mapping[str, str], dialect: str) -> Conversion:
    """Read ``files`` (name -> text; Flyway's may sit in subfolders, ``a/b.sql``) as ``tool`` writes them, for ``dialect``."""
    found = Conversion(tool)
    seen: dict[int, str] = {}
    for label, number, raw_name, sources, up, down, transaction, notes, description in _READERS[tool](files, found, dialect):
        if number == 0 or number > MAX_VERSION:
            found.unmapped.append(Unmapped(sources[0], None, f"version {label} cannot be a migrund version (1 to {MAX_VERSION})"))
            continue
        if number in seen:
            found.unmapped.append(Unmapped(sources[0], None, f"version {number} is also {seen[number]}"))
            continue
        notes = list(notes)
        texts: list[Optional[str]] = []
        refused = False
        for index, text in enumerate((up, down)):
            source = sources[min(index, len(sources) - 1)]  # dbmate and goose: both directions in one file
            if text is None:
                texts.append(None)
                continue
            text = text.replace("\r\n", "\n")
            kept, control = statements.strip_own_transaction(text, dialect)
            if control is not None:
                found.unmapped.append(Unmapped(source, control[0] + _offset(files[source], text),
                                               f"{control[1]} inside the migration would end migrund's transaction midway"))
                refused = True
                break
            if kept != text:
                notes.append(f"its own BEGIN/COMMIT in {source} left out: migrund runs each migration in one transaction")
            texts.append(kept)
        if refused:
            continue
        if transaction:
            for text in texts:
                outside = statements.outside_transaction(text, dialect) if text else None
                if outside is not None:
                    transaction = False
                    notes.append(f"runs outside a transaction: {' '.join(outside.split()[:5])} cannot run inside one")
                    break
        seen[number] = sources[0]
        found.migrations.append(Converted(number, label, _name(raw_name), sources, description.replace("_", " ").strip(), texts[0] or "",
                                          texts[1], transaction, tuple(notes)))
    found.migrations.sort(key=lambda m: m.version)
    return found


def _offset(whole: str, section: str) -> int:
    """Lines before ``section`` in its file (a dbmate or goose section starts below line 1)."""
    at = whole.replace("\r\n", "\n").find(section)
    return whole.count("\n", 0, at) if at > 0 else 0
