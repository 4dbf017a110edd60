"""The scheduler's steps, one plain function each (a session factory and the clock in).

``run_tick`` runs them in order; ``duban tick``, the APScheduler jobs, the simulator and the
tests all call the very same functions. Each step is idempotent: it reads ``rt.clock`` once per
item, records what it did under unique dedupe keys, and returns how many things it did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from engine import cycles
from engine.clock import ManualClock
from engine.config import SchedulerKnobs
from engine.runtime import Runtime
from notifications import bulletins, mail, notices, reminders
from notifications.documents import Contact
from notifications.transport import transport_from_config

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """How much each step did."""

    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return "，".join(f"{k} {v}" for k, v in self.counts.items())


@dataclass(frozen=True)
class Settings:
    """The scheduler's knobs (``DUBAN_*`` variables, or ``Config.extra`` with the same names)."""

    reminder: reminders.ReminderRule = reminders.ReminderRule()
    escalation: notices.EscalationRule = notices.EscalationRule()
    calendar: bulletins.BulletinCalendar = bulletins.BulletinCalendar()
    contact: Contact | None = None

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
                   contact)


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


def step_remind(rt: Runtime) -> int:
    """Reminders before due dates (T-7, T-1 by default)."""
    return reminders.remind(rt.sessions, now_once(rt), settings(rt).reminder)


def step_mark_overdue(rt: Runtime) -> int:
    """Mark items overdue the day after their due date and send the 催办."""
    return reminders.mark_overdue(rt.sessions, now_once(rt))


def step_escalate(rt: Runtime) -> int:
    """Issue the 督办通知 for items still overdue after N working days."""
    return notices.escalate(rt.sessions, now_once(rt), settings(rt).escalation)


def step_bulletins(rt: Runtime) -> int:
    """Issue the monthly and yearly bulletins that are due."""
    conf = settings(rt)
    return bulletins.bulletins(rt.sessions, now_once(rt), conf.calendar, contact=conf.contact)


def step_prune_uploads(rt: Runtime) -> int:
    """Delete uploads no evidence claimed and no draft lists, two days after their upload."""
    from engine.attachments import prune_unclaimed

    with rt.sessions() as s, s.begin():
        return prune_unclaimed(s, rt.clock, rt.config.blob_dir)


def step_deliver(rt: Runtime) -> int:
    """Send the outbox through the configured transport."""
    return mail.deliver(rt.sessions, rt.clock, transport_from_config(rt.config))


STEPS: list[tuple[str, Callable[[Runtime], int]]] = [
    ("open_cycles", step_open_cycles),
    ("fire_timers", step_fire_timers),
    ("remind", step_remind),
    ("mark_overdue", step_mark_overdue),
    ("escalate", step_escalate),
    ("bulletins", step_bulletins),
    ("prune_uploads", step_prune_uploads),
    ("deliver", step_deliver),
]


def run_tick(rt: Runtime, steps: list[tuple[str, Callable[[Runtime], int]]] | None = None
             ) -> TickReport:
    """Run every step once; a failing step is logged and the others still run."""
    report = TickReport()
    for name, step in steps or STEPS:
        try:
            report.counts[name] = step(rt)
        except Exception:  # noqa: BLE001 - one broken step must not stop the others
            log.exception("tick step %s failed", name)
            report.counts[name] = -1
    return report
