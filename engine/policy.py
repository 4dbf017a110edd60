"""The policy YAML (workflows/<policy>.yaml) -> frozen, validated dataclasses.

Loading is pure: it reads the YAML and the BPMN files next to it (only to check that each task's
process id is there) and touches no database and no clock. Every problem is a ``PolicyError``
whose message names the file, the line where known, the task and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine.deadlines import Cycle, DeadlineRule, RuleContext, parse_deadline
from engine.errors import DubanError, NotFoundError
from engine.policy_yaml import Section, read_yaml

if TYPE_CHECKING:
    from engine.workdays import WorkCalendar

UNIT_KINDS = ("city", "department", "other")  # mirrors engine.models.UnitKind
TARGET_PERIODS = ("year", "selection", "total")
TARGET_KINDS = ("count", "amount")  # whole things counted, or a quantity that may have decimals
# Measure words of things counted one by one (户, 个, 家 …): a count of them is a whole number.
COUNT_WORDS = "户个家名人项所条件次座只批场期位款套台篇部支"
# Units that are quantities even when they end in a measure word (1.5万户, 2.5亿元, 12.5%).
AMOUNT_MARKS = ("元", "%", "％", "‰", "万", "亿", "千", "百", "吨", "米", "亩", "公里", "小时")
REPORTING_KINDS = ("yearly", "quarterly", "monthly", "half_yearly")
MORE_MARK = "等"  # a cell ending in 等 means "and others"
_CELL_SEPARATORS = re.compile(r"[、，,；;]")
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,39}")
_PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")

POLICY_FIELDS = {"id": "政策编号", "title": "标题", "issuer": "发文机关", "issued_on": "发布日期",
                 "horizon_year": "目标年份", "selection_years": "评选年份",
                 "supervisor": "督查单位", "doc_office": "发文字号代字", "units": "单位",
                 "groups": "单位组", "tasks": "任务分解表", "reporting": "进展报送要求"}
UNIT_FIELDS = {"kind": "类别", "names": "名称", "aliases": "别名"}
NAME_FIELDS = {"name": "全称", "short_name": "简称", "valid_from": "启用日期",
               "valid_to": "停用日期"}
TASK_FIELDS = {"number": "序号", "title": "任务名称", "text": "工作任务", "lead": "牵头单位",
               "supporting": "配合单位", "deadline": "时限要求", "targets": "目标",
               "process_id": "流程编号", "bpmn": "流程文件", "supervisor": "督查单位"}
TARGET_FIELDS = {"key": "键", "label": "名称", "amount": "数量", "unit": "计量单位",
                 "per": "周期", "kind": "类型"}


@dataclass(frozen=True)
class UnitName:
    """One name of a unit, valid from ``valid_from`` to ``valid_to`` (exclusive); None: open."""

    name: str
    short_name: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        """Whether this name was the unit's name on ``day``."""
        return ((self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or day < self.valid_to))


@dataclass(frozen=True)
class UnitDef:
    """A unit with a stable id and its names over time (contiguous, oldest first)."""

    id: str
    kind: str
    names: tuple[UnitName, ...]
    aliases: tuple[str, ...] = ()

    def entry_on(self, day: date) -> UnitName:
        """The name entry valid on ``day``: the first before any range, the last after all."""
        for entry in self.names:
            if entry.valid_on(day):
                return entry
        first = self.names[0]
        return first if first.valid_from is not None and day < first.valid_from else self.names[-1]

    def name_on(self, day: date) -> str:
        """The full name valid on ``day``."""
        return self.entry_on(day).name

    def short_name_on(self, day: date) -> str:
        """The short name (for tables) valid on ``day``; the full name when there is none."""
        entry = self.entry_on(day)
        return entry.short_name or entry.name

    def all_names(self) -> tuple[str, ...]:
        """Every name, short name and alias this unit was ever known by."""
        found: list[str] = []
        for entry in self.names:
            found += [entry.name] + ([entry.short_name] if entry.short_name else [])
        return tuple(dict.fromkeys(found + list(self.aliases)))


@dataclass(frozen=True)
class Target:
    """A number the task must reach: ``amount`` ``unit`` per year, per selection or in total.

    ``kind`` is "count" (whole numbers: 户, 个, 家 …) or "amount" (decimals: 万元, %); left empty
    it follows the unit (``target_kind``).
    """

    key: str
    label: str
    amount: int
    unit: str
    per: str
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.kind:  # frozen: set the derived default once, here
            object.__setattr__(self, "kind", target_kind(self.unit))


def target_kind(unit: str) -> str:
    """"count" when ``unit`` is a measure word of things counted one by one, else "amount"."""
    unit = unit.strip()
    if any(mark in unit for mark in AMOUNT_MARKS):
        return "amount"
    return "count" if unit and unit[-1] in COUNT_WORDS else "amount"


def kind_of(target: Mapping[str, Any]) -> str:
    """The kind of a target stored as a dict (older rows carry no ``kind``: derive it)."""
    kind = target.get("kind")
    return kind if kind in TARGET_KINDS else target_kind(str(target.get("unit", "")))


@dataclass(frozen=True)
class TaskDef:
    """One row of the decomposition table."""

    number: int
    title: str
    text: str
    lead_as_written: str
    supporting_as_written: str
    lead_units: tuple[str, ...]
    supporting_units: tuple[str, ...]
    more_units: bool
    deadline: str
    rule: DeadlineRule
    targets: tuple[Target, ...]
    process_id: str
    bpmn_file: Path
    supervisor: str

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """The task's periods with their due dates under ``ctx``."""
        return self.rule.cycles(ctx)


@dataclass(frozen=True)
class PolicyDef:
    """A policy: its units, groups and tasks, as loaded from one YAML file."""

    id: str
    title: str
    issuer: str
    issued_on: date
    doc_office: str
    supervisor: str
    horizon_year: int
    selection_years: tuple[int, ...]
    units: Mapping[str, UnitDef]
    groups: Mapping[str, tuple[str, ...]]
    tasks: tuple[TaskDef, ...]
    source: Path
    digest: str
    reporting: str | None = None  # 进展报送: "每季度末月25日前" (a recurring deadline phrase)

    def context(self, calendar: WorkCalendar | None = None) -> RuleContext:
        """The rule context of this policy (start, horizon, selection years)."""
        return RuleContext(start=self.issued_on, horizon_year=self.horizon_year,
                           selection_years=self.selection_years, calendar=calendar)

    def resolve(self, name: str, on: date | None = None) -> str:
        """The unit id for any id, name, short name or alias; ``on`` prefers names of that day."""
        name = name.strip()
        if name in self.units:
            return name
        found = [u for u in self.units.values() if name in u.all_names()]
        if on is not None and len(found) > 1:
            found = [u for u in found if any(
                n.valid_on(on) and name in (n.name, n.short_name) for n in u.names)] or found
        if not found:
            raise NotFoundError(f"未知单位“{name}”")
        return found[0].id

    def members(self, name: str) -> tuple[str, ...]:
        """The unit ids a table name stands for: a group's members, or the one unit."""
        name = name.strip()
        if name in self.groups:
            return self.groups[name]
        return (self.resolve(name),)

    def task(self, number: int) -> TaskDef:
        """The task with this number."""
        for task in self.tasks:
            if task.number == number:
                return task
        raise NotFoundError(f"政策中没有任务{number}")


def load_policy(path: Path) -> PolicyDef:
    """Read and validate a policy YAML file; raises PolicyError naming file, task and field."""
    path = Path(path)
    data, digest = read_yaml(path)
    top = Section(data, path.name, "", POLICY_FIELDS)
    top.check_keys()
    issued_on = top.day("issued_on")
    horizon = top.integer("horizon_year", minimum=issued_on.year)
    selection = _selection_years(top, issued_on.year, horizon)
    units = _units(top.section_map("units", "单位", UNIT_FIELDS))
    shell = PolicyDef(
        id=top.slug("id", re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")), title=top.text("title"),
        issuer=top.text("issuer"), issued_on=issued_on, doc_office=top.text("doc_office"),
        supervisor=top.unit_id("supervisor", units), horizon_year=horizon,
        selection_years=selection, units=MappingProxyType(units), groups={}, tasks=(),
        source=path.resolve(), digest=digest, reporting=_reporting(top))
    _check_names_unique(top, units)
    shell = replace(shell, groups=MappingProxyType(_groups(top, units)))
    return replace(shell, tasks=_tasks(top, shell))


def _reporting(top: Section) -> str | None:
    """The progress-report rule, checked: a recurring deadline phrase."""
    phrase = top.opt_text("reporting")
    if phrase is None:
        return None
    try:
        rule = parse_deadline(phrase)
    except DubanError as exc:
        raise top.error(f"进展报送要求“{phrase}”无法识别：{_bare(exc)}", "reporting") from None
    if rule.kind not in REPORTING_KINDS:
        raise top.error(f"进展报送要求“{phrase}”应为周期性时限（如 每季度末月25日前、每月23日前）",
                        "reporting")
    return phrase


def _selection_years(top: Section, first: int, last: int) -> tuple[int, ...]:
    """The configured selection years, ascending, each within [issue year, horizon]."""
    years = top.int_list("selection_years", required=False)
    for year in years:
        if not first <= year <= last:
            raise top.error(f"评选年份 {year} 不在 {first}–{last} 之内", "selection_years")
    if list(years) != sorted(set(years)):
        raise top.error("评选年份须升序且不重复", "selection_years")
    return years


def _units(units: dict[str, Section]) -> dict[str, UnitDef]:
    """Every unit, its kind, names over time and aliases."""
    result: dict[str, UnitDef] = {}
    for uid, sec in units.items():
        if not _SLUG.fullmatch(uid):
            raise sec.error(f"单位编号“{uid}”须为小写字母开头的 ASCII 标识（最长40字符）")
        sec.check_keys()
        kind = sec.text("kind")
        if kind not in UNIT_KINDS:
            raise sec.error(f"未知类别“{kind}”（可选：{'、'.join(UNIT_KINDS)}）", "kind")
        names = tuple(_unit_name(n) for n in sec.section_list("names", "名称", NAME_FIELDS))
        if not names:
            raise sec.error("至少要有一个名称", "names")
        _check_ranges(sec, names)
        aliases = sec.text_list("aliases", required=False)
        result[uid] = UnitDef(id=uid, kind=kind, names=names, aliases=aliases)
    return result


def _unit_name(sec: Section) -> UnitName:
    """One entry of a unit's ``names`` list."""
    sec.check_keys()
    return UnitName(name=sec.text("name"), short_name=sec.opt_text("short_name"),
                    valid_from=sec.opt_day("valid_from"), valid_to=sec.opt_day("valid_to"))


def _check_ranges(sec: Section, names: tuple[UnitName, ...]) -> None:
    """Names must follow each other without gap or overlap: each ends where the next starts."""
    for entry in names:
        if entry.valid_from and entry.valid_to and entry.valid_from >= entry.valid_to:
            raise sec.error(f"名称“{entry.name}”的启用日期不早于停用日期", "names")
    for older, newer in zip(names, names[1:], strict=False):
        if older.valid_to is None or older.valid_to != newer.valid_from:
            raise sec.error(f"名称“{older.name}”的停用日期须等于“{newer.name}”的启用日期",
                            "names")


def _check_names_unique(top: Section, units: Mapping[str, UnitDef]) -> None:
    """No name or alias may stand for two units."""
    owner: dict[str, str] = {}
    for unit in units.values():
        for name in unit.all_names():
            if owner.setdefault(name, unit.id) != unit.id:
                raise top.error(f"名称“{name}”同时属于单位 {owner[name]} 和 {unit.id}", "units")


def _groups(top: Section, units: Mapping[str, UnitDef]) -> dict[str, tuple[str, ...]]:
    """Group names (各市人民政府) and their member unit ids."""
    raw = top.plain_map("groups", required=False)
    sec = Section(raw, top.file, POLICY_FIELDS["groups"], {str(k): str(k) for k in raw})
    all_names = {n for u in units.values() for n in u.all_names()}
    groups: dict[str, tuple[str, ...]] = {}
    for name in map(str, raw):
        members = sec.text_list(name)
        unknown = [m for m in members if m not in units]
        if unknown:
            raise sec.error(f"含未知单位编号“{unknown[0]}”", name)
        if not members or len(set(members)) != len(members):
            raise sec.error("须列出不重复的成员", name)
        if name in all_names or name in units:
            raise sec.error("组名与单位名称重复", name)
        groups[name] = members
    return groups


def _tasks(top: Section, policy: PolicyDef) -> tuple[TaskDef, ...]:
    """Every task, validated against the units, the deadline rules and the BPMN files."""
    tasks: list[TaskDef] = []
    for index, sec in enumerate(top.section_list("tasks", "任务分解表", TASK_FIELDS), start=1):
        sec.prefix = f"第{index}个任务"
        number = sec.integer("number", minimum=1)
        sec.prefix = f"任务{number}"
        if any(t.number == number for t in tasks):
            raise sec.error(f"序号 {number} 重复", "number")
        tasks.append(_task(sec, number, policy, tasks))
    if not tasks:
        raise top.error("至少要有一个任务", "tasks")
    return tuple(sorted(tasks, key=lambda t: t.number))


def _task(sec: Section, number: int, policy: PolicyDef, done: list[TaskDef]) -> TaskDef:
    """One task row."""
    sec.check_keys()
    lead, _ = _cell(sec, "lead", policy)
    supporting, more = _cell(sec, "supporting", policy)
    if not lead:
        raise sec.error("至少要有一个牵头单位", "lead")
    both = [u for u in lead if u in supporting]
    if both:
        raise sec.error(f"单位 {both[0]} 同时是牵头单位和配合单位", "supporting")
    process_id = sec.slug("process_id", _PROCESS_ID)
    if any(t.process_id == process_id for t in done):
        raise sec.error(f"流程编号“{process_id}”已被其他任务使用", "process_id")
    deadline = sec.text("deadline", max_len=100)
    supervisor = sec.unit_id("supervisor", policy.units, default=policy.supervisor)
    return TaskDef(
        number=number, title=sec.text("title", max_len=200), text=sec.text("text"),
        lead_as_written=sec.text("lead"), supporting_as_written=sec.text("supporting", empty=True),
        lead_units=lead, supporting_units=supporting, more_units=more, deadline=deadline,
        rule=_rule(sec, deadline, policy), targets=_targets(sec, policy),
        process_id=process_id, bpmn_file=_bpmn_file(sec, policy.source.parent, process_id),
        supervisor=supervisor)


def _cell(sec: Section, key: str, policy: PolicyDef) -> tuple[tuple[str, ...], bool]:
    """A unit cell as written -> unit ids (groups expanded) and whether it ended in 等."""
    cell = sec.text(key, empty=True)
    more = cell.endswith(MORE_MARK)
    parts = [p.strip() for p in _CELL_SEPARATORS.split(cell.removesuffix(MORE_MARK))]
    if parts == [""]:
        return (), more
    ids: list[str] = []
    for part in parts:
        if not part:
            raise sec.error("单位名称为空（多余的分隔符）", key)
        try:
            members = policy.members(part)
        except NotFoundError as exc:
            raise sec.error(str(exc), key) from None
        repeated = [m for m in members if m in ids]
        if repeated:
            raise sec.error(f"单位“{policy.units[repeated[0]].name_on(policy.issued_on)}”重复",
                            key)
        ids += members
    return tuple(ids), more


def _rule(sec: Section, phrase: str, policy: PolicyDef) -> DeadlineRule:
    """Parse the deadline phrase and check that its cycles fit the policy."""
    try:
        rule = parse_deadline(phrase)
        cycles = rule.cycles(policy.context())
    except DubanError as exc:
        raise sec.error(_bare(exc), "deadline") from None
    if not cycles:
        raise sec.error(f"时限“{phrase}”在 {policy.horizon_year} 年之前没有任何周期", "deadline")
    early = [c for c in cycles if c.due_date is not None and c.due_date < policy.issued_on]
    if early:
        raise sec.error(f"时限“{phrase}”的截止日期 {early[0].due_date} 早于发布日期", "deadline")
    return rule


def _bare(exc: DubanError) -> str:
    """An error's own message, without the file and place another loader may have prefixed."""
    args = exc.args
    text = str(args[0]) if args else str(exc)
    where = getattr(exc, "where", None)
    return text.rsplit(f"{where}: ", 1)[-1] if where else text


def _targets(sec: Section, policy: PolicyDef) -> tuple[Target, ...]:
    """The task's numeric targets."""
    targets: list[Target] = []
    for tsec in sec.section_list("targets", "目标", TARGET_FIELDS, required=False):
        tsec.check_keys()
        key = tsec.slug("key", _SLUG)
        if any(t.key == key for t in targets):
            raise tsec.error(f"目标键“{key}”重复", "key")
        per = tsec.text("per")
        if per not in TARGET_PERIODS:
            raise tsec.error(f"未知周期“{per}”（可选：{'、'.join(TARGET_PERIODS)}）", "per")
        if per == "selection" and not policy.selection_years:
            raise tsec.error("按评选计的目标需要配置评选年份（selection_years）", "per")
        unit = tsec.text("unit")
        kind = tsec.opt_text("kind") or target_kind(unit)
        if kind not in TARGET_KINDS:
            raise tsec.error(f"未知类型“{kind}”（可选：count 计数、amount 数量）", "kind")
        targets.append(Target(key=key, label=tsec.text("label"),
                              amount=tsec.integer("amount", minimum=1), unit=unit, per=per,
                              kind=kind))
    return tuple(targets)


def _bpmn_file(sec: Section, base: Path, process_id: str) -> Path:
    """The task's BPMN file next to the YAML; it must declare ``process_id`` (a text check)."""
    name = sec.text("bpmn")
    path = (base / name).resolve()
    if not path.is_file():
        raise sec.error(f"流程文件“{name}”不存在（应在 {base} 下）", "bpmn")
    try:
        xml = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise sec.error(f"无法读取流程文件“{name}”：{exc}", "bpmn") from None
    problem = _xml_problem(xml)
    if problem:
        raise sec.error(f"流程文件“{name}”不是有效的 XML：{problem}", "bpmn")
    pattern = rf"<(?:[\w.-]+:)?process\b[^>]*\bid\s*=\s*[\"']{re.escape(process_id)}[\"']"
    if not re.search(pattern, xml):
        raise sec.error(f"流程文件“{name}”中没有流程“{process_id}”", "bpmn")
    return path


def _xml_problem(xml: str) -> str | None:
    """Why ``xml`` is not well-formed XML (with its line), or None."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        return f"第 {exc.lineno} 行：{exc.msg}" if exc.lineno else str(exc.msg)
    return None
