"""--wait-for-db: a server that comes up a little after migrund starts (containers started together)."""
from __future__ import annotations

import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from tests.daemonproc import free_port
from tests.helpers import clean_env
from tests.reliability.proxy import Relay

V = 20250101000000


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_apply_waits_for_a_server_that_comes_up_late(project, dialect):
    parts = urlsplit(project.url)
    port = free_port()
    project.url = project.url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{port}")
    project.configure()
    project.table(V, "a", "a")
    failed = project.run("apply")
    assert failed.code == 1, "without --wait-for-db an unreachable server fails at once"
    proc = subprocess.Popen([sys.executable, "-m", "migrund", "--wait-for-db", "30", "apply"], cwd=project.root,
                            env=clean_env(project.state_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # the server is "starting": nothing listens yet
    assert proc.poll() is None, proc.communicate()
    relay = Relay(parts.hostname, parts.port, listen_port=port)
    try:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "not reachable yet" in err and "waiting up to 30 s" in err
        assert project.applied() == [V]
    finally:
        relay.close()


def test_it_still_gives_up(project):
    if project.dialect == "sqlite":
        pytest.skip("a SQLite file is always reachable")
    parts = urlsplit(project.url)
    project.url = project.url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{free_port()}")
    project.configure()
    project.table(V, "a", "a")
    started = time.monotonic()
    result = project.run("--wait-for-db", "1", "status")
    assert result.code == 1 and 1 <= time.monotonic() - started < 20
