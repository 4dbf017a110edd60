"""Measure the reminder and overdue sweeps over 100,000 open work items, and a monthly bulletin.

Run: .venv/bin/python benchmarks/bench_sweep.py [--items N] [--url URL] [--out DIR]
Goals: the sweeps (remind + mark_overdue) under 2 s on a day when only some items are due;
a monthly bulletin for 16 cities and 8 tasks end to end (figures, PDF, storage, mail) under 2 s.

The sweep database is filled with SQLAlchemy core in bulk: synthetic cycles so that every
(task, cycle, unit) instance is distinct, one lead item per instance, due dates spread over
2018-06 .. 2020-12, 70 % open, 20 % submitted, 10 % closed, and the steady state of the day
before (earlier reminders sent, earlier overdue items marked), so the timed day sends only the
new T-7, T-1 and 催办 of that day.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from engine import loader, service  # noqa: E402
from engine.clock import CHINA_TZ, ManualClock  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.db import Base, make_engine, session_factory  # noqa: E402
from engine.models import (  # noqa: E402
    Cycle,
    EscalationLevel,
    Instance,
    InstanceStatus,
    ItemRole,
    ItemStatus,
    PolicyTask,
    ProcessSpec,
    Role,
    Unit,
    User,
    WorkItem,
)
from engine.policy import load_policy  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from notifications import bulletins, reminders  # noqa: E402
from notifications.models import Notification, OutboxMessage  # noqa: E402

DAY = date(2019, 6, 12)          # the timed day (a Wednesday)
FIRST_DUE = date(2018, 6, 1)
SPREAD_DAYS = 940


def runtime(url: str, data_dir: Path, clock: ManualClock) -> Runtime:
    """A runtime on a fresh database with the seed policy and a liaison with mail per unit."""
    import notifications.models  # noqa: F401

    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    rt = Runtime(Config(data_dir=data_dir, database_url=url), session_factory(engine), clock)
    with rt.sessions() as s, s.begin():
        loader.load_into_db(s, clock, load_policy(rt.config.policy_file), rt.processes())
        for unit in s.scalars(select(Unit)):
            s.add(User(username=unit.id, display_name=f"{unit.id}联络员", password_hash="x",
                       role=Role.LIAISON, unit_id=unit.id, email=f"{unit.id}@ah.example.cn",
                       active=True, created_at=clock.now()))
        s.add(User(username="duchao", display_name="督查室", password_hash="x",
                   role=Role.SUPERVISOR, unit_id="jxw", email="duchao@jxw.example.cn",
                   active=True, created_at=clock.now()))
    return rt


def fill(rt: Runtime, n_items: int) -> None:
    """Bulk-insert ``n_items`` instances with one lead item each, and the day-before state."""
    now = rt.clock.now()
    with rt.sessions() as s, s.begin():
        tasks = s.execute(select(PolicyTask.id, PolicyTask.process_id)).all()
        specs = {p: i for p, i in s.execute(select(ProcessSpec.process_id, ProcessSpec.id))}
        units = list(s.scalars(select(Unit.id)))
        per_task = -(-n_items // len(tasks))
        n_cycles = -(-per_task // len(units))
        conn = s.connection()
        for task_id, _ in tasks:
            conn.execute(insert(Cycle), [dict(task_id=task_id, label=f"bench-{c:05d}",
                                              opens_on=FIRST_DUE, due_date=None, opened_at=now)
                                         for c in range(n_cycles)])
        cycles = s.execute(select(Cycle.task_id, Cycle.id).where(
            Cycle.label.like("bench-%"))).all()
        rows = [(t, c, u) for t, c in cycles for u in units][:n_items]
        spec_of = dict(tasks)
        insts = [dict(task_id=t, cycle_id=c, lead_unit_id=u, spec_id=specs[spec_of[t]],
                      state="{}", version=1, status=InstanceStatus.RUNNING,
                      due_date=_due(i), original_due_date=_due(i), started_at=now)
                 for i, (t, c, u) in enumerate(rows)]
        for start in range(0, len(insts), 10_000):
            conn.execute(insert(Instance), insts[start:start + 10_000])
        ids = s.execute(select(Instance.id, Instance.lead_unit_id, Instance.due_date).where(
            Instance.state == "{}").order_by(Instance.id)).all()
        items = [dict(instance_id=i, task_name="submit", unit_id=u, role=ItemRole.LEAD,
                      title="bench", due_date=d, status=_status(k), created_at=now,
                      updated_at=now, overdue_marked_at=now if d < DAY - timedelta(days=1)
                      else None, escalation=EscalationLevel.URGED
                      if d < DAY - timedelta(days=1) else EscalationLevel.NONE)
                 for k, (i, u, d) in enumerate(ids)]
        for start in range(0, len(items), 10_000):
            conn.execute(insert(WorkItem), items[start:start + 10_000])
        _sent_before(s, now)


def _due(i: int) -> date:
    return FIRST_DUE + timedelta(days=(i * 7919) % SPREAD_DAYS)


def _status(k: int) -> ItemStatus:
    return (ItemStatus.CLOSED if k % 10 == 0 else ItemStatus.SUBMITTED if k % 10 < 3
            else ItemStatus.OPEN)


def _sent_before(s, now: datetime) -> None:
    """The reminders an earlier day already sent (T-7 for due in D..D+6, T-1 for due D)."""
    rows = s.execute(select(WorkItem.id, WorkItem.unit_id, WorkItem.due_date).where(
        WorkItem.due_date >= DAY, WorkItem.due_date <= DAY + timedelta(days=6))).all()
    notes = [dict(unit_id=u, kind="reminder", title="t", body="b", dedupe_key=f"reminder:{i}:T-7",
                  created_at=now) for i, u, _ in rows]
    notes += [dict(unit_id=u, kind="reminder", title="t", body="b",
                   dedupe_key=f"reminder:{i}:T-1", created_at=now) for i, u, d in rows if d == DAY]
    if notes:
        s.connection().execute(insert(Notification), notes)


def bench_sweep(url: str, data_dir: Path, n_items: int) -> None:
    """Fill, then time remind and mark_overdue on DAY, then time a repeat run."""
    clock = ManualClock(datetime(2018, 5, 30, 8, tzinfo=CHINA_TZ))
    rt = runtime(url, data_dir, clock)
    t0 = time.perf_counter()
    fill(rt, n_items)
    print(f"filled {n_items} work items in {time.perf_counter() - t0:.1f} s")
    clock.set(datetime.combine(DAY, datetime.min.time().replace(hour=8), CHINA_TZ))
    t0 = time.perf_counter()
    sent = reminders.remind(rt.sessions, clock)
    t1 = time.perf_counter()
    urged = reminders.mark_overdue(rt.sessions, clock)
    t2 = time.perf_counter()
    again = reminders.remind(rt.sessions, clock) + reminders.mark_overdue(rt.sessions, clock)
    t3 = time.perf_counter()
    with rt.sessions() as s:
        total = s.scalar(select(func.count(WorkItem.id)))
        queued = s.scalar(select(func.count(OutboxMessage.id)))
    print(f"sweep over {total} work items on {DAY}: remind {sent} in {t1 - t0:.2f} s, "
          f"mark_overdue {urged} in {t2 - t1:.2f} s, together {t2 - t0:.2f} s "
          f"(goal < 2 s); {queued} mails queued")
    print(f"repeat run: {again} new in {t3 - t2:.2f} s")


def bench_bulletin(url: str, data_dir: Path, out: Path | None) -> None:
    """The seed policy through August 2018 with some units done; time the September 3 step."""
    clock = ManualClock(datetime(2018, 5, 30, 8, tzinfo=CHINA_TZ))
    rt = runtime(url, data_dir, clock)
    from engine.cycles import fire_due_timers, open_cycles

    open_cycles(rt.sessions, clock)
    _some_done(rt, clock)
    clock.set(datetime(2018, 9, 3, 8, tzinfo=CHINA_TZ))
    fire_due_timers(rt.sessions, clock)
    t0 = time.perf_counter()
    import weasyprint  # noqa: F401  (a running scheduler has it loaded after its first document)

    print(f"import weasyprint (once per process): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    issued = bulletins.bulletins(rt.sessions, clock, bulletins.BulletinCalendar(yearly=False))
    elapsed = time.perf_counter() - t0
    with rt.sessions() as s:
        from notifications.models import Document

        doc = s.scalars(select(Document)).one()
        mails = s.scalar(select(func.count(OutboxMessage.id)))
        if out is not None:
            from engine.models import Blob

            out.mkdir(parents=True, exist_ok=True)
            (out / "bulletin-2018-08.pdf").write_bytes(s.get(Blob, doc.pdf_sha256).data)
    print(f"monthly bulletin {doc.number} ({issued} issued, 16 cities, 8 tasks, {mails} mails "
          f"queued) end to end in {elapsed:.2f} s (goal < 2 s)")


def _some_done(rt: Runtime, clock: ManualClock) -> None:
    """Six cities submit task 1 in August, four of them approved; 省经信委 reports task 2."""
    clock.set(datetime(2018, 8, 20, 10, tzinfo=CHINA_TZ))
    with rt.sessions() as s, s.begin():
        users = {u.unit_id if u.role is Role.LIAISON else "sup": service.Actor.of(u)
                 for u in s.scalars(select(User))}
        leads = s.execute(select(WorkItem.id, WorkItem.unit_id, PolicyTask.number)
                          .join(Instance, Instance.id == WorkItem.instance_id)
                          .join(PolicyTask, PolicyTask.id == Instance.task_id)
                          .where(WorkItem.role == ItemRole.LEAD)).all()
        chosen = [(i, u, n) for i, u, n in leads if (n == 1 and u in (
            "hefei", "wuhu", "bengbu", "huainan", "anqing", "luan")) or (n == 2)]
        for item_id, unit, number in chosen:
            service.submit(s, clock, users[unit], item_id, text="已完成",
                           numbers={"pooled": 450, "certified": 210} if number == 2 else None)
    with rt.sessions() as s, s.begin():
        reviews = s.scalars(select(WorkItem).where(WorkItem.role == ItemRole.SUPERVISOR)
                            .order_by(WorkItem.id)).all()
        for rev in reviews[:5]:
            service.review(s, clock, users["sup"], rev.id, approve=True)


def main() -> None:
    """Parse arguments and run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--url", default=None, help="database URL (default: a SQLite file)")
    parser.add_argument("--out", type=Path, default=None, help="write the bulletin PDF here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/sweep.db"
        bench_sweep(url, Path(tmp), args.items)
        bench_bulletin(args.url or f"sqlite:///{tmp}/bulletin.db", Path(tmp), args.out)


if __name__ == "__main__":
    main()
