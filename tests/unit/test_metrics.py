"""/metrics prints versions as the integers they are, beyond a float's 2**53 too."""
from __future__ import annotations

import re

from migrund.daemon.endpoint import Metrics


def test_versions_print_as_exact_integers():
    metrics = Metrics()
    assert re.search(rb"^migrund_current_version 0$", metrics.text(), re.M), "zero before any status"
    big = 2**63 - 1
    metrics.observe({"current_version": 20250101000001, "target_version": big, "pending": [big], "state": "applying",
                     "running": {"version": big, "step": 1, "since": "2026-12-04T10:00:00Z"}})
    text = metrics.text().decode()
    assert re.search(r"^migrund_current_version 20250101000001$", text, re.M)
    assert re.search(rf"^migrund_target_version {big}$", text, re.M) and re.search(rf"^migrund_running_migration {big}$", text, re.M)
    assert re.search(r"^migrund_running_step 1\.0$", text, re.M), "other series keep the client's format"
    assert "# TYPE migrund_current_version gauge" in text
