"""Notices and bulletins of the replay, read back from their PDFs' text."""

from __future__ import annotations

import re
import subprocess
from datetime import date

import pytest
from conftest import OUTPUT, Replay
from replay_facts import Obligation, overdue_units_as_of
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engine.models import Unit
from notifications.models import Document, DocumentKind

RENAMED_ON = date(2018, 10, 26)
OLD, NEW = ("安徽省经济和信息化委员会", "省经信委"), ("安徽省经济和信息化厅", "省经信厅")
OVERDUE_LIST = re.compile(r"以下单位仍有任务逾期未办结，予以通报：(.*?)逾期未办结任务清单见附件")
NO_OVERDUE = "未发现逾期未办结任务"
# the documents the scheduler issues by itself (a 考核结果通报 is published by a supervisor)
ISSUED = (DocumentKind.NOTICE, DocumentKind.PRINCIPAL, DocumentKind.BULLETIN)
OVERDUE_ANNEX = "逾期未办结任务清单"


@pytest.fixture(scope="module")
def documents(replay: Replay, pdf_texts: dict[str, str]
              ) -> dict[DocumentKind, list[tuple[Document, str]]]:
    """Notices and bulletins in order of issue, each with its PDF's text."""
    with replay.sessions() as s:
        docs = s.scalars(select(Document).order_by(Document.issued_on, Document.id)).all()
    found: dict[DocumentKind, list[tuple[Document, str]]] = {k: [] for k in DocumentKind}
    for doc in docs:
        found[doc.kind].append((doc, pdf_texts[f"{_folder(doc.kind)}/{_file(doc)}"]))
    return found


def _folder(kind: DocumentKind) -> str:
    return {DocumentKind.NOTICE: "notices", DocumentKind.PRINCIPAL: "second_notices",
            DocumentKind.BULLETIN: "bulletins"}.get(kind, "assessments")


def _file(doc: Document) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in doc.number) + ".pdf"


def _names(replay: Replay, day: date, short: bool = False) -> dict[str, str]:
    """Unit id -> its name on ``day`` (the short one of the tables with ``short``)."""
    with replay.sessions() as s:
        units = s.scalars(select(Unit).options(selectinload(Unit.names))).all()
        if not short:
            return {u.id: u.name_on(day) for u in units}
        return {u.id: next(n.short_name or n.name for n in u.names if n.name == u.name_on(day))
                for u in units}


def test_every_document_was_written_to_the_output_directory(
        replay: Replay, documents: dict[DocumentKind, list[tuple[Document, str]]]) -> None:
    for kind in DocumentKind:
        docs = documents[kind]
        if kind not in ISSUED:
            assert not docs  # nobody published a year in the replay
        files = sorted(p.name for p in (replay.req.out / _folder(kind)).glob("*.pdf"))
        assert sorted(_file(doc) for doc, _ in docs) == files
        for doc, text in docs:
            assert doc.number in text, doc.number


def test_every_bulletin_names_exactly_the_units_overdue_on_its_date(
        replay: Replay, obligations: list[Obligation],
        documents: dict[DocumentKind, list[tuple[Document, str]]]) -> None:
    bulletins = documents[DocumentKind.BULLETIN]
    assert len(bulletins) >= 30  # monthly from June 2018 to December 2020, yearly ones too
    seen_overdue = 0
    for doc, text in bulletins:
        as_of = date.fromisoformat(doc.data["as_of"])
        names = _names(replay, as_of)
        want = {names[u]: n for u, n in overdue_units_as_of(obligations, as_of).items()}
        match = OVERDUE_LIST.search(text)
        if not want:
            assert match is None and NO_OVERDUE in text, doc.number
            continue
        seen_overdue += 1
        assert match is not None, doc.number
        listed = dict(re.findall(r"([^、（）：]+)（任务([0-9、]+)）", match.group(1)))
        assert set(listed) == set(want), doc.number
        # the annex lists one line per overdue item: the unit's short name once per item
        office = _names(replay, doc.issued_on)["dcs"]
        annex = text[text.rindex(OVERDUE_ANNEX):text.rindex(office)]  # up to the 版记
        shorts = _names(replay, as_of, short=True)
        for unit, count in overdue_units_as_of(obligations, as_of).items():
            found = len(re.findall(rf"{shorts[unit]}\d{{4}}年", annex))  # then its due date
            assert found == count, (doc.number, unit)
    assert seen_overdue, "some bulletin should report overdue units"


@pytest.mark.parametrize("kind", ISSUED)
def test_the_supervising_office_signs_and_names_units_of_the_day(
        documents: dict[DocumentKind, list[tuple[Document, str]]], kind: DocumentKind) -> None:
    """The office (省政府督查室) signs every document with its date; a unit renamed while the
    policy runs (省经济和信息化委 -> 厅 on 2018-10-26) appears under its name of the day."""
    office = "安徽省人民政府督查室"
    docs = documents[kind]
    for doc, text in docs:
        assert text.count(office) >= 2, doc.number  # masthead and signature
        assert f"{office}{_cn(doc.issued_on)}" in text, doc.number  # signature, then date
    if kind is not DocumentKind.BULLETIN:
        return
    assert any(doc.issued_on < RENAMED_ON for doc, _ in docs)
    assert any(doc.issued_on >= RENAMED_ON for doc, _ in docs)
    for doc, text in docs:  # every bulletin's table lists the department
        now, then = (NEW, OLD) if doc.issued_on >= RENAMED_ON else (OLD, NEW)
        assert any(name in text for name in now), doc.number
        assert not any(name in text for name in then), doc.number


def test_notices_are_addressed_to_their_unit_by_its_name_of_the_day(
        replay: Replay, documents: dict[DocumentKind, list[tuple[Document, str]]]) -> None:
    for doc, text in documents[DocumentKind.NOTICE]:
        assert doc.unit_id is not None
        name = _names(replay, doc.issued_on)[doc.unit_id]
        assert f"{name}：根据" in text, doc.number
        assert f"截至{_cn(doc.issued_on)}" in text


def test_second_notices_are_addressed_to_the_units_principal_naming_the_first(
        replay: Replay, documents: dict[DocumentKind, list[tuple[Document, str]]]) -> None:
    firsts = {doc.id: doc for doc, _ in documents[DocumentKind.NOTICE]}
    assert documents[DocumentKind.PRINCIPAL]
    for doc, text in documents[DocumentKind.PRINCIPAL]:
        assert doc.unit_id is not None
        name = _names(replay, doc.issued_on)[doc.unit_id]
        assert f"{name}主要负责同志：" in text, doc.number
        for first in doc.data["notices"]:
            assert firsts[first].unit_id == doc.unit_id
            assert firsts[first].number in text, doc.number


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def test_first_pages_render_to_png(
        replay: Replay, documents: dict[DocumentKind, list[tuple[Document, str]]]) -> None:
    """Page 1 of a notice and of a bulletin as PNG under test-output/acceptance/ (look at them)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for kind in ISSUED:
        # the notice listing most items, the bulletin naming most overdue units
        doc = max(documents[kind], key=lambda d: len(d[0].data.get("items", d[0].data.get(
            "overdue_units", []))))[0]
        target = OUTPUT / f"{kind.value}-page1"
        target.with_suffix(".png").unlink(missing_ok=True)
        subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", "-singlefile",
                        str(replay.req.out / _folder(kind) / _file(doc)), str(target)],
                       check=True, timeout=60)
        png = target.with_suffix(".png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert abs(width - 496) <= 1 and abs(height - 702) <= 1  # A4 at 60 dpi
