"""Group-chat robots: a unit's 企业微信 or 钉钉 group hears what its liaisons hear.

Configuration is per unit (the admin page 群机器人): a webhook address, its kind and, for a
DingTalk robot with 加签, its secret. Every in-app note of a unit (``notes.add_note``: reminders,
催办, 督办通知, bulletins, outcomes) queues one ``ChatMessage`` per active robot of the unit in
the same transaction, under the note's key + ``@<hook id>``, so nothing is queued twice;
``notifications.chat_delivery`` posts them. The formats are those of the public documentation:

- WeCom group robot: ``POST {"msgtype": "markdown", "markdown": {"content": …}}``, content at
  most 4096 bytes of UTF-8.
- DingTalk custom robot: ``POST {"msgtype": "markdown", "markdown": {"title": …, "text": …}}``;
  with a secret the address gets ``&timestamp=<ms>&sign=<sig>``, where sig is
  urlencode(base64(HMAC-SHA256(key=secret, msg="<ms>\\n<secret>"))).

A robot's address must be https to an allowed host (``DUBAN_WEBHOOK_HOSTS``; default the two
official hosts, whose paths and token parameters are checked too); plain http only to a
loopback host that is allowed (a local relay). docs/mail.md, "Group chat robots".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor
from engine.blobs import insert_ignoring
from engine.clock import Clock
from engine.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.models import Role, Unit
from notifications.chat_models import ChatHook, ChatKind, ChatMessage, ChatStatus

DEFAULT_HOSTS = ("qyapi.weixin.qq.com", "oapi.dingtalk.com")
OFFICIAL = {"qyapi.weixin.qq.com": (ChatKind.WECOM, "/cgi-bin/webhook/send", "key"),
            "oapi.dingtalk.com": (ChatKind.DINGTALK, "/robot/send", "access_token")}
LIMIT_BYTES = {ChatKind.WECOM: 4096, ChatKind.DINGTALK: 18000}
MORE = "\n\n……（全文请登录督办系统查看）"


def allowed_hosts(env: dict[str, str] | Any) -> tuple[str, ...]:
    """``DUBAN_WEBHOOK_HOSTS`` (comma-separated ``host`` or ``host:port``), else the defaults."""
    raw = str(env.get("DUBAN_WEBHOOK_HOSTS", "") or "")
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    return hosts or DEFAULT_HOSTS


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, kind: ChatKind, hosts: Sequence[str]) -> str:
    """The address if a robot of ``kind`` may be reached there; ``ValidationError`` if not."""
    url = (url or "").strip()
    if not url or len(url) > 500 or not url.isascii() or not url.isprintable() \
            or any(c.isspace() for c in url):
        raise ValidationError("机器人地址应为不超过500个字符的网址，"
                              "不能含空白、控制字符或非ASCII字符")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(f"机器人地址的端口无效：{url}") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password \
            or parts.fragment:
        raise ValidationError("机器人地址应为 https://主机/路径，不能含用户名、密码或#片段")
    if parts.scheme == "http" and not _loopback(host):
        raise ValidationError("机器人地址必须使用 https（http 仅限本机中转地址）")
    where = f"{host}:{port}" if port else host
    if where not in hosts:
        raise ValidationError(f"机器人地址的主机 {where} 不在允许范围内"
                              f"（DUBAN_WEBHOOK_HOSTS：{'、'.join(hosts)}）")
    _check_official(host, parts.path, parse_qs(parts.query), kind)
    return url


def _check_official(host: str, path: str, query: dict[str, list[str]], kind: ChatKind) -> None:
    if "timestamp" in query or "sign" in query:
        raise ValidationError("机器人地址不应包含 timestamp 或 sign 参数（加签由系统按密钥生成）")
    if host not in OFFICIAL:
        return
    want_kind, want_path, token = OFFICIAL[host]
    if kind is not want_kind:
        raise ValidationError(f"{host} 是{want_kind.label}的地址，与所选类型“{kind.label}”不符")
    if path != want_path or not query.get(token, [""])[0]:
        raise ValidationError(f"{want_kind.label}的地址应为 https://{host}{want_path}?{token}=…")


# ---------------------------------------------------------------- the admin's actions
def add_hook(s: Session, clock: Clock, actor: Actor, *, unit_id: str, kind: str, url: str,
             secret: str | None, hosts: Sequence[str]) -> ChatHook:
    """Register a unit's robot (admin only); audited, the secret never written to the log."""
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError("只有系统管理员可以配置群机器人")
    if s.get(Unit, unit_id) is None:
        raise NotFoundError(f"单位 {unit_id} 不存在")
    try:
        chat_kind = ChatKind(kind)
    except ValueError:
        raise ValidationError(f"未知的机器人类型：{kind}（可选 wecom、dingtalk）") from None
    secret = (secret or "").strip() or None
    if secret is not None and (chat_kind is not ChatKind.DINGTALK or len(secret) > 200
                               or not secret.isascii() or any(c.isspace() for c in secret)):
        raise ValidationError("加签密钥仅用于钉钉机器人，应为不超过200个字符的 SEC 开头字符串")
    url = check_url(url, chat_kind, hosts)
    if s.scalar(select(ChatHook.id).where(ChatHook.unit_id == unit_id, ChatHook.url == url)):
        raise ValidationError("该单位已登记过这个机器人地址（同一地址登记两次，每条通知会在群内"
                              "出现两次）；如已停用，请在列表中重新启用")
    hook = ChatHook(unit_id=unit_id, kind=chat_kind, url=url,
                    secret=secret, active=True, created_at=clock.now())
    s.add(hook)
    s.flush()
    audit.record(s, clock, actor=actor.username, action="add_chat_hook", object_type="chat_hook",
                 object_id=hook.id, after={"unit": unit_id, "kind": chat_kind.value,
                                           "url": masked(hook.url), "signed": bool(secret)})
    return hook


def set_hook_active(s: Session, clock: Clock, actor: Actor, hook_id: int,
                    active: bool) -> ChatHook:
    """Stop or resume a robot (admin only); its queued messages wait while it is stopped."""
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError("只有系统管理员可以配置群机器人")
    hook = s.get(ChatHook, hook_id)
    if hook is None:
        raise NotFoundError(f"群机器人 #{hook_id} 不存在")
    before, hook.active = hook.active, active
    audit.record(s, clock, actor=actor.username, action="set_chat_hook", object_type="chat_hook",
                 object_id=hook.id, before={"active": before}, after={"active": active})
    return hook


def masked(url: str) -> str:
    """The address with its token shown as its first four characters only."""
    parts = urlsplit(url)
    query = "&".join(f"{k}={v[0][:4]}…" for k, v in parse_qs(parts.query).items())
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{query}" if query else "")


# ---------------------------------------------------------------- queue and formats
def queue_for_note(s: Session, now: datetime, *, key: str, unit_id: str, kind: str, title: str,
                   body: str) -> int:
    """One message per active robot of the unit, in the note's transaction; how many."""
    hooks = s.scalars(select(ChatHook.id).where(ChatHook.unit_id == unit_id,
                                                ChatHook.active.is_(True))).all()
    for hook_id in hooks:
        s.execute(insert_ignoring(s, ChatMessage, "dedupe_key").values(
            hook_id=hook_id, dedupe_key=f"{key}@{hook_id}"[:250], kind=kind, title=title[:300],
            body=body, status=ChatStatus.PENDING, attempts=0, next_attempt_at=now,
            created_at=now))
    return len(hooks)


def _fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` bytes of UTF-8 (on a character boundary), marked if cut."""
    if len(text.encode()) <= limit:
        return text
    room = limit - len(MORE.encode())
    return text.encode()[:room].decode(errors="ignore") + MORE


def payload(kind: ChatKind, title: str, body: str) -> dict[str, Any]:
    """The JSON body the robot's documentation defines (markdown)."""
    lines = [line.rstrip() for line in body.strip().splitlines()]
    if kind is ChatKind.WECOM:
        content = _fit(f"### {title}\n" + "\n".join(lines), LIMIT_BYTES[kind])
        return {"msgtype": "markdown", "markdown": {"content": content}}
    text = _fit(f"### {title}\n\n" + "\n\n".join(line for line in lines if line),
                LIMIT_BYTES[kind])
    return {"msgtype": "markdown", "markdown": {"title": title[:64], "text": text}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: urlencode(base64(HMAC-SHA256(secret, "<ms>\\n<secret>")))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def signed_url(hook: ChatHook, wall_now: datetime) -> str:
    """The address to post to: DingTalk with a secret gets ``timestamp`` and ``sign``."""
    if hook.kind is not ChatKind.DINGTALK or not hook.secret:
        return hook.url
    ms = int(wall_now.timestamp() * 1000)
    sep = "&" if urlsplit(hook.url).query else "?"
    return f"{hook.url}{sep}timestamp={ms}&sign={dingtalk_sign(hook.secret, ms)}"


def overview(s: Session) -> list[dict[str, Any]]:
    """Every robot with its message counts by status and its latest error (the admin page)."""
    from sqlalchemy import func

    counts: dict[int, dict[str, int]] = {}
    for hook_id, status, n in s.execute(select(ChatMessage.hook_id, ChatMessage.status,
                                               func.count()).group_by(ChatMessage.hook_id,
                                                                      ChatMessage.status)):
        counts.setdefault(hook_id, {})[status.value] = n
    rows = []
    for hook in s.scalars(select(ChatHook).order_by(ChatHook.unit_id, ChatHook.id)):
        error = s.scalar(select(ChatMessage.last_error).where(
            ChatMessage.hook_id == hook.id, ChatMessage.last_error.is_not(None))
            .order_by(ChatMessage.id.desc()).limit(1))
        rows.append({"hook": hook, "url": masked(hook.url), "counts": counts.get(hook.id, {}),
                     "error": error})
    return rows
