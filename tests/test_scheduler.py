"""APScheduler wiring, the scheduler's settings, and who receives a unit's mail."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from engine.clock import SystemClock
from engine.config import Config
from engine.errors import ConfigError
from engine.models import Instance, Role, Unit, User
from notifications.recipients import Recipients, merged
from notifications.scheduler import DELIVER_JOB, TICK_JOB, build_scheduler
from notifications.tick import STEPS, Settings, run_tick
from tests.engine_fixtures import make_runtime


@pytest.fixture
def rt(tmp_path):
    return make_runtime(tmp_path)


@pytest.mark.parametrize("cls", [BackgroundScheduler, BlockingScheduler])
def test_jobs_have_ids_and_safe_defaults(rt, cls):
    scheduler = build_scheduler(rt, cls, every_minutes=30, misfire_grace_seconds=120)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {TICK_JOB, DELIVER_JOB}
    tick = jobs[TICK_JOB]
    assert isinstance(tick.trigger, IntervalTrigger)
    assert tick.trigger.interval.total_seconds() == 30 * 60
    assert jobs[DELIVER_JOB].trigger.interval.total_seconds() == 60
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == 120 and job.args == (rt,)


def test_background_scheduler_runs_the_tick(rt):
    """Wait for the tick job to finish (APScheduler's executed event), never for a first sign
    of it: a busy machine only makes the wait longer, never the assertion wrong."""
    done = threading.Event()
    scheduler = build_scheduler(rt, run_first_tick_soon=False)
    scheduler.add_listener(lambda event: event.job_id == TICK_JOB and done.set(),
                           EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        scheduler.get_job(TICK_JOB).modify(next_run_time=SystemClock().now())
        assert done.wait(timeout=600), "the tick job never ran"
    finally:
        scheduler.shutdown(wait=True)
    with rt.sessions() as s:
        started = s.scalar(select(func.count(Instance.id))) or 0
    assert started == 24  # 16 cities' task 1 and the departments' first cycles


def test_run_tick_survives_a_broken_step(rt):
    def broken(_rt):
        raise RuntimeError("boom")

    report = run_tick(rt, [("broken", broken), *STEPS[:1]])
    assert report.counts == {"broken": -1, "open_cycles": 24}
    assert "broken -1" in str(report)


def test_settings_from_environment():
    conf = Settings.from_knobs(Config.from_env({
        "DUBAN_REMINDER_DAYS": "10, 3", "DUBAN_ESCALATE_AFTER": "3",
        "DUBAN_REMINDER_WORKING_DAYS": "yes", "DUBAN_BULLETINS": "yearly",
        "DUBAN_CONTACT": "王明,0551-1"}).scheduler)
    assert conf.reminder.offsets == (10, 3) and conf.reminder.working_days
    assert conf.escalation.after_working_days == 3
    assert not conf.calendar.monthly and conf.calendar.yearly
    assert conf.contact is not None and conf.contact.phone == "0551-1"
    default = Settings.from_knobs(Config.from_env({}).scheduler)
    assert default.reminder.offsets == (7, 1) and default.escalation.after_working_days == 5
    with pytest.raises(ConfigError, match="DUBAN_REMINDER_DAYS"):
        Config.from_env({"DUBAN_REMINDER_DAYS": "seven"})
    with pytest.raises(ConfigError, match="DUBAN_ESCALATE_AFTER"):
        Config.from_env({"DUBAN_ESCALATE_AFTER": "-1"})


def _user(s, name, role, unit, email, active=True):
    s.add(User(username=name, display_name=f"{name}同志", password_hash="x", role=role,
               unit_id=unit, email=email, active=active, created_at=SystemClock().now()))


def test_recipients_rule(rt):
    with rt.sessions() as s, s.begin():
        _user(s, "hf1", Role.LIAISON, "hefei", "hf1@example.cn")
        _user(s, "hf2", Role.LIAISON, "hefei", None)
        _user(s, "hf3", Role.LIAISON, "hefei", "gone@example.cn", active=False)
        s.get(Unit, "hefei").email = "hefei-office@example.cn"
        s.get(Unit, "wuhu").email = "wuhu@example.cn"
        s.get(Unit, "jxw").email = "jxw@example.cn"
        _user(s, "duchao", Role.SUPERVISOR, "dcs", "duchao@example.cn")
    with rt.sessions() as s:
        to = Recipients(s, date(2018, 11, 1))
        assert to.unit("hefei") == [("hf1同志", "hf1@example.cn")]  # liaisons win
        assert to.unit("wuhu") == [("芜湖市人民政府", "wuhu@example.cn")]  # unit address
        assert to.unit("bengbu") == []  # nobody: in-app only
        assert to.office("dcs") == [("duchao同志", "duchao@example.cn")]
        # without a liaison the department's address carries its name of the day
        assert to.unit("jxw") == [("安徽省经济和信息化厅", "jxw@example.cn")]
        assert to.office("wuhu") == [("芜湖市人民政府", "wuhu@example.cn")]
    assert merged([("a", "X@e.cn")], [("b", "x@e.cn"), ("c", "y@e.cn")]) == [
        ("a", "X@e.cn"), ("c", "y@e.cn")]
