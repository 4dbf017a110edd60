"""Target attainment: the numbers of approved evidence per cycle against the task's targets."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Cycle, Evidence, Instance, InstanceStatus, PolicyTask
from web.views.charts import Chart, bar_chart

PER_TEXT = {"year": "每年", "selection": "每届", "total": "累计"}


def attainment(s: Session, task: PolicyTask, unit_id: str | None = None) -> list[Chart]:
    """One chart per target: the sum over closed instances of their latest evidence, per cycle."""
    if not task.targets:
        return []
    q = (select(Instance.id, Cycle.label, Cycle.opens_on, Evidence.numbers)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .join(Evidence, (Evidence.instance_id == Instance.id)
               & (Evidence.unit_id == Instance.lead_unit_id))
         .where(Instance.task_id == task.id, Instance.status == InstanceStatus.CLOSED)
         .order_by(Cycle.opens_on, Evidence.id))
    if unit_id:
        q = q.where(Instance.lead_unit_id == unit_id)
    latest: dict[int, tuple[str, dict[str, float]]] = {}
    order: dict[str, object] = {}
    for inst_id, label, opens_on, numbers in s.execute(q):
        latest[inst_id] = (label, numbers or {})
        order.setdefault(label, opens_on)
    labels = [c.label for c in task.cycles] or list(order)
    charts = []
    for target in task.targets:
        sums: dict[str, float] = defaultdict(float)
        for label, numbers in latest.values():
            value = numbers.get(target["key"])
            if isinstance(value, int | float):
                sums[label] += value
        goal = float(target["amount"]) if target.get("per") != "total" else None
        per = PER_TEXT.get(target.get("per", ""), "")
        title = f"{target['label']}（目标{per}{target['amount']}{target['unit']}）"
        charts.append(bar_chart(title, target["unit"], [(lb, sums.get(lb, 0.0)) for lb in labels],
                                goal))
    return charts
