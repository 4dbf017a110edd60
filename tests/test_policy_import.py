"""Confirming an import (engine/policy_import.py): units, processes, cycles, versions, archive."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli.main import main
from engine import bpmn, bpmnlint, policies
from engine.access import Actor
from engine.cycles import open_cycles
from engine.errors import ValidationError
from engine.importing import ImportOptions, read_policy_file
from engine.models import (
    AuditEvent,
    Cycle,
    Instance,
    Policy,
    PolicyStatus,
    PolicyTask,
    PolicyVersion,
    ProcessSpec,
    Unit,
    UnitKind,
)
from engine.policy_import import Confirmation, confirm, directory, guess_kind
from tests.engine_fixtures import make_runtime

DATA = Path(__file__).resolve().parent / "data" / "import"
SEED = DATA / "seed_000_8cf7f8447cb07457.txt"
SYSTEM = Actor.system()


def _read(rt, path: Path, **options):
    with rt.sessions() as s:
        return read_policy_file(path.name, path.read_bytes(), directory(s),
                                ImportOptions(**options))


def _confirm(rt, result, **how):
    with rt.sessions() as s, s.begin():
        return confirm(s, rt.clock, SYSTEM, result, Confirmation(source_name="t", **how)).id


def test_seed_imported_beside_the_bundled_policy_runs_the_same_obligations(tmp_path):
    rt = make_runtime(tmp_path)
    result = _read(rt, SEED, policy_id="seed-copy")
    assert result.ok(), result.errors()
    _confirm(rt, result)
    with rt.sessions() as s:
        bundled = {t.number: t for t in s.scalars(select(PolicyTask).where(
            PolicyTask.policy_id == "anhui-2018-zjtx"))}
        copy = {t.number: t for t in s.scalars(select(PolicyTask).where(
            PolicyTask.policy_id == "seed-copy"))}
        assert set(copy) == set(bundled) == set(range(1, 9))
        for n, task in copy.items():
            assert task.lead_unit_ids == bundled[n].lead_unit_ids
            assert task.supporting_unit_ids == bundled[n].supporting_unit_ids
            assert task.deadline == bundled[n].deadline
            assert task.process_id == f"p_seed-copy_t{n:03d}"
            assert [(t["amount"], t["unit"], t["per"]) for t in task.targets] == [
                (t["amount"], t["unit"], t["per"]) for t in bundled[n].targets]
            due = sorted(c.due_date for c in s.scalars(select(Cycle).where(
                Cycle.task_id == task.id)) if c.due_date)
            assert due == sorted(c.due_date for c in bundled[n].cycles if c.due_date)
        assert s.scalar(select(Policy.supervisor_unit_id).where(Policy.id == "seed-copy")) == "dcs"
    started = open_cycles(rt.sessions, rt.clock)
    with rt.sessions() as s:
        per_policy = dict(s.execute(select(PolicyTask.policy_id, func.count(Instance.id))
                                    .join(Instance, Instance.task_id == PolicyTask.id)
                                    .group_by(PolicyTask.policy_id)).all())
    assert per_policy["seed-copy"] == per_policy["anhui-2018-zjtx"] == started // 2


def test_unknown_units_are_created_or_mapped_and_remembered(tmp_path):
    rt = make_runtime(tmp_path)
    result = _read(rt, DATA / "plan.xlsx", create_units=True, policy_id="dongjiang")
    names = set(result.new_units)
    assert "市发改委" in names
    with pytest.raises(ValidationError, match="各区县政府"):
        _confirm(rt, result, create_units=True)  # a group without members stays an error
    with rt.sessions() as s:
        assert s.get(Policy, "dongjiang") is None  # nothing written
        assert s.scalar(select(func.count(Unit.id)).where(Unit.id.like("u%"))) == 0


def test_confirm_refuses_an_unmapped_unknown_unit_and_writes_nothing(tmp_path):
    rt = make_runtime(tmp_path)
    text = ("附件\n重点任务分解表\n序号\t工作任务\t牵头单位\t配合单位\t完成时限\n"
            "1\t建立专项工作机制\t省科学技术厅\t省财政厅\t2018年12月31日前\n")
    path = tmp_path / "t.txt"
    path.write_text("安徽省人民政府办公厅\n2018年6月1日\n" + text, encoding="utf-8")
    result = _read(rt, path, policy_id="kjt")
    assert result.new_units == ["省科学技术厅"]
    with pytest.raises(ValidationError):
        _confirm(rt, result)
    with rt.sessions() as s:
        assert s.get(Policy, "kjt") is None
    _confirm(rt, result, mappings={"省科学技术厅": "jxw"})
    with rt.sessions() as s:
        assert s.scalars(select(PolicyTask.lead_unit_ids).where(
            PolicyTask.policy_id == "kjt")).one() == ["jxw"]
    again = _read(rt, path, policy_id="kjt2")
    assert again.new_units == []  # the mapping is an alias now


def test_reimport_makes_a_version_with_a_diff_and_moves_open_cycles(tmp_path):
    rt = make_runtime(tmp_path)
    path = tmp_path / "t.txt"
    head = ("安徽省人民政府办公厅\n2018年5月30日\n附件\n任务分解表\n"
            "序号\t工作任务\t牵头单位\t配合单位\t时限要求\n")
    path.write_text(head + "1\t制定实施细则\t省经济和信息化委\t省财政厅\t2018年9月30日前\n"
                    "2\t开展评估\t省财政厅\t\t2018年12月31日前\n", encoding="utf-8")
    _confirm(rt, _read(rt, path, policy_id="rev"))
    open_cycles(rt.sessions, rt.clock)
    path.write_text(head + "1\t制定实施细则\t省经济和信息化委\t省财政厅\t2018年10月31日前\n"
                    "3\t总结推广\t省经济和信息化委\t\t2018年12月31日前\n", encoding="utf-8")
    _confirm(rt, _read(rt, path, policy_id="rev"))
    with rt.sessions() as s:
        version = s.scalars(select(PolicyVersion).where(PolicyVersion.policy_id == "rev")
                            .order_by(PolicyVersion.version.desc())).first()
        assert version.version == 2
        assert version.diff["added"] == [3] and version.diff["removed"] == [2]
        assert version.diff["changed"][0]["number"] == 1
        assert "deadline" in version.diff["changed"][0]["fields"]
        task1 = s.scalars(select(PolicyTask).where(PolicyTask.policy_id == "rev",
                                                   PolicyTask.number == 1)).one()
        inst = s.scalars(select(Instance).where(Instance.task_id == task1.id)).one()
        assert inst.due_date == date(2018, 10, 31)
        assert inst.original_due_date == date(2018, 9, 30)  # the history keeps the first one
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "reschedule"))
        task2 = s.scalars(select(PolicyTask).where(PolicyTask.policy_id == "rev",
                                                   PolicyTask.number == 2)).one()
        assert task2.active is False  # gone from the table: no new cycles
        assert s.scalar(select(func.count(Instance.id)).where(Instance.task_id == task2.id)) == 1


def test_archived_policies_open_no_new_cycles(tmp_path):
    rt = make_runtime(tmp_path)
    _confirm(rt, _read(rt, SEED, policy_id="seed-copy"))
    with rt.sessions() as s, s.begin():
        policies.set_status(s, rt.clock, SYSTEM, "seed-copy", PolicyStatus.ARCHIVED)
    open_cycles(rt.sessions, rt.clock)
    with rt.sessions() as s:
        count = s.scalar(select(func.count(Instance.id)).join(
            PolicyTask, PolicyTask.id == Instance.task_id).where(
            PolicyTask.policy_id == "seed-copy"))
    assert count == 0


def test_exported_processes_parse_and_are_the_stored_versions(tmp_path):
    rt = make_runtime(tmp_path)
    _confirm(rt, _read(rt, SEED, policy_id="seed-copy"))
    with rt.sessions() as s:
        written = policies.export_bpmn(s, "seed-copy", tmp_path / "out")
        digests = set(s.scalars(select(ProcessSpec.digest).where(
            ProcessSpec.process_id.like("p_seed-copy_%"))))
    assert len(written) == 8
    for path in written:
        parsed = bpmn.parse_process(path, path.stem)
        assert parsed.digest in digests and "任务" in parsed.spec.description


def test_unit_kinds_are_guessed_from_names():
    assert guess_kind("东江市人民政府") is UnitKind.CITY
    assert guess_kind("市发改委") is UnitKind.DEPARTMENT
    assert guess_kind("省投资集团") is UnitKind.OTHER


# ------------------------------------------------------------------ the CLI contracts
@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DUBAN_CLOCK", "2018-06-01")
    monkeypatch.delenv("DUBAN_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    run("init")
    return run


def test_import_dry_run_json_contract_writes_nothing(cli, tmp_path):
    out = json.loads(cli("policy", "import", str(SEED), "--dry-run", "--json", "--id", "seed2"))
    assert set(out) >= {"policy", "tasks", "new_units", "problems"}
    assert set(out["policy"]) >= {"id", "title", "issuer", "issued_on"}
    task = out["tasks"][0]
    assert set(task) >= {"number", "path", "text", "lead_units", "supporting_units",
                         "lead_unit_ids", "supporting_unit_ids", "deadline", "cycles", "targets"}
    assert task["cycles"] == [{"label": "一次性", "opens_on": "2018-05-30",
                               "due_date": "2018-08-30"}]
    listed = json.loads(cli("policy", "list", "--json"))
    assert [p["id"] for p in listed] == ["anhui-2018-zjtx"]


def test_import_with_errors_exits_1_and_writes_nothing(cli):
    out = json.loads(cli("policy", "import", str(DATA / "plan.xlsx"), "--json", "--id", "dj",
                         code=1))
    assert any(p["severity"] == "error" for p in out["problems"]) and out["new_units"]
    assert [p["id"] for p in json.loads(cli("policy", "list", "--json"))] == ["anhui-2018-zjtx"]


def test_import_list_show_export_and_units(cli, tmp_path):
    cli("policy", "import", str(SEED), "--id", "seed2")
    listed = {p["id"]: p for p in json.loads(cli("policy", "list", "--json"))}
    assert listed["seed2"]["tasks"] == 8 and listed["seed2"]["status"] == "active"
    assert set(listed["seed2"]) >= {"id", "title", "issued_on", "tasks", "obligations", "status"}
    shown = json.loads(cli("policy", "show", "seed2", "--json"))
    assert [t["number"] for t in shown] == list(range(1, 9))
    assert shown[0]["lead_unit_ids"][0] == "hefei" and shown[0]["cycles"][0]["due_date"]
    assert "共 8 个流程" in cli("policy", "export-bpmn", "seed2", str(tmp_path / "x"))
    assert len(list((tmp_path / "x").glob("*.bpmn"))) == 8
    units = {u["id"]: u for u in json.loads(cli("units", "list", "--json"))}
    jxw = units["jxw"]
    assert set(jxw) >= {"id", "name", "short_name", "kind", "names", "aliases"}
    assert jxw["name"] == "安徽省经济和信息化委员会" and "省经济和信息化委" in jxw["aliases"]
    assert jxw["names"][1]["valid_from"] == "2018-10-26"
    cli("policy", "archive", "seed2")
    assert {p["id"]: p["status"] for p in json.loads(cli("policy", "list", "--json"))}[
        "seed2"] == "archived"



@pytest.mark.skipif(not bpmnlint.available(), reason="node and bpmnlint are not installed")
def test_imported_processes_pass_bpmnlint_and_a_broken_one_is_refused():
    """bpmnlint's recommended rules run on what an import renders; a process they reject is
    refused with bpmnlint's report (the answer is remembered per structure, not per name)."""
    from engine import pattern
    from engine.errors import BpmnError

    names = pattern.names_for(pattern.process_id_for("lint-check", 7), 7, "建设数字化服务平台")
    xml = pattern.render(names)
    assert bpmnlint.lint(xml, names.process_id) is True
    flow = re.compile(r"<bpmn:sequenceFlow [^>]*?(/>|>.*?</bpmn:sequenceFlow>)", re.S)
    broken = flow.sub("", xml, count=1)  # the first flow cut: its nodes left disconnected
    assert broken != xml
    with pytest.raises(BpmnError, match="bpmnlint 检查未通过"):
        bpmnlint.lint(broken, names.process_id)
