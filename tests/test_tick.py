"""The tick day by day on the seed policy, with a real SMTP server and real PDFs."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from engine import service
from engine.clock import CHINA_TZ, ManualClock
from engine.models import (
    EngineEvent,
    Instance,
    ItemKind,
    ItemRole,
    PolicyTask,
    Role,
    Unit,
    User,
    WorkItem,
)
from engine.service import Actor
from notifications.models import Document, DocumentKind, Notification, OutboxMessage, OutboxStatus
from notifications.tick import run_tick
from tests.checkin_tools import settle_checkins
from tests.engine_fixtures import make_runtime

CITIES = ("hefei", "wuhu", "bengbu", "huainan", "maanshan", "huaibei", "tongling", "anqing",
          "huangshan", "fuyang", "suzhou", "chuzhou", "luan", "xuancheng", "chizhou", "bozhou")
ON_TIME = ("hefei", "wuhu", "bengbu")     # submit 2018-08-10, approved 08-13
AFTER_T7 = "huainan"                       # submits 08-25: T-7 only
AFTER_URGE = "maanshan"                    # submits 09-03: T-7, T-1, 催办, no 督办
LATE = tuple(c for c in CITIES if c not in (*ON_TIME, AFTER_T7, AFTER_URGE))
UNIT_EMAIL_ONLY = "bozhou"                 # no liaison: its unit address is used
SUPERVISOR_MAIL = "duchao@jxw.example.cn"
OUT = Path(__file__).resolve().parent.parent / "test-output"
TICK = time(8, 0)


def addr(unit: str) -> str:
    return f"{unit}@ah.example.cn"


def _user(s, username: str, role: Role, unit: str, email: str | None) -> Actor:
    user = User(username=username, display_name=f"{username}联络员", password_hash="x", role=role,
                unit_id=unit, email=email, active=True,
                created_at=datetime(2018, 5, 30, tzinfo=CHINA_TZ))
    s.add(user)
    s.flush()
    return Actor.of(user)


@pytest.fixture
def world(tmp_path, smtp_server):
    """The seed policy at 2018-05-30, SMTP to the test server, a liaison with mail per unit."""
    clock = ManualClock(datetime.combine(date(2018, 5, 30), TICK, CHINA_TZ))
    rt = make_runtime(tmp_path, clock=clock)
    rt = dataclasses.replace(rt, config=dataclasses.replace(rt.config, smtp_url=smtp_server.url))
    actors: dict[str, Actor] = {}
    with rt.sessions() as s, s.begin():
        for unit in s.scalars(select(Unit)):
            if unit.id == UNIT_EMAIL_ONLY:
                unit.email = addr(unit.id)
            else:
                actors[unit.id] = _user(s, unit.id, Role.LIAISON, unit.id, addr(unit.id))
        actors["duchao"] = _user(s, "duchao", Role.SUPERVISOR, "dcs", SUPERVISOR_MAIL)
    return rt, actors


def _lead(rt, task: int, unit: str) -> WorkItem:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == task, WorkItem.unit_id == unit,
            WorkItem.kind == ItemKind.EVIDENCE)).one()


def _review_item(rt, instance_id: int) -> WorkItem:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                WorkItem.role == ItemRole.SUPERVISOR)
                         .order_by(WorkItem.id.desc())).first()


def _submit(rt, actors, unit: str, task: int = 1, numbers=None) -> None:
    item = _lead(rt, task, unit)
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, actors[unit], item.id, text="已按要求完成。",
                       numbers=numbers)


def _approve(rt, actors, unit: str, task: int = 1) -> None:
    rev = _review_item(rt, _lead(rt, task, unit).instance_id)
    with rt.sessions() as s, s.begin():
        service.review(s, rt.clock, actors["duchao"], rev.id, approve=True)


# what the units do, by day (at 10:00, after the 08:00 tick)
def _act(rt, actors, day: date) -> None:
    settle_checkins(rt)  # every unit acknowledges and reports progress on time
    if day == date(2018, 8, 10):
        for unit in ON_TIME:
            _submit(rt, actors, unit)
        _submit(rt, actors, "jxw", task=2, numbers={"pooled": 420, "certified": 180})
    elif day == date(2018, 8, 13):
        for unit in ON_TIME:
            _approve(rt, actors, unit)
        _approve(rt, actors, "jxw", task=2)
    elif day == date(2018, 8, 25):
        _submit(rt, actors, AFTER_T7)
    elif day == date(2018, 9, 3):
        _submit(rt, actors, AFTER_URGE)


def _run(rt, actors, start: date, end: date) -> dict[date, dict[str, int]]:
    reports = {}
    day = start
    while day <= end:
        rt.clock.set(datetime.combine(day, TICK, CHINA_TZ))
        reports[day] = run_tick(rt).counts
        rt.clock.set(datetime.combine(day, time(10), CHINA_TZ))
        _act(rt, actors, day)
        day += timedelta(days=1)
    return reports


def _kind(key: str) -> str:
    return key.split(":")[0]


def _pdf_text(data: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", "", text)


def _png(pdf: bytes, name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    src = OUT / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                    str(src), str(OUT / name)], check=True, timeout=60)
    return OUT / f"{name}.png"


@pytest.mark.slow
def test_summer_2018_day_by_day(world, smtp_server):
    rt, actors = world
    reports = _run(rt, actors, date(2018, 5, 30), date(2018, 9, 20))
    assert all(v >= 0 for counts in reports.values() for v in counts.values()), reports

    by_unit: dict[str, Counter[str]] = defaultdict(Counter)
    mails = smtp_server.received
    for got in mails:
        kind = _kind(str(got.message["X-Duban-Key"]))
        for to in got.message["To"].addresses:
            by_unit[to.addr_spec.split("@")[0]][kind] += 1
    def seen(unit: str) -> tuple[int, int, int]:
        return by_unit[unit]["reminder"], by_unit[unit]["urge"], by_unit[unit]["notice"]

    for city in LATE:
        assert seen(city) == (2, 1, 1), city
        item = _lead(rt, 1, city).id
        assert {str(m.message["X-Duban-Key"]) for m in mails
                if m.message["To"].addresses[0].addr_spec == addr(city)
                and _kind(str(m.message["X-Duban-Key"])) != "bulletin"} >= {
            f"reminder:{item}:T-7", f"reminder:{item}:T-1", f"urge:{item}:2018-08-30"}
    assert seen(AFTER_URGE) == (2, 1, 0)
    assert seen(AFTER_T7) == (1, 0, 0)
    for city in ON_TIME:
        assert seen(city) == (0, 0, 0), city
    # one bulletin, August's (09-03), to every city: May's two days join June, and June and
    # July had nothing to say (nothing fell due, nothing was closed before 08-10)
    assert all(by_unit[city]["bulletin"] == 1 for city in CITIES)
    assert len({m.message["Message-ID"] for m in mails}) == len(mails)  # nothing twice

    _check_notice_mail(rt, mails, "huaibei", "淮北市人民政府")
    _check_notice_mail(rt, mails, UNIT_EMAIL_ONLY, "亳州市人民政府")
    _check_numbers_and_items(rt)
    _check_bulletin(rt, mails)
    _check_state(rt)

    before = len(mails)
    again = run_tick(rt).counts  # the same day once more
    assert {k: v for k, v in again.items() if v} == {}
    assert len(smtp_server.received) == before


def _check_notice_mail(rt, mails, unit: str, name: str) -> None:
    [got] = [m for m in mails if _kind(str(m.message["X-Duban-Key"])) == "notice"
             and m.message["To"].addresses[0].addr_spec == addr(unit)]
    mail = got.message
    assert mail["Subject"].startswith("【督办通知】皖政督〔2018〕")
    assert SUPERVISOR_MAIL in got.rcpt_tos and addr(unit) in got.rcpt_tos
    assert [a.addr_spec for a in mail["Cc"].addresses] == [SUPERVISOR_MAIL]
    body = mail.get_body(("plain",)).get_content()
    assert name in body and "2018年8月30日" in body and "已逾期8天" in body
    assert body.rstrip().endswith("安徽省人民政府督查室\n2018年9月7日")  # the office, the day
    [pdf] = list(mail.iter_attachments())
    number = re.search(r"皖政督〔2018〕\d+号", mail["Subject"]).group(0)
    assert pdf.get_filename() == f"督办通知（{number}）.pdf"
    text = _pdf_text(pdf.get_content())
    assert number in text and name in text and "2018年8月30日" in text
    assert "制定“地方版”和“加强版”政策措施" in text
    if unit == "huaibei":
        png = _png(pdf.get_content(), "notice-huaibei")
        assert png.stat().st_size > 10_000


def _check_numbers_and_items(rt) -> None:
    with rt.sessions() as s:
        docs = s.scalars(select(Document).order_by(Document.seq)).all()
        assert [d.seq for d in docs] == list(range(1, len(docs) + 1))  # gap-free, shared
        assert len({d.number for d in docs}) == len(docs)
        notices = [d for d in docs if d.kind is DocumentKind.NOTICE]
        assert sorted(d.unit_id for d in notices) == sorted(LATE)
        assert {d.issued_on for d in notices} == {date(2018, 9, 7)}  # 6th working day after due
        for city in CITIES:
            item = _lead(rt, 1, city)
            escalated = city in LATE
            assert (item.escalated_at is not None) is escalated, city
            assert (item.overdue_marked_at is not None) is (city in (*LATE, AFTER_URGE)), city


def _check_bulletin(rt, mails) -> None:
    with rt.sessions() as s:
        aug = s.scalars(select(Document).where(
            Document.dedupe_key == "bulletin:anhui-2018-zjtx:monthly:2018-08")).one()
        assert aug.issued_on == date(2018, 9, 3) and aug.data["issue"] == 1  # the first
        # as of 08-31: 16 cities' task 1 + the departments' obligations; 3 on time + task 2
        totals = aug.data["totals"]
        assert totals["closed"] == 4 and totals["overdue"] == 12  # huainan waits for review
        assert set(aug.data["overdue_units"]) == {
            s.get(Unit, c).name_on(date(2018, 8, 31)) for c in (*LATE, AFTER_URGE)}
    [got] = [m for m in mails if str(m.message["X-Duban-Key"]) == f"bulletin:{aug.id}:hefei"]
    [pdf] = list(got.message.iter_attachments())
    text = _pdf_text(pdf.get_content())
    assert aug.number in text and "2018年第1期" in text and "2018年8月" in text
    assert "淮北市人民政府" in text and "合肥市" in text  # the late in full, the tables short
    assert "420" in text and "1000" in text  # task 2's target against approved evidence
    png = _png(pdf.get_content(), "bulletin-2018-08")
    assert png.stat().st_size > 10_000


def _check_state(rt) -> None:
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(EngineEvent).where(
            EngineEvent.kind == "escalation:overdue", EngineEvent.handled_at.is_(None))) == 0
        statuses = set(s.scalars(select(OutboxMessage.status)))
        assert statuses == {OutboxStatus.SENT}
        # every mail has its in-app note for the unit (bulletins: one per unit)
        keys = set(s.scalars(select(Notification.dedupe_key)))
        outbox = set(s.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.kind.in_(("reminder", "urge")))))
        assert outbox <= keys


def test_smtp_down_for_three_ticks_then_up(world, smtp_server):
    rt, actors = world
    smtp_server.stop()
    _run(rt, actors, date(2018, 8, 28), date(2018, 8, 30))
    with rt.sessions() as s:
        pending = s.scalars(select(OutboxMessage)).all()
        assert pending and all(m.status is OutboxStatus.PENDING for m in pending)
        assert {m.attempts for m in pending} >= {2}
        keys = sorted(m.dedupe_key for m in pending)
    assert smtp_server.received == []
    smtp_server.start()
    _run(rt, actors, date(2018, 8, 31), date(2018, 8, 31))
    with rt.sessions() as s:
        rows = s.scalars(select(OutboxMessage)).all()
    # reminders of items due 08-30 are pointless on 08-31: not sent (the 催办 is), and so are
    # those of items no longer open
    skipped = {m.dedupe_key for m in rows if m.status is OutboxStatus.SKIPPED}
    assert skipped and all(k.startswith("reminder:") for k in skipped)
    notes = [m.note or "" for m in rows if m.status is OutboxStatus.SKIPPED]
    assert all("已过截止日期" in n or "当前为" in n for n in notes), notes
    assert any("已过截止日期2018年8月30日" in n for n in notes)
    assert {m.status for m in rows} == {OutboxStatus.SENT, OutboxStatus.SKIPPED}
    got = Counter(str(m.message["X-Duban-Key"]) for m in smtp_server.received)
    assert set(keys) - skipped <= set(got) and set(got.values()) == {1}
    assert len(got) == len(rows) - len(skipped)
    late = [m.message for m in smtp_server.received
            if m.message["X-Duban-Key"].startswith("urge:")]
    assert late and all("延迟" not in m.get_body(("plain",)).get_content() for m in late)
