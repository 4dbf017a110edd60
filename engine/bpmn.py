"""BPMN loading with XSD validation, the restricted script engine, serialization and helpers.

Every process follows the pattern of docs/architecture.md; the helpers below rely on its ids
(``submit``, ``review``, ``contribute``, ``deadline``, ``closed``) and lane names.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    EscalationEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.errors import (
    BpmnError,
    NotFoundError,
    ScriptSecurityError,
    StateError,
    ValidationError,
)
from engine.scripts import SafeScriptEngine, check_script

LANE_KEYS = {"牵头单位": "lead", "配合单位": "supporting", "督查": "supervisor"}
CONTRIBUTE_CHILD = "contribute [child]"
FAR_FUTURE = "9999-12-31T00:00:00+08:00"
ESCALATED_KEY = "duban_escalated"  # workflow data: escalations already reported
REQUIRED_DATA = ("task_number", "cycle_label", "lead_unit", "supporting_units", "due_at")

EXPRESSION_TAGS = frozenset({
    "conditionExpression", "timeDate", "timeCycle", "timeDuration", "script",
    "completionCondition", "loopCardinality", "preScript", "postScript", "condition",
})


@dataclass(frozen=True)
class ParsedProcess:
    """One process definition: the spec, its subprocess specs, the XML text and its digest."""

    spec: Any
    subprocess_specs: dict[str, Any]
    xml: str
    digest: str
    process_id: str
    path: Path


def parse_process(path: Path, process_id: str) -> ParsedProcess:
    """Load, validate (XSD and expressions) and parse one process of a BPMN file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BpmnError(f"无法读取 BPMN 文件：{exc.strerror}", file=str(path)) from exc
    return parse_xml(data, process_id, path)


def parse_xml(data: bytes, process_id: str, path: Path) -> ParsedProcess:
    """Validate (XSD and expressions) and parse one process of BPMN XML text; ``path`` names
    it in messages (a file, or the process of an imported policy)."""
    xml_parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        tree = etree.fromstring(data, xml_parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise BpmnError(f"不是有效的 XML：{exc.msg}", file=str(path), line=exc.lineno) from exc
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(tree, str(path))
    except ValidationException as exc:
        raise _schema_error(exc, path) from exc
    _check_expressions(tree, path)
    if process_id not in parser.get_process_ids():
        known = "、".join(parser.get_process_ids()) or "无"
        raise BpmnError(f"找不到可执行流程 {process_id}（文件中的流程：{known}）", file=str(path))
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise _structure_error(exc, path, tree) from exc
    return ParsedProcess(spec, subprocess_specs, data.decode("utf-8"),
                         hashlib.sha256(data).hexdigest(), process_id, path)


def _schema_error(exc: ValidationException, path: Path) -> BpmnError:
    """A BpmnError for an XSD violation, with the line."""
    message = str(exc).split("\n")[0]
    return BpmnError(f"不符合 BPMN 2.0 规范：{message}", file=str(path),
                     line=_line(exc))


def _structure_error(exc: ValidationException, path: Path, tree: Any) -> BpmnError:
    """A BpmnError for a structural problem SpiffWorkflow found while building the spec."""
    message = str(exc).split("\n")[0]
    element_id = getattr(exc, "id", "") or ""
    line = _line(exc) or _sourceline(tree, f"//*[@id='{element_id}']") if element_id else None
    found = re.search(r"found two items.*\((.*?)\)", message)
    if found:
        flow_line = _sourceline(tree, f"//*[local-name()='sequenceFlow'][@targetRef='{found[1]}']")
        message = f"顺序流指向不存在的元素 {found[1]}（从 {element_id} 出发）"
        line = flow_line or line
    where = f"元素 {element_id}" if element_id else None
    return BpmnError(f"流程结构错误：{message}", file=str(path), where=where, line=line)


def _sourceline(tree: Any, xpath: str) -> int | None:
    """The line of the first element matching ``xpath``, if any."""
    try:
        found = tree.xpath(xpath)
    except etree.XPathError:
        return None
    return found[0].sourceline if found else None


def _line(exc: ValidationException) -> int | None:
    """The line number a ValidationException carries, if any."""
    line = str(getattr(exc, "line_number", ""))
    return int(line) if line.isdigit() else None


def _check_expressions(tree: Any, path: Path) -> None:
    """Check every condition, timer and script text before anything can run it."""
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str) or etree.QName(tag).localname not in EXPRESSION_TAGS:
            continue
        text = (element.text or "").strip()
        if not text:
            continue
        try:
            check_script(text)
        except SyntaxError as exc:
            raise BpmnError(f"表达式语法错误：{text!r}（{exc.msg}）", file=str(path),
                            line=element.sourceline) from exc
        except ScriptSecurityError as exc:
            raise ScriptSecurityError(f"{path}: line {element.sourceline}: {exc}") from exc


_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
# Our own registry (not SpiffWorkflow's global config): dates in task data survive too.
_SERIALIZER.registry.register(date, lambda v: {"value": v.isoformat()},
                              lambda v: date.fromisoformat(v["value"]))
_SPEC_KEYS = ("spec", "subprocess_specs")


def new_workflow(parsed: ParsedProcess, data: dict[str, Any]) -> BpmnWorkflow:
    """Start a workflow with ``data`` on its start task and run it to the first human tasks."""
    return _start(parsed.spec, parsed.subprocess_specs, parsed.process_id, data)


def start_from_spec(spec_json: str, process_id: str, data: dict[str, Any]) -> BpmnWorkflow:
    """Start a workflow of a stored process version (``spec_to_json``), restored once."""
    spec, subprocess_specs = _restored_specs(spec_json)
    return _start(spec, subprocess_specs, process_id, data)


def _start(spec: Any, subprocess_specs: dict[str, Any], process_id: str,
           data: dict[str, Any]) -> BpmnWorkflow:
    missing = [key for key in REQUIRED_DATA if key not in data]
    if missing:
        raise ValidationError(f"启动流程 {process_id} 缺少数据：{', '.join(missing)}")
    if not isinstance(data["supporting_units"], dict):
        raise ValidationError("supporting_units 必须是“单位编号 -> 名称”的字典")
    _check_instant(data["due_at"])
    _check_keys(data)
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=SafeScriptEngine())
    wf.task_tree.set_data(**data)
    wf.do_engine_steps()
    return wf


def _to_dict(obj: Any) -> Any:
    """Convert to plain JSON types (not the serializer's encoder mode: its flag is shared state)."""
    return _SERIALIZER.registry.convert(obj)


def _dumps(obj: Any) -> str:
    """Compact JSON text; the encoder converts what the registry left (task data deltas)."""
    return json.dumps(obj, cls=_SERIALIZER._encoder_cls, ensure_ascii=False,
                      separators=(",", ":"))


def _workflow_converter() -> Any:
    """The serializer's BpmnWorkflow converter (to convert and restore without the spec)."""
    restore = _SERIALIZER.registry.convert_from_dict["BpmnWorkflow"]
    return restore.args[0].__self__


_CONVERTER = _workflow_converter()


def serialize(wf: BpmnWorkflow) -> str:
    """The workflow state as JSON text, without its process spec (stored once per version)."""
    dct = WorkflowConverter.to_dict(_CONVERTER, wf)
    dct["subprocesses"] = _CONVERTER.mapping_to_dict(wf.subprocesses)
    dct["bpmn_events"] = _SERIALIZER.registry.convert(wf.bpmn_events)
    dct["typename"] = "BpmnWorkflow"
    dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    return _dumps(dct)


def spec_to_json(parsed: ParsedProcess) -> str:
    """The process spec (and its subprocess specs) as JSON text, for ``deserialize``."""
    subprocess_specs = {name: _to_dict(s) for name, s in parsed.subprocess_specs.items()}
    return _dumps({"spec": _to_dict(parsed.spec), "subprocess_specs": subprocess_specs})


def deserialize(state: str, spec_json: str) -> BpmnWorkflow:
    """Restore a workflow from ``serialize`` output and its spec; the safe engine is set again."""
    dct = json.loads(state)
    if dct.get(_SERIALIZER.VERSION_KEY) != _SERIALIZER.VERSION:
        specs = json.loads(spec_json)
        for key in _SPEC_KEYS:
            dct[key] = specs[key]
        _SERIALIZER.migrate(dct)
        wf = _SERIALIZER.from_dict(dct)
    else:
        wf = _restore(dct, *_restored_specs(spec_json))
    wf.script_engine = SafeScriptEngine()
    return wf


@functools.lru_cache(maxsize=64)
def _restored_specs(spec_json: str) -> tuple[Any, dict[str, Any]]:
    """Spec objects are read-only definitions: restore each version once and share it."""
    specs = json.loads(spec_json)
    return (_SERIALIZER.registry.restore(specs["spec"]),
            _CONVERTER.mapping_from_dict(specs["subprocess_specs"]))


def _restore(dct: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """BpmnWorkflowConverter.from_dict, given spec objects instead of their dicts."""
    wf = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
    wf.tasks = _CONVERTER.mapping_from_dict(dct["tasks"], UUID, workflow=wf)
    wf.task_tree = wf.tasks.get(UUID(dct["root"]))
    _CONVERTER.set_default_attributes(wf, dct)
    _CONVERTER.subprocesses_from_dict(dct["subprocesses"], wf)
    wf.bpmn_events = _SERIALIZER.registry.restore(dct.pop("bpmn_events", []))
    return wf



@dataclass(frozen=True)
class HumanTask:
    """A READY user task: who acts (lane key, unit for a contribution) and what it is called."""

    task: Task
    lane: str
    unit: str | None
    title: str

    @property
    def id(self) -> str:
        """The task id as text."""
        return str(self.task.id)

    @property
    def spec_id(self) -> str:
        """The BPMN element id (``submit``, ``review``, ``contribute``)."""
        return str(self.task.task_spec.bpmn_id)


def ready_human_tasks(wf: BpmnWorkflow) -> list[HumanTask]:
    """Every READY user task with its lane key, unit (contributions) and title."""
    result = []
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        lane = LANE_KEYS.get(spec.lane or "")
        if lane is None:
            raise BpmnError(f"用户任务 {spec.bpmn_id} 不在已知泳道中（{spec.lane}）")
        unit = task.internal_data.get("key_or_index") if spec.name == CONTRIBUTE_CHILD else None
        title = spec.bpmn_name or spec.bpmn_id
        result.append(HumanTask(task, lane, None if unit is None else str(unit), title))
    return result


def contributions(wf: BpmnWorkflow) -> dict[str, Any]:
    """The contributions handed in so far, by unit id (the ``contribute`` branch never joins)."""
    return {str(task.internal_data["key_or_index"]): task.data.get("contribution")
            for task in wf.tasks.values()
            if task.task_spec.name == CONTRIBUTE_CHILD and task.state == TaskState.COMPLETED}


def complete(wf: BpmnWorkflow, task_id: str | UUID, data: dict[str, Any]) -> list[str]:
    """Complete a READY user task with ``data`` and run on; returns escalation codes raised."""
    try:
        task = wf.get_task_from_id(task_id if isinstance(task_id, UUID) else UUID(str(task_id)))
    except (ValueError, TaskNotFoundException):
        task = None
    if task is None or not task.task_spec.manual:
        raise NotFoundError(f"流程中没有这个待办任务：{task_id}")
    _check_keys(data)
    wf.refresh_timers()     # a deadline that passed before this action fires first
    wf.do_engine_steps()
    if task.state != TaskState.READY:
        state = TaskState.get_name(task.state)
        raise StateError(f"任务 {task.task_spec.bpmn_name} 当前不能办理（{state}）")
    task.set_data(**data)
    task.run()
    wf.refresh_timers()
    wf.do_engine_steps()
    return _escalations(wf)


def fire_timers(wf: BpmnWorkflow) -> list[str]:
    """Fire due timers and run on; returns the escalation codes raised (e.g. ``overdue``)."""
    wf.refresh_timers()
    wf.do_engine_steps()
    return _escalations(wf)


def _escalations(wf: BpmnWorkflow) -> list[str]:
    """Escalation codes thrown since the last call, each once per deadline value.

    The finished throw tasks are the record (uncaught events carry no payload, so the queue
    of ``get_events`` is only drained). A return after the deadline re-arms the boundary timer,
    which fires again at once: the same lateness, not reported twice; an extension's new
    ``due_at`` is a new deadline and is reported.
    """
    wf.get_events()
    seen: list[str] = wf.data.setdefault(ESCALATED_KEY, [])
    codes = []
    for task in wf.tasks.values():
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, EscalationEventDefinition) or \
                task.state != TaskState.COMPLETED:
            continue
        key = f"{definition.code}@{task.data.get('due_at')}"
        if key not in seen:
            seen.append(key)
            codes.append(str(definition.code))
    return codes


def _pending_timers(wf: BpmnWorkflow) -> list[Task]:
    """Timer event tasks still waiting."""
    return [task for task in wf.event_manager.tasks.values()
            if isinstance(task.task_spec.event_definition, TimerEventDefinition)
            and task.state == TaskState.WAITING]


def next_timer_at(wf: BpmnWorkflow) -> datetime | None:
    """The earliest instant a pending timer of this workflow is due, or None."""
    instants = []
    for task in _pending_timers(wf):
        value = task._get_internal_data("event_value")
        if isinstance(value, str):
            instants.append(TimerEventDefinition.get_datetime(value))
    return min(instants, default=None)


def reset_deadline(wf: BpmnWorkflow, due_at_iso: str) -> None:
    """Move the deadline (an approved extension): new ``due_at`` in the data, timer re-armed."""
    _check_instant(due_at_iso)
    for task in wf.tasks.values():
        if task.has_state(TaskState.NOT_FINISHED_MASK) and "due_at" in task.data:
            task.data["due_at"] = due_at_iso
    for task in _pending_timers(wf):
        if isinstance(task.task_spec.event_definition, TimeDateEventDefinition):
            # TimeDateEventDefinition.has_fired keeps the evaluated expression here.
            task.internal_data["event_value"] = due_at_iso
            task.internal_data.pop("event_fired", None)
            if task.parent is not None and "due_at" in task.parent.data:
                # a waiting task merges its parent's data again when it becomes READY
                task.parent.data["due_at"] = due_at_iso
    wf.refresh_timers()


def is_closed(wf: BpmnWorkflow) -> bool:
    """True when the workflow ended through the ``closed`` (办结销号) end event."""
    return bool(wf.is_completed()) and any(
        task.task_spec.bpmn_id == "closed" and task.state == TaskState.COMPLETED
        for task in wf.tasks.values())


def _check_instant(value: Any) -> None:
    """``value`` must be ISO 8601 text with a UTC offset."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError(f"时限必须是带时区的 ISO 时间（如 {FAR_FUTURE}）：{value!r}")


def _check_keys(data: dict[str, Any]) -> None:
    """Task data keys must be plain identifiers that do not start with ``_``."""
    bad = [key for key in data if not isinstance(key, str) or not key.isidentifier()
           or key.startswith("_")]
    if bad:
        raise ValidationError(f"任务数据的键不合法：{bad}")


def element_states(state: str, bpmn_xml: str) -> tuple[list[str], list[str]]:
    """(completed, current) BPMN element ids of a stored state, for drawing the diagram."""
    ids = set(re.findall(r'\bid="([^"]+)"', bpmn_xml))
    dct = json.loads(state)
    tasks: list[dict[str, Any]] = list(dct.get("tasks", {}).values())
    for sub in (dct.get("subprocesses") or {}).values():
        tasks.extend((sub.get("tasks") or {}).values())
    completed = {t["task_spec"] for t in tasks
                 if t.get("task_spec") in ids and t.get("state") == TaskState.COMPLETED}
    current = {t["task_spec"] for t in tasks if t.get("task_spec") in ids
               and t.get("state") in (TaskState.READY, TaskState.STARTED)}
    return sorted(completed - current), sorted(current)
