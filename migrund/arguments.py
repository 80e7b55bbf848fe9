"""The command line's grammar: global options, each command's arguments, its help and example.

Building every sub-parser costs about 10 ms, so ``build_parser`` builds only the one a
command line names (``command_in``).
"""
from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Sequence

EPILOG = "exit codes: 0 done, 1 failed, 2 invalid input, 3 lock timeout, 4 refused by a safety rule, 5 dirty database, 6 not at target (status --check)"


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, minus its import of shutil (3 ms on every run) for the terminal width."""

    def __init__(self, prog: str) -> None:
        try:
            columns = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            try:
                columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
            except (AttributeError, ValueError, OSError):
                columns = 80
        super().__init__(prog, width=columns)


def _globals(suppress: bool) -> argparse.ArgumentParser:
    default: Any = argparse.SUPPRESS if suppress else None
    parent = argparse.ArgumentParser(add_help=False, formatter_class=_Formatter)
    parent.add_argument("--config", metavar="PATH", default=default, help="config file (default: $MIGRUND_CONFIG, config/migrund.yaml, migrund.yaml)")
    parent.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False, help="print one JSON document on stdout")
    parent.add_argument("--lock-timeout", metavar="SECONDS", type=float, default=default, help="override lock.timeout")
    parent.add_argument("--wait-for-db", metavar="SECONDS", type=float, default=default,
                        help="keep trying an unreachable database this long before failing (a server still starting)")
    noise = parent.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS if suppress else False, help="debug output and tracebacks")
    noise.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS if suppress else False, help="only errors, warnings and results")
    return parent


def _init(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", default=".", metavar="DIR")


def _new(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("-d", "--description", default="")
    p.add_argument("--python", action="store_true", help="write a Python (module form) migration")


def _status(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check", action="store_true", help="exit 6 when the database is not at the target")


_SQL_HELP = "print the statements that would run, in order, as a SQL script (with --dry-run)"


def _plan(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", metavar="V")
    p.add_argument("--sql", action="store_true", help=_SQL_HELP.replace(" (with --dry-run)", ""))


def _apply(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", metavar="V")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--sql", action="store_true", help=_SQL_HELP)
    p.add_argument("--atomic", action="store_true", help="the whole batch in one transaction")
    p.add_argument("--out-of-order", action="store_true", help="also apply pending migrations older than the current version")


def _rollback(p: argparse.ArgumentParser) -> None:
    grp = p.add_mutually_exclusive_group()
    grp.add_argument("--steps", type=int, metavar="N")
    grp.add_argument("--to", metavar="V")
    p.add_argument("--allow-destructive", action="store_true")
    p.add_argument("--from-history", action="store_true", help="run the down stored in the history, not the file's")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--sql", action="store_true", help=_SQL_HELP)


def _reconcile(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out-of-order", action="store_true")


def _history(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rollbacks", action="store_true")
    p.add_argument("--limit", type=int, metavar="N")


def _version(p: argparse.ArgumentParser) -> None:
    p.add_argument("version")


def _backup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", metavar="PATH", help="write here instead of backup.dir (not listed, not pruned)")
    p.add_argument("--format", choices=["native", "json"], help="override backup.format")


def _restore(p: argparse.ArgumentParser) -> None:
    p.add_argument("path")
    p.add_argument("--force", action="store_true", help="accept a schema version no migration file has")


def _wait(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", metavar="SECONDS", type=float, default=600.0, help="give up after this long (default 600): exit 6")


def _baseline(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", metavar="VERSION", help="the version the database already stands at (or latest)")
    p.add_argument("--dry-run", action="store_true", help="show what would be recorded")


# The tools `import --from` reads: adopt.sources.TOOLS (not imported here: --help builds
# every command's parser, and that module's imports cost it a tenth; tests/unit/test_adopt.py
# keeps the two equal).
IMPORT_TOOLS = ("golang-migrate", "dbmate", "flyway", "goose", "sql")


def _import(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="tool", required=True, choices=IMPORT_TOOLS, help="the tool whose layout DIR has")
    p.add_argument("dir", metavar="DIR", help="the tool's migrations folder (the files are read, never changed)")
    p.add_argument("--adopt-history", action="store_true",
                   help="also record as applied, without running them, the versions the tool's history table on this database says are applied")
    p.add_argument("--history-table", metavar="NAME", help="the tool's history table when it is not the default ([schema.]table)")
    p.add_argument("--skip-unmapped", action="store_true", help="write what can be imported even when something cannot (it is listed)")
    p.add_argument("--dry-run", action="store_true", help="show what would be written and adopted")


def _repair(p: argparse.ArgumentParser) -> None:
    p.add_argument("version")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--applied", action="store_true", help="record the migration as applied")
    how.add_argument("--rolled-back", action="store_true", help="record the migration as not applied")


def _completion(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")


SHELLS = ("bash", "zsh", "fish")


def _nothing(p: argparse.ArgumentParser) -> None:
    return None


# name, help, aliases, arguments
COMMANDS: tuple[tuple[str, str, tuple[str, ...], Callable[[argparse.ArgumentParser], None]], ...] = (
    ("init", "write a config, a migrations folder with an example, and a backups folder", (), _init),
    ("new", "write a new migration from the template", (), _new),
    ("validate", "check the config and every migration file", (), _nothing),
    ("status", "where the database stands against the files and the target", (), _status),
    ("plan", "show what reaching a version would run, changing nothing", (), _plan),
    ("apply", "apply pending migrations", ("up",), _apply),
    ("rollback", "roll back the last N applied migrations, or all above a version", ("down",), _rollback),
    ("reconcile", "apply and roll back until the database stands at the config target", (), _reconcile),
    ("history", "applied migrations, or the rollback history", (), _history),
    ("check-safety", "whether rolling back VERSION is safe", (), _version),
    ("verify", "checksums of applied migrations against the files", (), _nothing),
    ("backup", "take a backup now; prints its path", (), _backup),
    ("backups", "list the backups in backup.dir and whether each is intact", (), _nothing),
    ("restore", "replace the database by a backup (checked first; the current state is backed up)", (), _restore),
    ("repair", "clear a dirty state after fixing the database by hand", (), _repair),
    ("accept", "make the edited file of an applied migration the applied one (nothing runs; the diff is kept)", (), _version),
    ("baseline", "record every migration up to VERSION as applied without running it (an existing database joins)", (), _baseline),
    ("import", "convert another tool's migrations folder into migrund YAML files (and adopt its history)", (), _import),
    ("wait", "wait until the daemon reports the database at its target; exit with its reason if it is blocked", (), _wait),
    ("daemon", "run the service in the foreground: converge to the target as files and config change", (), _nothing),
    ("completion", "print the shell code that completes migrund's commands and options", (), _completion),
)
# One example per command, shown at the end of its --help (tests/unit/test_cli_help.py parses each).
EXAMPLES = {
    "init": "migrund init myproject",
    "new": "migrund new add_users --description 'Create the users table'",
    "validate": "migrund validate --json",
    "status": "migrund status --check",
    "plan": "migrund plan --to 20250101120000 --sql",
    "apply": "migrund apply --to 20250101120000 --dry-run",
    "rollback": "migrund rollback --steps 2 --dry-run --sql",
    "reconcile": "migrund reconcile --lock-timeout 60",
    "history": "migrund history --rollbacks --limit 10",
    "check-safety": "migrund check-safety 20250101120000 --json",
    "verify": "migrund verify --json",
    "backup": "migrund backup --format json --output /tmp/before-upgrade.json.gz",
    "backups": "migrund backups --json",
    "restore": "migrund restore backups/app-20250101T120000Z-manual.sqlite3",
    "repair": "migrund repair 20250101120000 --rolled-back",
    "baseline": "migrund baseline 20250101120000 --dry-run",
    "accept": "migrund accept 20250101120000",
    "import": "migrund import --from golang-migrate db/migrations --adopt-history --dry-run",
    "daemon": "migrund --config /etc/migrund/migrund.yaml daemon",
    "wait": "migrund wait --timeout 300",
    "completion": "migrund completion bash > /etc/bash_completion.d/migrund",
}
_VALUED = frozenset({"--config", "--lock-timeout", "--wait-for-db"})
# Commands that run no migration code and write nothing: strict permissions only warn for them.
READ_ONLY = frozenset({"validate", "status", "plan", "history", "check-safety", "verify", "backups", "wait"})


def command_in(argv: Sequence[str]) -> Optional[str]:
    """The command named in ``argv`` when it is a known one and no top-level help is asked, else None."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _VALUED:
            skip = True
        elif token in ("-h", "--help", "--"):
            return None
        elif not token.startswith("-"):
            return token if any(token == name or token in aliases for name, _, aliases, _ in COMMANDS) else None
    return None


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that command's part (building all costs ~10 ms)."""
    parser = argparse.ArgumentParser(
        prog="migrund",
        description="Keep a database at a declared schema version.",
        epilog=EPILOG,
        parents=[_globals(False)],
        formatter_class=_Formatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"migrund {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    late = _globals(True)
    for name, help_text, aliases, arguments in COMMANDS:
        if only is None or only == name or only in aliases:
            command = sub.add_parser(name, help=help_text, description=help_text, aliases=list(aliases), parents=[late],
                                     formatter_class=_Formatter, epilog=f"example: {EXAMPLES[name]}")
            arguments(command)
    return parser
