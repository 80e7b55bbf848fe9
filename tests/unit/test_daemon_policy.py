"""The daemon's pure policy: what each outcome of a reconcile means, and when to look again; no processes."""
from __future__ import annotations

from pathlib import Path

import pytest

from migrund.config import DaemonSettings
from migrund.daemon.policy import Failed, next_delay, outcome, sentence, still_failed
from migrund.errors import (
    ConfigError,
    DatabaseUnavailable,
    Dirty,
    InvalidInput,
    LockTimeout,
    MigrationError,
    Refused,
    StepFailed,
    ValidationFailed,
)
from migrund.model import SourceFile

DAEMON = DaemonSettings(Path("/run/status.json"), retry_min_seconds=5, retry_max_seconds=300, rescan_seconds=60)


def _file(version: int, checksum: str) -> SourceFile:
    return SourceFile(version, "x", f"{version}_x.yaml", "yaml", b"", (), checksum, {})


@pytest.mark.parametrize(
    ("error", "state", "retry", "remember"),
    [
        (StepFailed("boom", version=20250101000000, step=2), "error", False, True),  # waits for a change of file or config
        (StepFailed("backup failed", version=20250101000000, step=0), "error", True, False),  # the backup before it: retried
        (InvalidInput("bad"), "blocked", False, False),
        (ConfigError("bad key"), "blocked", False, False),
        (ValidationFailed("bad file"), "blocked", False, False),
        (Refused("checksum mismatch"), "blocked", False, False),
        (Dirty("dirty"), "blocked", False, False),
        (DatabaseUnavailable("down"), "error", True, False),
        (LockTimeout("held"), "error", True, False),
        (RuntimeError("a bug"), "error", True, False),
    ],
)
def test_each_outcome_has_its_state_and_retry(error, state, retry, remember):
    verdict = outcome(error)
    assert (verdict.state, verdict.retry, verdict.remember_failure) == (state, retry, remember)


def test_retry_backs_off_only_while_failures_may_heal():
    assert next_delay(0, None, DAEMON) == ("rescan", 60)
    assert [next_delay(n, None, DAEMON) for n in (1, 2, 3)] == [("retry", 5), ("retry", 10), ("retry", 20)]
    assert next_delay(9, None, DAEMON) == ("retry", 300)
    failed = Failed(20250101000000, "abc", object())
    assert next_delay(3, failed, DAEMON) == ("rescan", 60), "a failed migration waits for a change, not the backoff"


def test_a_failed_migration_is_tried_again_only_once_its_file_or_the_config_changed():
    settings = object()
    failed = Failed(20250101000000, "abc", settings)
    assert still_failed(failed, settings, {20250101000000: _file(20250101000000, "abc")})
    assert not still_failed(failed, settings, {20250101000000: _file(20250101000000, "edited")})
    assert not still_failed(failed, object(), {20250101000000: _file(20250101000000, "abc")}), "the config changed"
    assert not still_failed(failed, settings, {}), "its file is gone: the next plan says what to do"
    assert not still_failed(None, settings, {})


def test_sentence_is_one_line_with_at_most_three_details():
    exc = MigrationError("two\n  lines", details=["a", "b", "c", "d", "e"])
    assert sentence(exc) == "two lines: a; b; c; and 2 more"
