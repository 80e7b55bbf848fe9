"""The planner: pure decisions over files and history rows."""
from __future__ import annotations

import pytest

from migrund import plan
from migrund.errors import Dirty, InvalidInput, Refused
from migrund.model import Applied, DirtyMarker, Migration, SourceFile, Step


def source(version: int, checksum: str = "c") -> SourceFile:
    return SourceFile(version, f"m{version}", f"{version}_m{version}.yaml", "yaml", b"", (), checksum, {})


def files(*versions: int) -> dict[int, SourceFile]:
    return {v: source(v) for v in versions}


def applied(*versions: int, checksum: str = "c") -> list[Applied]:
    return [Applied(v, f"m{v}", checksum, "2025-01-01T00:00:00Z", 1, i) for i, v in enumerate(versions, 1)]


def migration(version: int, *, down: bool = True, destructive: bool = False) -> Migration:
    return Migration(version, f"m{version}", "", "yaml", "", (), destructive, False, True, (Step("sql", "SELECT 1"),),
                     (Step("sql", "SELECT 1"),) if down else None, "c", {})


V1, V2, V3 = 20250101000000, 20250102000000, 20250103000000


def test_resolve_target():
    fs = files(V1, V2)
    assert plan.resolve_target("latest", fs) is plan.LATEST
    assert plan.resolve_target("0", fs) == 0
    assert plan.resolve_target(str(V2), fs) == V2
    with pytest.raises(InvalidInput, match="names no migration file"):
        plan.resolve_target(str(V3), fs)
    for bad in ("x", "12", "202501010000001", "-1"):
        with pytest.raises(InvalidInput):
            plan.resolve_target(bad, fs)


def test_apply_pending_in_version_order_up_to_target():
    decision = plan.plan_apply(files(V3, V1, V2), applied(), V2, out_of_order=False, on_mismatch="fail")
    assert [s.version for s in decision.plan.steps] == [V1, V2]
    assert (decision.plan.from_version, decision.plan.to_version) == (0, V2)
    assert decision.refusals == []


def test_apply_target_below_current_is_invalid():
    with pytest.raises(InvalidInput, match="rollback"):
        plan.plan_apply(files(V1, V2), applied(V1, V2), V1, out_of_order=False, on_mismatch="fail")


def test_out_of_order_refused_unless_allowed():
    refused = plan.plan_apply(files(V1, V2, V3), applied(V1, V3), plan.LATEST, out_of_order=False, on_mismatch="fail")
    assert isinstance(refused.refusals[0], InvalidInput) and str(V2) in str(refused.refusals[0])
    allowed = plan.plan_apply(files(V1, V2, V3), applied(V1, V3), plan.LATEST, out_of_order=True, on_mismatch="fail")
    assert allowed.refusals == [] and [s.version for s in allowed.plan.steps] == [V2]
    assert allowed.plan.to_version == V3


def test_checksum_mismatch_refuses_or_warns():
    fs = files(V1, V2)
    rows = applied(V1, checksum="other")
    fail = plan.plan_apply(fs, rows, plan.LATEST, out_of_order=False, on_mismatch="fail")
    assert isinstance(fail.refusals[0], Refused)
    warn = plan.plan_apply(fs, rows, plan.LATEST, out_of_order=False, on_mismatch="warn")
    assert warn.refusals == [] and str(V1) in warn.warnings[0]


def test_dirty_comes_first():
    decision = plan.plan_apply(files(V1, V2, V3), applied(V1, V3), plan.LATEST, out_of_order=False, on_mismatch="fail")
    plan.with_dirty(decision, DirtyMarker(V3, "up", 2))
    assert isinstance(decision.refusals[0], Dirty) and "step 2" in str(decision.refusals[0])


def test_drift():
    fs = {V1: source(V1), V2: source(V2, "changed")}
    assert plan.drift(fs, applied(V1, V2, V3)) == ([V2], [V3])


def test_rollback_selection_follows_application_order():
    rows = applied(V1, V3, V2)
    assert [a.version for a in plan.rollback_selection(rows, steps=2, to=None, files=files(V1, V2, V3))] == [V2, V3]
    assert [a.version for a in plan.rollback_selection(rows, steps=None, to=V1, files=files(V1, V2, V3))] == [V2, V3]
    assert plan.rollback_selection([], steps=5, to=None, files={}) == []
    with pytest.raises(InvalidInput):
        plan.rollback_selection(rows, steps=4, to=None, files=files(V1))
    with pytest.raises(InvalidInput):
        plan.rollback_selection(rows, steps=0, to=None, files=files(V1))
    with pytest.raises(InvalidInput, match="above"):
        plan.rollback_selection(applied(V1), steps=None, to=V2, files=files(V1, V2))
    with pytest.raises(InvalidInput, match="neither"):
        plan.rollback_selection(rows, steps=None, to=20250101000001, files=files(V1))


def test_rollback_safety_checks_every_migration_in_range():
    rows = applied(V1, V2, V3)
    fs = {V1: source(V1), V2: source(V2)}
    definitions = {V1: migration(V1, down=False), V2: migration(V2, destructive=True), V3: migration(V3)}
    decision = plan.Decision(plan.rollback_plan(rows, list(reversed(rows))))
    plan.check_rollback(list(reversed(rows)), definitions, fs, allow_destructive=False, from_history=False, on_mismatch="fail", decision=decision)
    details = decision.refusals[0].details
    assert any(str(V3) in d and "gone" in d for d in details)
    assert any(str(V2) in d and "destructive" in d for d in details)
    assert any(str(V1) in d and "no down" in d for d in details)
    allowed = plan.Decision(plan.rollback_plan(rows, rows[1:2]))
    plan.check_rollback(rows[1:2], definitions, fs, allow_destructive=True, from_history=False, on_mismatch="fail", decision=allowed)
    assert allowed.refusals == []


def test_rollback_plan_versions():
    rows = applied(V1, V2, V3)
    result = plan.rollback_plan(rows, [rows[2], rows[1]])
    assert (result.from_version, result.to_version) == (V3, V1)
    assert [(s.version, s.direction) for s in result.steps] == [(V3, "down"), (V2, "down")]
