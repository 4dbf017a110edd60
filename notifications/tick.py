"""The scheduler's steps, one plain function each (a session factory and the clock in).

``run_tick`` runs them in order; ``duban tick``, the APScheduler jobs, the simulator and the
tests all call the very same functions. Each step is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from engine import cycles
from engine.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """How much each step did."""

    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return "，".join(f"{k} {v}" for k, v in self.counts.items())


def step_open_cycles(rt: Runtime) -> int:
    """Start the instances of every cycle that has opened."""
    return cycles.open_cycles(rt.sessions, rt.clock, rt.processes())


def step_fire_timers(rt: Runtime) -> int:
    """Run the BPMN timers that are due."""
    return cycles.fire_due_timers(rt.sessions, rt.clock)


STEPS: list[tuple[str, Callable[[Runtime], int]]] = [
    ("open_cycles", step_open_cycles),
    ("fire_timers", step_fire_timers),
]


def run_tick(rt: Runtime) -> TickReport:
    """Run every step once; a failing step is logged and the others still run."""
    report = TickReport()
    for name, step in STEPS:
        try:
            report.counts[name] = step(rt)
        except Exception:  # noqa: BLE001 - one broken step must not stop the others
            log.exception("tick step %s failed", name)
            report.counts[name] = -1
    return report
