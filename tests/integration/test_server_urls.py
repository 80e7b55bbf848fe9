"""Server URLs: schemes, query options, unix sockets, unreachable servers, missing drivers."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO, clean_env

SOCKETS = {"postgresql": "postgresql://postgres@/{name}?host=/var/run/postgresql", "mysql": "mysql://root@localhost/{name}?unix_socket=/run/mysqld/mysqld.sock"}
ALIASES = {"postgresql": ("postgresql://", "postgres://"), "mysql": ("mysql://", "mariadb://")}


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_aliases_sockets_and_options_reach_the_same_database(project, dialect):
    project.table(20250101000000, "a", "a")
    assert project.run("apply").code == 0
    canonical, alias = ALIASES[dialect]
    urls = [project.db.url.replace(canonical, alias, 1), SOCKETS[dialect].format(name=project.db.name)]
    if dialect == "postgresql":
        urls.append(project.db.url + "?sslmode=disable&connect_timeout=3")
    for url in urls:
        result = project.run("status", "--json", env={"MIGRUND_DATABASE_URL": url})
        assert result.code == 0, (url, result.err)
        assert result.json["applied"] == [20250101000000]


@pytest.mark.parametrize("url,words", [
    ("postgresql://app:canary-pw@127.0.0.1:1/nodb", ["PostgreSQL", "127.0.0.1:1", "nodb", "postgresql://app:***@127.0.0.1:1/nodb"]),
    ("mysql://app:canary-pw@127.0.0.1:1/nodb", ["MySQL", "127.0.0.1:1", "nodb", "mysql://app:***@127.0.0.1:1/nodb"]),
])
def test_unreachable_server_is_one_sentence_and_exit_1(sqlite_project, url, words):
    sqlite_project.table(20250101000000, "a", "a")
    for command in (["status"], ["apply"], ["history", "--json"]):
        result = sqlite_project.run(*command, env={"MIGRUND_DATABASE_URL": url})
        assert result.code == 1, result.err
        assert all(word in result.err for word in words), result.err
        assert "canary-pw" not in result.err + result.out
        assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("module,extra,url", [
    ("psycopg", "migrund[postgres]", "postgresql://u@127.0.0.1/db"),
    ("pymysql", "migrund[mysql]", "mysql://u@127.0.0.1/db"),
])
def test_missing_driver_names_the_extra(sqlite_project, module, extra, url):
    code = f"import sys; sys.modules[{module!r}] = None; from migrund.cli import main; sys.exit(main(['status']))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=sqlite_project.root, capture_output=True, text=True,
                          env=clean_env(sqlite_project.state_home, MIGRUND_DATABASE_URL=url, PYTHONPATH=str(REPO)))
    assert proc.returncode == 1 and extra in proc.stderr and "Traceback" not in proc.stderr


def test_drivers_are_imported_only_for_their_dialect(sqlite_project):
    sqlite_project.table(20250101000000, "a", "a")
    code = ("import sys; from migrund.cli import main; main(['apply', '-q']); main(['status', '-q']);"
            "print(sorted(m for m in ('psycopg', 'pymysql', 'jsonschema', 'jsonschema_rs', 'watchdog', 'apscheduler') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=sqlite_project.root, capture_output=True, text=True,
                          env=clean_env(sqlite_project.state_home, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr
    # the first run validates (with the compiled validator: jsonschema only for a failing document); no driver or daemon library
    assert proc.stdout.strip().splitlines()[-1] == "['jsonschema_rs']", proc.stdout
    proc = subprocess.run([sys.executable, "-c", code.replace("main(['apply', '-q']); ", "")], cwd=sqlite_project.root,
                          capture_output=True, text=True, env=clean_env(sqlite_project.state_home, PYTHONPATH=str(REPO)))
    assert proc.stdout.strip().splitlines()[-1] == "[]", "a second look needs none of them"
