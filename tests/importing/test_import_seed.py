"""The seed document, read as text, gives exactly the bundled policy's eight tasks."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import SEED, SHARED_SEED

from engine.config import DEFAULT_POLICY
from engine.importing import ImportResult, directory_from_policy, read_policy_file
from engine.policy import PolicyDef, load_policy


@pytest.fixture(scope="module")
def policy() -> PolicyDef:
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(scope="module")
def result(policy: PolicyDef) -> ImportResult:
    return read_policy_file(SEED.name, SEED.read_bytes(), directory_from_policy(policy))


@pytest.mark.skipif(not SHARED_SEED.is_file(), reason="no shared/ beside the repository")
def test_the_copy_is_the_shared_seed() -> None:
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_cover_letter_is_read(result: ImportResult, policy: PolicyDef) -> None:
    assert result.ok(), result.errors()
    assert result.source_kind == "text"
    assert result.policy.title == policy.title
    assert result.policy.issuer == "安徽省人民政府"
    assert result.policy.issued_on == date(2018, 5, 30)
    assert result.policy.horizon_year == policy.horizon_year
    assert result.policy.selection_years == policy.selection_years


def test_tasks_match_the_yaml(result: ImportResult, policy: PolicyDef) -> None:
    assert [t.number for t in result.tasks] == [t.number for t in policy.tasks]
    for read, task in zip(result.tasks, policy.tasks, strict=True):
        assert tuple(r.unit_id for r in read.lead) == task.lead_units, task.number
        assert tuple(r.unit_id for r in read.supporting) == task.supporting_units, task.number
        assert read.more_units == task.more_units
        assert read.deadline == task.deadline
        assert read.rule is not None and read.rule.kind == task.rule.kind
        assert read.text == task.text
        assert [(t.label, t.amount, t.unit, t.per) for t in read.targets] == [
            (t.label, t.amount, t.unit, t.per) for t in task.targets], task.number


def test_task_one_lead_is_the_sixteen_cities(result: ImportResult, policy: PolicyDef) -> None:
    lead = result.tasks[0].lead
    assert [r.unit_id for r in lead] == list(policy.groups["各市人民政府"])
    assert {r.group for r in lead} == {"各市人民政府"}


def test_cycles_match_the_yaml(result: ImportResult, policy: PolicyDef) -> None:
    data = result.to_json(directory_from_policy(policy))
    ctx = policy.context()
    for row, task in zip(data["tasks"], policy.tasks, strict=True):
        expected = [{"label": c.label, "opens_on": c.opens_on.isoformat(),
                     "due_date": c.due_date.isoformat()} for c in task.cycles(ctx) if c.due_date]
        assert row["cycles"] == expected, task.number


def test_json_contract(result: ImportResult, policy: PolicyDef) -> None:
    data = result.to_json(directory_from_policy(policy))
    assert data["policy"] == data["policy"] | {
        "id": None, "title": policy.title, "issuer": "安徽省人民政府", "issued_on": "2018-05-30"}
    assert data["new_units"] == []
    assert all(p["severity"] == "warning" for p in data["problems"])
    first = data["tasks"][0]
    for field in ("number", "path", "text", "lead_units", "supporting_units", "lead_unit_ids",
                  "supporting_unit_ids", "deadline", "cycles", "targets", "label", "title",
                  "notes", "more_units", "place"):
        assert field in first
    assert first["lead_units"][0] == "合肥市人民政府" and len(first["lead_units"]) == 16
    assert first["supporting_units"] == ["安徽省经济和信息化委员会"]  # its name on the issue day
    assert data["tasks"][1]["targets"][0] == {"key": "t1", "label": "培育入库“专精特新”中小企业",
                                              "amount": 1000, "unit": "户", "per": "year",
                                              "kind": "count"}  # 户: whole numbers
    assert data["tasks"][0]["place"] == "第38行"  # the row "\t1" of the annex


def test_options_win_over_the_text(policy: PolicyDef) -> None:
    from engine.importing import ImportOptions

    options = ImportOptions(policy_id="zjtx", title="另一个标题", issuer="某某", horizon_year=2019,
                            issued_on=date(2018, 6, 1))
    result = read_policy_file(SEED.name, SEED.read_bytes(), directory_from_policy(policy), options)
    meta = result.policy
    assert (meta.id, meta.title, meta.issuer, meta.issued_on, meta.horizon_year) == (
        "zjtx", "另一个标题", "某某", date(2018, 6, 1), 2019)
    assert any("2018-05-30" in p.message for p in result.problems)
    yearly = result.to_json(directory_from_policy(policy))["tasks"][1]["cycles"]
    assert [c["due_date"] for c in yearly] == ["2018-12-31", "2019-12-31"]
