"""Migrations folder -> files (scan) -> validated definitions (define).

``scan`` reads each file once and checksums it with its hooks; ``define`` parses and
validates one file into a ``Migration``. Files whose checksum matches the history were
valid when applied and are only parsed when one of their steps is needed.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from . import foreign, hooks, sql
from .cache import KeyedCache
from .model import MAX_VERSION, Migration, SourceFile, Step, dialect_sql
from .validate import format_path, line_of, schema_bytes, schema_problems
from .yamlsafe import YamlProblem, load_yaml

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Container, Literal, Mapping, Optional

# ASCII digits only: \d would also take other scripts' digits, which int() reads as numbers.
# The 14-digit time form (with its optional underscore) is tried first; any other run of
# digits is a plain version (1, 2, 3, as other tools number them).
FILE_NAME = re.compile(
    r"^(?:(?P<date>[0-9]{8})_?(?P<time>[0-9]{6})|(?P<number>[0-9]{1,19}))_(?P<name>[A-Za-z0-9_]+)\.(?P<ext>yaml|yml|py)$"
)
_LOOKS_LIKE_MIGRATION = re.compile(r"^\d.*\.(yaml|yml|py)$")
IGNORED_NAME = re.compile(r"^(\..*|.*~|.*\.swp|.*\.tmp|#.*#)$")
DRAFT_MARK = "# migrund:draft"  # the line `new` writes at the top of a YAML template
_READ_SIZE = 1 << 16  # one read for any migration file of usual size


def _splitter_code() -> bytes:
    try:
        return Path(sql.__file__).read_bytes()
    except OSError:  # no source beside the code (a frozen build): its release stands in
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("migrund").encode()
        except PackageNotFoundError:
            return b"unknown release"


# A cache entry holds a document that passed the schema and the splitter's statements:
# both the schema and the splitter's code are part of its key, beside the file's checksum
# (hooks included: a changed hook only costs one more parse). Read now, with the code this
# process runs, so a package upgraded under a running daemon cannot mislabel entries.
_CACHE_TAG = hashlib.sha256(schema_bytes("migration") + _splitter_code()).hexdigest()[:16]

_PY_META = {
    "VERSION": int,
    "DESCRIPTION": str,
    "DEPENDENCIES": list,
    "DATA_DESTRUCTIVE": bool,
    "RISKY": bool,
    "TRANSACTION": bool,
    "DRAFT": bool,
}


class Scan:
    """What the migrations folder holds: files by version, warnings, and folder-level problems."""

    def __init__(self, folder: Path, cache: Optional[KeyedCache] = None) -> None:
        self.folder = folder
        self.files: dict[int, SourceFile] = {}
        self.warnings: list[str] = []
        self.problems: list[str] = []
        self.foreign: list[str] = []  # names of files that are not migrations (each also a warning)
        self.cache = cache

    def remember(self) -> None:
        """Save the parse cache, keeping only the entries of the files now in the folder."""
        if self.cache is not None and self.cache.loaded:
            self.cache.save(keep=[_CACHE_TAG + f.checksum for f in self.files.values()])


def display(path: Path) -> str:
    """A path as users should see it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def scan(folder: Path, judge: Optional[Callable[[str, os.stat_result], None]] = None) -> Scan:
    """Read the top level of ``folder``: names, versions, bytes, hooks and checksums.

    ``judge`` sees each migration file's status before its bytes are read.
    """
    result = Scan(folder, cache=KeyedCache.for_folder("docs", folder))
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        result.problems.append(f"migrations folder {display(folder)} does not exist")
        return result
    except OSError as exc:
        result.problems.append(f"migrations folder {display(folder)} cannot be read: {exc.strerror}")
        return result
    hook_cache: dict[str, Optional[bytes]] = {}
    names: dict[int, str] = {}
    root: Optional[str] = None
    for entry in entries:
        name = entry.name
        match = FILE_NAME.match(name)
        if match is not None and not entry.is_dir():
            if entry.is_symlink():
                root = root or os.path.realpath(folder)
                if not os.path.realpath(entry.path).startswith(root + os.sep):
                    result.problems.append(f"{display(folder / name)}: is a symbolic link leading outside the migrations folder")
                    continue
            if not entry.is_file():  # a FIFO, socket or device would block or never end
                result.problems.append(f"{display(folder / name)}: is not a regular file; only regular files are read")
                continue
        if match is None or entry.is_dir():
            if IGNORED_NAME.match(name) or entry.is_dir():
                continue
            if _LOOKS_LIKE_MIGRATION.match(name):
                result.problems.append(
                    f"{display(folder / name)}: bad version in the file name; use VERSION_name.yaml, VERSION being digits"
                    " (YYYYMMDDHHMMSS as `migrund new` writes, or 1, 2, 3...)"
                )
            else:
                result.foreign.append(name)
            continue
        version = int(match["number"] or match["date"] + match["time"])
        if version > MAX_VERSION:
            result.problems.append(f"{display(folder / name)}: version {version} is above the largest a history row holds ({MAX_VERSION})")
            continue
        if version == 0:
            result.problems.append(f"{display(folder / name)}: version 0 is reserved for the empty database")
            continue
        if version in names:
            result.problems.append(
                f"{display(folder / name)}: version {version} is also used by {display(folder / names[version])}"
            )
            continue
        try:
            data = _read(entry.path, judge)
            text = data.decode("utf-8")
        except OSError as exc:
            result.problems.append(f"{display(folder / name)}: cannot be read: {exc.strerror}")
            continue
        except UnicodeDecodeError:
            result.problems.append(f"{display(folder / name)}: is not UTF-8 text")
            continue
        names[version] = name
        kind: Literal["yaml", "py"] = "py" if match["ext"] == "py" else "yaml"
        refs = _hook_references(data, text) if kind == "yaml" else ()
        digest = hashlib.sha256(data)
        body = {name: text}
        for ref in refs:
            content = _read_hook(folder, ref, hook_cache)
            if content is not None:
                digest.update(content)
                body[ref] = content.decode("utf-8", "replace")
        result.files[version] = SourceFile(version, match["name"], name, kind, data, refs, digest.hexdigest(), body)
    for name in result.foreign:
        result.warnings.append(f"{display(folder / name)}: ignored: {foreign.advice(name, result.files)}")
    if result.foreign and not result.files:
        result.problems.append(foreign.no_migrations(display(folder), result.foreign))
    result.files = dict(sorted(result.files.items()))
    return result


def _read(path: str, judge: Optional[Callable[[str, os.stat_result], None]]) -> bytes:
    # os-level calls: half the cost of open() with its buffered reader, for thousands of
    # files; and a status only when strict permissions ask for one.
    # O_NONBLOCK: a file swapped for a FIFO after the scan's check cannot hang the open
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if judge is not None:
            judge(path, os.fstat(fd))
        data = os.read(fd, _READ_SIZE)
        if len(data) < _READ_SIZE:
            return data  # a short read of a regular file is its end
        chunks = [data]
        while chunks[-1]:
            chunks.append(os.read(fd, _READ_SIZE))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _hook_references(data: bytes, text: str) -> tuple[str, ...]:
    # Without the word "python" and without backslash escapes, no key can spell it:
    # such a file has no hooks, and is not parsed here at all.
    if b"python" not in data and b"\\" not in data:
        return ()
    try:
        doc = load_yaml(text)
    except YamlProblem:
        return ()
    refs: list[str] = []
    if isinstance(doc, dict):
        for direction in ("up", "down"):
            steps = doc.get(direction)
            for step in steps if isinstance(steps, list) else ():
                split = hooks.split_reference(step["python"]) if isinstance(step, dict) and isinstance(step.get("python"), str) else None
                if split is not None and split[0] not in refs:  # a malformed one is the schema's to report
                    refs.append(split[0])
    return tuple(refs)


def _read_hook(folder: Path, ref: str, cache: dict[str, Optional[bytes]]) -> Optional[bytes]:
    if ref not in cache:
        try:
            cache[ref] = hooks.resolve(folder, ref).read_bytes()
        except (hooks.HookPathError, OSError):
            cache[ref] = None  # reported by define()
    return cache[ref]


def define(
    source: SourceFile,
    folder: Path,
    dialect: str,
    known_versions: Container[int],
    *,
    validate: bool = True,
    problems: list[str],
    cache: Optional[KeyedCache] = None,
) -> Optional[Migration]:
    """Parse and (with ``validate``) check one file; append its problems; None when invalid.

    ``cache`` holds documents that already passed the schema, and their split statements,
    keyed by the file's checksum.
    """
    found: list[str] = []
    text = source.body[source.filename]
    if source.kind == "py":
        migration = _define_module(source, text, found)
    else:
        migration = _define_yaml(source, text, folder, dialect, found, validate, cache)
    if migration is not None and validate:
        for dep in migration.dependencies:
            if dep >= migration.version:
                found.append(f"dependencies: {dep} is not lower than this migration's version {migration.version}")
            elif dep not in known_versions:
                found.append(f"dependencies: {migration.version} depends on {dep}, which is neither a file nor applied")
    if found:
        shown = display(folder / source.filename)
        problems.extend(f"{shown}: {p}" for p in found)
    return None if found else migration


def _entry(text: str, found: list[str], cache: Optional[KeyedCache], key: str) -> Optional[dict[str, Any]]:
    """The file's cache entry: its schema-valid document and, by dialect, its split statements."""
    entry = cache.get(key) if cache else None
    if isinstance(entry, dict) and isinstance(entry.get("doc"), dict) and isinstance(entry.get("statements"), dict):
        return entry  # anything else there (an edited cache file) is read again
    try:
        doc = load_yaml(text)
    except YamlProblem as exc:
        found.append(str(exc))
        return None
    if not isinstance(doc, dict):
        found.append("the top level must be a mapping with at least the key up")
        return None
    schema_found = schema_problems("migration", doc, text=text)
    if schema_found:
        found.extend(schema_found)
        return None
    return {"doc": doc, "statements": {}}


def _define_yaml(
    source: SourceFile, text: str, folder: Path, dialect: str, found: list[str], validate: bool, cache: Optional[KeyedCache]
) -> Optional[Migration]:
    key = _CACHE_TAG + source.checksum
    entry = _entry(text, found, cache, key)
    if entry is None:
        return None
    doc = entry["doc"]
    if validate:
        if doc.get("version", source.version) != source.version:
            found.append(
                f"version: {doc['version']} differs from the file name's version {source.version}"
                f" (line {line_of(text, ['version'])})"
            )
        for direction in ("up", "down"):
            for index, step in enumerate(doc.get(direction) or ()):
                _check_step(step, [direction, index], text, folder, dialect, found)
        if found:
            return None
    split = entry["statements"].get(dialect)
    if split is None:
        # Splitting costs more than the rest of a warm define: kept with the document.
        split = _split(doc, dialect)
        if cache:
            cache.put(key, {"doc": doc, "statements": {**entry["statements"], dialect: split}})
    down = doc.get("down")
    return _migration(source, doc, _steps(doc["up"], split["up"]), _steps(down, split["down"]) if down else None)


def _split(doc: Mapping[str, Any], dialect: str) -> dict[str, list[list[str]]]:
    """By direction, each step's SQL on ``dialect`` split into statements (none for a hook)."""
    return {
        direction: [
            sql.split(dialect_sql(item["sql"], dialect), dialect) if "sql" in item else [] for item in doc.get(direction) or ()
        ]
        for direction in ("up", "down")
    }


def _migration(source: SourceFile, meta: Mapping[str, Any], up: tuple[Step, ...], down: Optional[tuple[Step, ...]]) -> Migration:
    """The Migration of ``source`` from its metadata (YAML keys, or module names lower-cased)."""
    return Migration(
        version=source.version,
        name=source.name,
        filename=source.filename,
        kind=source.kind,
        description=meta.get("description", ""),
        dependencies=tuple(meta.get("dependencies", ())),
        data_destructive=meta.get("data_destructive", False),
        risky=meta.get("risky", False),
        transaction=meta.get("transaction", True),
        up=up,
        down=down,
        checksum=source.checksum,
        body=source.body,
        # A draft: a module that says so (DRAFT = True), or `new`'s YAML template (it carries
        # DRAFT_MARK) while its up still runs nothing. Other comment-only migrations (another
        # tool's no-ops) are ordinary migrations.
        draft=bool(meta.get("draft", False)) or (
            source.kind == "yaml" and DRAFT_MARK in source.body[source.filename] and all(s.kind == "sql" and not s.statements for s in up)
        ),
    )


def _steps(raw: list[Mapping[str, Any]], split: list[list[str]]) -> tuple[Step, ...]:
    steps = []
    for item, statements in zip(raw, split):
        if "sql" in item:
            steps.append(Step("sql", sql=item["sql"], statements=tuple(statements)))
        else:
            path, function = hooks.split_reference(item["python"]) or ("", "")  # valid: the schema holds it to FILE.py:FUNCTION
            steps.append(Step("python", path=path, function=function))
    return tuple(steps)


def _check_step(step: Mapping[str, Any], where: list, text: str, folder: Path, dialect: str, found: list[str]) -> None:
    given = step.get("sql")
    if isinstance(given, dict) and dialect not in given and "default" not in given:
        path = where + ["sql"]
        found.append(
            f"{format_path(path)}: no SQL for dialect {dialect} and no default (line {line_of(text, path)})"
        )
    reference = step.get("python")
    if reference is None:
        return
    hook_path, function = hooks.split_reference(reference) or ("", "")
    line = line_of(text, where + ["python"])
    label = f"{format_path(where + ['python'])}"
    try:
        hook_file = hooks.resolve(folder, hook_path)
        functions = hooks.defined_functions(hook_file.read_text(encoding="utf-8"), str(hook_file))
    except hooks.HookPathError as exc:
        found.append(f"{label}: {exc} (line {line})")
        return
    except (SyntaxError, UnicodeDecodeError, OSError) as exc:
        found.append(f"{label}: hook file {hook_path} cannot be read as Python: {exc} (line {line})")
        return
    if function not in functions:
        found.append(f"{label}: hook file {hook_path} defines no function {function}() (line {line})")


def _define_module(source: SourceFile, text: str, found: list[str]) -> Optional[Migration]:
    import ast

    try:
        tree = ast.parse(text, filename=source.filename)
    except SyntaxError as exc:
        found.append(f"syntax error at line {exc.lineno}: {exc.msg}")
        return None
    meta: dict[str, Any] = {}
    functions: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.add(node.name)
            continue
        value_node: Optional[ast.expr]
        if isinstance(node, ast.Assign):
            targets, value_node = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value_node = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in _PY_META:
                try:
                    value = ast.literal_eval(value_node) if value_node is not None else None
                except ValueError:
                    found.append(f"{target.id} (line {node.lineno}) must be a literal")
                    continue
                expected = _PY_META[target.id]
                if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                    found.append(f"{target.id} (line {node.lineno}) must be a {expected.__name__}")
                    continue
                if isinstance(value, list) and not all(
                    isinstance(d, int) and not isinstance(d, bool) for d in value
                ):
                    found.append(f"DEPENDENCIES (line {node.lineno}) must be a list of integer versions")
                    continue
                meta[target.id] = value
    if "up" not in functions:
        found.append("defines no function up(conn, ctx)")
    if "VERSION" in meta and meta["VERSION"] != source.version:
        found.append(f"VERSION {meta['VERSION']} differs from the file name's version {source.version}")
    if found:
        return None
    up = (Step("module", path=source.filename, function="up"),)
    down = (Step("module", path=source.filename, function="down"),) if "down" in functions else None
    return _migration(source, {k.lower(): v for k, v in meta.items()}, up, down)
