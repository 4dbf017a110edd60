"""The ladder past the 督办通知, day by day through a real SMTP server: 催办, 督办通知, the
二次督办通知 to the principal when the reply deadline passes unanswered, 通报批评 in the next
bulletin, a 约谈 recorded; each level once per item, each traceable to its transition row."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from engine import lifecycle, service
from engine.clock import CHINA_TZ
from engine.models import EscalationLevel, ItemKind, Transition, WorkItem
from engine.workdays import WorkCalendar
from notifications.models import Document, DocumentKind
from notifications.tick import run_tick
from tests.test_tick import CITIES, _kind, _lead, _pdf_text, _review_item, addr, world

__all__ = ["world"]  # the fixture of tests/test_tick.py
CAL = WorkCalendar()
ON_TIME = ("hefei", "wuhu", "bengbu")   # submit 08-29, approved 08-30
REPLIED = "huainan"    # answers its 督办通知 on 09-12 (returned 09-13): no second notice
LATE_REPLY = "maanshan"  # submits on Sat 09-15, after the reply deadline: no longer red
MET = "huaibei"        # 约谈 recorded on 09-20, before the bulletin: not criticized
SILENT = tuple(c for c in CITIES if c not in (*ON_TIME, REPLIED, LATE_REPLY, MET))
FIRST_NOTICE, REPLY_BY, SECOND = date(2018, 9, 7), date(2018, 9, 14), date(2018, 9, 17)
SEP_BULLETIN = date(2018, 10, 8)  # 10-01..07 National Day


def _act(rt, actors, day: date) -> None:
    def submit(unit: str) -> None:
        with rt.sessions() as s, s.begin():
            service.submit(s, rt.clock, actors[unit], _lead(rt, 1, unit).id, text="已办理。")

    def review(unit: str, ok: bool) -> None:
        rev = _review_item(rt, _lead(rt, 1, unit).instance_id)
        with rt.sessions() as s, s.begin():
            service.review(s, rt.clock, actors["duchao"], rev.id, approve=ok,
                           reason=None if ok else "佐证材料不全")

    if day == date(2018, 8, 29):
        for unit in ON_TIME:
            submit(unit)
    elif day == date(2018, 8, 30):
        for unit in ON_TIME:
            review(unit, True)
    elif day == date(2018, 9, 12):
        submit(REPLIED)
    elif day == date(2018, 9, 13):
        review(REPLIED, False)
    elif day == date(2018, 9, 15):
        submit(LATE_REPLY)
    elif day == date(2018, 9, 20):
        with rt.sessions() as s, s.begin():
            lifecycle.record_interview(s, rt.clock, actors["duchao"], _lead(rt, 1, MET).id,
                                       held_on=day, interviewee="李四（市长）",
                                       summary="要求一周内报送办理情况")


def _run(rt, actors, start: date, end: date) -> None:
    day = start
    while day <= end:
        rt.clock.set(datetime.combine(day, time(8), CHINA_TZ))
        counts = run_tick(rt).counts
        assert min(counts.values()) >= 0, (day, counts)
        rt.clock.set(datetime.combine(day, time(10), CHINA_TZ))
        _act(rt, actors, day)
        day += timedelta(days=1)


def _ladder(rt, unit: str) -> list[tuple[str | None, str, str | None]]:
    with rt.sessions() as s:
        return [(t.from_state, t.to_state, t.ref_type) for t in s.scalars(
            select(Transition).where(Transition.object_id == _lead(rt, 1, unit).id,
                                     Transition.field == "escalation").order_by(Transition.id))]


@pytest.mark.slow
def test_the_ladder_each_level_once_through_smtp(world, smtp_server):
    rt, actors = world
    _run(rt, actors, date(2018, 8, 29), SEP_BULLETIN)
    mails = smtp_server.received
    with rt.sessions() as s:  # the ladder is the evidence's (签收 and reports stop at the 催办)
        evidence = {str(i) for i in s.scalars(select(WorkItem.id).where(
            WorkItem.kind == ItemKind.EVIDENCE))}
    by_unit: dict[str, Counter[str]] = defaultdict(Counter)
    for got in mails:
        key = str(got.message["X-Duban-Key"])
        if _kind(key) == "urge" and key.split(":")[1] not in evidence:
            continue
        for to in got.message["To"].addresses:
            by_unit[to.addr_spec.split("@")[0]][_kind(key)] += 1
    for city in (*SILENT, MET):
        assert (by_unit[city]["urge"], by_unit[city]["notice"],
                by_unit[city]["principal"]) == (1, 1, 1), city
    for city in (REPLIED, LATE_REPLY):
        assert (by_unit[city]["notice"], by_unit[city]["principal"]) == (1, 0), city
    for city in ON_TIME:
        assert by_unit[city]["urge"] == by_unit[city]["principal"] == 0, city

    full = [("none", "urged", "message"), ("urged", "noticed", "document"),
            ("noticed", "principal", "document")]
    for city in SILENT:
        assert _ladder(rt, city) == [*full, ("principal", "criticized", "document")], city
    assert _ladder(rt, MET) == [*full, ("principal", "interviewed", "interview")]
    assert _ladder(rt, REPLIED) == full[:2] and _ladder(rt, LATE_REPLY) == full[:2]
    _check_second_notice(rt, mails)
    _check_bulletin(rt)

    before = len(mails)
    assert {k: v for k, v in run_tick(rt).counts.items() if v} == {}  # the same day again
    rt.clock.set(datetime(2018, 11, 1, 8, tzinfo=CHINA_TZ))  # October's bulletin
    run_tick(rt)
    with rt.sessions() as s:
        oct_ = s.scalars(select(Document).where(Document.dedupe_key.like("bulletin:%:2018-10"))
                         ).one()
        assert oct_.data["criticized"] == []  # named once, in September's
        assert not s.scalars(select(Document).where(
            Document.kind == DocumentKind.PRINCIPAL, Document.issued_on > SECOND)).all()
    assert len(smtp_server.received) > before


def _check_second_notice(rt, mails) -> None:
    with rt.sessions() as s:
        seconds = s.scalars(select(Document).where(Document.kind == DocumentKind.PRINCIPAL)
                            .order_by(Document.seq)).all()
        assert sorted(d.unit_id for d in seconds) == sorted((*SILENT, MET))
        assert {d.issued_on for d in seconds} == {SECOND}  # the working day after 09-14
        first = s.scalars(select(Document).where(Document.kind == DocumentKind.NOTICE,
                                                 Document.unit_id == MET)).one()
        assert first.issued_on == FIRST_NOTICE and first.data["reply_by"] == "2018-09-14"
        docs = s.scalars(select(Document).order_by(Document.seq)).all()
        assert [d.seq for d in docs] == list(range(1, len(docs) + 1))  # one sequence for all
        mine = next(d for d in seconds if d.unit_id == MET)
        item = _lead(rt, 1, MET)
        assert mine.data["items"] == [item.id] and mine.data["notices"] == [first.id]
    [got] = [m for m in mails if _kind(str(m.message["X-Duban-Key"])) == "principal"
             and m.message["To"].addresses[0].addr_spec == addr(MET)]
    mail = got.message
    assert mail["Subject"] == f"【二次督办】{mine.number} 关于督促办理逾期任务的二次督办通知"
    assert [a.addr_spec for a in mail["Cc"].addresses] == ["duchao@jxw.example.cn"]
    body = mail.get_body(("plain",)).get_content()
    assert body.startswith("淮北市人民政府主要负责同志：") and first.number in body
    [pdf] = list(mail.iter_attachments())
    assert pdf.get_filename() == f"二次督办通知（{mine.number}）.pdf"
    text = _pdf_text(pdf.get_content())
    reply_by = CAL.add_working_days(SECOND, 5)
    for part in (mine.number, "关于督促办理逾期任务的二次督办通知", "淮北市人民政府主要负责同志：",
                 first.number, "2018年9月14日", "2018年8月30日",
                 f"{reply_by.year}年{reply_by.month}月{reply_by.day}日前",
                 "予以通报批评", "约谈你单位主要负责同志", "安徽省人民政府督查室2018年9月17日"):
        assert part in text, part


def _check_bulletin(rt) -> None:
    with rt.sessions() as s:
        sep = s.scalars(select(Document).where(Document.dedupe_key.like("bulletin:%:2018-09"))
                        ).one()
        assert sep.issued_on == SEP_BULLETIN
        named = {_lead(rt, 1, c).id for c in SILENT}
        assert set(sep.data["criticized"]) == named
        # the transition names the bulletin as its fact
        rows = s.scalars(select(Transition).where(Transition.to_state == "criticized")).all()
        assert {r.object_id for r in rows} == named and {r.ref_id for r in rows} == {str(sep.id)}
        # as of 09-30 they were at the second level; as of 09-16, at the first
        at_end = lifecycle.levels_on(s, named, date(2018, 9, 30))
        assert set(at_end.values()) == {EscalationLevel.PRINCIPAL}
        assert set(lifecycle.levels_on(s, named, date(2018, 9, 16)).values()) == {
            EscalationLevel.NOTICED}
        pdf = s.get(Document, sep.id)
        from engine.models import Blob

        text = _pdf_text(s.get(Blob, pdf.pdf_sha256).data)
        criticized = text[text.index("予以通报批评："):text.index("限期整改到位")]
        assert "阜阳市人民政府（任务1，皖政督〔2018〕" in criticized
        assert "淮北" not in criticized and "淮南" not in criticized
        met = "约谈了以下单位有关负责同志：淮北市人民政府李四（市长）（任务1，2018年9月20日）"
        assert met in text
        assert s.get(WorkItem, _lead(rt, 1, MET).id).escalation is EscalationLevel.INTERVIEWED
    # the 考核 counts each level past the 督办通知 from these very facts
    from notifications import assessment_store

    with rt.sessions() as s:
        units = {u.unit_id: u for u in assessment_store.assess(s, 2018, date(2018, 12, 31),
                                                               None).units}
    for city in (*SILENT, MET):
        rules = [i["rule"] for i in units[city].items]
        assert rules.count("notice") == 1 and rules.count("principal") == 1, city
        (second,) = [i for i in units[city].items if i["rule"] == "principal"]
        assert second["points"] == -5 and second["ref"]["type"] == "document"
    for city in SILENT:
        (crit,) = [i for i in units[city].items if i["rule"] == "criticized"]
        assert crit["points"] == -5 and crit["ref"] == {"type": "document", "id": sep.id}
        assert crit["date"] == SEP_BULLETIN.isoformat() and "interviewed" not in \
            [i["rule"] for i in units[city].items]
    (met,) = [i for i in units[MET].items if i["rule"] == "interviewed"]
    assert met["points"] == -10 and met["ref"]["type"] == "interview"
    assert "criticized" not in [i["rule"] for i in units[MET].items]
    for city in (*ON_TIME, REPLIED, LATE_REPLY):
        assert not {"principal", "criticized", "interviewed"} & {
            i["rule"] for i in units[city].items}, city
