"""Eight processes racing on one project, CLI runs and daemons mixed: each migration runs exactly once."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests import servers
from tests.daemonproc import FAST, DaemonProcess
from tests.helpers import clean_env
from tests.reliability.checks import TRIALS

V = 20250501000000


@pytest.mark.parametrize("dialect", servers.DIALECTS)
def test_eight_processes_cli_and_daemons_mixed(project, dialect, tally):
    project.daemon = FAST
    project.configure()
    config = (project.root / "config" / "migrund.yaml").read_text()
    for n in range(3):  # one lock, one database, one migrations folder; a status file each
        (project.root / "config" / f"d{n}.yaml").write_text(config.replace("status.json", f"status-{n}.json"))
    daemons = [
        DaemonProcess(project, log_name=f"daemon-{n}.log", config=f"config/d{n}.yaml", status_name=f"status-{n}.json") for n in range(3)
    ]
    outputs: list[str] = []
    codes: list[int] = []
    versions: list[int] = []
    try:
        for d in daemons:
            d.ready()
        rounds = max(TRIALS // 2, 3)
        for round_ in range(rounds):
            for i in range(4):
                version = V + round_ * 10 + i
                versions.append(version)
                project.table(version, f"r{round_}m{i}", f"r{round_}m{i}")
            runners = [
                subprocess.Popen(
                    [sys.executable, "-m", "migrund", command, "--lock-timeout", "1"],
                    cwd=project.root, env=clean_env(project.state_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )
                for command in ("apply", "reconcile", "apply", "reconcile", "apply")
            ]
            for runner in runners:
                out, err = runner.communicate(timeout=120)
                assert "Traceback" not in err, err
                codes.append(runner.returncode)
                outputs.append(out)
                assert runner.returncode in (0, 3), err
            for d in daemons:
                d.wait_state("idle", current_version=versions[-1], timeout=60)
            tally["trials"] += 1
        assert project.applied() == versions
        ran = [int(v) for v in re.findall(r"^(?:migrund: INFO: migrund\.daemon: )?applied (\d+) ", "".join(outputs) + "".join(d.log() for d in daemons), re.M)]
        assert sorted(ran) == versions, "each migration ran in exactly one process"
        assert set(codes) <= {0, 3}, codes
        for d in daemons:
            assert d.stop() == 0
    finally:
        for d in daemons:
            d.close()
