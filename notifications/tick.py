"""The scheduler's steps, one plain function each (a session factory and the clock in).

``run_tick`` runs them in order under the tick lock (notifications.locks: one tick at a time
per database); ``duban tick``, the APScheduler jobs, the simulator and the tests all call the
very same functions. Each step is idempotent: it reads ``rt.clock`` once per item, records what
it did under unique dedupe keys, and returns how many things it did. Every step logs one line
on ``duban.tick`` with its count and duration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine import checkins, cycles
from engine.clock import ManualClock, today
from engine.config import SchedulerKnobs
from engine.errors import DubanError
from engine.runtime import Runtime
from notifications import bulletins, notices, outcomes, principal, reminders
from notifications.delivery import DeliveryReport, deliver_report
from notifications.documents import Contact
from notifications.locks import tick_lock
from notifications.mail import RetryPolicy
from notifications.transport import transport_from_config

log = logging.getLogger("duban.tick")
Step = Callable[[Runtime], "int | DeliveryReport"]


@dataclass
class TickReport:
    """How much each step did; -1 for a step that failed."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        """The steps that failed."""
        return [name for name, count in self.counts.items() if count < 0]

    def __str__(self) -> str:
        return "，".join(f"{k} {v}" for k, v in self.counts.items())


@dataclass(frozen=True)
class Settings:
    """The scheduler's knobs (``DUBAN_*`` variables, or ``Config.extra`` with the same names)."""

    reminder: reminders.ReminderRule = reminders.ReminderRule()
    escalation: notices.EscalationRule = notices.EscalationRule()
    calendar: bulletins.BulletinCalendar = bulletins.BulletinCalendar()
    contact: Contact | None = None
    checkin: checkins.CheckinRule = checkins.CheckinRule()

    @classmethod
    def from_knobs(cls, knobs: SchedulerKnobs) -> Settings:
        """The rules from the configured values (checked by ``Config.from_env``)."""
        contact = Contact(*knobs.contact) if knobs.contact else None
        nth = knobs.bulletin_working_day
        return cls(reminders.ReminderRule(knobs.reminder_days, knobs.reminder_working_days),
                   notices.EscalationRule(after_working_days=knobs.escalate_after,
                                          contact=contact),
                   bulletins.BulletinCalendar(monthly="monthly" in knobs.bulletins,
                                              monthly_working_day=nth,
                                              yearly="yearly" in knobs.bulletins,
                                              yearly_working_day=nth),
                   contact, checkins.CheckinRule(knobs.ack_working_days, knobs.progress_rule))


def settings(rt: Runtime) -> Settings:
    """The settings of this runtime (``Config.extra`` over the environment it was read from)."""
    return Settings.from_knobs(rt.config.knobs())


def step_open_cycles(rt: Runtime) -> int:
    """Start the instances of every cycle that has opened."""
    return cycles.open_cycles(rt.sessions, rt.clock)


def step_fire_timers(rt: Runtime) -> int:
    """Run the BPMN timers that are due."""
    return cycles.fire_due_timers(rt.sessions, rt.clock)


def now_once(rt: Runtime) -> ManualClock:
    """The step's clock: ``rt.clock`` read once (a database clock would be read per item)."""
    return ManualClock(rt.clock.now())


def step_checkins(rt: Runtime) -> int:
    """Open the 签收 items of new obligations and this period's progress items."""
    return checkins.open_checkins(rt.sessions, now_once(rt), settings(rt).checkin)


def step_announce(rt: Runtime) -> int:
    """Tell units of review results, extension decisions and new assignments."""
    return outcomes.announce(rt.sessions, now_once(rt))


def step_remind(rt: Runtime) -> int:
    """Reminders before due dates (T-7, T-1 by default)."""
    return reminders.remind(rt.sessions, now_once(rt), settings(rt).reminder)


def step_mark_overdue(rt: Runtime) -> int:
    """Mark items overdue the day after their due date and send the 催办."""
    return reminders.mark_overdue(rt.sessions, now_once(rt))


def step_escalate(rt: Runtime) -> int:
    """Issue the 督办通知 for items still overdue after N working days."""
    return notices.escalate(rt.sessions, now_once(rt), settings(rt).escalation)


def step_second_notice(rt: Runtime) -> int:
    """Issue the 二次督办通知 for items whose 督办通知 went unanswered past its deadline."""
    return principal.escalate_principal(rt.sessions, now_once(rt), settings(rt).escalation)


def step_bulletins(rt: Runtime) -> int:
    """Issue the monthly and yearly bulletins that are due."""
    conf = settings(rt)
    return bulletins.bulletins(rt.sessions, now_once(rt), conf.calendar, contact=conf.contact)


def step_prune_uploads(rt: Runtime) -> int:
    """Delete uploads no evidence claimed and no draft lists, two days after their upload."""
    from engine.attachments import prune_unclaimed

    with rt.sessions() as s, s.begin():
        return prune_unclaimed(s, rt.clock, rt.config.blob_dir)


def step_deliver(rt: Runtime) -> DeliveryReport:
    """Send the outbox through the configured transport (leases on the wall clock)."""
    policy = RetryPolicy.from_days(rt.config.mail_retry_days)
    return deliver_report(rt.sessions, rt.clock, transport_from_config(rt.config),
                          wall=rt.wall_clock, policy=policy)


def step_deliver_chat(rt: Runtime) -> int:
    """Post the group-chat robots' messages (after the mail: a dead robot never delays it)."""
    from notifications.chat_delivery import deliver_chat

    policy = RetryPolicy.from_days(rt.config.mail_retry_days)
    return deliver_chat(rt.sessions, rt.clock, wall=rt.wall_clock, policy=policy).sent


STEPS: list[tuple[str, Step]] = [
    ("open_cycles", step_open_cycles),
    ("fire_timers", step_fire_timers),
    ("checkins", step_checkins),
    ("announce", step_announce),
    ("remind", step_remind),
    ("mark_overdue", step_mark_overdue),
    ("escalate", step_escalate),
    ("second_notice", step_second_notice),
    ("bulletins", step_bulletins),
    ("prune_uploads", step_prune_uploads),
    ("deliver", step_deliver),
    ("deliver_chat", step_deliver_chat),
]


def run_tick(rt: Runtime, steps: list[tuple[str, Step]] | None = None) -> TickReport:
    """Run every step once, alone on this database (the tick lock)."""
    with tick_lock(rt):
        return run_steps(rt, steps)


def run_steps(rt: Runtime, steps: list[tuple[str, Step]] | None = None) -> TickReport:
    """Every step once, without the lock (the caller holds it); a failing step does not stop
    the others."""
    report = TickReport()
    day = today(rt.clock).isoformat()
    for name, step in steps or STEPS:
        started = time.perf_counter()  # a duration, not a time of day: no clock involved
        try:
            result = step(rt)
        except DubanError as exc:  # says what is wrong in one line: no traceback needed
            log.error("%s %s failed: %s", day, name, exc, extra={"day": day, "step": name})
            report.counts[name] = -1
            continue
        except Exception:  # noqa: BLE001 - one broken step must not stop the others
            log.exception("%s %s failed", day, name, extra={"day": day, "step": name})
            report.counts[name] = -1
            continue
        count = result if isinstance(result, int) else result.sent
        details = {} if isinstance(result, int) else result.as_dict()
        ms = round((time.perf_counter() - started) * 1000)
        report.counts[name] = count
        log.info("%s %s: %d%s (%d ms)", day, name, count,
                 "".join(f" {k}={v}" for k, v in details.items()), ms,
                 extra={"day": day, "step": name, "count": count, "duration_ms": ms, **details})
    return report
