"""``duban init``: create or upgrade the schema, load the policy and its processes, accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import accounts, loader, migrate
from engine.clock import Clock, today
from engine.models import ClockState, Role, Unit, User
from engine.policy import load_policy
from engine.runtime import Runtime, simulated_start

SUPERVISOR = "duchao"
ADMIN = "admin"
DEMO_DOMAIN = "demo.duban.test"  # reserved test domain: mail goes to .eml files or a test SMTP


@dataclass(frozen=True)
class NewAccount:
    """A created account and its one-time password."""

    username: str
    password: str
    role: Role
    unit_name: str


def init_database(rt: Runtime, *, demo: bool = False) -> list[NewAccount]:
    """Idempotent: schema, simulated clock, policy, processes, and (demo) one account per unit."""
    policy = load_policy(rt.config.policy_file)
    processes = rt.processes()
    engine = rt.sessions.kw["bind"]
    migrate.upgrade(engine)
    _init_clock(rt)
    clock = rt.clock
    with rt.sessions() as s, s.begin():
        loader.load_into_db(s, clock, policy, processes)
    created: list[NewAccount] = []
    with rt.sessions() as s, s.begin():
        day = today(clock)
        created += _ensure(s, clock, ADMIN, "系统管理员", Role.ADMIN, None, "")
        if demo:
            sup = s.get(Unit, policy.supervisor)
            created += _ensure(s, clock, SUPERVISOR, "督查室", Role.SUPERVISOR, policy.supervisor,
                               sup.name_on(day) if sup else "")
            for unit in s.scalars(select(Unit).order_by(Unit.sort_order)):
                name = unit.name_on(day)
                created += _ensure(s, clock, unit.id, f"{name}联络员", Role.LIAISON, unit.id, name)
    return created


def _init_clock(rt: Runtime) -> None:
    start = simulated_start(rt.config)
    if start is None:
        return
    with rt.sessions() as s, s.begin():
        if s.get(ClockState, 1) is None:
            s.add(ClockState(id=1, now=start, start_on=rt.config.simulated_start))


def _ensure(s: Session, clock: Clock, username: str, display: str, role: Role,
            unit_id: str | None, unit_name: str) -> list[NewAccount]:
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        return []
    password = accounts.new_password()
    accounts.create_user(s, clock, username=username, display_name=display, role=role,
                         password=password, unit_id=unit_id, email=f"{username}@{DEMO_DOMAIN}")
    return [NewAccount(username, password, role, unit_name)]

