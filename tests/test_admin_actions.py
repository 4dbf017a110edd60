"""Issue 9, "admin writes are engine actions": engine/admin.py checks the actor's role itself
(the web's decorator is not the only guard), writes nothing for anyone else, and audits what an
administrator does."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine import admin
from engine.errors import PermissionDeniedError
from engine.models import AuditEvent, Role, Unit, User
from tests.engine_fixtures import add_user, make_runtime


@pytest.fixture
def world(tmp_path):
    rt = make_runtime(tmp_path)
    return rt, {
        "admin": add_user(rt, "root", Role.ADMIN, None),
        "supervisor": add_user(rt, "duchao", Role.SUPERVISOR, "dcs"),
        "liaison": add_user(rt, "hefei", Role.LIAISON, "hefei"),
    }


ACTIONS = {
    "deactivate": lambda s, c, a, uid: admin.set_active(s, c, a, uid, False),
    "reset_password": lambda s, c, a, uid: admin.reset_password(s, c, a, uid),
    "issue_token": lambda s, c, a, uid: admin.issue_token(s, c, a, uid),
    "revoke_token": lambda s, c, a, uid: admin.revoke_token(s, c, a, uid),
    "rename_unit": lambda s, c, a, uid: admin.rename_unit(
        s, c, a, "hefei", name="合肥市政府", short_name=None, valid_from=date(2019, 1, 1)),
    "unit_email": lambda s, c, a, uid: admin.set_unit_email(s, c, a, "hefei", "x@hf.gov.cn"),
    "create_account": lambda s, c, a, uid: admin.create_account(
        s, c, a, username="new1", display_name="新", role=Role.LIAISON, unit_id="wuhu",
        email=None),
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", ["supervisor", "liaison"])
def test_only_an_administrator_may(world, action, who):
    rt, actors = world
    target = actors["liaison"].user_id
    before = _events(rt)
    with rt.sessions() as s, s.begin(), pytest.raises(PermissionDeniedError, match="无权"):
        ACTIONS[action](s, rt.clock, actors[who], target)
    with rt.sessions() as s:
        user = s.get(User, target)
        assert user.active and user.api_token_hash is None
        assert len(s.get(Unit, "hefei").names) == 1 and s.get(Unit, "hefei").email is None
        assert s.scalar(select(func.count(User.id)).where(User.username == "new1")) == 0
    assert _events(rt) == before


def _events(rt) -> list[tuple[str, str]]:
    with rt.sessions() as s:
        return [(e.actor, e.action) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_administrator_may_and_it_is_audited(world, action):
    rt, actors = world
    with rt.sessions() as s, s.begin():
        ACTIONS[action](s, rt.clock, actors["admin"], actors["liaison"].user_id)
    assert any(actor == "root" for actor, _ in _events(rt))
