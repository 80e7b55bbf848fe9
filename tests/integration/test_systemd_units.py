"""The shipped systemd units: valid for systemd, hardened, and pointing at a real command."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

UNITS = {"migrund.service": "migrund.service", "migrund@.service": "migrund@app.service"}
HARDENING = {
    "Type": "notify",
    "User": "migrund",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
}


def settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if match:
            found.setdefault(match[1], []).append(match[2])
    return found


def installed_copy(tmp_path: Path, name: str, as_name: str) -> Path:
    """The unit with ExecStart pointing at this checkout's migrund (systemd checks that it exists)."""
    migrund = Path(sys.executable).with_name("migrund")
    if not migrund.exists():
        pytest.skip("the console script is not installed (pip install -e .)")
    text = (REPO / "systemd" / name).read_text().replace("ExecStart=migrund ", f"ExecStart={migrund} ")
    path = tmp_path / as_name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", UNITS)
def test_the_unit_is_hardened_as_section_8_asks(name):
    found = settings((REPO / "systemd" / name).read_text())
    for key, value in HARDENING.items():
        assert value in found.get(key, []), f"{name}: {key}={value} is missing"
    assert "@system-service" in found["SystemCallFilter"]
    assert any("/var/lib/migrund" in v for v in found["ReadWritePaths"])
    assert any("/var/backups/migrund" in v for v in found["ReadWritePaths"])
    assert found["ExecStart"][0].split()[-1] == "daemon"
    # a bare name: systemd finds it in its fixed search path (/usr/local/bin, /usr/bin, ...),
    # where a system-wide pip install puts it; an absolute path would name one layout only
    assert found["ExecStart"][0].split()[0] == "migrund"
    assert found["ExecReload"] == ["/bin/kill -HUP $MAINPID"]


@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verifies_the_unit_and_scores_it_low(tmp_path, name):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt install systemd)")
    unit = installed_copy(tmp_path, name, UNITS[name])
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)], capture_output=True, text=True)
    score = re.search(r"Overall exposure level for \S+: ([0-9.]+)", security.stdout)
    assert score is not None, security.stdout + security.stderr
    assert float(score[1]) <= 1.5, security.stdout
