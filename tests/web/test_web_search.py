"""The search page and the archive's filters, cut to what each user may read."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select
from webtools import do_login, first_item

from engine import service
from engine.access import Actor
from engine.models import Blob, ItemRole, User, WorkItem
from engine.runtime import Runtime
from notifications.models import Document, DocumentKind


def _submit(rt: Runtime, username: str, item_id: int, text: str) -> None:
    with rt.sessions() as s, s.begin():
        who = Actor.of(s.scalars(select(User).where(User.username == username)).one())
        service.submit(s, rt.clock, who, item_id, text=text)


def test_search_finds_tasks_units_and_evidence(app: Flask, rt: Runtime) -> None:
    _submit(rt, "hefei", first_item(rt, "hefei").id, "合肥出台了地方版政策：十条措施")
    sup = app.test_client()
    do_login(sup, "duchao")
    page = sup.get("/search/?q=十条措施").get_data(as_text=True)
    assert "报送材料（1）" in page and "合肥出台了地方版政策" in page
    page = sup.get("/search/?q=创业基地").get_data(as_text=True)
    assert "任务3" in page
    page = sup.get("/search/?q=省经信委").get_data(as_text=True)  # a short name
    assert "单位（1）" in page and "安徽省经济和信息化" in page
    assert "报送材料（" not in sup.get("/search/?q=十条措施&status=closed").get_data(as_text=True)


def test_a_supporting_unit_does_not_find_the_leads_evidence(app: Flask, rt: Runtime) -> None:
    lead = first_item(rt, "jxw", task_name="submit")
    _submit(rt, "jxw", lead.id, "经信委内部测算数据")
    with rt.sessions() as s:
        support = s.scalars(select(WorkItem).where(WorkItem.instance_id == lead.instance_id,
                                                   WorkItem.role == ItemRole.SUPPORTING)).first()
    city = app.test_client()
    do_login(city, support.unit_id)
    assert "经信委内部测算数据" not in city.get("/search/?q=内部测算").get_data(as_text=True)
    owner = app.test_client()
    do_login(owner, "jxw")
    assert "经信委内部测算数据" in owner.get("/search/?q=内部测算").get_data(as_text=True)


def _document(rt: Runtime, number: str, unit: str | None, day: date) -> None:
    with rt.sessions() as s, s.begin():
        if s.get(Blob, "e" * 64) is None:
            s.add(Blob(sha256="e" * 64, data=b"%PDF-1.4"))
        s.add(Document(kind=DocumentKind.NOTICE if unit else DocumentKind.BULLETIN,
                       policy_id="anhui-2018-zjtx", year=day.year, seq=int(number[-2]),
                       number=number, office="皖政督", title="督办通知" if unit else "通报",
                       unit_id=unit, issued_on=day, pdf_sha256="e" * 64, data={},
                       dedupe_key=number, created_at=rt.clock.now()))


def test_archive_filters_by_unit_and_date_and_search_finds_numbers(app: Flask,
                                                                  rt: Runtime) -> None:
    _document(rt, "皖政督〔2018〕1号", "hefei", date(2018, 9, 1))
    _document(rt, "皖政督〔2018〕2号", "wuhu", date(2018, 9, 10))
    _document(rt, "皖政督〔2018〕3号", None, date(2018, 9, 12))
    sup = app.test_client()
    do_login(sup, "duchao")
    page = sup.get("/archive/?unit=wuhu").get_data(as_text=True)
    assert "2号" in page and "1号" not in page
    page = sup.get("/archive/?since=2018-09-05&until=2018-09-11").get_data(as_text=True)
    assert "2号" in page and "1号" not in page and "3号" not in page
    city = app.test_client()
    do_login(city, "hefei")
    found = city.get("/search/?q=皖政督").get_data(as_text=True)
    assert "1号" in found and "3号" in found and "2号" not in found  # not another unit's notice
