"""Scheduled workflows: cron in code and in the database, exactly once per tick, missed ticks, DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from dbos_django import DBOS, testing
from dbos_django.engine import cron
from dbos_django.error import DBOSException
from dbos_django.models import Schedule, Workflow

START = int(datetime(2026, 11, 2, 12, 0, 30, tzinfo=UTC).timestamp() * 1000)  # a Monday, 12:00:30 UTC


@DBOS.workflow()
def every_minute(scheduled_time: datetime, actual_time: datetime) -> str:
    return scheduled_time.isoformat()


@DBOS.workflow()
def report(scheduled_time: datetime, context: object) -> str:
    return f"{scheduled_time.isoformat()} {context}"


@pytest.fixture
def code_schedule():
    """``@DBOS.scheduled`` on ``every_minute`` for this module's tests only (other tests advance clocks too)."""
    from dbos_django.engine.registry import registry

    DBOS.scheduled("* * * * *")(every_minute)
    yield
    registry.schedules.pop("every_minute", None)


@pytest.fixture
def runtime(db, code_schedule):
    clock = testing.FakeClock(START)
    test_runtime = testing.launch(clock=clock)
    yield test_runtime
    testing.destroy()


def fired(name: str) -> list[str]:
    return sorted(Workflow.objects.filter(workflow_id__startswith=f"sched-{name}-").values_list("workflow_id", flat=True))


def test_an_invalid_cron_expression_fails_at_decoration_naming_it():
    with pytest.raises(ValueError, match="'61 \\* \\* \\* \\*'.*scheduled workflow"):

        @DBOS.scheduled("61 * * * *")
        @DBOS.workflow()
        def never(scheduled_time: datetime, actual_time: datetime) -> None: ...


def test_six_fields_put_seconds_first():
    ticks = cron.due("*/20 * * * * *", ZoneInfo("UTC"), START, START + 60_000, 10)
    assert [t.second for t in ticks] == [40, 0, 20]


def test_a_code_schedule_fires_at_each_tick_with_scheduled_and_actual_time(runtime):
    assert runtime.drain() == 0  # a new schedule counts from now
    runtime.advance(30)
    assert fired("every_minute") == ["sched-every_minute-2026-11-02T12:01:00+00:00"]
    assert DBOS.get_result(fired("every_minute")[0]) == "2026-11-02T12:01:00+00:00"
    status = DBOS.get_workflow_status(fired("every_minute")[0])
    assert status.input["args"][1] == datetime(2026, 11, 2, 12, 1, 0, tzinfo=UTC)


def test_a_tick_seen_twice_runs_once(runtime):
    runtime.advance(30)
    schedule = Schedule.objects.get(schedule_name="every_minute")
    Schedule.objects.filter(pk=schedule.pk).update(last_fired_at=START)  # another worker has not seen it yet
    runtime.drain()
    assert len(fired("every_minute")) == 1


def test_after_downtime_only_the_latest_missed_tick_fires(runtime):
    runtime.advance(10 * 60)
    assert fired("every_minute") == ["sched-every_minute-2026-11-02T12:10:00+00:00"]


def test_automatic_backfill_fires_every_missed_tick_in_order(runtime):
    DBOS.create_schedule(schedule_name="backfilled", workflow_fn=report, schedule="*/5 * * * *",
                         automatic_backfill=True, context="ctx", cron_timezone="UTC")  # fmt: skip
    runtime.advance(20 * 60)
    names = fired("backfilled")
    assert [n.split("T")[1][:5] for n in names] == ["12:05", "12:10", "12:15", "12:20"]
    assert DBOS.get_result(names[0]) == "2026-11-02T12:05:00+00:00 ctx"


def test_a_paused_schedule_does_not_fire_and_resumes_from_then(runtime):
    DBOS.create_schedule(schedule_name="pausable", workflow_fn=report, schedule="* * * * *", cron_timezone="UTC")
    DBOS.pause_schedule("pausable")
    runtime.advance(120)
    assert fired("pausable") == []
    DBOS.resume_schedule("pausable")
    runtime.advance(60)
    assert len(fired("pausable")) == 1


def test_the_schedule_api_lists_gets_and_deletes(runtime):
    DBOS.register_queue("reports")  # a schedule's queue must exist
    DBOS.create_schedule(schedule_name="listed", workflow_fn=report, schedule="0 9 * * *", context={"a": 1},
                         cron_timezone="Europe/Paris", queue_name="reports")  # fmt: skip
    [row] = DBOS.list_schedules(schedule_name_prefix="list")
    assert (row["workflow_name"], row["status"], row["context"], row["queue_name"]) == ("report", "ACTIVE", {"a": 1}, "reports")
    assert DBOS.get_schedule("listed")["cron_timezone"] == "Europe/Paris"
    DBOS.delete_schedule("listed")
    assert DBOS.get_schedule("listed") is None


def test_a_duplicate_schedule_name_is_refused(runtime):
    DBOS.create_schedule(schedule_name="dup", workflow_fn=report, schedule="* * * * *")
    with pytest.raises(DBOSException, match="already exists"):
        DBOS.create_schedule(schedule_name="dup", workflow_fn=report, schedule="* * * * *")


def test_apply_schedules_upserts_atomically(runtime):
    DBOS.apply_schedules([{"schedule_name": "a1", "workflow_fn": report, "schedule": "* * * * *"},
                          {"schedule_name": "a2", "workflow_fn": report, "schedule": "0 * * * *"}])  # fmt: skip
    DBOS.apply_schedules([{"schedule_name": "a2", "workflow_fn": report, "schedule": "30 * * * *"}])
    assert DBOS.get_schedule("a2")["schedule"] == "30 * * * *"
    with pytest.raises(ValueError):
        DBOS.apply_schedules([{"schedule_name": "a3", "workflow_fn": report, "schedule": "nope"}])
    assert DBOS.get_schedule("a3") is None


def test_backfill_starts_the_ticks_between_two_times_once(runtime):
    DBOS.create_schedule(schedule_name="hourly", workflow_fn=report, schedule="0 * * * *", cron_timezone="UTC")
    start, end = datetime(2026, 11, 1, 0, 0, tzinfo=UTC), datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert len(DBOS.backfill_schedule("hourly", start, end)) == 3  # 01:00, 02:00, 03:00: both ends excluded
    assert len(DBOS.backfill_schedule("hourly", start, end)) == 3
    assert len(fired("hourly")) == 3


def test_trigger_starts_the_workflow_now(runtime):
    DBOS.create_schedule(schedule_name="manual", workflow_fn=report, schedule="0 0 1 1 *", context="now")
    handle = DBOS.trigger_schedule("manual")
    assert handle.workflow_id.startswith("sched-manual-trigger-")
    assert handle.get_result().endswith(" now")


def test_cron_runs_in_the_schedule_time_zone_default_time_zone(runtime, settings):
    DBOS.create_schedule(schedule_name="paris-9am", workflow_fn=report, schedule="0 9 * * *",
                         cron_timezone="Europe/Paris")  # fmt: skip
    ticks = DBOS.get_schedule("paris-9am")
    assert ticks["cron_timezone"] == "Europe/Paris"
    nine = cron.ticks_after("0 9 * * *", ZoneInfo("Europe/Paris"), START)
    assert next(nine).isoformat() == "2026-11-03T09:00:00+01:00"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # Spring forward in Paris: 02:30 does not exist that night; it fires once, at 03:30 (01:30 UTC).
        (datetime(2026, 3, 28, 12, tzinfo=UTC), ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"]),
        # Fall back: 02:30 happens twice that night; it fires once, at the first.
        (datetime(2026, 10, 24, 12, tzinfo=UTC), ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
    ],
)
def test_daylight_saving_transitions_neither_skip_nor_double_fire(day: datetime, expected: list[str]):
    ticks = cron.due("30 2 * * *", ZoneInfo("Europe/Paris"), int(day.timestamp() * 1000),
                     int(day.timestamp() * 1000) + 2 * 86_400_000, 10)  # fmt: skip
    assert [t.isoformat() for t in ticks] == expected


def test_an_hourly_schedule_over_fall_back_fires_each_wall_clock_hour_once():
    day = int(datetime(2026, 10, 25, 0, 30, tzinfo=ZoneInfo("Europe/Paris")).timestamp() * 1000)
    ticks = cron.due("0 * * * *", ZoneInfo("Europe/Paris"), day, day + 5 * 3_600_000, 10)
    wall = [t.strftime("%H:%M") for t in ticks]
    assert wall == sorted(set(wall))  # 01:00, 02:00, 03:00, 04:00: the repeated 02:xx hour is not run twice


def test_the_command_lists_and_controls_schedules(runtime, capsys):
    DBOS.create_schedule(schedule_name="cmd", workflow_fn=report, schedule="0 9 * * *", cron_timezone="UTC")
    call_command("dbos_schedules", "list")
    out = capsys.readouterr().out
    assert "cmd" in out and "every_minute" in out and "2026-11-03T09:00:00+00:00" in out
    call_command("dbos_schedules", "pause", "cmd")
    assert DBOS.get_schedule("cmd")["status"] == "PAUSED"
    call_command("dbos_schedules", "resume", "cmd")
    call_command("dbos_schedules", "trigger", "cmd")
    call_command("dbos_schedules", "backfill", "cmd", "2026-11-01T00:00+00:00", "2026-11-03T00:00+00:00")
    assert len(fired("cmd")) == 3  # the trigger and two backfilled mornings


def test_the_command_reports_an_unknown_schedule(runtime):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No schedule named nope"):
        call_command("dbos_schedules", "pause", "nope")


@pytest.mark.django_db(transaction=True)
def test_processes_launching_together_store_the_same_code_schedules_without_a_conflict():
    import threading
    import uuid

    from django.db import connections

    from dbos_django.storage import schedules as store

    errors: list[BaseException] = []

    def launch_like(barrier: threading.Barrier, name: str) -> None:
        row = Schedule(schedule_id=str(uuid.uuid4()), schedule_name=name, workflow_name=name, schedule="0 3 * * *",
                       kind="decorator", created_at=0, application_name="tests")  # fmt: skip
        barrier.wait()
        try:
            store.upsert("default", [row], keep_status=True)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    for round_number in range(15):  # each round two "processes" register a schedule new to both, at once
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=launch_like, args=(barrier, f"together-{round_number}")) for _ in "ab"]
        [thread.start() for thread in threads]
        [thread.join() for thread in threads]
    assert errors == []
    assert Schedule.objects.filter(schedule_name__startswith="together-").count() == 15
