"""The command line: argparse -> commands -> text or JSON; exit codes are mapped here only."""
from __future__ import annotations

import argparse
import json
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


def _plan(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", metavar="V")


def _apply(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", metavar="V")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--atomic", action="store_true", help="the whole batch in one transaction")
    p.add_argument("--out-of-order", action="store_true", help="also apply pending migrations older than the current version")


def _rollback(p: argparse.ArgumentParser) -> None:
    grp = p.add_mutually_exclusive_group()
    grp.add_argument("--steps", type=int, metavar="N")
    grp.add_argument("--to", metavar="V")
    p.add_argument("--allow-destructive", action="store_true")
    p.add_argument("--from-history", action="store_true", help="run the down stored in the history, not the file's")
    p.add_argument("--dry-run", action="store_true")


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


def _repair(p: argparse.ArgumentParser) -> None:
    p.add_argument("version")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--applied", action="store_true", help="record the migration as applied")
    how.add_argument("--rolled-back", action="store_true", help="record the migration as not applied")


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
    ("daemon", "run the service in the foreground: converge to the target as files and config change", (), _nothing),
)
# One example per command, shown at the end of its --help (tests/unit/test_cli_help.py parses each).
EXAMPLES = {
    "init": "migrund init myproject",
    "new": "migrund new add_users --description 'Create the users table'",
    "validate": "migrund validate --json",
    "status": "migrund status --check",
    "plan": "migrund plan --to 20250101120000 --json",
    "apply": "migrund apply --to 20250101120000 --dry-run",
    "rollback": "migrund rollback --steps 2 --dry-run",
    "reconcile": "migrund reconcile --lock-timeout 60",
    "history": "migrund history --rollbacks --limit 10",
    "check-safety": "migrund check-safety 20250101120000 --json",
    "verify": "migrund verify --json",
    "backup": "migrund backup --format json --output /tmp/before-upgrade.json.gz",
    "backups": "migrund backups --json",
    "restore": "migrund restore backups/app-20250101T120000Z-manual.sqlite3",
    "repair": "migrund repair 20250101120000 --rolled-back",
    "daemon": "migrund --config /etc/migrund/migrund.yaml daemon",
}
_VALUED = frozenset({"--config", "--lock-timeout"})
# Commands that run no migration code and write nothing: strict permissions only warn for them.
READ_ONLY = frozenset({"validate", "status", "plan", "history", "check-safety", "verify", "backups"})


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    late = _globals(True)
    for name, help_text, aliases, arguments in COMMANDS:
        if only is None or only == name or only in aliases:
            command = sub.add_parser(name, help=help_text, description=help_text, aliases=list(aliases), parents=[late],
                                     formatter_class=_Formatter, epilog=f"example: {EXAMPLES[name]}")
            arguments(command)
    return parser


class Output:
    """Where results, progress and warnings go, honouring --json and -q."""

    def __init__(self, as_json: bool, quiet: bool) -> None:
        self.as_json = as_json
        self.quiet = quiet

    def warn(self, message: str) -> None:
        """A warning on stderr."""
        print(f"migrund: warning: {_redact(message)}", file=sys.stderr, flush=True)

    def progress(self, event: Any) -> None:
        """One line per runner event (text mode only)."""
        if self.as_json or self.quiet:
            return
        # One whole line per finished migration: hook logs on stderr never split it.
        if event.kind == "done":
            verb = "applied" if event.direction == "up" else "rolled back"
            say(f"{verb} {event.version} {event.name} in {event.ms} ms", flush=True)
        elif event.kind == "backup":
            say(f"backup written: {event.message}", flush=True)

    def document(self, doc: Any) -> None:
        """The JSON document on stdout (passwords taken out of its text)."""
        from .redact import redact_document

        say(json.dumps(redact_document(doc), indent=2))


def say(text: str, *, flush: bool = False) -> None:
    """One line on stdout; a reader that went away (``migrund history | head -1``) ends output quietly."""
    try:
        print(text, flush=flush)
    except BrokenPipeError:
        _stdout_gone()


def _stdout_gone() -> None:
    # Later writes, and the interpreter's final flush, go nowhere instead of failing again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def run() -> None:
    """The ``migrund`` program: ``main`` on the command line, then exit with its code."""
    import gc

    # A command's objects are mostly acyclic records that live until it ends: at the
    # default threshold (every 700 allocations) the collector walked them about sixty
    # times in an apply of 1,000 migrations (6 ms). The daemon still collects, less often.
    gc.set_threshold(100_000)
    code = main()
    # And the collector's last passes over everything still alive at exit are left to the
    # operating system: after that apply they took about 9 ms.
    gc.freeze()
    sys.exit(code)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line ``argv`` (default: this process's) run; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    from .errors import InvalidInput, MigrationError, OperationFailed

    try:
        args = build_parser(command_in(argv)).parse_args(argv)
    except SystemExit as exc:
        if exc.code == 2 and "--json" in argv:  # argparse said why on stderr; scripts get a document too
            Output(True, False).document(InvalidInput("invalid command line (see the usage above)", kind="usage").as_json())
        raise
    out = Output(bool(getattr(args, "json", False)), bool(getattr(args, "quiet", False)))
    verbose = bool(getattr(args, "verbose", False))
    try:
        return _run(args, out)
    except MigrationError as exc:
        return _fail(exc, out, verbose)
    except KeyboardInterrupt:
        print("migrund: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout's reader went away in the middle of a line
        _stdout_gone()
        return 0
    except OSError as exc:  # a path the system refused (too long, a folder, no space...): name it, exit 1
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(OperationFailed(f"{where}{exc.strerror or exc}", kind="os_error", file=exc.filename), out, verbose)
    except Exception as exc:  # a bug: say so in one line; the traceback only with -v
        if verbose:
            _traceback(exc)
        message = f"internal error: {type(exc).__name__}: {exc}" + ("" if verbose else " (run with -v for the traceback)")
        if out.as_json:
            out.document(MigrationError(message, kind="internal").as_json())
        print(f"migrund: {_redact(message)}", file=sys.stderr)
        return 1


def _redact(text: str) -> str:
    from .redact import redact

    return redact(text)


def _traceback(exc: BaseException) -> None:
    import traceback

    print(_redact("".join(traceback.format_exception(exc))), file=sys.stderr, end="")


def _fail(exc: Any, out: Output, verbose: bool) -> int:
    """The one place a failure becomes output and an exit code."""
    if verbose:
        _traceback(exc)
    if out.as_json:
        # A command that still reports its result prints it; every other failure prints
        # the error document, so a script always has one document to parse.
        out.document(exc.document if exc.document is not None else exc.as_json())
    elif exc.document is not None:
        _render_text(getattr(out, "last_command", ""), exc.document, out)
    print(f"migrund: error: {_redact(str(exc))}", file=sys.stderr)
    return exc.exit_code


def _run(args: argparse.Namespace, out: Output) -> int:
    from . import commands, config

    out.last_command = args.command  # type: ignore[attr-defined]
    if args.command == "init":
        return _finish(args.command, commands.init(args.dir), out)
    settings = config.load(args.config)
    verbose = bool(getattr(args, "verbose", False))
    if args.command == "daemon":
        from .daemon import main as daemon

        return daemon(settings, verbose=verbose)
    name = {"up": "apply", "down": "rollback"}.get(args.command, args.command)
    project = commands.Project(
        settings,
        read_only=name in READ_ONLY,
        on_event=out.progress,
        warn=out.warn,
        lock_timeout=args.lock_timeout,
        # Only migrations log (their hooks); a command with nothing to run never imports logging.
        before_run=lambda: _configure_logging(settings, verbose, out.quiet),
    )
    out.last_command = name  # type: ignore[attr-defined]
    runners: dict[str, Callable[[], Any]] = {
        "new": lambda: commands.new(project, args.name, args.description, python=args.python),
        "validate": lambda: commands.validate(project),
        "status": lambda: commands.status(project, check=args.check),
        "plan": lambda: commands.plan(project, to=args.to),
        "apply": lambda: commands.apply(project, to=args.to, dry_run=args.dry_run, atomic=args.atomic, out_of_order=args.out_of_order),
        "rollback": lambda: commands.rollback(
            project,
            steps=args.steps,
            to=args.to,
            allow_destructive=args.allow_destructive,
            from_history=args.from_history,
            dry_run=args.dry_run,
        ),
        "reconcile": lambda: commands.reconcile(project, out_of_order=args.out_of_order),
        "history": lambda: commands.history(project, rollbacks=args.rollbacks, limit=args.limit),
        "check-safety": lambda: commands.check_safety(project, args.version),
        "verify": lambda: commands.verify(project),
        "repair": lambda: commands.repair(project, args.version, applied=args.applied),
        "backup": lambda: commands.take_backup(project, output=args.output, fmt=args.format),
        "backups": lambda: commands.list_backups(project),
        "restore": lambda: commands.restore(project, args.path, force=args.force),
    }
    return _finish(name, runners[name](), out)


def _configure_logging(settings: Any, verbose: bool, quiet: bool) -> None:
    from .logs import configure

    # -q: only errors, warnings and results, from hooks too
    level = "warning" if quiet and settings.log_level in ("debug", "info") else settings.log_level
    configure(level, settings.log_format, verbose=verbose)


def _finish(command: str, result: Any, out: Output) -> int:
    if out.as_json:
        out.document(_public(result))
    else:
        _render_text(command, result, out)
    return 0


def _public(result: Any) -> Any:
    from pathlib import Path

    if isinstance(result, Path):
        return {"path": str(result)}
    return result


def _render_text(command: str, doc: Any, out: Output) -> None:
    from . import render

    text = render.text(command, doc)
    if text:
        say(text)
