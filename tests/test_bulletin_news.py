"""No bulletin with nothing to say: the first covers from the policy's issue, empty months are
skipped, the overdue requirement only when some unit is overdue, targets not due read 未到期."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time

from pypdf import PdfReader
from sqlalchemy import select

from engine import service
from engine.clock import CHINA_TZ, ManualClock
from engine.models import Blob, Instance, ItemRole, PolicyTask, Role, WorkItem
from notifications.models import Document, DocumentKind
from notifications.tick import run_tick, step_bulletins, step_open_cycles
from tests.engine_fixtures import add_user, make_runtime

OVERDUE_REQUIREMENT = "逾期未办结的单位要查明原因"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ)


def _bulletins(rt) -> list[tuple[Document, str]]:
    """The bulletins issued so far, with their PDF's text (whitespace removed)."""
    with rt.sessions() as s:
        docs = s.scalars(select(Document).where(Document.kind == DocumentKind.BULLETIN)
                         .order_by(Document.id)).all()
        texts = [re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(
            s.get(Blob, d.pdf_sha256).data)).pages)) for d in docs]
        return list(zip(docs, texts, strict=True))


def _issue_on(rt, day: date) -> int:
    rt.clock.set(at(day))
    return run_tick(rt, [("bulletins", step_bulletins)]).counts["bulletins"]


def _close_hefei_task_1(rt, day: date) -> None:
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    rt.clock.set(at(day))
    with rt.sessions() as s, s.begin():
        lead = s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == 1, WorkItem.unit_id == "hefei",
            WorkItem.role == ItemRole.LEAD)).one()
        service.submit(s, rt.clock, hefei, lead.id, text="已出台")
        review = s.scalars(select(WorkItem).where(WorkItem.instance_id == lead.instance_id,
                                                  WorkItem.role == ItemRole.SUPERVISOR)).one()
        service.review(s, rt.clock, sup, review.id, approve=True)


def test_two_days_of_may_and_an_empty_june_make_no_bulletin(tmp_path) -> None:
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 5, 30))))
    step_open_cycles(rt)
    assert _issue_on(rt, date(2018, 6, 1)) == 0  # was a 7-page bulletin of zeros
    assert _issue_on(rt, date(2018, 7, 2)) == 0  # nothing fell due, nothing closed
    assert _bulletins(rt) == []


def test_the_first_bulletin_covers_from_the_issue_day(tmp_path) -> None:
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 5, 30))))
    step_open_cycles(rt)
    _close_hefei_task_1(rt, date(2018, 6, 11))
    assert _issue_on(rt, date(2018, 7, 2)) == 1
    [(doc, text)] = _bulletins(rt)
    assert doc.dedupe_key.endswith("monthly:2018-06") and doc.data["as_of"] == "2018-06-30"
    assert doc.title == "关于2018年5—6月重点任务落实情况的通报"
    assert "对2018年5—6月各地" in text
    assert OVERDUE_REQUIREMENT not in text and "未发现逾期未办结任务" in text
    # year-end targets mid-year: not 0.0% but 未到期
    assert "8项量化目标均未到期，暂不计算完成率" in text
    assert "完成率0.0%" not in text and "0户0.0%" not in text and "0户未到期" in text


def test_the_overdue_requirement_only_when_someone_is_overdue(tmp_path) -> None:
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 5, 30))))
    step_open_cycles(rt)
    _close_hefei_task_1(rt, date(2018, 7, 10))
    assert _issue_on(rt, date(2018, 8, 1)) == 1  # July: hefei closed, nobody overdue
    assert _issue_on(rt, date(2018, 9, 3)) == 1  # August: task 1 fell due on 08-30
    (july, july_text), (august, august_text) = _bulletins(rt)
    assert july.title == "关于2018年7月重点任务落实情况的通报"
    assert OVERDUE_REQUIREMENT not in july_text
    assert OVERDUE_REQUIREMENT in august_text and "芜湖市人民政府（任务1）" in august_text
