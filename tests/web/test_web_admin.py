"""Administration pages: accounts, tokens, unit names, the simulated clock, the outbox; 催办."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from sqlalchemy import select
from webtools import PASSWORD, do_login, first_item, tok, user_id

from engine import accounts
from engine.clock import today
from engine.models import Unit, User
from engine.runtime import Runtime


def test_create_user_shows_password_once_and_it_works(app: Flask, rt: Runtime) -> None:
    client = app.test_client()
    do_login(client, "admin")
    page = client.post("/admin/users", data={
        "csrf_token": tok(client), "username": "bengbu", "display_name": "蚌埠联络员",
        "role": "liaison", "unit_id": "bengbu", "email": "bb@example.gov.cn"}).get_data(
        as_text=True)
    secret = re.search(r'<p class="token" id="secret">([^<]+)</p>', page)
    assert secret and "只显示这一次" in page
    assert secret.group(1) not in client.get("/admin/users").get_data(as_text=True)
    newcomer = app.test_client()
    assert do_login(newcomer, "bengbu", secret.group(1)).status_code == 302


def test_liaison_without_unit_is_refused(app: Flask) -> None:
    client = app.test_client()
    do_login(client, "admin")
    page = client.post("/admin/users", data={
        "csrf_token": tok(client), "username": "nounit", "display_name": "某人",
        "role": "liaison", "unit_id": ""}).get_data(as_text=True)
    assert "联络员必须属于一个已登记的单位" in page


def test_token_is_shown_once_and_stored_hashed(app: Flask, rt: Runtime) -> None:
    client = app.test_client()
    do_login(client, "admin")
    uid = user_id(rt, "hefei")
    page = client.post(f"/admin/users/{uid}/token", data={"csrf_token": tok(client)}).get_data(
        as_text=True)
    token = re.search(r'id="secret">([^<]+)<', page)
    assert token
    with rt.sessions() as s:
        stored = s.get(User, uid)
        assert stored is not None and stored.api_token_hash == accounts.token_digest(token[1])
    api = app.test_client().get("/api/v1/inbox", headers={"Authorization": f"Bearer {token[1]}"})
    assert api.status_code == 200


def test_deactivate_and_reset_password(app: Flask, rt: Runtime) -> None:
    client = app.test_client()
    do_login(client, "admin")
    uid = user_id(rt, "wuhu")
    client.post(f"/admin/users/{uid}/active", data={"csrf_token": tok(client)})
    assert do_login(app.test_client(), "wuhu").status_code == 200  # refused
    client.post(f"/admin/users/{uid}/active", data={"csrf_token": tok(client)})
    page = client.post(f"/admin/users/{uid}/password", data={"csrf_token": tok(client)})
    new = re.search(r'id="secret">([^<]+)<', page.get_data(as_text=True))
    assert new
    assert do_login(app.test_client(), "wuhu", PASSWORD).status_code == 200
    assert do_login(app.test_client(), "wuhu", new[1]).status_code == 302
    own = user_id(rt, "admin")
    client.post(f"/admin/users/{own}/active", data={"csrf_token": tok(client)})
    with rt.sessions() as s:
        me = s.get(User, own)
        assert me is not None and me.active


def test_rename_unit_from_a_date(app: Flask, rt: Runtime) -> None:
    client = app.test_client()
    do_login(client, "admin")
    client.post("/admin/units/hefei/names", data={
        "csrf_token": tok(client), "name": "合肥市政府", "valid_from": "2019-01-01"})
    with rt.sessions() as s:
        unit = s.get(Unit, "hefei")
        assert unit is not None
        assert unit.name_on(date(2018, 12, 31)) == "合肥市人民政府"
        assert unit.name_on(date(2019, 1, 1)) == "合肥市政府"
    refused = client.post("/admin/units/hefei/names", data={
        "csrf_token": tok(client), "name": "更早", "valid_from": "2018-01-01"},
        follow_redirects=True)
    assert "启用日期须晚于" in refused.get_data(as_text=True)


def test_clock_advances_day_by_day_and_never_back(app: Flask, rt: Runtime) -> None:
    client = app.test_client()
    do_login(client, "admin")
    assert "2018年9月15日" in client.get("/admin/clock").get_data(as_text=True)
    page = client.post("/admin/clock", data={"csrf_token": tok(client), "until": "2018-09-20"},
                       follow_redirects=True).get_data(as_text=True)
    assert "时钟已推进 5 天" in page and today(rt.clock) == date(2018, 9, 20)
    back = client.post("/admin/clock", data={"csrf_token": tok(client), "until": "2018-09-01"},
                       follow_redirects=True).get_data(as_text=True)
    assert "不能倒退" in back and today(rt.clock) == date(2018, 9, 20)


def test_urge_queues_mail_and_note_and_audit(app: Flask, rt: Runtime) -> None:
    from notifications.models import Notification, OutboxMessage

    item = first_item(rt, "hefei")
    client = app.test_client()
    do_login(client, "duchao")
    client.post(f"/process/{item.instance_id}/urge", data={
        "csrf_token": tok(client), "message": "请于本周内报送"})
    with rt.sessions() as s:
        msg = s.scalars(select(OutboxMessage)).one()
        assert msg.recipients == ["hefei@example.gov.cn"] and "催办" in msg.subject
        assert "请于本周内报送" in msg.body_text
        note = s.scalars(select(Notification)).one()
        assert note.unit_id == "hefei"
    liaison = app.test_client()
    do_login(liaison, "hefei")
    notes = liaison.get("/inbox/notifications").get_data(as_text=True)
    assert "催办" in notes and "未读" in notes
    assert 'class="badge"' in liaison.get("/inbox/").get_data(as_text=True)
    liaison.post("/inbox/notifications", data={"csrf_token": tok(liaison)})
    assert "未读" not in liaison.get("/inbox/notifications").get_data(as_text=True)
    process = client.get(f"/process/{item.instance_id}").get_data(as_text=True)
    assert "人工催办" in process


def test_outbox_lists_and_retries_failed(app: Flask, rt: Runtime) -> None:
    from notifications.mail import enqueue
    from notifications.models import OutboxMessage, OutboxStatus

    with rt.sessions() as s, s.begin():
        msg = enqueue(s, rt.clock, dedupe_key="k1", kind="reminder", to=["x@example.gov.cn"],
                      subject="提醒<b>", text="正文")
        assert msg is not None
        msg.status, msg.last_error, msg.attempts = OutboxStatus.FAILED, "550 mailbox", 5
        msg_id = msg.id
    client = app.test_client()
    do_login(client, "admin")
    page = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "550 mailbox" in page and "提醒&lt;b&gt;" in page and "重新发送" in page
    client.post(f"/admin/outbox/{msg_id}/retry", data={"csrf_token": tok(client)})
    with rt.sessions() as s:
        again = s.get(OutboxMessage, msg_id)
        assert again is not None and again.status is OutboxStatus.PENDING and again.attempts == 0


def test_archive_pdf_download(app: Flask, rt: Runtime) -> None:
    from engine.models import Blob
    from notifications.models import Document, DocumentKind

    with rt.sessions() as s, s.begin():
        s.add(Blob(sha256="a" * 64, data=b"%PDF-1.7 test"))
        for seq, unit in ((1, "hefei"), (2, "wuhu"), (3, None)):
            s.add(Document(kind=DocumentKind.BULLETIN if unit is None else DocumentKind.NOTICE,
                           year=2018, seq=seq, number=f"皖政督〔2018〕{seq}号", office="皖政督",
                           title=f"文件{seq}", unit_id=unit, issued_on=date(2018, 9, seq),
                           pdf_sha256="a" * 64, data={}, dedupe_key=f"d{seq}",
                           created_at=rt.clock.now()))
    client = app.test_client()
    do_login(client, "hefei")
    page = client.get("/archive/").get_data(as_text=True)
    assert "文件1" in page and "文件3" in page and "文件2" not in page
    with rt.sessions() as s:
        ids = {d.title: d.id for d in s.scalars(select(Document))}
    pdf = client.get(f"/archive/{ids['文件1']}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    assert client.get(f"/archive/{ids['文件2']}.pdf").status_code == 404
    supervisor = app.test_client()
    do_login(supervisor, "duchao")
    assert "文件2" in supervisor.get("/archive/?kind=notice").get_data(as_text=True)
    assert "文件3" not in supervisor.get("/archive/?kind=notice").get_data(as_text=True)


def test_outbox_alerts_the_admin_and_retries_all_failed(app: Flask, rt: Runtime) -> None:
    from datetime import timedelta

    from engine.models import AuditEvent
    from notifications.mail import enqueue
    from notifications.models import OutboxMessage, OutboxStatus

    with rt.sessions() as s, s.begin():
        for i in range(3):
            msg = enqueue(s, rt.clock, dedupe_key=f"f{i}", kind="urge", to=["x@example.gov.cn"],
                          subject=f"催办{i}", text="正文")
            assert msg is not None
            msg.status, msg.last_error = OutboxStatus.FAILED, "SMTP 服务器不可用"
        late = enqueue(s, rt.clock, dedupe_key="late", kind="urge", to=["x@example.gov.cn"],
                       subject="迟发", text="正文")
        assert late is not None
        late.created_at = rt.clock.now() - timedelta(hours=2)  # still pending two hours on
    client = app.test_client()
    do_login(client, "admin")
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "3</strong> 封邮件发送失败" in page and "1</strong> 封邮件超过 1 小时仍未发出" in page
    assert 'aria-label="4项">4</span>' in page  # the navigation badge: failed + late
    done = client.post("/admin/outbox/retry-all", data={"csrf_token": tok(client)},
                       follow_redirects=True).get_data(as_text=True)
    assert "已将 3 封发送失败的邮件重新排队" in done
    with rt.sessions() as s:
        statuses = {m.dedupe_key: m.status for m in s.scalars(select(OutboxMessage))}
        assert set(statuses.values()) == {OutboxStatus.PENDING}
        assert s.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "retry_mail")).all() == ["retry_mail"]
    again = client.post("/admin/outbox/retry-all", data={"csrf_token": tok(client)},
                        follow_redirects=True).get_data(as_text=True)
    assert "没有发送失败的邮件" in again


def test_group_chat_robots_are_registered_checked_and_stopped(app: Flask, rt: Runtime) -> None:
    from notifications.chat_models import ChatHook

    client = app.test_client()
    do_login(client, "admin")
    bad = client.post("/admin/chat/new", data={
        "csrf_token": tok(client), "unit_id": "hefei", "kind": "wecom",
        "url": "https://evil.example.com/cgi-bin/webhook/send?key=k"}, follow_redirects=True)
    assert "不在允许范围内" in bad.get_data(as_text=True)
    good = client.post("/admin/chat/new", data={
        "csrf_token": tok(client), "unit_id": "hefei", "kind": "dingtalk",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=secrettoken",
        "secret": "SEC123"}, follow_redirects=True).get_data(as_text=True)
    assert "群机器人已登记" in good and "钉钉自定义机器人（加签）" in good
    assert "secrettoken" not in good and "access_token=secr…" in good and "SEC123" not in good
    with rt.sessions() as s:
        [hook] = s.scalars(select(ChatHook)).all()
        assert hook.unit_id == "hefei" and hook.active and hook.secret == "SEC123"
    client.post(f"/admin/chat/{hook.id}/active", data={"csrf_token": tok(client)})
    with rt.sessions() as s:
        assert s.get(ChatHook, hook.id).active is False
