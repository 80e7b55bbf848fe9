"""A transaction pooler in front of PostgreSQL is refused before anything runs; a session pool is not.

Runs a real PgBouncer (Debian's package `pgbouncer`) in front of the local server; where
it is not installed the tests say they skip.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests import servers
from tests.helpers import Project

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)
V = 20250101000000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bouncer(request):
    """A PgBouncer on a free port in front of 127.0.0.1:5432, in the pool mode the test names."""
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    folder = Path(tempfile.mkdtemp(prefix="migrund-pgbouncer-"))
    folder.chmod(0o755)  # PgBouncer drops root for the postgres user, which must read its files
    port = _free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n* = host=127.0.0.1 port=5432\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {folder}/users.txt\n"
        f"pool_mode = {request.param}\nlogfile = {folder}/pgbouncer.log\npidfile = {folder}/pgbouncer.pid\n"
    )
    for path in folder.iterdir():
        path.chmod(0o644)
    shutil.chown(folder, "postgres")
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")] if os.geteuid() else [PGBOUNCER, "-u", "postgres", str(folder / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pgbouncer did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_project(tmp_path):
    db = servers.create("postgresql", tmp_path / "proj")
    project = Project(tmp_path / "proj", db=db)
    project.table(V, "users", "users")
    yield project
    servers.drop(db)


def _through(project: Project, port: int) -> None:
    project.configure(f"database:\n  url: {project.url.replace(':5432/', f':{port}/')}\n")


@pytest.mark.parametrize("bouncer", ["transaction", "statement"], indirect=True)
def test_postgresql_behind_a_transaction_pooler_is_refused(pg_project, bouncer):
    project = pg_project
    _through(project, bouncer)
    assert project.run("status").code == 0, "reading needs no lock: it works through the pooler"
    for command in (["apply"], ["baseline", str(V)], ["reconcile"]):
        refused = project.run(*command)
        assert refused.code == 2, (command, refused.err)
        assert "transaction pooler" in refused.err and "advisory locks need a direct connection" in refused.err
        assert "point database.url at the server itself" in refused.err
        assert refused.err.count("\n") == 1, "one sentence"
    assert project.db.applied() == [] and "users" not in project.tables(), "nothing ran"


@pytest.mark.parametrize("bouncer", ["session"], indirect=True)
def test_postgresql_behind_a_session_pool_runs(pg_project, bouncer):
    project = pg_project
    _through(project, bouncer)
    done = project.run("apply")
    assert done.code == 0, done.err
    assert project.db.applied() == [V]
    assert project.run("rollback").code == 0 and project.db.applied() == []
