"""Plain-text renderings of command results for people (JSON is the machine's form)."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


def _versions(values: list) -> str:
    return ", ".join(str(v) for v in values) if values else "-"


def text(command: str, doc: Any) -> str:
    """The text a person sees for ``command``'s result ``doc``."""
    render = _RENDERERS.get(command)
    return render(doc) if render else ""


def _status(doc: dict) -> str:
    dirty = doc["dirty"]
    daemon = doc.get("daemon")
    lines = [
        f"database  {doc.get('database', '')}",
        f"current   {doc['current_version']}",
        f"target    {doc['target_version']}" + (" (latest)" if doc.get("target") == "latest" else ""),
        f"applied   {len(doc['applied'])}",
        f"pending   {len(doc['pending'])}" + (f": {_versions(doc['pending'])}" if doc["pending"] else ""),
        f"modified  {_versions(doc['modified'])}",
        f"missing   {_versions(doc['missing'])}",
        "dirty     " + ("no" if dirty is None else f"yes: {dirty['version']} {dirty['direction']} step {dirty['step']} (run `migrund repair`)"),
        "daemon    " + ("not running" if daemon is None else f"{daemon.get('state')} (pid {daemon.get('pid')})" + (f": {daemon['last_error']}" if daemon.get("last_error") else "")),
    ]
    running = (daemon or {}).get("running")
    if running:
        lines.append(f"running   {running['direction']} {running['version']} {running['name']}, step {running['step']} of"
                     f" {running['steps']}, since {running['since']} (this step since {running['step_since']})")
    if doc.get("cosmetic"):
        lines.append(f"cosmetic  {_versions(doc['cosmetic'])} (edited in form only: nothing that runs changed)")
    if doc.get("drafts"):
        lines.append(f"drafts    {_versions(doc['drafts'])} (not applied until their up does something)")
    if doc.get("ignored"):
        lines.append(f"ignored   {len(doc['ignored'])} file(s) that are not migrations: {', '.join(doc['ignored'])} (see the warnings)")
    return "\n".join(lines)


def _plan(doc: dict) -> str:
    steps = doc["steps"]
    head = f"from {doc['from_version']} to {doc['to_version']}: " + (f"{len(steps)} migration(s)" if steps else "nothing to do")
    lines = [head]
    details = {d["version"]: d for d in doc.get("details", [])}
    for step in steps:
        detail = details.get(step["version"], {})
        label = f" - {detail['description']}" if detail.get("description") else ""
        lines.append(f"{step['direction']:>4} {step['version']} {step['name']}{label}")
        for number, item in enumerate(detail.get("steps", []), 1):
            if item["kind"] == "sql":
                lines.append(f"       {number}. sql:")
                lines.extend(f"          {line}" for line in item["sql"].rstrip().splitlines())
            else:
                lines.append(f"       {number}. python {item['call']}")
    return "\n".join(lines)


def sql_script(doc: dict) -> str:
    """A plan as the SQL it would run, statement by statement, each migration under a comment naming it."""
    details = {d["version"]: d for d in doc.get("details", [])}
    lines = [f"-- migrund: from {doc['from_version']} to {doc['to_version']}; migrund's own bookkeeping (history rows, locks) is not shown"]
    for step in doc["steps"]:
        detail = details.get(step["version"], {})
        lines.append(f"\n-- {step['direction']} {step['version']} {step['name']}")
        if "note" in detail:
            lines.append(f"-- cannot be shown: {detail['note']}")
        for item in detail.get("steps", []):
            if item["kind"] == "sql":
                lines.extend(statement.rstrip().rstrip(";") + ";" for statement in item["statements"])
            else:
                lines.append(f"-- python {item['call']} (runs Python, not shown as SQL)")
    return "\n".join(lines)


def _run(doc: dict) -> str:
    if doc.get("dry_run"):
        return _plan(doc)
    steps = doc["steps"]
    error = doc.get("error")
    dirty = ""
    if error and error.get("dirty"):  # outside a transaction: say what of the failed migration stayed
        committed = error["step"] - 1
        stayed = f"{committed} of its steps committed" if committed else "none of its steps committed"
        dirty = f"migration {error['version']} failed at step {error['step']} outside a transaction ({stayed}): the database is dirty\n"
    if not steps:
        done = "nothing done" if error else "nothing to do"  # a failure is not "nothing to do"
        return f"{dirty}{done}: the database is at {doc['to_version']}"
    ups = sum(1 for s in steps if s["direction"] == "up")
    downs = len(steps) - ups
    parts = [f"{ups} applied"] if ups else []
    parts += [f"{downs} rolled back"] if downs else []
    return f"{dirty}{', '.join(parts)}; the database is at {doc['to_version']}"


def _history(rows: list) -> str:
    if not rows:
        return "no entries"
    if rows and "rolled_back_at" in rows[0]:
        return "\n".join(f"{r['version']}  {r['rolled_back_at']}  {r['name']}" for r in rows)
    return "\n".join(f"{r['version']}  {r['applied_at']}  {r['execution_ms']:>6} ms  {r['name']}" for r in rows)


def _safety(doc: dict) -> str:
    head = f"{doc['version']} {doc['name']}: " + ("safe to roll back" if doc["safe"] else f"not safe: {doc['warning']}")
    return head + (f"\n{doc['diff']}" if doc.get("diff") else "")


def _verify(doc: dict) -> str:
    if doc["ok"]:
        return "all applied migrations match their files"
    lines = [f"modified: {_versions(doc['modified'])}", f"missing:  {_versions(doc['missing'])}"]
    lines.extend(doc["diffs"].values())
    return "\n".join(lines)


def _validate(doc: dict) -> str:
    return f"ok: {doc['migrations']} migration file(s) valid"


def _init(doc: dict) -> str:
    lines = [f"created {p}" for p in doc["created"]]
    lines += [f"kept    {p} (already there)" for p in doc["kept"]]
    return "\n".join(lines)


def _repair(doc: dict) -> str:
    state = "applied" if doc["recorded"] == "applied" else "not applied"
    return f"{doc['version']} ({doc['direction']}, stopped at step {doc['step']}) is now recorded as {state}"


def _backups(rows: list) -> str:
    if not rows:
        return "no backups"
    return "\n".join(
        f"{r['created_at']}  v{r['schema_version']:<14}  {r['reason']:<15}  {r['format']:<6}  {r['size']:>10}  {'ok' if r['ok'] else 'DAMAGED'}  {r['path']}"
        for r in rows
    )


def _restore(doc: dict) -> str:
    saved = f"; the previous state is in {doc['before_restore']}" if doc.get("before_restore") else ""
    return f"restored {doc['restored']} (schema version {doc['schema_version']}){saved}"


def _baseline(doc: dict) -> str:
    recorded = doc["recorded"]
    if not recorded:
        return f"nothing to record: every migration up to {doc['version']} is already applied"
    verb = "would record" if doc["dry_run"] else "recorded"
    return f"{verb} {len(recorded)} migration(s) up to {doc['version']} as applied, without running them: {_versions(recorded)}"


def _accept(doc: dict) -> str:
    if not doc["accepted"]:
        return f"{doc['version']}: its file is as applied; nothing to accept"
    return f"{doc['version']}: the edited file is now the applied version (nothing ran)\n{doc['diff']}".rstrip()


def _import(doc: dict) -> str:
    from pathlib import Path

    from .loader import display

    verb = "would write" if doc["dry_run"] else "wrote"
    lines = [f"{verb} {display(Path(doc['folder']) / m['file'])}  (from {', '.join(m['from'])})" + "".join(f"\n    {note}" for note in m["notes"]) for m in doc["written"]]
    lines += [f"not imported: {u['file']}{':' + str(u['line']) if u['line'] else ''}: {u['reason']}" for u in doc["unmapped"]]
    if doc["adopted"] is not None:
        verb = "would record" if doc["dry_run"] else "recorded"
        lines.append(f"{verb} {len(doc['adopted'])} migration(s) as applied from {doc['history_table']}, without running them"
                     + (f": {_versions(doc['adopted'])}" if doc["adopted"] else ""))
    return "\n".join(lines)


def _wait(doc: dict) -> str:
    return f"the database is at its target {doc['target_version']} (daemon pid {doc['pid']}, idle)"


def _new(path: Any) -> str:
    from .loader import display

    return display(path)


_RENDERERS: dict[str, Callable[[Any], str]] = {
    "status": _status,
    "baseline": _baseline,
    "wait": _wait,
    "import": _import,
    "accept": _accept,
    "plan": _plan,
    "apply": _run,
    "rollback": _run,
    "reconcile": _run,
    "history": _history,
    "check-safety": _safety,
    "verify": _verify,
    "validate": _validate,
    "init": _init,
    "new": _new,
    "repair": _repair,
    "backup": _new,
    "backups": _backups,
    "restore": _restore,
}
