"""``duban simulate``: replay a policy day by day on a fresh database with scripted units.

Each simulated day: at 08:00 the scheduler's tick runs (the very same steps as in production),
at 15:00 the units and the supervisor act through the service layer (simulator.behaviour). The same
seed gives the same story, the same documents and the same summary.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select

from engine import loader, migrate
from engine.clock import CHINA_TZ, ManualClock
from engine.config import Config
from engine.db import make_engine, session_factory
from engine.errors import ValidationError
from engine.models import (
    Blob,
    ClockState,
    Instance,
    InstanceStatus,
    Policy,
    Role,
    Unit,
    User,
    WorkItem,
)
from engine.policy import load_policy
from engine.runtime import Runtime
from notifications.models import Document, OutboxMessage, OutboxStatus
from notifications.tick import run_tick
from simulator.behaviour import Behaviour

TICK_AT, ACT_AT = time(8, 0), time(15, 0)
SIM_DOMAIN = "sim.duban.test"


@dataclass(frozen=True)
class SimulationRequest:
    """What to replay and where to put the results."""

    start: date
    end: date
    seed: int
    out: Path
    database_url: str | None = None
    smtp_url: str | None = None
    imports: tuple[Path, ...] = ()  # more policies to run beside the configured one


def simulate(req: SimulationRequest,
             progress: Callable[[date, int, int], None] | None = None) -> dict[str, Any]:
    """Replay ``req.start``..``req.end`` and return (and write) the summary."""
    if req.end < req.start:
        raise ValidationError("结束日期不能早于开始日期")
    rt = _fresh_runtime(req)
    with rt.sessions() as s:
        main = s.scalars(select(Policy.id).order_by(Policy.issued_on, Policy.id)).first()
    behaviour = Behaviour(req.seed, main)
    total = (req.end - req.start).days + 1
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    for n in range(total):
        day = req.start + timedelta(days=n)
        clock.set(datetime.combine(day, TICK_AT, CHINA_TZ))
        run_tick(rt)
        clock.set(datetime.combine(day, ACT_AT, CHINA_TZ))
        with rt.sessions() as s, s.begin():
            behaviour.act(s, clock)
        if progress:
            progress(day, n + 1, total)
    with rt.sessions() as s, s.begin():
        s.merge(ClockState(id=1, now=clock.now(), start_on=req.start, ticked_on=req.end))
    summary = _summary(rt, req)
    _write_documents(rt, req.out)
    (req.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2,
                                                     sort_keys=True), encoding="utf-8")
    return summary


def _fresh_runtime(req: SimulationRequest) -> Runtime:
    req.out.mkdir(parents=True, exist_ok=True)
    url = req.database_url
    if url is None:
        db_file = req.out / "simulation.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db_file.resolve()}"
    engine = make_engine(url)
    if inspect(engine).get_table_names():
        raise ValidationError("模拟需要一个空数据库：该数据库中已有数据表")
    # the environment's sender, policy file and scheduler knobs; the database, data directory,
    # transport and clock are the replay's own
    config = dataclasses.replace(Config.from_env(), data_dir=req.out / "data",
                                 database_url=url, smtp_url=req.smtp_url,
                                 clock=req.start.isoformat())
    config.data_dir.mkdir(parents=True, exist_ok=True)
    clock = ManualClock(datetime.combine(req.start, time(0), CHINA_TZ))
    rt = Runtime(config=config, sessions=session_factory(engine), clock=clock)
    migrate.upgrade(engine)
    policy = load_policy(config.policy_file)
    with rt.sessions() as s, s.begin():
        loader.load_into_db(s, clock, policy, rt.processes())
        for path in req.imports:
            _import(s, clock, path)
        _sim_accounts(s, clock, policy.supervisor)
    return rt


def _import(s: Any, clock: ManualClock, path: Path) -> None:
    """Another policy through the importer, its unknown units created (as a supervisor would)."""
    from engine.access import Actor
    from engine.importing import ImportOptions, read_policy_file
    from engine.policy_import import Confirmation, confirm, directory

    result = read_policy_file(path.name, path.read_bytes(), directory(s),
                              ImportOptions(policy_id=_slug(path.stem), create_units=True))
    confirm(s, clock, Actor.system(), result,
            Confirmation(source_name=path.name, create_units=True))


def _slug(stem: str) -> str:
    slug = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in stem.lower())
    return slug.strip("-_")[:60] or "imported"


# Liaisons are people: their names do not change when their unit is renamed.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋"
GIVEN = ("建国", "晓明", "丽华", "志强", "海燕", "文静", "国庆", "红梅", "俊杰", "秀英", "立新",
         "玉兰", "伟民", "春花", "卫东", "淑珍", "振华", "慧敏", "德胜", "雪梅", "永强", "桂英",
         "明辉", "素芳")


def _sim_accounts(s: Any, clock: ManualClock, supervisor_unit: str) -> None:
    """One liaison per unit and a supervisor of the supervising unit, with mail addresses and
    no usable password."""
    units = s.scalars(select(Unit).order_by(Unit.sort_order, Unit.id)).all()
    for n, unit in enumerate(units):
        unit.email = f"office.{unit.id}@{SIM_DOMAIN}"
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]
        s.add(User(username=f"sim-{unit.id}", display_name=name, password_hash="!",
                   role=Role.LIAISON, unit_id=unit.id, email=f"liaison.{unit.id}@{SIM_DOMAIN}",
                   active=True, created_at=clock.now()))
    s.add(User(username="sim-duchao", display_name="督查室", password_hash="!",
               role=Role.SUPERVISOR, unit_id=supervisor_unit, email=f"duchao@{SIM_DOMAIN}",
               active=True, created_at=clock.now()))


def _summary(rt: Runtime, req: SimulationRequest) -> dict[str, Any]:
    with rt.sessions() as s:
        items = Counter({st.value: n for st, n in s.execute(
            select(WorkItem.status, func.count()).group_by(WorkItem.status))})
        insts = Counter({st.value: n for st, n in s.execute(
            select(Instance.status, func.count()).group_by(Instance.status))})
        on_time = s.scalar(select(func.count()).where(Instance.closed_on_time.is_(True),
                                                      Instance.status == InstanceStatus.CLOSED))
        mail = Counter({st.value: n for st, n in s.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))})
        by_kind = Counter(dict(s.execute(select(OutboxMessage.kind, func.count())
                                         .group_by(OutboxMessage.kind)).all()))
        docs = Counter({k.value: n for k, n in s.execute(
            select(Document.kind, func.count()).group_by(Document.kind))})
    return {
        "from": req.start.isoformat(), "to": req.end.isoformat(), "seed": req.seed,
        "emails": sum(mail.values()), "emails_by_status": dict(mail),
        "emails_by_kind": dict(by_kind), "emails_sent": mail.get(OutboxStatus.SENT.value, 0),
        "notices": docs.get("notice", 0), "second_notices": docs.get("principal", 0),
        "bulletins": docs.get("bulletin", 0),
        "work_items": dict(items), "instances": dict(insts),
        "instances_closed_on_time": on_time or 0,
    }


def _write_documents(rt: Runtime, out: Path) -> None:
    with rt.sessions() as s:
        for doc in s.scalars(select(Document).order_by(Document.id)):
            folder = out / {"notice": "notices", "principal": "second_notices",
                            "bulletin": "bulletins"}.get(
                doc.kind.value, "assessments")
            folder.mkdir(exist_ok=True)
            blob = s.get(Blob, doc.pdf_sha256)
            if blob is not None:
                (folder / f"{_safe(doc.number)}.pdf").write_bytes(blob.data)


def _safe(number: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in number)


def terminal_progress(day: date, done: int, total: int) -> None:
    """A progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return
    width = 40
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {day} {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
