"""Two policies side by side through a replay with real SMTP: the bundled one and an imported
one, their obligations, one gap-free notice numbering per office, bulletins per policy, and
every message delivered exactly once."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.db import make_engine, session_factory
from engine.models import Instance, Policy, PolicyTask, Unit
from notifications.models import Document, DocumentKind, OutboxMessage, OutboxStatus
from simulator.replay import SimulationRequest, simulate

SECOND = Path(__file__).resolve().parent / "data" / "import" / "second_policy.txt"


@pytest.mark.slow
def test_two_policies_replayed_side_by_side(tmp_path, smtp_server):
    summary = simulate(SimulationRequest(date(2018, 5, 30), date(2018, 10, 10), 20,
                                         tmp_path / "out", smtp_url=smtp_server.url,
                                         imports=(SECOND,)))
    engine = make_engine(f"sqlite:///{tmp_path / 'out' / 'simulation.db'}")
    sessions = session_factory(engine)
    with sessions() as s:
        policies = dict(s.execute(select(Policy.id, Policy.title)).all())
        assert set(policies) == {"anhui-2018-zjtx", "second_policy"}
        per_policy = Counter(dict(s.execute(
            select(PolicyTask.policy_id, func.count(Instance.id))
            .join(Instance, Instance.task_id == PolicyTask.id)
            .group_by(PolicyTask.policy_id)).all()))
        assert per_policy["second_policy"] == 16 + 1 + 1  # 16 cities, one yearly, one one-off
        assert s.scalar(select(Unit.id).join(Unit.names).where(
            Unit.names.any(name="省大数据中心")))  # created by the import
        docs = s.scalars(select(Document).order_by(Document.year, Document.seq)).all()
        notices_by_policy = Counter(d.policy_id for d in docs if d.kind is DocumentKind.NOTICE)
        assert notices_by_policy["second_policy"] >= 1  # its 2018-07-31 task was missed
        assert notices_by_policy["anhui-2018-zjtx"] >= 1
        # one office, one gap-free sequence across both policies and both kinds
        seqs = [d.seq for d in docs if d.year == 2018]
        assert seqs == list(range(1, len(seqs) + 1))
        assert all(re.fullmatch(r"皖政督〔2018〕\d+号", d.number) for d in docs if d.year == 2018)
        bulletins = Counter(d.policy_id for d in docs if d.kind is DocumentKind.BULLETIN)
        assert bulletins["second_policy"] >= 2 and bulletins["anhui-2018-zjtx"] >= 3
        outbox = s.scalars(select(OutboxMessage)).all()
    engine.dispose()
    assert all(m.status is OutboxStatus.SENT for m in outbox)
    keys = [str(m.message["X-Duban-Key"]) for m in smtp_server.received]
    assert len(keys) == len(set(keys)) == len(outbox) == summary["emails"]
    assert any("数字化" in str(m.message["Subject"]) for m in smtp_server.received)
