"""The reliability suite's tally: trials run, faults injected, inputs fuzzed, losses found.

``MIGRUND_TRIALS`` (default 6) is the number of trials per crash scenario; CI runs the
default, a soak run sets it higher. The tally is printed at the end of the run and, with
``MIGRUND_RELIABILITY_REPORT=PATH``, written there as JSON (the README quotes it).
"""
from __future__ import annotations

import json
import os
from collections import Counter

import pytest

TALLY: Counter = Counter()


@pytest.fixture
def tally() -> Counter:
    """Count what a test did: ``tally["trials"] += 1`` and so on."""
    return TALLY


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TALLY:
        return
    line = ", ".join(f"{key} {TALLY[key]}" for key in ("trials", "faults", "fuzzed", "losses", "orphans", "temp_files", "secrets", "interrupted_restores"))
    terminalreporter.write_line(f"reliability: {line} (MIGRUND_TRIALS={os.environ.get('MIGRUND_TRIALS', '6')})")
    target = os.environ.get("MIGRUND_RELIABILITY_REPORT")
    if target:
        with open(target, "w") as handle:
            json.dump(dict(TALLY, trials_setting=int(os.environ.get("MIGRUND_TRIALS", "6"))), handle, indent=2)
