"""Engine benchmark: cost per completed work item, the inbox query and the timer sweep.

Prints:
- median ms per completed work item end to end through the service layer on SQLite (load,
  run, save, work items, audit, commit) next to the bare SpiffWorkflow cost of the same step
  (deserialize, run, serialize with SpiffWorkflow's own serializer, the spec inside the JSON)
  measured in the same run, and ``ratio: X`` (goal at most 3); also the SpiffWorkflow part of
  Duban's own path (the spec restored once per version and shared) and the ratio to that;
- the inbox query with 100,000 work items in the database (goal under 10 ms);
- the timer sweep with 100,000 instances of which 100 are due (goal under 50 ms): the query that
  finds them, and the whole sweep that fires them.
Run: .venv/bin/python benchmarks/bench_engine.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402

from engine import bpmn, queries, service  # noqa: E402
from engine.clock import ManualClock, use_clock  # noqa: E402
from engine.cycles import fire_due_timers, open_cycles  # noqa: E402
from engine.models import (  # noqa: E402
    Cycle,
    Instance,
    InstanceStatus,
    ItemRole,
    ItemStatus,
    Role,
    Timer,
    WorkItem,
)
from engine.scripts import SafeScriptEngine  # noqa: E402
from tests.engine_fixtures import add_user, make_runtime  # noqa: E402

BULK = 100_000


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def bench_actions(rt) -> None:  # type: ignore[no-untyped-def]
    """Complete every supporting contribution and lead submission once, timing each."""
    with rt.sessions() as s:
        items = s.execute(select(WorkItem.id, WorkItem.unit_id, WorkItem.instance_id)
                          .where(WorkItem.role != ItemRole.SUPERVISOR,
                                 WorkItem.status == ItemStatus.OPEN)
                          .order_by(WorkItem.id)).all()
    actors = {u: add_user(rt, f"bench-{u}", Role.LIAISON, u) for u in {i[1] for i in items}}
    end_to_end, bare, cached = [], [], []
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    for item_id, unit, inst_id in items:
        with rt.sessions() as s:
            inst = s.get(Instance, inst_id)
            state, spec_json = inst.state, inst.spec.spec_json
            spiff_id = s.get(WorkItem, item_id).spiff_task_id
        data = {"contribution": "配合意见", "evidence_id": 1}
        with use_clock(ManualClock(rt.clock.now())):
            full = stock.serialize_json(bpmn.deserialize(state, spec_json))
            t0 = time.perf_counter()  # SpiffWorkflow as shipped: the spec travels in the JSON
            wf = stock.deserialize_json(full)
            wf.script_engine = SafeScriptEngine()
            bpmn.complete(wf, spiff_id, data)
            stock.serialize_json(wf)
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()  # Duban's path: spec restored once per version and shared
            wf = bpmn.deserialize(state, spec_json)
            bpmn.complete(wf, spiff_id, data)
            bpmn.serialize(wf)
            cached.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with rt.sessions() as s, s.begin():
            service.submit(s, rt.clock, actors[unit], item_id, text="配合意见",
                           numbers=None)
        end_to_end.append(time.perf_counter() - t0)
    e2e, raw, lean = (statistics.median(x) for x in (end_to_end, bare, cached))
    print(f"completed work items: {len(items)}")
    print(f"end to end per work item (median): {ms(e2e)}")
    print(f"bare SpiffWorkflow per work item, stock serializer (median): {ms(raw)}")
    print(f"SpiffWorkflow part of Duban's own path, spec restored once (median): {ms(lean)}")
    print(f"ratio: {e2e / raw:.2f}")
    print(f"ratio to Duban's own SpiffWorkflow part: {e2e / lean:.2f}")


def bulk_fill(rt) -> None:  # type: ignore[no-untyped-def]
    """100,000 instances, each with a lead work item and a timer row; 100 timers due."""
    now = rt.clock.now()
    with rt.sessions() as s, s.begin():
        proto = s.scalars(select(Instance).order_by(Instance.id)).first()
        task_id, spec_id, state = proto.task_id, proto.spec_id, proto.state
        s.execute(insert(Cycle), [{"task_id": task_id, "label": f"b{n}",
                                   "opens_on": date(2018, 1, 1), "due_date": date(2018, 12, 31)}
                                  for n in range(BULK)])
        first_cycle = s.scalar(select(Cycle.id).where(Cycle.label == "b0"))
        units = ["hefei", "wuhu", "bengbu", "huainan", "maanshan", "anqing"]
        s.execute(insert(Instance), [{
            "task_id": task_id, "cycle_id": first_cycle + n, "lead_unit_id": units[n % 6],
            "spec_id": spec_id, "state": state, "version": 1, "status": InstanceStatus.RUNNING,
            "due_date": date(2018, 12, 31), "started_at": now} for n in range(BULK)])
        first_inst = s.scalar(select(Instance.id).where(Instance.cycle_id == first_cycle))
        s.execute(insert(WorkItem), [{
            "instance_id": first_inst + n, "task_name": "submit", "unit_id": units[n % 6],
            "role": ItemRole.LEAD, "title": "批量事项",
            "due_date": date(2018, 6, 1) + timedelta(days=n % 700), "status": ItemStatus.OPEN,
            "created_at": now, "updated_at": now} for n in range(BULK)])
        s.execute(insert(Timer), [{"instance_id": first_inst + n,
                                   "due_at": now + timedelta(days=1 if n % 1000 else -1)}
                                  for n in range(BULK)])


def bench_inbox(rt) -> None:  # type: ignore[no-untyped-def]
    runs = []
    with rt.sessions() as s:
        for _ in range(30):
            t0 = time.perf_counter()
            rows = queries.inbox(s, "hefei", limit=50)
            runs.append(time.perf_counter() - t0)
            s.expunge_all()
    print(f"inbox query, {BULK} work items in the database, first 50 of {len(rows)}+ "
          f"(median): {ms(statistics.median(runs))}")


def bench_sweep(rt) -> None:  # type: ignore[no-untyped-def]
    runs = []
    with rt.sessions() as s:
        for _ in range(30):
            t0 = time.perf_counter()
            due = s.scalars(select(Timer.instance_id).where(Timer.due_at <= rt.clock.now())
                            .order_by(Timer.due_at).limit(500)).all()
            runs.append(time.perf_counter() - t0)
    print(f"timer sweep query, {BULK} instances, {len(due)} due (median): "
          f"{ms(statistics.median(runs))}")
    t0 = time.perf_counter()
    fired = fire_due_timers(rt.sessions, rt.clock)
    print(f"timer sweep firing all {fired} due timers (load, run, save each): "
          f"{ms(time.perf_counter() - t0)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rt = make_runtime(Path(tmp))
        open_cycles(rt.sessions, rt.clock)
        bench_actions(rt)
        bulk_fill(rt)
        bench_inbox(rt)
        bench_sweep(rt)


if __name__ == "__main__":
    main()
