"""The runner against a small fake driver: transactions, history, dirty markers, events."""
from __future__ import annotations

import pytest

from migrund.errors import StepFailed
from migrund.model import Migration, Step
from migrund.runner import Runner
from tests.fakes import FakeDriver, FakeHistory, mig, runner, sql_step


def test_each_migration_commits_with_its_history_row():
    driver, events = FakeDriver(), []
    done = runner(driver, events).apply([mig(1, "A; B"), mig(2, "C")])
    assert done == [1, 2]
    assert driver.committed == ["A", "B", "history+1", "C", "history+2"]
    assert [(e.kind, e.version) for e in events] == [("start", 1), ("done", 1), ("start", 2), ("done", 2)]


def test_failure_rolls_back_that_migration_only_and_reports_step():
    driver, events = FakeDriver(), []
    with pytest.raises(StepFailed) as caught:
        runner(driver, events).apply([mig(1, "A"), Migration(2, "m2", "f", "yaml", "", (), False, False, True,
                                                              (sql_step("B"), sql_step("C; FAIL here")), None, "c", {}), mig(3, "D")])
    assert caught.value.version == 2 and caught.value.step == 2
    assert caught.value.done == [1]
    assert "FAIL here" in caught.value.message and "boom" in caught.value.message
    assert driver.committed == ["A", "history+1"]


def test_atomic_rolls_back_everything():
    driver = FakeDriver()
    with pytest.raises(StepFailed) as caught:
        runner(driver, []).apply([mig(1, "A"), mig(2, "FAIL")], atomic=True)
    assert caught.value.done == [] and driver.committed == []


def test_non_transactional_marks_dirty_before_each_step():
    driver = FakeDriver()
    migration = Migration(1, "m1", "f", "yaml", "", (), False, False, False, (sql_step("A"), sql_step("FAIL")), None, "c", {})
    with pytest.raises(StepFailed) as caught:
        runner(driver, []).apply([migration])
    assert driver.committed == ["dirty 1 up 1", "A", "dirty 1 up 2"]
    assert "dirty" in caught.value.message and "repair" in caught.value.message


def test_non_transactional_clears_marker_with_history_row():
    driver = FakeDriver()
    runner(driver, []).apply([mig(1, "A", transaction=False)])
    assert driver.committed == ["dirty 1 up 1", "A", "clean", "history+1"]


def test_without_transactional_ddl_every_migration_is_protected():
    driver = FakeDriver(transactional_ddl=False)
    runner(driver, []).apply([mig(1, "A")])
    assert driver.committed[0] == "dirty 1 up 1"


def test_without_transactional_ddl_the_next_marker_rides_with_the_history_row():
    driver = FakeDriver(transactional_ddl=False)
    assert runner(driver, []).apply([mig(1, "A"), mig(2, "B"), mig(3, "C")]) == [1, 2, 3]
    assert driver.committed == ["dirty 1 up 1", "A", "clean", "history+1", "dirty 2 up 1", "B",
                                "clean", "history+2", "dirty 3 up 1", "C", "clean", "history+3"]
    # two commits a migration (its DDL, then history with the next marker), and the first marker alone
    assert driver.transactions == [["clean", "history+1", "dirty 2 up 1"], ["clean", "history+2", "dirty 3 up 1"],
                                   ["clean", "history+3"]]


def test_a_later_step_still_gets_its_own_marker():
    driver = FakeDriver(transactional_ddl=False)
    two_steps = Migration(2, "m2", "f", "yaml", "", (), False, False, True, (sql_step("B"), sql_step("C")), None, "c", {})
    runner(driver, []).apply([mig(1, "A"), two_steps])
    assert driver.committed == ["dirty 1 up 1", "A", "clean", "history+1", "dirty 2 up 1", "B", "dirty 2 up 2", "C",
                                "clean", "history+2"]


def test_a_stop_after_the_next_marker_was_committed_takes_it_back():
    driver, calls = FakeDriver(transactional_ddl=False), []
    # False while migration 1 commits (so migration 2's marker goes with it), True before migration 2 starts
    stop = Runner(driver, FakeHistory(driver), config={}, on_event=calls.append,
                  should_stop=lambda: any(e.kind == "done" for e in calls))
    assert stop.apply([mig(1, "A"), mig(2, "B")]) == [1]
    assert driver.transactions == [["clean", "history+1", "dirty 2 up 1"], ["clean"]]


def test_no_marker_goes_ahead_of_a_backup_or_a_transaction(tmp_path):
    driver = FakeDriver(transactional_ddl=True)
    runner(driver, []).apply([mig(1, "A", transaction=False), mig(2, "B"), mig(3, "C", transaction=False)])
    assert ["clean", "history+1"] in driver.transactions, "migration 2 runs in a transaction: no marker for it"
    driver = FakeDriver(transactional_ddl=False)
    runner(driver, []).apply([mig(1, "A"), mig(2, "B", risky=True)], before_risky=lambda m: tmp_path / "b")
    assert driver.transactions[0] == ["clean", "history+1"], "a crash during the backup must not leave 2 marked dirty"


def test_a_failure_of_a_migration_marked_ahead_reports_it_dirty():
    driver = FakeDriver(transactional_ddl=False)
    with pytest.raises(StepFailed) as caught:
        runner(driver, []).apply([mig(1, "A"), mig(2, "FAIL")])
    assert caught.value.done == [1] and caught.value.dirty
    assert driver.committed[-1] == "dirty 2 up 1" and "nothing of it was committed" in caught.value.message


def test_risky_backup_is_taken_first_and_named_on_failure(tmp_path):
    driver, taken = FakeDriver(), []

    def backup(m):
        taken.append(m.version)
        return tmp_path / "b.sqlite3"

    with pytest.raises(StepFailed) as caught:
        runner(driver, []).apply([mig(1, "A"), mig(2, "FAIL", risky=True)], before_risky=backup)
    assert taken == [2] and "b.sqlite3" in caught.value.message


def test_rollback_runs_down_and_removes_history():
    driver = FakeDriver()
    assert runner(driver, []).rollback([mig(2, "X", down=["UNDO2"]), mig(1, "Y", down=["UNDO1"])]) == [2, 1]
    assert driver.committed == ["UNDO2", "history-2", "UNDO1", "history-1"]


def test_stop_flag_is_honoured_between_migrations():
    driver, calls = FakeDriver(), []
    stop = Runner(driver, FakeHistory(driver), config={}, on_event=lambda e: calls.append(e), should_stop=lambda: len(calls) >= 2)
    assert stop.apply([mig(1, "A"), mig(2, "B")]) == [1]


def test_hook_runs_the_checksummed_text_with_ctx():
    driver = FakeDriver()
    body = {"f.yaml": "", "hooks/h.py": "def go(conn, ctx):\n    conn.execute(f'HOOK {ctx.version} {ctx.direction} {ctx.dialect}')\n"}
    migration = Migration(7, "m7", "f.yaml", "yaml", "", (), False, False, True, (Step("python", path="hooks/h.py", function="go"),), None, "c", body)
    runner(driver, []).apply([migration])
    assert driver.committed == ["HOOK 7 up sqlite", "history+7"]
    bad = Migration(8, "m8", "f.yaml", "yaml", "", (), False, False, True, (Step("python", path="hooks/h.py", function="go"),), None, "c",
                    {"f.yaml": "", "hooks/h.py": "def go(conn, ctx):\n    raise ValueError('nope')\n"})
    with pytest.raises(StepFailed, match="ValueError: nope"):
        runner(driver, []).apply([bad])
