"""考核 (notifications/assessment*.py): a small scripted year scored by hand, item by item;
the same record gives the same result; the XLSX read back; a published year never changes."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine import service
from engine.clock import CHINA_TZ
from engine.cycles import open_cycles
from engine.errors import StateError, ValidationError
from engine.models import AuditEvent, ItemRole, Role, User, WorkItem
from notifications import assessment_store
from notifications.assessment_doc import publish
from notifications.assessment_rules import Rules
from notifications.models import Notification, OutboxMessage
from notifications.notices import escalate
from notifications.reminders import mark_overdue
from tests.engine_fixtures import add_user, make_runtime

YEAR = 2018


def at(rt, month: int, day: int) -> None:
    rt.clock.set(datetime(2018, month, day, 10, 0, tzinfo=CHINA_TZ))


def item(rt, task: int, unit: str, role: ItemRole = ItemRole.LEAD) -> WorkItem:
    with rt.sessions() as s:
        rows = s.scalars(select(WorkItem).where(WorkItem.unit_id == unit, WorkItem.role == role)
                         .order_by(WorkItem.id)).all()
        return next(w for w in rows if s.get(type(w), w.id).instance.task.number == task)


def review_of(rt, lead: WorkItem) -> int:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem.id).where(WorkItem.instance_id == lead.instance_id,
                                                   WorkItem.role == ItemRole.SUPERVISOR)
                         .order_by(WorkItem.id.desc())).first()


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """The record of 2018: who did what, when (the story the expected scores below follow)."""
    rt = make_runtime(tmp_path_factory.mktemp("assess"))
    open_cycles(rt.sessions, rt.clock)
    actors = {u: add_user(rt, u, Role.LIAISON, u) for u in ("hefei", "wuhu", "jxw")}
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")

    def do(action):
        with rt.sessions() as s, s.begin():
            return action(s)

    at(rt, 6, 10)  # 省经信委 hands in its part of task 1 for every city: no 催办 for it
    with rt.sessions() as s:
        parts = s.scalars(select(WorkItem.id).where(WorkItem.unit_id == "jxw",
                                                    WorkItem.role == ItemRole.SUPPORTING)).all()
    for part in parts:
        do(lambda s, p=part: service.submit(s, rt.clock, actors["jxw"], p, text="配合意见"))
    at(rt, 8, 20)  # 芜湖 reports task 1 in time
    wuhu = item(rt, 1, "wuhu")
    do(lambda s: service.submit(s, rt.clock, actors["wuhu"], wuhu.id, text="已出台"))
    at(rt, 8, 25)
    do(lambda s: service.review(s, rt.clock, sup, review_of(rt, wuhu), approve=True))
    at(rt, 8, 31)
    mark_overdue(rt.sessions, rt.clock)   # 催办 to the 15 cities still open
    at(rt, 9, 7)
    escalate(rt.sessions, rt.clock)       # 督办通知 to each of them
    at(rt, 9, 18)  # 合肥 reports late, approved on the 20th
    hefei = item(rt, 1, "hefei")
    do(lambda s: service.submit(s, rt.clock, actors["hefei"], hefei.id, text="已出台"))
    at(rt, 9, 20)
    do(lambda s: service.review(s, rt.clock, sup, review_of(rt, hefei), approve=True))
    at(rt, 11, 1)  # 省经信委: task 2 early with 1200 入库 (target 1000), task 3 returned once
    t2, t3 = item(rt, 2, "jxw"), item(rt, 3, "jxw")
    do(lambda s: service.submit(s, rt.clock, actors["jxw"], t2.id, text="入库",
                                numbers={"pooled": 1200, "certified": 400}))
    do(lambda s: service.submit(s, rt.clock, actors["jxw"], t3.id, text="基地"))
    at(rt, 11, 5)
    do(lambda s: service.review(s, rt.clock, sup, review_of(rt, t2), approve=True))
    do(lambda s: service.review(s, rt.clock, sup, review_of(rt, t3), approve=False,
                                reason="缺认定文件"))
    at(rt, 12, 18)
    do(lambda s: service.submit(s, rt.clock, actors["jxw"], t3.id, text="补充认定文件"))
    at(rt, 12, 20)
    do(lambda s: service.review(s, rt.clock, sup, review_of(rt, t3), approve=True))
    rt.clock.set(datetime(2019, 1, 15, 10, 0, tzinfo=CHINA_TZ))
    do(lambda s: assessment_store.add_item(s, rt.clock, sup, year=YEAR, policy_id=None,
                                           unit_id="wuhu", points=5, reason="领导评价：成效突出"))
    return rt


def _result(rt):
    with rt.sessions() as s:
        return assessment_store.assess(s, YEAR, date(2019, 1, 15), None)


def _items(result, unit):
    found = next(u for u in result.units if u.unit_id == unit)
    return found, sorted((i["rule"], i["points"]) for i in found.items)


def test_each_unit_scored_by_hand(year):
    result = _result(year)
    wuhu, items = _items(result, "wuhu")
    assert items == [("manual", 5), ("on_time", 1)] and wuhu.score == 106
    hefei, items = _items(result, "hefei")
    assert items == [("late", -2), ("notice", -3), ("urge", -1)] and hefei.score == 94
    bengbu, items = _items(result, "bengbu")  # silent all year
    assert items == [("no_action", -10), ("notice", -3), ("urge", -1)] and bengbu.score == 86
    jxw, items = _items(result, "jxw")

    # task 2: on time, 56 days early, 入库 exceeded; task 3: returned once, then on time;
    # tasks 6 and 7 (due 2018-12-31): nothing reported by the year's end
    assert items == [("early", 0.5), ("no_action", -10), ("no_action", -10), ("on_time", 1),
                     ("on_time", 1), ("returned", -2), ("target_exceeded", 1)]
    assert jxw.score == 81.5
    ahtz, items = _items(result, "ahtz")
    assert items == [("no_action", -10)] and ahtz.score == 90
    assert "安徽省人民政府督查室" in result.not_assessed and "安徽省财政厅" in result.not_assessed
    for unit in result.units:  # the contract: score == base + sum(points)
        assert unit.score == result.rules.base + sum(i["points"] for i in unit.items)


def test_ranks_share_places_and_grades_follow_the_bands(year):
    result = _result(year)
    assert result.units[0].unit_id == "wuhu" and result.units[0].rank == 1
    assert result.units[0].grade == "优秀"
    at_86 = [u for u in result.units if u.score == 86]
    assert len(at_86) == 14 and len({u.rank for u in at_86}) == 1  # 并列
    assert all(u.grade == "良好" for u in at_86)
    jxw = next(u for u in result.units if u.unit_id == "jxw")
    assert (jxw.score, jxw.grade) == (81.5, "合格")


def test_every_item_points_at_its_fact(year):
    result = _result(year)
    hefei = next(u for u in result.units if u.unit_id == "hefei")
    notice = next(i for i in hefei.items if i["rule"] == "notice")
    assert notice["ref"]["type"] == "document" and "皖政督〔2018〕" in notice["reason"]
    late = next(i for i in hefei.items if i["rule"] == "late")
    assert late["ref"]["type"] == "instance" and "逾期21天" in late["reason"]
    assert late["date"] == "2018-09-20"


def test_the_same_record_gives_byte_identical_output(year):
    first = json.dumps(_result(year).to_json(), ensure_ascii=False, sort_keys=True)
    again = json.dumps(_result(year).to_json(), ensure_ascii=False, sort_keys=True)
    assert first == again


def test_xlsx_reads_back(year):
    from openpyxl import load_workbook

    from notifications.assessment_xlsx import workbook

    book = load_workbook(io.BytesIO(workbook(_result(year), "测试")))
    ranking = book["排名"]
    assert ranking["A3"].value == "名次" and ranking["B4"].value == "芜湖市人民政府"
    assert ranking["C4"].value == 106
    details = [row for row in book["明细"].iter_rows(min_row=2, values_only=True)]
    assert ("合肥市人民政府", "逾期办结", -2) in [r[:3] for r in details]


def test_publishing_freezes_the_year_and_issues_a_numbered_document(year):
    from pypdf import PdfReader

    from engine.models import Blob

    sup = add_user(year, "duchao", Role.SUPERVISOR, "dcs")
    with year.sessions() as s, s.begin():
        for user in s.scalars(select(User).where(User.username.in_(("hefei", "duchao")))):
            user.email = f"{user.username}@example.gov.cn"
    before = _result(year).to_json()
    with year.sessions() as s, s.begin():
        doc = publish(s, year.clock, sup, YEAR, None)
        pdf = s.get(Blob, doc.pdf_sha256).data
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "关于2018年度任务落实情况考核结果的通报" in text.replace("\n", "")
    assert "芜湖市" in text and "106" in text and doc.number.startswith("皖政督〔2019〕")
    with year.sessions() as s, s.begin(), pytest.raises(StateError):
        assessment_store.add_item(s, year.clock, sup, year=YEAR, policy_id=None,
                                  unit_id="hefei", points=3, reason="迟到的评价")
    with year.sessions() as s, s.begin():  # the record changes after publishing ...
        w = s.get(WorkItem, item(year, 7, "jxw").id)
        w.instance.closed_on_time = True
    with year.sessions() as s, s.begin():  # ... and so do the policy's rules ...
        assessment_store.set_rules(s, year.clock, sup, "anhui-2018-zjtx", Rules.from_dict(
            {"base": 90, "rules": [{"key": "no_action", "label": "未办", "points": -1}]}))
    after = _result(year)
    assert after.published and after.to_json()["units"] == before["units"]  # ... the year not
    assert after.rules.base == 100 and after.rules.rule("no_action").points == -10
    with year.sessions() as s:  # mailed to every unit that has an address, and to the office
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "assessment")).all()
        events = s.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(
            ("assessment_item", "publish_assessment")))).all()
        notes = set(s.scalars(select(Notification.unit_id).where(
            Notification.kind == "assessment")))
    assert sorted(m.dedupe_key.rsplit(":", 1)[1] for m in mails) == ["hefei", "office"]
    assert all(doc.number in m.subject and m.attachments for m in mails)
    assert notes >= {u["unit_id"] for u in before["units"]}  # an in-app note to every unit
    assert sorted(events) == ["assessment_item", "publish_assessment"]  # the manual item too
    with year.sessions() as s, s.begin(), pytest.raises(StateError):
        publish(s, year.clock, sup, YEAR, None)


def test_being_named_overdue_in_a_monthly_bulletin_is_not_a_criticism(tmp_path):
    """A monthly 通报 naming a unit among the overdue ones reports the lateness the 逾期 items
    already count; 通报批评 is the ladder's level past the 二次督办通知 (tests/test_ladder.py)."""
    from notifications.bulletins import bulletins

    rt = make_runtime(tmp_path)
    open_cycles(rt.sessions, rt.clock)
    at(rt, 8, 31)
    mark_overdue(rt.sessions, rt.clock)
    at(rt, 9, 3)  # the first working day of September: August's bulletin
    assert bulletins(rt.sessions, rt.clock) == 1
    with rt.sessions() as s:
        result = assessment_store.assess(s, YEAR, date(2018, 9, 4), None)
    hefei = next(u for u in result.units if u.unit_id == "hefei")
    assert [i["rule"] for i in hefei.items if i["rule"] == "urge"] == ["urge"]
    assert not [i for i in hefei.items if i["rule"] in ("criticized", "principal")]


def test_grades_by_rank_share_and_the_unfit_floor():
    """Grades by rank: the best 20 % 优秀, to 50 % 良好, the rest 合格; under 60 always 不合格."""
    from notifications.assessment import Fact, score
    from notifications.assessment_rules import Rules

    rules = Rules.from_dict({"grading": "rank"})
    units = [f"u{n}" for n in range(10)]
    facts = [Fact(u, "late", date(2018, 9, 1), "逾期", "instance", n, count=n)
             for n, u in enumerate(units)] + [Fact("u9", "no_action", date(2018, 9, 1), "未办",
                                                   "instance", 99, count=3)]
    result = score(rules, facts, {}, units)
    assert [(u.unit_id, u.score, u.rank, u.grade) for u in result] == [
        ("u0", 100, 1, "优秀"), ("u1", 98, 2, "优秀"), ("u2", 96, 3, "良好"),
        ("u3", 94, 4, "良好"), ("u4", 92, 5, "良好"), ("u5", 90, 6, "合格"),
        ("u6", 88, 7, "合格"), ("u7", 86, 8, "合格"), ("u8", 84, 9, "合格"),
        ("u9", 52, 10, "不合格")]
    with pytest.raises(ValidationError, match="考核细则格式不正确"):
        Rules.from_dict({"grading": "lottery"})


def test_edited_rules_survive_a_reload_and_a_reimport(tmp_path):
    """The 考核细则 live in the policy data: `duban init` reloading the bundled file and a
    re-imported table keep what a supervisor edited (they used to replace the whole data)."""
    from pathlib import Path

    from engine import loader
    from engine.importing import ImportOptions, read_policy_file
    from engine.models import Policy
    from engine.policy import load_policy
    from engine.policy_import import Confirmation, confirm, directory
    from notifications.assessment_rules import Rules

    rt = make_runtime(tmp_path)
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    seed = Path(__file__).resolve().parent / "data" / "import" / "seed_000_8cf7f8447cb07457.txt"

    def import_seed() -> None:
        with rt.sessions() as s, s.begin():
            read = read_policy_file(seed.name, seed.read_bytes(), directory(s),
                                    ImportOptions(policy_id="seed-copy"))
            confirm(s, rt.clock, sup, read, Confirmation(source_name=seed.name))

    import_seed()
    edited = Rules.from_dict({"rules": [{"key": "no_action", "label": "未办理", "points": -5,
                                         "cap": 25}]})
    for policy_id in ("anhui-2018-zjtx", "seed-copy"):
        with rt.sessions() as s, s.begin():
            assessment_store.set_rules(s, rt.clock, sup, policy_id, edited)
    with rt.sessions() as s, s.begin():
        loader.load_into_db(s, rt.clock, load_policy(rt.config.policy_file), rt.processes())
    import_seed()  # the same table again: its next version
    with rt.sessions() as s:
        for policy_id in ("anhui-2018-zjtx", "seed-copy"):
            kept = Rules.from_dict(s.get(Policy, policy_id).data.get("assessment"))
            assert (kept.rule("no_action").points, kept.rule("no_action").cap) == (-5, 25)
        assert s.get(Policy, "anhui-2018-zjtx").data["doc_office"] == "皖政督"
