"""Every task process on every path under a ManualClock: on time, late, returned, extended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import bpmn
from engine.clock import CHINA_TZ, ManualClock, use_clock
from engine.errors import NotFoundError, StateError, ValidationError

WORKFLOWS = sorted((Path(__file__).resolve().parent.parent / "workflows").glob("task_0*.bpmn"))
START = datetime(2018, 6, 1, 9, 0, tzinfo=CHINA_TZ)
DUE_AT = "2018-08-31T00:00:00+08:00"
DUE = datetime.fromisoformat(DUE_AT)
UNITS = {"jxw": "省经济和信息化委", "czt": "省财政厅", "rmyh": "人行合肥中心支行"}


class Run:
    """One workflow under a manual clock, optionally round-tripped through JSON at each step."""

    def __init__(self, path: Path, clock: ManualClock, round_trip: bool = False) -> None:
        self.parsed = bpmn.parse_process(path, path.stem)
        self.spec_json = bpmn.spec_to_json(self.parsed)
        self.clock = clock
        self.round_trip = round_trip
        self.escalations: list[str] = []
        self.wf: BpmnWorkflow = bpmn.new_workflow(self.parsed, {
            "task_number": int(path.stem[-1]), "cycle_label": "2018年度", "lead_unit": "hefei",
            "supporting_units": dict(UNITS), "due_at": DUE_AT})

    def reload(self) -> None:
        """Serialize and restore the workflow (as the engine does between requests)."""
        if self.round_trip:
            self.wf = bpmn.deserialize(bpmn.serialize(self.wf), self.spec_json)

    def ready(self) -> dict[tuple[str, str | None], bpmn.HumanTask]:
        """READY human tasks keyed by (element id, unit)."""
        return {(h.spec_id, h.unit): h for h in bpmn.ready_human_tasks(self.wf)}

    def do(self, spec_id: str, unit: str | None = None, **data: object) -> None:
        """Complete one ready task."""
        task = self.ready()[(spec_id, unit)]
        self.escalations += bpmn.complete(self.wf, task.id, data)
        self.reload()

    def tick(self) -> None:
        """What the scheduler does: fire due timers."""
        self.escalations += bpmn.fire_timers(self.wf)
        self.reload()

    def contribute_all(self) -> None:
        """Every supporting unit hands in its contribution."""
        for unit in UNITS:
            self.do("contribute", unit, contribution=f"{unit} 的配合材料")


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    manual = ManualClock(START)
    with use_clock(manual):
        yield manual


@pytest.fixture(params=WORKFLOWS, ids=lambda p: p.stem)
def path(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def test_start_offers_the_right_tasks_in_the_right_lanes(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock)
    ready = bpmn.ready_human_tasks(run.wf)
    lanes = {(h.spec_id, h.lane, h.unit) for h in ready}
    assert lanes == {("submit", "lead", None)} | {("contribute", "supporting", u) for u in UNITS}
    submit = next(h for h in ready if h.spec_id == "submit")
    assert submit.title.startswith("报送")
    assert bpmn.next_timer_at(run.wf) == DUE


def test_on_time_closes_without_escalation(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock, round_trip=True)
    run.contribute_all()
    clock.set(DUE - timedelta(days=2))
    run.do("submit", evidence_id=7, numbers={"cultivated": 1000})
    assert set(run.ready()) == {("review", None)}
    assert bpmn.next_timer_at(run.wf) is None   # the boundary timer left with its task
    run.tick()
    run.do("review", decision="approve", reason="")
    run.tick()
    assert run.escalations == []
    assert bpmn.is_closed(run.wf)
    assert bpmn.contributions(run.wf) == {u: f"{u} 的配合材料" for u in UNITS}
    mi = run.wf.get_tasks(spec_name="contribute", state=TaskState.COMPLETED)[0]
    assert mi.data["contributions"] == bpmn.contributions(run.wf)
    final = run.wf.last_task.data
    assert final["evidence_id"] == 7 and final["decision"] == "approve"


def test_late_escalates_once_and_keeps_the_work(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock, round_trip=True)
    clock.set(DUE)                      # the due instant itself is not yet late
    run.tick()
    assert run.escalations == []
    clock.set(DUE + timedelta(hours=1))
    run.tick()
    run.tick()
    assert run.escalations == ["overdue"]
    assert ("submit", None) in run.ready()                  # not cancelled
    assert {u for (s, u) in run.ready() if s == "contribute"} == set(UNITS)
    assert bpmn.next_timer_at(run.wf) is None
    clock.advance(timedelta(days=3))
    run.contribute_all()
    run.do("submit", evidence_id=1, numbers={})
    run.do("review", decision="approve", reason="")
    assert run.escalations == ["overdue"]
    assert bpmn.is_closed(run.wf)


def test_late_submit_without_a_tick_still_escalates(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock)
    clock.set(DUE + timedelta(days=1))
    run.do("submit", evidence_id=1, numbers={})          # the deadline passed before this
    assert run.escalations == ["overdue"]
    assert set(run.ready()) >= {("review", None)}


def test_returned_twice_then_approved(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock, round_trip=True)
    for attempt in (1, 2):
        clock.advance(timedelta(days=5))
        run.do("submit", evidence_id=attempt, numbers={})
        run.do("review", decision="return", reason=f"第{attempt}次退回：材料不全")
        assert ("submit", None) in run.ready()
        assert bpmn.next_timer_at(run.wf) == DUE       # the timer is armed again
        assert run.wf.get_tasks(state=TaskState.READY, spec_name="submit")[0].data[
            "reason"] == f"第{attempt}次退回：材料不全"
    run.do("submit", evidence_id=3, numbers={})
    run.do("review", decision="approve", reason="")
    assert run.escalations == []
    assert bpmn.is_closed(run.wf)
    assert run.wf.last_task.data["evidence_id"] == 3


def test_returned_after_deadline_does_not_escalate_again(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock, round_trip=True)
    clock.set(DUE + timedelta(days=1))
    run.tick()
    run.do("submit", evidence_id=1, numbers={})
    run.do("review", decision="return", reason="退回")
    run.tick()
    assert run.escalations == ["overdue"]


def test_terminate_closes_outstanding_contributions(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock, round_trip=True)
    run.do("contribute", "jxw", contribution="只有一家交了")
    assert bpmn.contributions(run.wf) == {"jxw": "只有一家交了"}
    outstanding = {h.id for h in bpmn.ready_human_tasks(run.wf) if h.spec_id == "contribute"}
    assert len(outstanding) == 2
    run.do("submit", evidence_id=1, numbers={})
    run.do("review", decision="approve", reason="")
    assert bpmn.is_closed(run.wf)
    assert run.ready() == {}
    open_tasks = run.wf.get_tasks(state=TaskState.NOT_FINISHED_MASK)
    assert open_tasks == []
    assert bpmn.next_timer_at(run.wf) is None
    mi = run.wf.get_tasks(spec_name="contribute", state=TaskState.CANCELLED)
    assert len(mi) == 1                              # the terminate end cancelled the loop
    assert not outstanding & {str(t.id) for t in run.wf.tasks.values()}   # children dropped
    assert bpmn.contributions(run.wf) == {"jxw": "只有一家交了"}


def test_extension_moves_the_timer(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock, round_trip=True)
    new_due = "2018-09-30T00:00:00+08:00"
    clock.set(DUE - timedelta(days=3))
    bpmn.reset_deadline(run.wf, new_due)
    run.reload()
    assert bpmn.next_timer_at(run.wf) == datetime.fromisoformat(new_due)
    clock.set(DUE + timedelta(days=1))
    run.tick()
    assert run.escalations == []
    clock.set(datetime.fromisoformat(new_due) + timedelta(minutes=1))
    run.tick()
    assert run.escalations == ["overdue"]
    run.do("submit", evidence_id=1, numbers={})
    run.do("review", decision="return", reason="退回")
    assert run.wf.get_tasks(state=TaskState.READY, spec_name="submit")[0].data["due_at"] == new_due
    assert run.escalations == ["overdue"]


def test_extension_after_escalation_rearms_on_return(path: Path, clock: ManualClock) -> None:
    run = Run(path, clock)
    clock.set(DUE + timedelta(days=1))
    run.do("submit", evidence_id=1, numbers={})
    new_due = "2018-10-31T00:00:00+08:00"
    bpmn.reset_deadline(run.wf, new_due)           # granted while under review
    run.do("review", decision="return", reason="退回")
    assert bpmn.next_timer_at(run.wf) == datetime.fromisoformat(new_due)
    clock.set(datetime.fromisoformat(new_due) + timedelta(days=1))
    run.tick()
    assert run.escalations == ["overdue", "overdue"]    # once per deadline


def test_complete_rejects_unknown_and_finished_tasks(clock: ManualClock) -> None:
    run = Run(WORKFLOWS[0], clock)
    submit = run.ready()[("submit", None)]
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(NotFoundError):
            bpmn.complete(run.wf, bad, {})
    bpmn.complete(run.wf, submit.id, {"evidence_id": 1})
    with pytest.raises(StateError):
        bpmn.complete(run.wf, submit.id, {"evidence_id": 2})
    with pytest.raises(ValidationError):
        bpmn.complete(run.wf, run.ready()[("review", None)].id, {"_x": 1})
