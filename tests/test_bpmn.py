"""engine/bpmn.py: loading errors, the restricted script engine, serialization, lint, rendering."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine import bpmn, scripts
from engine.errors import BpmnError, ScriptSecurityError, ValidationError

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
WORKFLOWS = sorted((ROOT / "workflows").glob("task_0*.bpmn"))
UNSAFE = ("unsafe_import.bpmn", "unsafe_subclasses.bpmn")


def test_all_eight_files_parse_with_xsd_validation() -> None:
    assert [p.name for p in WORKFLOWS] == [f"task_0{n}.bpmn" for n in range(1, 9)]
    digests = set()
    for path in WORKFLOWS:
        parsed = bpmn.parse_process(path, path.stem)
        assert parsed.spec.name == path.stem
        assert parsed.spec.description.startswith(f"任务{int(path.stem[-1])}：")
        ids = {"submit", "review", "contribute", "deadline", "closed", "overdue_escalation"}
        assert ids <= set(parsed.spec.task_specs)
        digests.add(parsed.digest)
    assert len(digests) == 8


def test_malformed_xml_reports_the_line() -> None:
    with pytest.raises(BpmnError) as info:
        bpmn.parse_process(DATA / "malformed.bpmn", "bad")
    assert info.value.line == 5
    assert "malformed.bpmn" in str(info.value) and "XML" in str(info.value)


def test_schema_invalid_file_reports_the_line() -> None:
    with pytest.raises(BpmnError) as info:
        bpmn.parse_process(DATA / "schema_invalid.bpmn", "bad")
    assert info.value.line == 5
    assert "priority" in str(info.value) and "schema_invalid.bpmn" in str(info.value)


def test_missing_process_id_is_named() -> None:
    with pytest.raises(BpmnError) as info:
        bpmn.parse_process(WORKFLOWS[0], "task_99")
    assert "task_99" in str(info.value) and "task_01" in str(info.value)


def test_flow_to_missing_element_gets_a_clear_message() -> None:
    with pytest.raises(BpmnError) as info:
        bpmn.parse_process(DATA / "missing_target.bpmn", "bad")
    message = str(info.value)
    assert "nowhere" in message and "found two items" not in message
    assert info.value.line == 7


def test_missing_file_is_a_bpmn_error(tmp_path: Path) -> None:
    with pytest.raises(BpmnError, match="absent.bpmn"):
        bpmn.parse_process(tmp_path / "absent.bpmn", "x")


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_condition_is_rejected_at_load(name: str) -> None:
    with pytest.raises(ScriptSecurityError, match="line 20"):
        bpmn.parse_process(DATA / name, "unsafe")


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_condition_fails_cleanly_at_run_time(name: str) -> None:
    """A spec that skipped the load check still cannot run the expression."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(DATA / name))
    wf = BpmnWorkflow(parser.get_spec("unsafe"), script_engine=scripts.SafeScriptEngine())
    with pytest.raises(ScriptSecurityError):
        wf.do_engine_steps()
    finished = {t.task_spec.name for t in wf.get_tasks(state=TaskState.COMPLETED)}
    assert not {"end_bad", "end_default"} & finished


def test_nothing_runs_when_an_expression_is_unsafe(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (DATA / "unsafe_import.bpmn").read_text(encoding="utf-8")
    path = tmp_path / "unsafe.bpmn"
    path.write_text(text.replace("system('x')", f"system('touch {marker}')"), encoding="utf-8")
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(path))
    wf = BpmnWorkflow(parser.get_spec("unsafe"), script_engine=scripts.SafeScriptEngine())
    with pytest.raises(ScriptSecurityError):
        wf.do_engine_steps()
    assert not marker.exists()


@pytest.mark.parametrize("text", [
    "import os", "__import__('os')", "().__class__", "open('/etc/passwd')", "eval('1')",
    "getattr(x, 'y')", "globals()", "'{0.__class__}'.format(1)", "x._secret",
    "compile('1','','eval')", "[g.gi_frame.f_back.f_globals for g in [(i for i in [1])]]",
])
def test_check_script_rejects(text: str) -> None:
    with pytest.raises(ScriptSecurityError):
        scripts.check_script(text)


@pytest.mark.parametrize("text", ['decision == "approve"', "due_at", "len(units) > 2 and x in y"])
def test_check_script_accepts_plain_expressions(text: str) -> None:
    scripts.check_script(text)


def test_safe_builtins_lack_dangerous_functions() -> None:
    dangerous = {"open", "eval", "exec", "__import__", "getattr", "compile"}
    assert not dangerous & set(scripts.SAFE_BUILTINS)


def _data() -> dict[str, object]:
    return {"task_number": 1, "cycle_label": "一次性", "lead_unit": "hefei",
            "supporting_units": {"jxw": "省经济和信息化委"}, "due_at": "2018-08-31T00:00:00+08:00"}


def test_deserialize_resets_the_safe_engine() -> None:
    parsed = bpmn.parse_process(WORKFLOWS[0], "task_01")
    wf = bpmn.new_workflow(parsed, _data())
    state = bpmn.serialize(wf)
    assert '"spec"' not in state[:50] and "spec" not in json.loads(state)
    restored = bpmn.deserialize(state, bpmn.spec_to_json(parsed))
    assert isinstance(restored.script_engine, scripts.SafeScriptEngine)
    task = restored.get_tasks(state=TaskState.READY)[0]
    with pytest.raises(ScriptSecurityError):
        restored.script_engine.evaluate(task, "__import__('os')")
    assert restored.script_engine.evaluate(task, "due_at") == _data()["due_at"]


def test_new_workflow_checks_its_data() -> None:
    parsed = bpmn.parse_process(WORKFLOWS[0], "task_01")
    with pytest.raises(ValidationError, match="supporting_units"):
        bpmn.new_workflow(parsed, {k: v for k, v in _data().items() if k != "supporting_units"})
    with pytest.raises(ValidationError, match="时区"):
        bpmn.new_workflow(parsed, {**_data(), "due_at": "2018-08-31T00:00:00"})
    with pytest.raises(ValidationError):
        bpmn.new_workflow(parsed, {**_data(), "__builtins__": {}})


BPMNLINT = ROOT / "node_modules/.bin/bpmnlint"


@pytest.mark.skipif(shutil.which("node") is None or not BPMNLINT.exists(),
                    reason="node and bpmnlint are not installed")
def test_bpmnlint_is_clean_on_all_eight() -> None:
    result = subprocess.run([str(BPMNLINT), *map(str, WORKFLOWS)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and "warning" not in result.stdout


def test_generator_output_matches_the_committed_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts/gen_workflows.py"), str(tmp_path)],
                   check=True, capture_output=True, timeout=60)
    for path in WORKFLOWS:
        fresh = (tmp_path / path.name).read_text(encoding="utf-8")
        assert fresh == path.read_text(encoding="utf-8"), path.name


VIEWER = ROOT / "node_modules/bpmn-js/dist"
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{css}/diagram-js.css"><link rel="stylesheet" href="{css}/bpmn-js.css">
<script src="{js}"></script>
<style>html, body, #canvas {{ margin: 0; width: 1200px; height: 660px; }}</style>
</head><body><div id="canvas"></div></body></html>"""
RENDER = """async (xml) => {
  const viewer = new BpmnJS({ container: '#canvas' });
  const result = await viewer.importXML(xml);
  viewer.get('canvas').zoom('fit-viewport');
  return { warnings: result.warnings.map(w => w.message),
           shapes: viewer.get('elementRegistry').getAll().length };
}"""


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists() or not VIEWER.exists(),
                    reason="Debian chromium or bpmn-js is not installed")
def test_bpmn_js_renders_task_01_without_warnings(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "viewer.html"
    page_file.write_text(PAGE.format(css=(VIEWER / "assets").as_uri(), js=(
        VIEWER / "bpmn-navigated-viewer.production.min.js").as_uri()), encoding="utf-8")
    out = ROOT / "test-output" / "task_01.png"
    out.parent.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 660})
            page.goto(page_file.as_uri())
            result = page.evaluate(RENDER, WORKFLOWS[0].read_text(encoding="utf-8"))
            page.screenshot(path=str(out))
        finally:
            browser.close()
    assert result["warnings"] == []
    assert result["shapes"] >= 30    # pool, 3 lanes, 12 nodes, 11 flows, labels
    assert out.stat().st_size > 20_000


def test_round_trip_keeps_dates_and_task_ids() -> None:
    parsed = bpmn.parse_process(WORKFLOWS[0], "task_01")
    wf = bpmn.new_workflow(parsed, _data())
    submit = next(h for h in bpmn.ready_human_tasks(wf) if h.spec_id == "submit")
    submit.task.set_data(checked_on=date(2018, 7, 1), at=datetime(2018, 7, 1, 8, tzinfo=UTC))
    restored = bpmn.deserialize(bpmn.serialize(wf), bpmn.spec_to_json(parsed))
    again = {h.id: h for h in bpmn.ready_human_tasks(restored)}
    assert set(again) == {h.id for h in bpmn.ready_human_tasks(wf)}
    assert again[submit.id].task.data["checked_on"] == date(2018, 7, 1)
    assert again[submit.id].task.data["at"] == datetime(2018, 7, 1, 8, tzinfo=UTC)
    assert len(bpmn.serialize(restored)) < len(bpmn.serialize(wf)) + 100
