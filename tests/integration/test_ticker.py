"""The live progress line: on a terminal, for runs over two seconds; never on pipes or with --json."""
from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.helpers import clean_env

V = 20250101000000


def _slow(project, seconds=3.0):
    project.write("hooks/slow.py", f"import time\n\ndef run(conn, ctx):\n    time.sleep({seconds})\n")
    project.write(f"{V}_slow.yaml", "up:\n  - sql: CREATE TABLE a (id INTEGER)\n  - python: hooks/slow.py:run\n"
                                    "down:\n  - sql: DROP TABLE a\n")


def _on_a_terminal(project, *args):
    """Run migrund with stdin, stdout and stderr on a pseudo-terminal; everything it wrote there."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "migrund", *args], cwd=project.root, stdin=child, stdout=child, stderr=child,
                            env=clean_env(project.state_home, TERM="xterm", COLUMNS="200"))
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed with the program
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert proc.wait(30) == 0
    return b"".join(chunks).decode()


def test_a_long_run_on_a_terminal_shows_which_step_runs(sqlite_project):
    project = sqlite_project
    _slow(project)
    screen = _on_a_terminal(project, "apply")
    assert "\r\x1b[K" in screen, "the line is drawn and redrawn in place"
    drawn = [part for part in screen.split("\r\x1b[K") if part.startswith("applying")]
    assert any(f"applying {V} slow, step 2 of 2: " in part and "(migration 1 of this run" in part for part in drawn), screen
    seconds = [float(part.split(": ")[1].split(" s")[0]) for part in drawn if ": " in part]
    assert seconds == sorted(seconds) and seconds[-1] >= 2.0, "the time counts up"
    tail = screen.rsplit("\r\x1b[K", 1)[1]
    assert "1 applied; the database is at" in tail and "step 2 of 2:" not in tail, "the line is gone when the run ends"


def test_no_live_line_on_pipes_or_with_json(sqlite_project):
    project = sqlite_project
    _slow(project, 2.6)
    piped = project.run("apply")
    assert piped.code == 0 and "\x1b" not in piped.out + piped.err and "\r" not in piped.out + piped.err
    screen = _on_a_terminal(project, "rollback", "--json")
    assert "\x1b" not in screen and '"steps"' in screen
