"""The one process pattern every task runs, written as BPMN 2.0 XML with its diagram (DI).

The pattern and its element ids are fixed in docs/architecture.md ("engine/bpmn.py and the
process pattern"); only names change between tasks. The bundled policy's files
(workflows/task_01.bpmn …) are written from it by scripts/gen_workflows.py; an imported policy's
processes are rendered from it at import and stored as process versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")  # an NCName BPMN accepts as an id


@dataclass(frozen=True)
class ProcessNames:
    """The task-specific names of one process."""

    process_id: str   # the BPMN process id (NCName), unique over all policies
    number: int
    title: str        # the process name after "任务N："
    submit: str       # what the lead unit reports
    contribute: str   # what each supporting unit provides


def names_for(process_id: str, number: int, title: str) -> ProcessNames:
    """Default names for an imported task: its title, 报送…落实情况, 配合…."""
    short = title.strip().rstrip("。；;，,")[:40] or f"任务{number}"
    return ProcessNames(process_id, number, short, f"报送“{short}”落实情况", "配合报送落实情况")


def process_id_for(policy_id: str, number: int) -> str:
    """A process id namespaced by its policy: ``p_<policy>_t<NNN>``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", policy_id)
    return f"p_{slug}_t{number:03d}"


# Names shared by every process (element id -> Chinese name).
COMMON_NAMES = {
    "start": "周期开始",
    "fork": "分头办理",
    "rework": "办理或重新报送",
    "contributed": "配合完成",
    "review": "督查审核",
    "approved": "审核通过？",
    "closed": "办结销号",
    "deadline": "办理时限届满",
    "overdue_escalation": "逾期升级",
    "escalated": "逾期已上报",
}

# Lanes: id, name, y, height (the pool is horizontal, lanes stacked top to bottom).
POOL_X, POOL_W, LANE_X = 100, 1080, 130
LANES = (
    ("lane_supporting", "配合单位", 60, 140, ("contribute", "contributed")),
    ("lane_lead", "牵头单位", 200, 240,
     ("start", "fork", "rework", "submit", "deadline", "overdue_escalation", "escalated")),
    ("lane_supervisor", "督查", 440, 140, ("review", "approved", "closed")),
)

# Shapes: id -> (center x, center y, width, height, label box or None).
TASK_W, TASK_H, EVENT, GATE = 120, 80, 36, 50
SHAPES: dict[str, tuple[int, int, int, int, tuple[int, int, int, int] | None]] = {
    "start": (190, 290, EVENT, EVENT, (162, 312, 56, 14)),
    "fork": (270, 290, GATE, GATE, (242, 320, 56, 14)),
    "rework": (360, 290, GATE, GATE, (318, 320, 84, 14)),
    "submit": (480, 290, TASK_W, TASK_H, None),
    "deadline": (510, 330, EVENT, EVENT, (420, 352, 80, 14)),
    "overdue_escalation": (600, 390, EVENT, EVENT, (572, 412, 56, 14)),
    "escalated": (720, 390, EVENT, EVENT, (685, 412, 70, 14)),
    "contribute": (480, 130, TASK_W, TASK_H, None),
    "contributed": (640, 130, EVENT, EVENT, (612, 152, 56, 14)),
    "review": (830, 510, TASK_W, TASK_H, None),
    "approved": (960, 510, GATE, GATE, (926, 542, 68, 14)),
    "closed": (1090, 510, EVENT, EVENT, (1062, 532, 56, 14)),
}

# Sequence flows: id, source, target, waypoints, name, label box.
FLOWS: tuple[tuple[str, str, str, tuple[tuple[int, int], ...], str | None,
                   tuple[int, int, int, int] | None], ...] = (
    ("flow_start", "start", "fork", ((208, 290), (245, 290)), None, None),
    ("flow_contribute", "fork", "contribute", ((270, 265), (270, 130), (420, 130)), None, None),
    ("flow_work", "fork", "rework", ((295, 290), (335, 290)), None, None),
    ("flow_submit", "rework", "submit", ((385, 290), (420, 290)), None, None),
    ("flow_contributed", "contribute", "contributed", ((540, 130), (622, 130)), None, None),
    ("flow_review", "submit", "review", ((540, 290), (830, 290), (830, 470)), None, None),
    ("flow_decide", "review", "approved", ((890, 510), (935, 510)), None, None),
    ("flow_approve", "approved", "closed", ((985, 510), (1072, 510)), "同意",
     (1015, 490, 24, 14)),
    ("returned", "approved", "rework", ((960, 485), (960, 220), (360, 220), (360, 265)),
     "退回", (966, 400, 24, 14)),
    ("flow_overdue", "deadline", "overdue_escalation", ((510, 348), (510, 390), (582, 390)),
     None, None),
    ("flow_escalated", "overdue_escalation", "escalated", ((618, 390), (702, 390)), None, None),
)


def _flows_of(node: str) -> str:
    """The incoming/outgoing references of a flow node."""
    refs = [f"<bpmn:incoming>{f[0]}</bpmn:incoming>" for f in FLOWS if f[2] == node]
    refs += [f"<bpmn:outgoing>{f[0]}</bpmn:outgoing>" for f in FLOWS if f[1] == node]
    return "".join(f"\n      {r}" for r in refs)


def _node(tag: str, node: str, names: dict[str, str], extra: str = "", attrs: str = "") -> str:
    """One flow node element."""
    body = _flows_of(node) + extra
    return (f'    <bpmn:{tag} id="{node}" name={quoteattr(names[node])}{attrs}>{body}\n'
            f"    </bpmn:{tag}>\n")


def _process(pid: str, names: dict[str, str]) -> str:
    """The bpmn:process element of one task."""
    lanes = "".join(
        f'      <bpmn:lane id="{lid}" name="{lname}">\n'
        + "".join(f"        <bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>\n" for n in nodes)
        + "      </bpmn:lane>\n"
        for lid, lname, _, _, nodes in LANES)
    mi = ("\n      <bpmn:multiInstanceLoopCharacteristics>"
          "\n        <bpmn:loopDataInputRef>supporting_units</bpmn:loopDataInputRef>"
          "\n        <bpmn:loopDataOutputRef>contributions</bpmn:loopDataOutputRef>"
          '\n        <bpmn:inputDataItem id="unit_name" name="unit_name" />'
          '\n        <bpmn:outputDataItem id="contribution" name="contribution" />'
          "\n      </bpmn:multiInstanceLoopCharacteristics>")
    timer = ('\n      <bpmn:timerEventDefinition id="deadline_timer">'
             '\n        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">due_at</bpmn:timeDate>'
             "\n      </bpmn:timerEventDefinition>")
    parts = [
        f'  <bpmn:process id="{pid}" name={quoteattr(names["process"])} isExecutable="true">\n',
        '    <bpmn:laneSet id="lanes">\n', lanes, "    </bpmn:laneSet>\n",
        '    <bpmn:dataObject id="supporting_units" name="配合单位清单" />\n',
        '    <bpmn:dataObject id="contributions" name="配合单位材料" />\n',
        _node("startEvent", "start", names),
        _node("parallelGateway", "fork", names),
        _node("exclusiveGateway", "rework", names),
        _node("userTask", "contribute", names, mi),
        _node("endEvent", "contributed", names),
        _node("userTask", "submit", names),
        _node("userTask", "review", names),
        _node("exclusiveGateway", "approved", names, attrs=' default="returned"'),
        _node("endEvent", "closed", names,
              '\n      <bpmn:terminateEventDefinition id="closed_terminate" />'),
        _node("boundaryEvent", "deadline", names, timer,
              ' attachedToRef="submit" cancelActivity="false"'),
        _node("intermediateThrowEvent", "overdue_escalation", names,
              '\n      <bpmn:escalationEventDefinition id="overdue_escalation_def"'
              ' escalationRef="escalation_overdue" />'),
        _node("endEvent", "escalated", names),
    ]
    for fid, src, dst, _, fname, _ in FLOWS:
        name = f" name={quoteattr(fname)}" if fname else ""
        if fid == "flow_approve":
            parts.append(f'    <bpmn:sequenceFlow id="{fid}"{name} sourceRef="{src}" '
                         f'targetRef="{dst}">\n      <bpmn:conditionExpression '
                         f'xsi:type="bpmn:tFormalExpression">{escape(APPROVE)}'
                         "</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n")
        else:
            parts.append(f'    <bpmn:sequenceFlow id="{fid}"{name} sourceRef="{src}" '
                         f'targetRef="{dst}" />\n')
    parts.append("  </bpmn:process>\n")
    return "".join(parts)


APPROVE = 'decision == "approve"'


def _bounds(x: int, y: int, w: int, h: int) -> str:
    """A dc:Bounds element."""
    return f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />'


def _label(box: tuple[int, int, int, int] | None) -> str:
    """A bpmndi:BPMNLabel with explicit bounds, or nothing."""
    return f"\n        <bpmndi:BPMNLabel>{_bounds(*box)}</bpmndi:BPMNLabel>" if box else ""


def _diagram(pid: str) -> str:
    """The BPMNDiagram: pool, lanes, shapes and edges with waypoints."""
    pool_h = sum(lane[3] for lane in LANES)
    out = [f'  <bpmndi:BPMNDiagram id="diagram_{pid}">\n',
           f'    <bpmndi:BPMNPlane id="plane_{pid}" bpmnElement="collaboration_{pid}">\n',
           f'      <bpmndi:BPMNShape id="participant_{pid}_di" bpmnElement="participant_{pid}"'
           f' isHorizontal="true">\n        {_bounds(POOL_X, LANES[0][2], POOL_W, pool_h)}\n'
           "      </bpmndi:BPMNShape>\n"]
    for lid, _, y, h, _ in LANES:
        out.append(f'      <bpmndi:BPMNShape id="{lid}_di" bpmnElement="{lid}" isHorizontal="true">'
                   f"\n        {_bounds(LANE_X, y, POOL_X + POOL_W - LANE_X, h)}\n"
                   "      </bpmndi:BPMNShape>\n")
    for node, (cx, cy, w, h, label) in SHAPES.items():
        marker = ' isMarkerVisible="true"' if node in ("approved", "rework") else ""
        out.append(f'      <bpmndi:BPMNShape id="{node}_di" bpmnElement="{node}"{marker}>'
                   f"\n        {_bounds(cx - w // 2, cy - h // 2, w, h)}{_label(label)}\n"
                   "      </bpmndi:BPMNShape>\n")
    for fid, _, _, points, _, label in FLOWS:
        wps = "".join(f'\n        <di:waypoint x="{x}" y="{y}" />' for x, y in points)
        out.append(f'      <bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">{wps}'
                   f"{_label(label)}\n      </bpmndi:BPMNEdge>\n")
    out.append("    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n")
    return "".join(out)


def render(task: ProcessNames) -> str:
    """The complete BPMN XML text of one task's process."""
    pid = task.process_id
    names = dict(COMMON_NAMES, process=f"任务{task.number}：{task.title}",
                 submit=task.submit, contribute=task.contribute)
    return "".join([
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
        ' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"'
        ' xmlns:di="http://www.omg.org/spec/DD/20100524/DI"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' id="definitions_{pid}" targetNamespace="https://duban.example/bpmn"'
        ' exporter="duban engine.pattern" exporterVersion="1">\n',
        '  <bpmn:escalation id="escalation_overdue" name="逾期升级" escalationCode="overdue" />\n',
        f'  <bpmn:collaboration id="collaboration_{pid}">\n'
        f'    <bpmn:participant id="participant_{pid}" name={quoteattr(names["process"])}'
        f' processRef="{pid}" />\n  </bpmn:collaboration>\n',
        _process(pid, names),
        _diagram(pid),
        "</bpmn:definitions>\n",
    ])
