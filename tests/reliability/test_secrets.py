"""A canary password in the database URL never shows: not in any output, log, status file, endpoint or backup."""
from __future__ import annotations

import gzip
from urllib.parse import quote, urlsplit

import pytest

from tests.daemonproc import FAST, DaemonProcess, free_port

CANARY = "canary-Secret-9931"
V = 20250601000000


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or "postgres"
    return url.replace(f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://{user}:{password}@{parts.hostname}:{parts.port}")


ODD = "c@nary:Se/cr#et 9931%"  # what breaks masking by pattern: @ : / # space %, percent-encoded in the URL
FORMS = {
    "plain": (CANARY, lambda url: with_password(url, CANARY), "***@"),
    "odd-characters": (ODD, lambda url: with_password(url, quote(ODD, safe="")), "***@"),
    "query-parameter": (ODD, lambda url: url + "?password=" + quote(ODD, safe=""), "password=***"),
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("dialect", ["postgresql"])  # trust auth: any password is accepted, so every command runs
def test_every_command_and_the_daemon_keep_the_password_to_themselves(project, dialect, tally, form):
    secret, spell, masked = FORMS[form]
    project.url = spell(project.url)
    port = free_port()
    project.daemon = FAST + f"  http: 127.0.0.1:{port}\n"
    project.configure("backup:\n  dir: ../backups\n  format: json\n  compress: true\n")
    project.table(V + 1, "a", "t1")
    project.table(V + 2, "b", "t2")
    project.write("hooks/show.py", "def show(conn, ctx):\n    ctx.log.info('config seen by the hook: %s', ctx.config)\n")
    project.write(f"{V + 3}_hooked.yaml", "up:\n  - python: hooks/show.py:show\ndown:\n  - python: hooks/show.py:show\n")
    shown: list[str] = []
    commands = [
        ["validate"], ["status"], ["plan"], ["apply", "--dry-run"], ["apply"], ["history"], ["history", "--rollbacks"],
        ["verify"], ["check-safety", str(V + 2)], ["backup"], ["backups"], ["rollback"], ["reconcile"],
        ["repair", str(V + 1), "--applied"], ["new", "later"], ["rollback", "--to", "0", "--dry-run"],
    ]
    for command in commands:
        for extra in ([], ["--json"], ["-v"]):
            result = project.run(*command, *extra)
            shown += [result.out, result.err]
            tally["trials"] += 1
    backups = project.run("backups", "--json").json
    restore = project.run("restore", backups[0]["path"])
    shown += [restore.out, restore.err]
    for backup in (project.root / "backups").iterdir():
        data = backup.read_bytes()
        shown.append(gzip.decompress(data).decode() if backup.name.endswith(".gz") else data.decode("utf-8", "replace"))
    d = DaemonProcess(project)
    try:
        d.ready()
        shown += [d.http(port, path)[1].decode() for path in ("/status", "/metrics", "/healthz")]
        shown.append(d.status_path.read_text())
        assert d.stop() == 0
    finally:
        d.close()
    shown += [d.log(), "\n".join(d.messages)]
    for table in ("migrund_history", "migrund_rollbacks", "migrund_meta"):
        shown.append(repr(project.db.rows(f"SELECT * FROM {table}")))
    for path in (project.state_home / "migrund").rglob("*"):  # the state folder: cache, status, work
        if path.is_file():
            shown.append(path.read_text(errors="replace"))
    everything = "\n".join(shown)
    for spelling in {secret, quote(secret, safe=""), quote(secret)}:
        assert spelling not in everything, spelling
    assert masked in everything, "the masked URL is what shows"
    assert "config seen by the hook" in everything, "the hook saw the (masked) config"


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_a_refused_password_is_not_repeated_in_the_error(project, dialect, tally):
    parts = urlsplit(project.url)
    # A user the server does not know: the login fails, whatever the password.
    project.url = project.url.replace(f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://nosuchuser:{CANARY}@{parts.hostname}:{parts.port}")
    project.configure()
    project.table(V + 1, "a", "t1")
    for command in (["status"], ["apply"], ["backup"], ["apply", "-v"]):
        result = project.run(*command)
        assert result.code == 1, result.err
        assert CANARY not in result.out + result.err, result.err
        assert "nosuchuser:***@" in result.err, result.err
        tally["trials"] += 1
