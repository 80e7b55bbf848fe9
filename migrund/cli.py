"""The command line: argparse -> commands -> text or JSON; exit codes are mapped here only."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .arguments import READ_ONLY, build_parser, command_in

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Sequence


class Output:
    """Where results, progress and warnings go, honouring --json and -q."""

    def __init__(self, as_json: bool, quiet: bool) -> None:
        self.as_json = as_json
        self.quiet = quiet
        self.ticker: Any = None  # the live line on a terminal, started with the first migration

    def warn(self, message: str) -> None:
        """A warning on stderr."""
        if self.ticker is not None:
            self.ticker.clear()
        print(f"migrund: warning: {_redact(message)}", file=sys.stderr, flush=True)

    def progress(self, event: Any) -> None:
        """One line per runner event (text mode only; warnings always, on stderr)."""
        if event.kind == "warning":
            self.warn(event.message)
            return
        if self.as_json or self.quiet:
            return
        if self.ticker is None and event.kind == "start":
            from . import ticker

            if ticker.wanted(sys.stderr):
                self.ticker = ticker.Ticker(sys.stderr)
        if self.ticker is not None:
            self.ticker.event(event)
            self.ticker.clear()
        # Whole lines (hook logs on stderr never split one): as a migration starts, and as it ends.
        if event.kind == "start":
            verb = "applying" if event.direction == "up" else "rolling back"
            say(f"{verb} {event.version} {event.name} ({event.steps} step{'s' if event.steps != 1 else ''})", flush=True)
        elif event.kind == "done":
            verb = "applied" if event.direction == "up" else "rolled back"
            say(f"{verb} {event.version} {event.name} in {event.ms} ms", flush=True)
        elif event.kind == "backup":
            say(f"backup written: {event.message}", flush=True)

    def document(self, doc: Any) -> None:
        """The JSON document on stdout (passwords taken out of its text)."""
        from .redact import redact_document

        say(json.dumps(redact_document(doc), indent=2))

    def close(self) -> None:
        """Take the live line away, if one was shown."""
        if self.ticker is not None:
            self.ticker.stop()


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
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (`migrund completion SHELL` set that up)
        from argcomplete import autocomplete

        autocomplete(build_parser())  # answers on the shell's channel and exits
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
        out.close()
        print("migrund: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout's reader went away in the middle of a line
        _stdout_gone()
        return 0
    except OSError as exc:  # a path the system refused (too long, a folder, no space...): name it, exit 1
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(OperationFailed(f"{where}{exc.strerror or exc}", kind="os_error", file=exc.filename), out, verbose)
    except Exception as exc:  # a bug: say so in one line; the traceback only with -v
        out.close()
        if verbose:
            _traceback(exc)
        message = f"internal error: {type(exc).__name__}: {exc}" + ("" if verbose else " (run with -v for the traceback)")
        if out.as_json:
            out.document(MigrationError(message, kind="internal").as_json())
        print(f"migrund: {_redact(message)}", file=sys.stderr)
        return 1
    finally:
        out.close()


def _redact(text: str) -> str:
    from .redact import redact

    return redact(text)


def _traceback(exc: BaseException) -> None:
    import traceback

    print(_redact("".join(traceback.format_exception(exc))), file=sys.stderr, end="")


def _fail(exc: Any, out: Output, verbose: bool) -> int:
    """The one place a failure becomes output and an exit code."""
    out.close()
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
    if args.command == "completion":
        code = commands.completion(args.shell)
        if out.as_json:
            out.document({"shell": args.shell, "code": code})
        else:
            say(code)
        return 0
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
        wait_for_db=args.wait_for_db or 0.0,
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
        "baseline": lambda: commands.baseline(project, args.version, dry_run=args.dry_run),
        "wait": lambda: commands.wait(project, timeout=args.timeout),
        "accept": lambda: commands.accept(project, args.version),
        "import": lambda: commands.import_migrations(project, args.tool, args.dir, adopt_history=args.adopt_history,
                                                     history_table=args.history_table, skip_unmapped=args.skip_unmapped, dry_run=args.dry_run),
        "backup": lambda: commands.take_backup(project, output=args.output, fmt=args.format),
        "backups": lambda: commands.list_backups(project),
        "restore": lambda: commands.restore(project, args.path, force=args.force),
    }
    sql = bool(getattr(args, "sql", False))
    if sql and name != "plan" and not args.dry_run:
        from .errors import InvalidInput

        raise InvalidInput(f"--sql shows what would run: use it with --dry-run (migrund {name} --dry-run --sql)", kind="usage")
    result = runners[name]()
    if sql and not out.as_json:
        from .render import sql_script

        say(sql_script(result))
        return 0
    return _finish(name, result, out)


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
