"""签收 and 进展报送 (engine.checkins): one ack per unit and obligation, progress items on the
policy's rule, their reminder and 催办 once each, late reports counted."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from engine import checkins, service
from engine.clock import CHINA_TZ
from engine.config import Config, SchedulerKnobs
from engine.errors import (
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    PolicyError,
    ValidationError,
)
from engine.models import (
    Attachment,
    Instance,
    ItemKind,
    ItemRole,
    ItemStatus,
    PolicyTask,
    ProgressReport,
    Role,
    WorkItem,
)
from engine.policy import load_policy
from notifications.models import Document, Notification
from notifications.tick import (
    run_tick,
    step_checkins,
    step_escalate,
    step_mark_overdue,
    step_open_cycles,
    step_remind,
)
from tests.engine_fixtures import add_user, make_runtime

STEPS = [("open_cycles", step_open_cycles), ("checkins", step_checkins),
         ("remind", step_remind), ("mark_overdue", step_mark_overdue),
         ("escalate", step_escalate)]


def _at(rt, day: date, hour: int = 8) -> None:
    rt.clock.set(datetime.combine(day, time(hour), CHINA_TZ))


@pytest.fixture
def rt(tmp_path):
    rt = make_runtime(tmp_path)  # 2018-05-30 09:00
    run_tick(rt, STEPS[:2])
    return rt


def _items(rt, task: int, unit: str, kind: ItemKind) -> list[WorkItem]:
    with rt.sessions() as s:
        return list(s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == task, WorkItem.unit_id == unit, WorkItem.kind == kind)
            .order_by(WorkItem.due_date)))


def _keys(rt) -> set[str]:
    with rt.sessions() as s:
        return set(s.scalars(select(Notification.dedupe_key)))


def test_each_unit_of_a_new_obligation_gets_one_ack_due_in_two_working_days(rt) -> None:
    [ack] = _items(rt, 1, "hefei", ItemKind.ACK)
    assert ack.role is ItemRole.LEAD and ack.due_date == date(2018, 6, 1)  # Wed + 2 working days
    support = _items(rt, 1, "jxw", ItemKind.ACK)
    assert len(support) == 16 and {a.role for a in support} == {ItemRole.SUPPORTING}
    [progress] = _items(rt, 1, "hefei", ItemKind.PROGRESS)
    assert progress.due_date == date(2018, 6, 25) and "2018年第二季度" in progress.title
    with rt.sessions() as s:
        before = s.scalar(select(func.count(WorkItem.id)))
    assert run_tick(rt, STEPS[1:2]).counts["checkins"] == 0  # a second run creates nothing
    with rt.sessions() as s:
        assert s.scalar(select(func.count(WorkItem.id))) == before


def test_unacknowledged_gets_one_reminder_then_one_urge_and_no_notice(rt) -> None:
    hefei, wuhu = add_user(rt, "hefei", Role.LIAISON, "hefei"), add_user(
        rt, "wuhu", Role.LIAISON, "wuhu")
    [mine], [theirs] = _items(rt, 1, "hefei", ItemKind.ACK), _items(rt, 1, "wuhu", ItemKind.ACK)
    for day in (date(2018, 5, 31), date(2018, 6, 1), date(2018, 6, 1), date(2018, 6, 4)):
        _at(rt, day)
        run_tick(rt, STEPS)
        if day == date(2018, 5, 31):
            _at(rt, day, 10)
            with rt.sessions() as s, s.begin():
                checkins.acknowledge(s, rt.clock, wuhu, theirs.id)
    keys = _keys(rt)
    assert f"reminder:{mine.id}:T-0" in keys and f"urge:{mine.id}:2018-06-01" in keys
    assert not {k for k in keys if k.endswith(f":{theirs.id}:T-0") or f":{theirs.id}:" in k}
    assert not {k for k in keys if k.startswith(f"reminder:{mine.id}:T-") and
                not k.endswith("T-0")}  # one reminder only, on the due day
    with rt.sessions() as s:
        note = s.scalars(select(Notification).where(
            Notification.dedupe_key == f"urge:{mine.id}:2018-06-01")).one()
        assert "逾期未签收" in note.title
        acked = s.get(WorkItem, theirs.id)
        assert acked.status is ItemStatus.CLOSED
        assert acked.closed_at == datetime(2018, 5, 31, 10, tzinfo=CHINA_TZ)
    _at(rt, date(2018, 6, 15))  # well past the 督办 level of a lead item: none for an ack
    run_tick(rt, STEPS)
    with rt.sessions() as s:
        assert s.scalar(select(func.count(Document.id))) == 0
    _at(rt, date(2018, 6, 15), 10)  # a late 签收 is still taken, and kept as late
    with rt.sessions() as s, s.begin():
        checkins.acknowledge(s, rt.clock, hefei, mine.id)


def test_the_wrong_action_or_unit_is_refused(rt) -> None:
    hefei, wuhu = add_user(rt, "hefei", Role.LIAISON, "hefei"), add_user(
        rt, "wuhu", Role.LIAISON, "wuhu")
    [ack] = _items(rt, 1, "hefei", ItemKind.ACK)
    [evidence] = _items(rt, 1, "hefei", ItemKind.EVIDENCE)
    with rt.sessions() as s, s.begin(), pytest.raises(PermissionDeniedError):
        service.submit(s, rt.clock, hefei, ack.id, text="材料")
    with rt.sessions() as s, s.begin(), pytest.raises(PermissionDeniedError):
        checkins.acknowledge(s, rt.clock, hefei, evidence.id)
    with rt.sessions() as s, s.begin(), pytest.raises(NotFoundError):
        checkins.acknowledge(s, rt.clock, wuhu, ack.id)
    with rt.sessions() as s:
        assert s.get(WorkItem, ack.id).status is ItemStatus.OPEN


def test_progress_report_with_numbers_problems_and_an_attachment(rt) -> None:
    jxw = add_user(rt, "jxw", Role.LIAISON, "jxw")
    [item] = _items(rt, 2, "jxw", ItemKind.PROGRESS)
    assert item.due_date == date(2018, 6, 25)
    _at(rt, date(2018, 6, 20), 10)
    with rt.sessions() as s, s.begin(), pytest.raises(ValidationError, match="应为整数"):
        checkins.report_progress(s, rt.clock, jxw, item.id, text="入库", numbers={"pooled": 1.5})
    with rt.sessions() as s, s.begin(), pytest.raises(ValidationError, match="工作进展"):
        checkins.report_progress(s, rt.clock, jxw, item.id, text="  ")
    with rt.sessions() as s, s.begin():
        att = Attachment(sha256="0" * 64, filename="进展.pdf", content_type="application/pdf",
                         size=1, unit_id="jxw", created_at=rt.clock.now())
        s.add(att)
        s.flush()
        report = checkins.report_progress(
            s, rt.clock, jxw, item.id, text="已完成首批入库审核", numbers={"pooled": 300},
            problems="需财政厅明确奖补资金拨付时间", next_steps="7月完成第二批",
            attachment_ids=[att.id])
        report_id = report.id
    with rt.sessions() as s:
        report = s.get(ProgressReport, report_id)
        assert report.numbers == {"pooled": 300} and report.problems.startswith("需财政厅")
        assert [a.filename for a in report.attachments] == ["进展.pdf"]
        assert s.get(WorkItem, item.id).status is ItemStatus.CLOSED
        assert checkins.late_reports(s, date(2018, 7, 1), policies=["anhui-2018-zjtx"],
                                     start=date(2018, 6, 1), end=date(2018, 6, 30)) != []
        late_units = {r.unit_id for r in checkins.late_reports(s, date(2018, 7, 1))}
        assert "jxw" not in late_units or any(  # jxw's task-2 report came in on time
            r.task_number != 2 for r in checkins.late_reports(s, date(2018, 7, 1))
            if r.unit_id == "jxw")
        assert "hefei" in late_units  # never reported


def test_a_late_report_is_counted_once_and_a_report_is_urged_once(rt) -> None:
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    [item] = _items(rt, 1, "hefei", ItemKind.PROGRESS)
    for day in (date(2018, 6, 18), date(2018, 6, 24), date(2018, 6, 26), date(2018, 6, 27)):
        _at(rt, day)
        run_tick(rt, STEPS)
    keys = _keys(rt)
    assert {f"reminder:{item.id}:T-7", f"reminder:{item.id}:T-1",
            f"urge:{item.id}:2018-06-25"} <= keys
    _at(rt, date(2018, 6, 28), 10)
    with rt.sessions() as s, s.begin():
        checkins.report_progress(s, rt.clock, hefei, item.id, text="迟报")
    with rt.sessions() as s:
        [late] = [r for r in checkins.late_reports(s, date(2018, 7, 1)) if r.item_id == item.id]
        assert late.reported_on == date(2018, 6, 28) and late.due_date == date(2018, 6, 25)


def test_handing_in_the_part_acknowledges_and_withdraws_open_progress(rt) -> None:
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    [evidence] = _items(rt, 1, "hefei", ItemKind.EVIDENCE)
    _at(rt, date(2018, 5, 31), 10)
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, hefei, evidence.id, text="已完成")
    [ack] = _items(rt, 1, "hefei", ItemKind.ACK)
    [progress] = _items(rt, 1, "hefei", ItemKind.PROGRESS)
    assert ack.status is ItemStatus.CLOSED and progress.status is ItemStatus.CANCELLED
    with rt.sessions() as s:
        assert progress.id not in {r.item_id for r in checkins.late_reports(s, date(2018, 7, 1))}


def test_no_progress_item_when_the_report_falls_on_or_after_the_deadline(rt) -> None:
    # task 6 is due 2018-12-31: reports 06-25, 09-25, 12-25 come before it; task 1 (08-30)
    # has only 06-25 in its first window
    assert [i.due_date for i in _items(rt, 1, "hefei", ItemKind.PROGRESS)] == [date(2018, 6, 25)]
    _at(rt, date(2018, 7, 2))
    run_tick(rt, STEPS[:2])
    assert [i.due_date for i in _items(rt, 1, "hefei", ItemKind.PROGRESS)] == [date(2018, 6, 25)]
    assert date(2018, 9, 25) in {i.due_date for i in _items(rt, 2, "jxw", ItemKind.PROGRESS)}


def test_the_reporting_rule_comes_from_the_policy_file(tmp_path) -> None:
    policy = load_policy(Config().policy_file)
    assert policy.reporting == "每季度末月25日前"
    text = Config().policy_file.read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("reporting: 每季度末月25日前", "reporting: 2018年底前"),
                   encoding="utf-8")
    with pytest.raises(PolicyError, match="周期性"):
        load_policy(bad)


def test_the_knobs_are_checked() -> None:
    knobs = SchedulerKnobs.parse({"DUBAN_ACK_WORKING_DAYS": "3",
                                  "DUBAN_PROGRESS_RULE": "每月23日前"})
    assert knobs.ack_working_days == 3 and knobs.progress_rule == "每月23日前"
    with pytest.raises(ConfigError, match="DUBAN_PROGRESS_RULE"):
        SchedulerKnobs.parse({"DUBAN_PROGRESS_RULE": "2018年底前"})
    with pytest.raises(ConfigError, match="DUBAN_ACK_WORKING_DAYS"):
        SchedulerKnobs.parse({"DUBAN_ACK_WORKING_DAYS": "0"})


def test_late_acks_and_reports_are_assessment_facts(rt) -> None:
    from notifications.assessment import compute

    wuhu = add_user(rt, "wuhu", Role.LIAISON, "wuhu")
    [ack] = _items(rt, 1, "wuhu", ItemKind.ACK)
    [report] = _items(rt, 1, "wuhu", ItemKind.PROGRESS)
    _at(rt, date(2018, 5, 31), 10)
    with rt.sessions() as s, s.begin():
        checkins.acknowledge(s, rt.clock, wuhu, ack.id)
        checkins.report_progress(s, rt.clock, wuhu, report.id, text="按计划推进")
    with rt.sessions() as s:
        result = compute(s, 2018, date(2018, 7, 2), "anhui-2018-zjtx")
    units = {u.unit_id: u for u in result.units}
    hefei = [i for i in units["hefei"].items if i["rule"] in ("ack_late", "progress_late")]
    assert {i["rule"] for i in hefei} == {"ack_late", "progress_late"}
    assert all(i["ref"]["type"] == "work_item" for i in hefei)
    assert "至今未报送" in " ".join(i["reason"] for i in hefei)
    assert any(i["reason"].startswith("任务") and "·" in i["reason"] for i in hefei)
    assert not [i for i in units["wuhu"].items if i["rule"] in ("ack_late", "progress_late")
                and i["reason"].startswith("任务1")]  # its task-1 part on time (task 2: not)
    assert units["wuhu"].score > units["hefei"].score


def test_an_imported_policys_reporting_rule_else_the_default() -> None:
    from engine.models import Policy

    monthly = Policy(id="p", issued_on=date(2022, 3, 10),
                     data={"reporting": "每月23日前", "horizon_year": 2022})
    windows = checkins.reporting_windows(monthly, date(2022, 5, 1), "每季度末月25日前")
    assert [(w.opens_on, w.due_date) for w in windows[:3]] == [
        (date(2022, 3, 10), date(2022, 3, 23)), (date(2022, 4, 1), date(2022, 4, 23)),
        (date(2022, 5, 1), date(2022, 5, 23))]
    silent = Policy(id="q", issued_on=date(2022, 3, 10), data={"reporting": None})
    due = [w.due_date for w in checkins.reporting_windows(silent, date(2023, 1, 1),
                                                          "每季度末月25日前")]
    assert due[:2] == [date(2022, 3, 25), date(2022, 6, 25)] and date(2023, 12, 25) in due
