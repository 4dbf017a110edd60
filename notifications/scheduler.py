"""The APScheduler 3 jobs that run the tick: in ``duban serve`` (background) or alone.

Two jobs with explicit ids: ``duban-tick`` runs every step of ``notifications.tick`` every
``every_minutes``; ``duban-deliver`` drains the outbox every ``deliver_minutes`` so mail does not
wait for the next tick. Both coalesce missed runs into one, never overlap themselves
(``max_instances=1``) and still run when they start up to ``misfire_grace_seconds`` late.

APScheduler's triggers run on wall time; the jobs themselves read only ``rt.clock``. On a
simulated clock (``DUBAN_CLOCK`` set to a date) the jobs therefore repeat the same simulated day
until someone moves the clock (``duban tick --until``, the admin page): each repeat sends
nothing new, because every step is idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.clock import SystemClock
from engine.runtime import Runtime
from notifications.tick import run_tick, step_deliver

log = logging.getLogger(__name__)

TICK_JOB = "duban-tick"
DELIVER_JOB = "duban-deliver"
EVERY_MINUTES = 60
DELIVER_MINUTES = 1
MISFIRE_GRACE_SECONDS = 15 * 60
FIRST_RUN_DELAY = timedelta(seconds=5)


def tick_job(rt: Runtime) -> None:
    """One tick; the report goes to the log, an error never kills the scheduler."""
    try:
        log.info("tick: %s", run_tick(rt))
    except Exception:  # noqa: BLE001 - a scheduler job must never raise into APScheduler
        log.exception("tick failed")


def deliver_job(rt: Runtime) -> None:
    """Send what is due in the outbox."""
    try:
        sent = step_deliver(rt)
        if sent:
            log.info("outbox: %d sent", sent)
    except Exception:  # noqa: BLE001 - see tick_job
        log.exception("outbox delivery failed")


def build_scheduler(rt: Runtime, scheduler_class: type[BaseScheduler] = BackgroundScheduler, *,
                    every_minutes: int = EVERY_MINUTES, deliver_minutes: int = DELIVER_MINUTES,
                    misfire_grace_seconds: int = MISFIRE_GRACE_SECONDS,
                    run_first_tick_soon: bool = True) -> BaseScheduler:
    """A scheduler (not started) with the tick and delivery jobs."""
    scheduler = scheduler_class(timezone="Asia/Shanghai")
    safe: dict[str, Any] = {"coalesce": True, "max_instances": 1, "replace_existing": True,
                            "misfire_grace_time": misfire_grace_seconds, "args": (rt,)}
    first = {"next_run_time": SystemClock().now() + FIRST_RUN_DELAY} if run_first_tick_soon else {}
    scheduler.add_job(tick_job, "interval", id=TICK_JOB, name="督办定时任务",
                      minutes=every_minutes, **safe, **first)
    scheduler.add_job(deliver_job, "interval", id=DELIVER_JOB, name="邮件发送",
                      minutes=deliver_minutes, **safe)
    return scheduler


def start_background(rt: Runtime, **options: int | bool) -> BaseScheduler:
    """Start the jobs in a background thread of this process (``duban serve``)."""
    scheduler = build_scheduler(rt, BackgroundScheduler, **options)  # type: ignore[arg-type]
    scheduler.start()
    log.info("scheduler started in the background")
    return scheduler


def run_blocking(rt: Runtime, **options: int | bool) -> None:
    """Run the jobs in this process until interrupted (``duban scheduler``)."""
    scheduler = build_scheduler(rt, BlockingScheduler, **options)  # type: ignore[arg-type]
    log.info("scheduler running; Ctrl+C to stop")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
