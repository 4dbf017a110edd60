"""Sending the outbox: owned claims under a wall-clock lease, at least once (docs/mail.md).

1. Release: rows ``sending`` claimed by a process of this host that is no longer alive (a
   crash or kill -9) go back to ``pending`` at once; claims of other hosts wait for their lease.
2. Claim: one transaction marks up to ``batch`` due rows ``sending`` with a random token, the
   owner ``host:pid``, a lease measured on the *wall* clock, and records the attempt (attempts
   + 1, last_attempt_at) before anything is sent, so the database shows every repeat. On
   PostgreSQL the candidates are locked ``FOR UPDATE SKIP LOCKED``; on SQLite one conditional
   UPDATE takes the write lock before it reads. Two processes never hold the same row.
3. Send each claimed row outside any transaction, after checking the claim is still ours and
   its lease has not lapsed; a reminder that has become pointless is skipped instead
   (notifications.lateness), a late message goes out with a note.
4. Record ``sent``, ``skipped`` or the failure only ``WHERE claim_token = :mine``. A failure
   goes back to ``pending`` after a capped exponential backoff on the *business* clock (an
   outage in a replay is measured in simulated days) until ``RetryPolicy.retry_for`` has passed
   since the first attempt, then ``failed``; a 5xx refusal fails at once.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock, SystemClock
from engine.db import transaction
from engine.models import Blob
from notifications.lateness import Verdict, judge
from notifications.mail import RetryPolicy, build_message
from notifications.models import OutboxMessage, OutboxStatus
from notifications.transport import PermanentMailError, Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: this host and process."""

    host: str
    pid: int

    @classmethod
    def current(cls) -> Owner:
        return cls(socket.gethostname(), os.getpid())

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0   # failed this time, tried again later
    failed: int = 0    # failed for good
    skipped: int = 0   # pointless by now, not sent
    released: int = 0  # claims of dead processes of this host, freed at the start

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __str__(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.as_dict().items())


@dataclass(frozen=True)
class _Run:
    """The parts of one delivery run."""

    sessions: sessionmaker[Session]
    clock: Clock       # business: backoff, retry window, sent_at
    wall: Clock        # real: leases
    transport: Transport
    policy: RetryPolicy
    owner: Owner


def deliver_report(sessions: sessionmaker[Session], clock: Clock, transport: Transport, *,
                   wall: Clock | None = None, batch: int = 50, policy: RetryPolicy | None = None,
                   owner: Owner | None = None) -> DeliveryReport:
    """Send every message due now, ``batch`` claimed at a time; what happened, counted."""
    run = _Run(sessions, clock, wall or SystemClock(), transport, policy or RetryPolicy(),
               owner or Owner.current())
    report = DeliveryReport(released=release_dead_claims(sessions, clock, run.owner))
    started, wall_started = clock.now(), run.wall.now()
    while claimed := _claim(run, started, wall_started, batch):
        token, ids = claimed
        for msg_id in ids:
            try:
                _deliver_one(run, msg_id, token, report)
            except Exception:  # one broken row must not block the rest; its lease frees it
                log.exception("outbox message %s: delivery step failed", msg_id)
    return report


def _dead(claim: str | None, owner: Owner) -> bool:
    """Whether ``claim`` ("host:pid" of this host) names a process that no longer exists."""
    host, _, pid = (claim or "").rpartition(":")
    if host != owner.host or not pid.isdigit() or int(pid) == owner.pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    return False


def release_dead_claims(sessions: sessionmaker[Session], clock: Clock, owner: Owner) -> int:
    """Free the rows ``sending`` under a claim of a process of this host that has died."""
    with sessions() as s:
        claims = set(s.scalars(select(OutboxMessage.claimed_by).distinct().where(
            OutboxMessage.status == OutboxStatus.SENDING)))
    dead = [c for c in claims if c and _dead(c, owner)]
    if not dead:
        return 0
    with transaction(sessions) as s:
        result = s.execute(update(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_by.in_(dead))
            .values(status=OutboxStatus.PENDING, next_attempt_at=clock.now(), claim_token=None,
                    claimed_until=None))
    released = int(getattr(result, "rowcount", 0) or 0)
    log.warning("outbox: %d message(s) claimed by dead process(es) %s released", released,
                ", ".join(sorted(dead)))
    return released


def _due(started: datetime, wall_started: datetime) -> Any:
    """Pending and due at the start of this run, or claimed under a lease that has expired."""
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING,
             OutboxMessage.next_attempt_at <= started),
        and_(OutboxMessage.status == OutboxStatus.SENDING,
             OutboxMessage.claimed_until < wall_started))


def _claim(run: _Run, started: datetime, wall_started: datetime,
           batch: int) -> tuple[str, list[int]] | None:
    """Atomically mark up to ``batch`` due rows as ours, counting the attempt; None if none.

    PostgreSQL: lock the candidates with ``FOR UPDATE SKIP LOCKED`` first, then update them (a
    locking sub-select inside the UPDATE may be re-run by the planner and overshoot the limit).
    SQLite: one UPDATE, which takes the write lock before it reads, so claims are serialised.
    """
    token = secrets.token_hex(16)
    due = _due(started, wall_started)
    pick = (select(OutboxMessage.id).where(due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(batch))
    now = run.clock.now()
    with transaction(run.sessions) as s:
        if s.get_bind().dialect.name == "postgresql":
            chosen: Any = list(s.scalars(pick.with_for_update(skip_locked=True)))
        else:
            chosen = pick.scalar_subquery()
        stmt = (update(OutboxMessage)
                .where(OutboxMessage.id.in_(chosen), due)
                .values(status=OutboxStatus.SENDING, claim_token=token,
                        claimed_until=run.wall.now() + run.policy.lease,
                        claimed_by=str(run.owner), attempts=OutboxMessage.attempts + 1,
                        last_attempt_at=now,
                        first_attempt_at=func.coalesce(OutboxMessage.first_attempt_at, now))
                .returning(OutboxMessage.id))
        ids = sorted(s.scalars(stmt).all())
    return (token, ids) if ids else None


def _deliver_one(run: _Run, msg_id: int, token: str, report: DeliveryReport) -> None:
    """Build, send (or skip) and record one claimed message."""
    loaded = _load_claimed(run, msg_id, token)
    if loaded is None:
        return
    msg, blobs, verdict = loaded
    if verdict.skip:
        _record(run, msg_id, token, status=OutboxStatus.SKIPPED, note=verdict.skip)
        log.info("outbox message %s (%s) skipped: %s", msg_id, msg.dedupe_key, verdict.skip)
        report.skipped += 1
        return
    try:
        run.transport.send(build_message(msg, blobs, run.transport.sender, verdict.note))
    except Exception as exc:
        final = _record_failure(run, msg, token, exc)
        report.failed += final
        report.retried += not final
        return
    if not _record(run, msg_id, token, status=OutboxStatus.SENT, sent_at=run.clock.now(),
                   note=verdict.note):
        log.warning("outbox message %s was sent, but its claim had been taken over", msg_id)
    report.sent += 1


def _load_claimed(run: _Run, msg_id: int, token: str
                  ) -> tuple[OutboxMessage, dict[str, bytes], Verdict] | None:
    """The row, its attachment contents and the lateness verdict, if our claim still holds."""
    with run.sessions() as s:
        msg = s.get(OutboxMessage, msg_id)
        if msg is None or msg.claim_token != token or msg.claimed_until is None:
            return None  # someone else owns it now
        if run.wall.now() >= msg.claimed_until:
            return None  # the lease lapsed while earlier rows were sent: leave it to the next run
        return msg, _blobs(s, msg), judge(s, msg, run.clock.now())


def _blobs(session: Session, msg: OutboxMessage) -> dict[str, bytes]:
    """The attachment contents of ``msg`` by sha256."""
    wanted = {a["sha256"] for a in msg.attachments}
    if not wanted:
        return {}
    return {b.sha256: b.data for b in session.scalars(select(Blob).where(Blob.sha256.in_(wanted)))}


def _record(run: _Run, msg_id: int, token: str, **values: Any) -> bool:
    """End our claim with ``values``; False when the claim is no longer ours."""
    with transaction(run.sessions) as s:
        result = s.execute(update(OutboxMessage)
                           .where(OutboxMessage.id == msg_id, OutboxMessage.claim_token == token)
                           .values(claimed_until=None, claim_token=None, **values))
    return bool(getattr(result, "rowcount", 0))


def _record_failure(run: _Run, msg: OutboxMessage, token: str, exc: Exception) -> bool:
    """Back to pending after the backoff, or failed for good; True when it is final."""
    now = run.clock.now()
    final = isinstance(exc, PermanentMailError) or run.policy.gives_up(
        msg.attempts, msg.first_attempt_at, now)
    log.warning("outbox message %s: attempt %d failed%s: %s", msg.id, msg.attempts,
                " for good" if final else "", exc)
    _record(run, msg.id, token, status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=now + run.policy.delay(msg.attempts))
    return final
