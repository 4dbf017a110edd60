import enum
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit
from engine.clock import CHINA_TZ, ManualClock
from engine.db import Base, make_engine, session_factory
from engine.errors import StateError
from engine.models import AuditEvent, ItemStatus

START = datetime(2018, 6, 1, 9, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with session_factory(engine)() as s:
        yield s


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def _fill(session: Session, clock: ManualClock, n: int) -> list[AuditEvent]:
    rows = []
    for i in range(n):
        clock.advance(timedelta(seconds=1, microseconds=7))
        rows.append(audit.record(session, clock, actor=f"user{i % 3}", action="submit",
                                 object_type="work_item", object_id=i % 10,
                                 before={"status": "open"}, after={"status": "submitted", "n": i}))
    session.commit()
    return rows


def test_chain_of_1000_verifies_in_batches(session, clock):
    rows = _fill(session, clock, 1000)
    report = audit.verify_chain(session)
    assert report.ok and report.count == 1000 and report.first_bad_id is None
    assert report.head_hash == rows[-1].hash
    small = audit.verify_chain(session, batch_size=7)
    assert small == report
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))


def test_empty_log_verifies(session):
    assert audit.verify_chain(session) == audit.ChainReport(ok=True, count=0)


def test_raw_sql_edit_of_after_is_detected_with_its_id(session, clock):
    rows = _fill(session, clock, 30)
    target = rows[12].id
    session.execute(text("UPDATE audit_events SET after = :v WHERE id = :id"),
                    {"v": '{"status": "closed", "n": 12}', "id": target})
    session.commit()
    report = audit.verify_chain(session, batch_size=5)
    assert not report.ok and report.first_bad_id == target
    assert "修改" in (report.reason or "") and str(target) in (report.reason or "")
    assert report.count == 30


def test_edit_with_recomputed_hash_breaks_the_next_link(session, clock):
    rows = _fill(session, clock, 10)
    r = rows[4]
    forged = audit.chain_hash(r.prev_hash, r.at, "mallory", r.action, r.object_type,
                              r.object_id, r.before, r.after)
    session.execute(text("UPDATE audit_events SET actor = 'mallory', hash = :h WHERE id = :id"),
                    {"h": forged, "id": r.id})
    session.commit()
    report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_id == rows[5].id
    assert "前序哈希" in (report.reason or "")


def test_deleting_a_middle_row_is_detected(session, clock):
    rows = _fill(session, clock, 20)
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": rows[9].id})
    session.commit()
    report = audit.verify_chain(session, batch_size=4)
    assert not report.ok and report.first_bad_id == rows[10].id
    assert "删除" in (report.reason or "") and report.count == 19


def test_deleting_the_first_row_is_detected(session, clock):
    rows = _fill(session, clock, 5)
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": rows[0].id})
    session.commit()
    assert audit.verify_chain(session).first_bad_id == rows[1].id


def test_reordered_rows_are_detected(session, clock):
    rows = _fill(session, clock, 10)
    a, b = rows[3].id, rows[4].id
    for old, new in ((a, -1), (b, a), (-1, b)):
        session.execute(text("UPDATE audit_events SET id = :new WHERE id = :old"),
                        {"new": new, "old": old})
    session.commit()
    report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_id == a


def test_inserted_forged_row_is_detected(session, clock):
    rows = _fill(session, clock, 10)
    victim, prev = rows[6], rows[5]
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": victim.id})
    at = victim.at + timedelta(milliseconds=1)
    forged = audit.chain_hash(prev.hash, at, "mallory", "approve", "work_item", "3", None, None)
    session.execute(insert(AuditEvent).values(
        id=victim.id, at=at, actor="mallory", action="approve", object_type="work_item",
        object_id="3", before=None, after=None, prev_hash=prev.hash, hash=forged))
    session.commit()
    report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_id == rows[7].id


def test_orm_update_and_delete_are_refused(session, clock):
    row = audit.record(session, clock, actor="admin", action="create", object_type="unit",
                       object_id="u1", after={"name": "省经信厅"})
    session.commit()
    row.actor = "mallory"
    with pytest.raises(StateError, match="只能追加"):
        session.flush()
    session.rollback()
    session.delete(row)
    with pytest.raises(StateError, match="只能追加"):
        session.flush()
    session.rollback()
    with pytest.raises(StateError):
        session.execute(update(AuditEvent).values(actor="mallory"))
    with pytest.raises(StateError):
        session.execute(delete(AuditEvent).where(AuditEvent.id == row.id))
    session.rollback()
    assert session.scalar(select(AuditEvent.actor)) == "admin"
    assert audit.verify_chain(session).ok


def test_time_comes_from_the_given_clock(engine, session, clock):
    clock.set(datetime(2019, 12, 31, 23, 59, 58, 123456, tzinfo=CHINA_TZ))
    row = audit.record(session, clock, actor="system", action="tick", object_type="clock",
                       object_id=1)
    session.commit()
    with session_factory(engine)() as other:
        stored = other.get(AuditEvent, row.id)
        assert stored is not None and stored.at == clock.now()
        assert stored.at.astimezone(UTC).hour == 15


class Colour(enum.Enum):
    RED = "red"


def test_values_are_made_json_safe_and_still_verify(engine, session, clock):
    before = {"due": date(2018, 8, 30), "when": START, "amount": Decimal("12.50"),
              "status": ItemStatus.OPEN, "colour": Colour.RED, "units": ("a", "b"),
              "tags": {"y", "x"}, 3: None, "中文": "保留"}
    row = audit.record(session, clock, actor="张三", action="extend", object_type="work_item",
                       object_id="7", before=before, after={"due": date(2018, 9, 30)})
    session.commit()
    with session_factory(engine)() as other:
        stored = other.get(AuditEvent, row.id)
        assert stored is not None
        assert stored.before == {"due": "2018-08-30", "when": "2018-06-01T09:00:00+08:00",
                                 "amount": "12.50", "status": "open", "colour": "red",
                                 "units": ["a", "b"], "tags": ["x", "y"], "3": None,
                                 "中文": "保留"}
        assert audit.verify_chain(other).ok
    with pytest.raises(TypeError):
        audit.record(session, clock, actor="a", action="b", object_type="c", object_id="d",
                     after={"x": object()})


def test_history_returns_one_objects_events_in_order(session, clock):
    _fill(session, clock, 25)
    events = audit.history(session, "work_item", 3)
    assert [e.after["n"] for e in events if e.after] == [3, 13, 23]
    assert audit.history(session, "work_item", "999") == []
    assert audit.history(session, "unit", 3) == []


def test_hash_is_unique(session, clock):
    row = audit.record(session, clock, actor="a", action="b", object_type="c", object_id="d")
    session.commit()
    with pytest.raises(IntegrityError, match="UNIQUE"):
        session.execute(insert(AuditEvent).values(
            at=row.at, actor="a", action="b", object_type="c", object_id="d",
            prev_hash=row.hash, hash=row.hash))


def _hammer(engine: Engine, clock: ManualClock, threads: int, per_thread: int) -> None:
    factory = session_factory(engine)
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with factory() as s, s.begin():
                    audit.record(s, clock, actor=f"t{t}", action="write",
                                 object_type="test", object_id=f"{t}-{i}")
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []


def _assert_one_straight_chain(engine: Engine, total: int) -> None:
    with session_factory(engine)() as s:
        report = audit.verify_chain(s)
        assert report.ok and report.count == total, report
        prevs = s.scalars(select(AuditEvent.prev_hash)).all()
        assert len(set(prevs)) == total


def test_concurrent_writers_on_sqlite_form_one_chain(engine, clock):
    _hammer(engine, clock, threads=4, per_thread=25)
    _assert_one_straight_chain(engine, 100)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """A database of its own on the suite's PostgreSQL server (started if none answers)."""
    server = pg_url.rsplit("/", 1)[0]
    admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    name = f"duban_audit_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(f"{server}/{name}")
    try:
        # Only our table: the full schema is the migrations' business.
        Base.metadata.create_all(eng, tables=[Base.metadata.tables["audit_events"]])
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_concurrent_writers_on_postgresql_form_one_chain(pg_engine, clock):
    _hammer(pg_engine, clock, threads=6, per_thread=30)
    _assert_one_straight_chain(pg_engine, 180)
    with session_factory(pg_engine)() as s:
        s.execute(text("UPDATE audit_events SET after = '{\"x\": 1}' WHERE id = 50"))
        s.commit()
        assert audit.verify_chain(s, batch_size=16).first_bad_id == 50


def _forge_chain(session: Session, n: int) -> None:
    prev, at, batch = audit.GENESIS_HASH, START, []
    for i in range(n):
        at += timedelta(seconds=1)
        after = {"status": "submitted", "n": i, "note": "佐证材料已上传" * 3}
        h = audit.chain_hash(prev, at, "system", "submit", "work_item", str(i), None, after)
        batch.append({"at": at, "actor": "system", "action": "submit",
                      "object_type": "work_item", "object_id": str(i), "before": None,
                      "after": after, "prev_hash": prev, "hash": h})
        prev = h
    session.execute(insert(AuditEvent), batch)
    session.commit()


def _peak_verify_memory(session: Session) -> int:
    session.expunge_all()
    tracemalloc.start()
    try:
        assert audit.verify_chain(session, batch_size=500).ok
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_verify_memory_stays_flat_as_the_log_grows(session):
    _forge_chain(session, 3000)
    small = _peak_verify_memory(session)
    session.execute(text("DELETE FROM audit_events"))
    session.commit()
    _forge_chain(session, 12000)
    large = _peak_verify_memory(session)
    assert large < small * 1.5, (small, large)
