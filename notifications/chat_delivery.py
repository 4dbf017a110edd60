"""Posting the group-chat queue: claimed under a wall-clock lease, retried, never twice.

Like the mail outbox (docs/mail.md), smaller: one transaction claims due messages of active
robots (a random token, a lease on the wall clock, the attempt counted), each is posted
outside any transaction, and the result is recorded only ``WHERE claim_token = :mine``. A
failure goes back to ``pending`` after a capped backoff on the business clock, until the retry
window has passed (then ``failed``; an HTTP 4xx other than 429 fails at once). One robot failing
stops only that robot for this run: its other claimed messages are released untouched, and
every other robot (and the mail, a step of its own) goes on. At most ``per_hook`` messages per
robot per run: both services accept 20 a minute, and the delivery job runs every minute.
"""

from __future__ import annotations

import json
import logging
import secrets
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock, SystemClock
from notifications.chat import payload, signed_url
from notifications.chat_models import ChatHook, ChatMessage, ChatStatus
from notifications.mail import RetryPolicy

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
Post = Callable[[str, bytes], tuple[int, bytes]]  # (url, JSON body) -> (HTTP status, body)


class ChatError(Exception):
    """A robot refused or could not be reached; ``permanent``: retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: only the checked address is ever reached (urllib would
    turn the POST into a GET to wherever ``Location`` points, an internal host too)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http_post(url: str, body: bytes) -> tuple[int, bytes]:
    """POST JSON; the status and body, also for an HTTP error status (a redirect is one)."""
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with _OPENER.open(req, timeout=TIMEOUT_SECONDS) as resp:
            return resp.status, resp.read(65536)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536)


def check_reply(status: int, body: bytes) -> None:
    """Both services answer 200 with ``{"errcode": 0, "errmsg": "ok"}``; anything else fails."""
    if status != 200:
        raise ChatError(f"HTTP {status}", permanent=400 <= status < 500 and status != 429)
    try:
        reply = json.loads(body.decode() or "{}")
    except (UnicodeDecodeError, ValueError):
        raise ChatError(f"应答不是 JSON：{body[:200]!r}") from None
    if not isinstance(reply, dict) or reply.get("errcode", 0) != 0:
        raise ChatError(f"errcode {reply.get('errcode') if isinstance(reply, dict) else '?'}："
                        f"{reply.get('errmsg', '') if isinstance(reply, dict) else reply}")


@dataclass
class ChatReport:
    """What one run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0  # claimed, not tried: their robot had just failed


@dataclass(frozen=True)
class _Claim:
    id: int
    hook: ChatHook
    title: str
    body: str
    attempts: int
    first_attempt_at: datetime | None


def deliver_chat(sessions: sessionmaker[Session], clock: Clock, *, wall: Clock | None = None,
                 post: Post = http_post, policy: RetryPolicy | None = None, batch: int = 200,
                 per_hook: int = 15) -> ChatReport:
    """Post every due message of every active robot; one robot's failure stops only it."""
    wall, policy = wall or SystemClock(), policy or RetryPolicy()
    token = secrets.token_hex(16)
    report = ChatReport()
    claims = _claim(sessions, clock, wall, policy, token, batch, per_hook)
    broken: set[int] = set()
    for claim in claims:
        if claim.hook.id in broken:
            _record(sessions, claim, token, status=ChatStatus.PENDING, attempts=claim.attempts - 1,
                    next_at=clock.now())
            report.released += 1
            continue
        try:
            data = json.dumps(payload(claim.hook.kind, claim.title, claim.body),
                              ensure_ascii=False).encode()
            check_reply(*post(signed_url(claim.hook, wall.now()), data))
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, none escapes
            broken.add(claim.hook.id)
            _failed(sessions, clock, policy, claim, token, exc, report)
            continue
        _record(sessions, claim, token, status=ChatStatus.SENT, sent_at=clock.now(),
                last_error=None)
        report.sent += 1
    return report


def _claim(sessions: sessionmaker[Session], clock: Clock, wall: Clock, policy: RetryPolicy,
           token: str, batch: int, per_hook: int) -> list[_Claim]:
    """Mark due messages of active robots ``sending`` under our token; them, by robot."""
    now, wall_now = clock.now(), wall.now()
    due = or_(and_(ChatMessage.status == ChatStatus.PENDING, ChatMessage.next_attempt_at <= now),
              and_(ChatMessage.status == ChatStatus.SENDING, ChatMessage.claimed_until < wall_now))
    with sessions() as s, s.begin():
        rows = s.execute(select(ChatMessage.id, ChatMessage.hook_id).join(ChatHook)
                         .where(due, ChatHook.active.is_(True))
                         .order_by(ChatMessage.id).limit(batch)).all()
        per: Counter[int] = Counter()
        ids = []
        for row in rows:
            per[row.hook_id] += 1
            if per[row.hook_id] <= per_hook:
                ids.append(row.id)
        if not ids:
            return []
        s.execute(update(ChatMessage).where(ChatMessage.id.in_(ids), due).values(
            status=ChatStatus.SENDING, claim_token=token,
            claimed_until=wall_now + policy.lease, attempts=ChatMessage.attempts + 1,
            first_attempt_at=func.coalesce(ChatMessage.first_attempt_at, now)))
        mine = s.scalars(select(ChatMessage).where(ChatMessage.claim_token == token)
                         .order_by(ChatMessage.hook_id, ChatMessage.id)).all()
        hooks = {h.id: h for h in s.scalars(select(ChatHook).where(
            ChatHook.id.in_({m.hook_id for m in mine})))}
        s.expunge_all()
    return [_Claim(m.id, hooks[m.hook_id], m.title, m.body, m.attempts, m.first_attempt_at)
            for m in mine]


def _failed(sessions: sessionmaker[Session], clock: Clock, policy: RetryPolicy, claim: _Claim,
            token: str, exc: Exception, report: ChatReport) -> None:
    now = clock.now()
    error = f"{type(exc).__name__}: {exc}"[:1000]
    permanent = isinstance(exc, ChatError) and exc.permanent
    if permanent or policy.gives_up(claim.attempts, claim.first_attempt_at or now, now):
        _record(sessions, claim, token, status=ChatStatus.FAILED, last_error=error)
        report.failed += 1
        log.error("chat message %d to robot %d failed for good: %s", claim.id, claim.hook.id,
                  error)
        return
    _record(sessions, claim, token, status=ChatStatus.PENDING, last_error=error,
            next_at=now + policy.delay(claim.attempts))
    report.retried += 1
    log.warning("chat message %d to robot %d failed, retried later: %s", claim.id,
                claim.hook.id, error)


def _record(sessions: sessionmaker[Session], claim: _Claim, token: str, *, status: ChatStatus,
            next_at: datetime | None = None, **values: object) -> None:
    """Write the outcome, only if the claim is still ours."""
    if next_at is not None:
        values["next_attempt_at"] = next_at
    with sessions() as s, s.begin():
        s.execute(update(ChatMessage).where(ChatMessage.id == claim.id,
                                            ChatMessage.claim_token == token)
                  .values(status=status, claim_token=None, claimed_until=None, **values))
