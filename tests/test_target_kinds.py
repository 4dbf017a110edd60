"""Targets have a kind: a count (户, 个, 家 …) takes whole numbers, an amount (万元, %) decimals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import service
from engine.config import DEFAULT_POLICY
from engine.cycles import open_cycles
from engine.errors import PolicyError, ValidationError
from engine.models import Instance, ItemRole, PolicyTask, Role, WorkItem
from engine.policy import load_policy
from tests.engine_fixtures import add_user, make_runtime
from tests.test_policy import edited, write_policy

POOLED = ("{key: pooled, label: 培育入库“专精特新”中小企业, amount: 1000, unit: 户, per: year, "
          "kind: count}")


def test_kind_follows_the_unit_unless_the_yaml_says() -> None:
    from engine.policy import target_kind

    assert [target_kind(u) for u in ("户", "个", "家", "名", "人", "项", "所", "条")] == \
        ["count"] * 8
    assert [target_kind(u) for u in ("万元", "亿元", "%", "万户", "吨")] == ["amount"] * 5
    seed = load_policy(DEFAULT_POLICY)
    assert {t.kind for task in seed.tasks for t in task.targets} == {"count"}


def test_the_yaml_may_set_a_kind_and_a_wrong_one_is_refused(tmp_path) -> None:
    path = write_policy(tmp_path, edited(POOLED, POOLED.replace("kind: count", "kind: amount")))
    pooled = load_policy(path).task(2).targets[0]
    assert pooled.kind == "amount"
    unset = write_policy(tmp_path, edited(POOLED, POOLED.replace(", kind: count", "")), "u.yaml")
    assert load_policy(unset).task(2).targets[0].kind == "count"  # 户 counts
    bad = write_policy(tmp_path, edited(POOLED, POOLED.replace("kind: count", "kind: 件数")),
                       "bad.yaml")
    with pytest.raises(PolicyError, match="未知类型“件数”"):
        load_policy(bad)


@pytest.fixture
def lead(tmp_path):
    """The runtime and jxw's task 2 lead item (targets pooled and certified, both in 户)."""
    rt = make_runtime(tmp_path)
    open_cycles(rt.sessions, rt.clock)
    with rt.sessions() as s:
        item = s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == 2, WorkItem.role == ItemRole.LEAD)).first()
    return rt, add_user(rt, "jxw", Role.LIAISON, "jxw"), item.id


def test_a_count_refuses_a_fraction_in_chinese(lead) -> None:
    rt, jxw, item_id = lead
    refused = pytest.raises(ValidationError, match="按户计数，应为整数，而不是“1.5”")
    with rt.sessions() as s, refused:
        service.submit(s, rt.clock, jxw, item_id, text="入库", numbers={"pooled": "1.5"})
    with rt.sessions() as s, s.begin():
        done = service.submit(s, rt.clock, jxw, item_id, text="入库", numbers={"pooled": "300"})
        assert done.status.value == "submitted"


def test_an_unknown_key_names_the_valid_ones(lead) -> None:
    rt, jxw, item_id = lead
    with rt.sessions() as s, pytest.raises(ValidationError) as refused:
        service.submit(s, rt.clock, jxw, item_id, text="入库", numbers={"cultivated": "3"})
    message = str(refused.value)
    assert "没有指标“cultivated”" in message
    assert "pooled（培育入库“专精特新”中小企业）" in message and "certified（" in message


def test_an_amount_takes_decimals(lead) -> None:
    rt, jxw, item_id = lead
    with rt.sessions() as s, s.begin():
        task = s.scalars(select(PolicyTask).where(PolicyTask.number == 2)).one()
        task.targets = [dict(t, kind="amount") if t["key"] == "pooled" else t
                        for t in task.targets]
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, jxw, item_id, text="入库", numbers={"pooled": "2.5"})
