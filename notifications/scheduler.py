"""The APScheduler 3 jobs that run the tick: in ``duban serve`` (background) or alone.

Two jobs with explicit ids: ``duban-tick`` runs every step of ``notifications.tick`` every
``every_minutes``; ``duban-deliver`` drains the outbox every ``deliver_minutes`` so mail does not
wait for the next tick. Both coalesce missed runs into one, never overlap themselves
(``max_instances=1``) and still run when they start up to ``misfire_grace_seconds`` late.

APScheduler's triggers run on wall time; the jobs themselves read only ``rt.clock``. On a
simulated clock (``DUBAN_CLOCK`` set to a date) the jobs therefore repeat the same simulated day
until someone moves the clock (``duban tick --until``, the admin page): each repeat sends
nothing new, because every step is idempotent.

Both jobs respect the tick lock (notifications.locks): the tick waits for another process's
tick on PostgreSQL and skips its run on SQLite while one runs; the delivery job skips its run
while a tick holds the lock (the tick delivers at its end). ``run_blocking`` stops on SIGTERM
after the running job ends, and, given the parent's pid, when that parent has gone.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import timedelta
from typing import Any

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.clock import SystemClock
from engine.runtime import Runtime
from notifications.delivery import DeliveryReport
from notifications.locks import SchedulerBusyError, send_lock
from notifications.tick import run_tick, step_announce, step_deliver, step_deliver_chat

log = logging.getLogger(__name__)

TICK_JOB = "duban-tick"
DELIVER_JOB = "duban-deliver"
ORPHAN_JOB = "duban-orphan-check"
ORPHAN_SECONDS = 5
EVERY_MINUTES = 60
DELIVER_MINUTES = 1
MISFIRE_GRACE_SECONDS = 15 * 60
FIRST_RUN_DELAY = timedelta(seconds=5)


def tick_job(rt: Runtime) -> None:
    """One tick; each step logs its line, an error never kills the scheduler."""
    try:
        report = run_tick(rt)
        log.info("tick done: %s", report, extra={"counts": report.counts})
    except SchedulerBusyError:
        log.info("tick skipped: another process is running one (SQLite)")
    except Exception:  # noqa: BLE001 - a scheduler job must never raise into APScheduler
        log.exception("tick failed")


def deliver_job(rt: Runtime) -> None:
    """Announce new outcomes, then send what is due in the outbox, unless a tick is running
    (it does both itself); each part in its own ``try``, so one failing never stops the other."""
    try:
        with send_lock(rt) as ours:
            if not ours:
                log.debug("outbox delivery skipped: a tick is running")
                return
            _announce(rt)
            try:
                report = step_deliver(rt)
            finally:
                _deliver_chat(rt)
        if report.as_dict() != DeliveryReport().as_dict():
            log.info("outbox: %s", report, extra=report.as_dict())
    except Exception:  # noqa: BLE001 - see tick_job
        log.exception("outbox delivery failed")


def _deliver_chat(rt: Runtime) -> None:
    """The group-chat robots, after the mail and whatever became of it."""
    try:
        sent = step_deliver_chat(rt)
        if sent:
            log.info("chat messages sent: %d", sent, extra={"count": sent})
    except Exception:  # noqa: BLE001 - one channel never stops another
        log.exception("chat delivery failed")


def _announce(rt: Runtime) -> None:
    """Outcomes (returned, approved, extensions, new assignments) within a minute."""
    try:
        count = step_announce(rt)
        if count:
            log.info("outcomes announced: %d", count, extra={"count": count})
    except Exception:  # noqa: BLE001 - mail already queued must still go out
        log.exception("announcing outcomes failed")


def _shutdown(scheduler: BaseScheduler, wait: bool = True) -> None:
    """Stop the scheduler (a second request is harmless)."""
    try:
        scheduler.shutdown(wait=wait)
    except SchedulerNotRunningError:
        pass


def orphan_job(scheduler: BaseScheduler, parent: int) -> None:
    """Stop when the parent (``duban serve``) has gone: a scheduler must not outlive it."""
    if os.getppid() != parent:
        log.warning("parent process %d has gone: scheduler stopping", parent)
        _shutdown(scheduler, wait=False)


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


def run_blocking(rt: Runtime, *, parent: int | None = None, **options: int | bool) -> None:
    """Run the jobs in this process until SIGTERM or Ctrl+C (``duban scheduler``)."""
    scheduler = build_scheduler(rt, BlockingScheduler, **options)  # type: ignore[arg-type]
    if parent is not None:
        scheduler.add_job(orphan_job, "interval", id=ORPHAN_JOB, seconds=ORPHAN_SECONDS,
                          args=(scheduler, parent), coalesce=True, max_instances=1)

    def stop(signum: int, _frame: object) -> None:
        log.info("signal %d: scheduler stopping after the running job", signum)
        threading.Thread(target=_shutdown, args=(scheduler,), name="scheduler-stop").start()

    signal.signal(signal.SIGTERM, stop)
    log.info("scheduler running (pid %d); SIGTERM or Ctrl+C to stop", os.getpid())
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        _shutdown(scheduler)
    log.info("scheduler stopped")
