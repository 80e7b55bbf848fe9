"""``import``: another tool's migration folder as migrund YAML files, and with ``--adopt-history`` its applied versions."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .. import loader
from ..adopt import emit, sources
from ..errors import InvalidInput, ValidationFailed
from ..execute import run_baseline
from ..loader import display
from ..plan import plan_adopt
from ..session import Project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from ..model import Migration

_SKIPPED = loader.IGNORED_NAME


def _read_folder(tool: str, folder: Path, found: sources.Conversion) -> dict[str, str]:
    """The tool's files by name (Flyway's by path under ``folder``: it reads subfolders too); unreadable ones reported."""
    if not folder.is_dir():
        raise InvalidInput(f"import: {folder} is not a folder", key="DIR")
    from ..files import read_regular
    from ..yamlsafe import MAX_BYTES

    paths = sorted(folder.rglob("*") if tool == "flyway" else folder.iterdir())
    root = os.path.realpath(folder)
    files = {}
    for path in paths:
        relative = path.relative_to(folder).as_posix()
        if any(_SKIPPED.match(part) for part in relative.split("/")) or path.is_dir():
            continue
        if path.is_symlink() and not os.path.realpath(path).startswith(root + os.sep):
            # a link could carry any file of the host (a secret) into a migration
            found.unmapped.append(sources.Unmapped(relative, None, f"a symbolic link leading outside {display(folder)}: copy the file in"))
            continue
        try:
            # no FIFO or device (it could block), nothing larger than a migration file may be
            files[relative] = read_regular(path, limit=MAX_BYTES).decode("utf-8")
        except UnicodeDecodeError:
            found.unmapped.append(sources.Unmapped(relative, None, "not UTF-8 text"))
        except OSError as exc:
            found.unmapped.append(sources.Unmapped(relative, None, f"cannot be read: {exc.strerror or exc}"))
    return files


def _conversion(project: Project, tool: str, folder: Path, skip_unmapped: bool) -> sources.Conversion:
    unreadable = sources.Conversion(tool)
    files = _read_folder(tool, folder, unreadable)
    found = sources.convert(tool, files, project.settings.dialect)
    found.unmapped[:0] = unreadable.unmapped
    if found.unmapped and not skip_unmapped:
        raise InvalidInput(f"import: {len(found.unmapped)} thing(s) in {display(folder)} have no migrund equivalent; nothing was written"
                           " (fix them, or pass --skip-unmapped to import the rest)", details=[str(u) for u in found.unmapped])
    if not found.migrations:
        raise InvalidInput(f"import: no {sources.TITLES[tool]} migration in {display(folder)}", key="DIR")
    return found


def _to_write(project: Project, texts: dict[str, str], names: dict[str, Any]) -> list[str]:
    """The files still to write; refuse, before writing anything, a version or name the folder already holds otherwise.

    A file already there with exactly the bytes the import writes is kept: an import cut
    short (a kill, a full disk) completes when run again.
    """
    existing = project.scan().files
    folder = project.settings.migrations_dir
    clashes, missing = [], []
    for name, migration in names.items():
        source = existing.get(migration.version)
        if source is not None and source.filename == name and source.data == texts[name].encode():
            continue
        if source is not None:
            clashes.append(f"{name}: version {migration.version} is already {source.filename}")
        elif (folder / name).exists():
            clashes.append(f"{name}: already in {display(folder)}")
        else:
            missing.append(name)
    if clashes:
        raise InvalidInput(f"import: {len(clashes)} migration(s) are already in {display(folder)}; nothing was written", details=clashes)
    return missing


def _staged(project: Project, texts: dict[str, str]) -> tuple[Path, list[Migration]]:
    """The files written to a hidden folder inside the migrations folder (scans skip it) and read back as migrund does."""
    folder = project.settings.migrations_dir
    folder.mkdir(parents=True, exist_ok=True)
    _sweep_stages(folder)
    stage = Path(tempfile.mkdtemp(prefix=f".import-{os.getpid()}-", dir=folder))
    for name, text in texts.items():
        (stage / name).write_text(text, encoding="utf-8")
    scan = loader.scan(stage)
    problems = list(scan.problems)
    migrations = []
    for version, source in scan.files.items():
        migration = loader.define(source, stage, project.settings.dialect, set(scan.files), problems=problems)
        if migration is not None:
            migrations.append(migration)
    if problems:
        shutil.rmtree(stage, ignore_errors=True)
        raise ValidationFailed(f"import: {len(problems)} problem(s) in the converted files; nothing was written", details=problems)
    return stage, migrations


def _sweep_stages(folder: Path) -> None:
    """Remove the hidden staging folders of imports whose process is gone (killed midway)."""
    from ..paths import pid_running

    for entry in folder.glob(".import-*-*"):
        pid = entry.name.split("-")[1]
        if pid.isdigit() and not pid_running(int(pid)) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _move_in(stage: Path, folder: Path, names: list[str]) -> None:
    """Each staged file into the migrations folder; never over an existing one (a link cannot replace a file)."""
    for name in names:
        os.link(stage / name, folder / name)
        os.unlink(stage / name)


def import_migrations(
    project: Project,
    tool: str,
    source: str,
    *,
    adopt_history: bool = False,
    history_table: Optional[str] = None,
    skip_unmapped: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Convert ``tool``'s folder ``source`` into migrund YAML files; with ``adopt_history``, record what its table says is applied."""
    from ..adopt import history

    table = history.table_name(tool, history_table) if adopt_history else None
    folder = Path(source)
    found = _conversion(project, tool, folder, skip_unmapped)
    by_name = {emit.file_name(m): m for m in found.migrations}
    texts = {name: emit.yaml_text(m, tool) for name, m in by_name.items()}
    missing = _to_write(project, texts, by_name)
    stage, migrations = _staged(project, texts)
    adopted: Optional[list[int]] = None
    try:
        if adopt_history:
            assert table is not None
            with project.session(write=not dry_run) as state:
                if state.driver is None:
                    raise InvalidInput(f"--adopt-history: the database {project.settings.url.path} does not exist: there is no history to adopt",
                                       key="--adopt-history")
                wanted = history.applied_versions(state.driver, tool, table, found.migrations)
                adopted = plan_adopt(wanted, state.applied, state.dirty)
                if not dry_run:
                    chosen = [m for m in migrations if m.version in adopted]
                    run_baseline(state, chosen, "import", {"tool": tool, "source": str(folder), "table": table,
                                                           "versions": {m.label: m.version for m in found.migrations}, "recorded": adopted})
                    # under the lock, after the history: a daemon never sees an adopted file as pending
                    _move_in(stage, project.settings.migrations_dir, missing)
        elif not dry_run:
            _move_in(stage, project.settings.migrations_dir, missing)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {
        "tool": tool,
        "source": str(folder),
        "folder": str(project.settings.migrations_dir),
        "dry_run": dry_run,
        "written": [
            {"file": name, "version": m.version, "tool_version": m.label, "from": list(m.sources), "transaction": m.transaction, "notes": list(m.notes)}
            for name, m in by_name.items()
        ],
        "unmapped": [{"file": u.file, "line": u.line, "reason": u.reason} for u in found.unmapped],
        "adopted": adopted,
        "history_table": table,
    }
