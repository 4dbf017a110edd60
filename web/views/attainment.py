"""Target attainment charts: engine.attainment's figures per cycle against each target."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from engine.attainment import cycle_figures
from engine.models import PolicyTask
from web.views.charts import Chart, bar_chart

PER_TEXT = {"year": "每年", "selection": "每届", "total": "累计"}


def attainment(s: Session, task: PolicyTask, as_of: date,
               unit_id: str | None = None) -> list[Chart]:
    """One chart per target: per cycle, what the approved obligations reached by ``as_of``."""
    if not task.targets:
        return []
    cycles = cycle_figures(s, task, as_of, unit_id)
    charts = []
    for target in task.targets:
        goal = float(target["amount"]) if target.get("per") != "total" else None
        per = PER_TEXT.get(target.get("per", ""), "")
        title = f"{target['label']}（目标{per}{target['amount']}{target['unit']}）"
        series = [(c.label, float(c.value(target["key"]))) for c in cycles]
        charts.append(bar_chart(title, target["unit"], series, goal))
    return charts
