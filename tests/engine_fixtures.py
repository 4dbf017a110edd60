"""Shared helpers for engine tests: a runtime on a fresh database with the seed policy loaded."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from engine import loader
from engine.clock import CHINA_TZ, ManualClock
from engine.config import Config
from engine.db import Base, make_engine, session_factory
from engine.models import Role, User
from engine.policy import load_policy
from engine.runtime import Runtime
from engine.service import Actor

START = datetime(2018, 5, 30, 9, 0, tzinfo=CHINA_TZ)


def make_runtime(tmp_path: Path, url: str | None = None, clock: ManualClock | None = None,
                 create: bool = True) -> Runtime:
    """A runtime on a fresh database (tables created from the models) with the policy loaded."""
    import notifications.models  # noqa: F401

    url = url or f"sqlite:///{tmp_path / 'duban.db'}"
    config = Config(data_dir=tmp_path / "var", database_url=url)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    if create:
        Base.metadata.create_all(engine)
    rt = Runtime(config=config, sessions=session_factory(engine), clock=clock or ManualClock(START))
    with rt.sessions() as s, s.begin():
        loader.load_into_db(s, rt.clock, load_policy(config.policy_file), rt.processes())
    return rt


def add_user(rt: Runtime, username: str, role: Role, unit_id: str | None) -> Actor:
    """A user row without the cost of a real password hash."""
    with rt.sessions() as s, s.begin():
        user = s.scalars(select(User).where(User.username == username)).first()
        if user is None:
            user = User(username=username, display_name=username, password_hash="x", role=role,
                        unit_id=unit_id, active=True, created_at=rt.clock.now())
            s.add(user)
            s.flush()
        return Actor.of(user)
