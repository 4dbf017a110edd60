"""The closed loop through the pages: draft, submit with files, return, resubmit, approve."""

from __future__ import annotations

import io
from datetime import date

from flask import Flask
from sqlalchemy import select
from webtools import do_login, first_item, tok

from engine.models import Attachment, ExtensionRequest, ItemRole, ItemStatus, WorkItem
from engine.runtime import Runtime

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _item(rt: Runtime, item_id: int) -> WorkItem:
    with rt.sessions() as s:
        item = s.get(WorkItem, item_id)
        assert item is not None
        return item


def _review_item(rt: Runtime, instance_id: int) -> WorkItem:
    with rt.sessions() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                WorkItem.role == ItemRole.SUPERVISOR)
                         .order_by(WorkItem.id.desc())).first()
        assert item is not None
        return item


def test_draft_keeps_text_numbers_and_files(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "jxw", task_name="submit")
    client = app.test_client()
    do_login(client, "jxw")
    response = client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "draft", "text": "草稿：已完成调研",
        "files": [(io.BytesIO(PDF), "调研报告.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 302
    saved = _item(rt, item.id)
    assert saved.draft and saved.draft["text"] == "草稿：已完成调研"
    assert len(saved.draft["attachment_ids"]) == 1 and saved.status is ItemStatus.OPEN
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "草稿：已完成调研" in page and "调研报告.pdf" in page


def test_submit_return_resubmit_approve(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    liaison, supervisor = app.test_client(), app.test_client()
    do_login(liaison, "hefei")
    do_login(supervisor, "duchao")
    response = liaison.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(liaison), "action": "submit", "text": "已出台地方版政策措施",
        "files": [(io.BytesIO(PDF), "合肥市政策.pdf"), (io.BytesIO(b"a,b\n1,2\n"), "名单.csv")]},
        content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox/")
    assert _item(rt, item.id).status is ItemStatus.SUBMITTED
    assert "合肥市" in supervisor.get("/review/").get_data(as_text=True)

    review = _review_item(rt, item.instance_id)
    refused = supervisor.post(f"/review/{review.id}", data={
        "csrf_token": tok(supervisor), "decision": "return", "reason": ""})
    assert refused.status_code == 302 and _review_item(rt, item.instance_id).status is \
        ItemStatus.OPEN
    supervisor.post(f"/review/{review.id}", data={
        "csrf_token": tok(supervisor), "decision": "return", "reason": "请补充<文件>正文"})
    assert _item(rt, item.id).status is ItemStatus.RETURNED
    inbox = liaison.get("/inbox/").get_data(as_text=True)
    assert "请补充&lt;文件&gt;正文" in inbox and "<文件>" not in inbox

    liaison.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(liaison), "action": "submit", "text": "已补充政策正文"},
        content_type="multipart/form-data")
    assert _item(rt, item.id).status is ItemStatus.SUBMITTED
    review = _review_item(rt, item.instance_id)
    supervisor.post(f"/review/{review.id}", data={"csrf_token": tok(supervisor),
                                                  "decision": "approve", "reason": ""})
    assert _item(rt, item.id).status is ItemStatus.CLOSED
    done = liaison.get("/inbox/done").get_data(as_text=True)
    assert "审核通过" in done
    board = supervisor.get("/board/?unit=hefei&task=1").get_data(as_text=True)
    assert "已办结" in board


def test_submit_without_text_is_refused_and_keeps_draft(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "wuhu")
    client = app.test_client()
    do_login(client, "wuhu")
    client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "submit", "text": "  ",
        "files": [(io.BytesIO(PDF), "a.pdf")]}, content_type="multipart/form-data")
    saved = _item(rt, item.id)
    assert saved.status is ItemStatus.OPEN
    assert saved.draft and len(saved.draft["attachment_ids"]) == 1
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "请填写办理情况说明" in page
    assert "a.pdf" in page  # the upload survived the refused submission


def test_disguised_upload_is_refused_with_message(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "wuhu")
    client = app.test_client()
    do_login(client, "wuhu")
    client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "submit", "text": "见附件",
        "files": [(io.BytesIO(b"<html><script>x</script></html>"), "evil.pdf")]},
        content_type="multipart/form-data")
    assert _item(rt, item.id).status is ItemStatus.OPEN
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "evil.pdf" in page and "不允许上传" in page


def test_attachment_download_is_for_own_unit_and_supervisors(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    client = app.test_client()
    do_login(client, "hefei")
    client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "submit", "text": "见附件",
        "files": [(io.BytesIO(PDF), "合肥 报告\".pdf")]}, content_type="multipart/form-data")
    with rt.sessions() as s:
        att = s.scalars(select(Attachment)).one()
    response = client.get(f"/items/files/{att.id}")
    assert response.status_code == 200 and response.data == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "%E5%90%88%E8%82%A5" in disposition  # 合肥, percent-encoded
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    other = app.test_client()
    do_login(other, "wuhu")
    assert other.get(f"/items/files/{att.id}").status_code == 404
    supervisor = app.test_client()
    do_login(supervisor, "duchao")
    assert supervisor.get(f"/items/files/{att.id}").status_code == 200


def test_extension_request_and_decision(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "jxw", task_name="submit")
    liaison, supervisor = app.test_client(), app.test_client()
    do_login(liaison, "jxw")
    do_login(supervisor, "duchao")
    old_due = _item(rt, item.id).due_date
    assert old_due is not None
    liaison.post(f"/items/{item.id}/extension", data={
        "csrf_token": tok(liaison), "new_due": "2019-03-31", "reason": "数据尚未汇总",
        "progress": "已完成80%"})
    page = supervisor.get("/review/extensions").get_data(as_text=True)
    assert "数据尚未汇总" in page and "已完成80%" in page
    with rt.sessions() as s:
        req = s.scalars(select(ExtensionRequest)).one()
    supervisor.post(f"/review/extensions/{req.id}", data={
        "csrf_token": tok(supervisor), "decision": "approve", "due": "2019-02-28", "note": "同意"})
    assert _item(rt, item.id).due_date == date(2019, 2, 28)
    shown = liaison.get(f"/items/{item.id}").get_data(as_text=True)
    assert "已批准延期" in shown and "同意" in shown
