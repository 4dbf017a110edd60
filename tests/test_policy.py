"""engine.policy: the seed policy loads as the table says; every kind of bad input is refused."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from engine.config import DEFAULT_POLICY, WORKFLOWS_DIR
from engine.errors import NotFoundError, PolicyError
from engine.policy import PolicyDef, load_policy

CITIES = ("hefei", "wuhu", "bengbu", "huainan", "maanshan", "huaibei", "tongling", "anqing",
          "huangshan", "fuyang", "suzhou", "chuzhou", "luan", "xuancheng", "chizhou", "bozhou")
SEED_TEXT = DEFAULT_POLICY.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed() -> PolicyDef:
    return load_policy(DEFAULT_POLICY)


def write_policy(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    """Write a policy text next to copies of the real BPMN files."""
    for bpmn in WORKFLOWS_DIR.glob("task_*.bpmn"):
        shutil.copy(bpmn, tmp_path / bpmn.name)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str, count: int = 1) -> str:
    """The seed text with ``old`` (which must be there) replaced by ``new``."""
    assert old in SEED_TEXT, old
    return SEED_TEXT.replace(old, new, count)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line number where ``fragment`` first appears in ``text``."""
    return text[:text.index(fragment)].count("\n") + 1


def test_seed_has_the_eight_tasks_of_the_table(seed: PolicyDef) -> None:
    assert [t.number for t in seed.tasks] == list(range(1, 9))
    assert seed.id == "anhui-2018-zjtx"
    assert seed.issuer == "安徽省人民政府"
    assert seed.issued_on == date(2018, 5, 30)
    assert (seed.horizon_year, seed.selection_years) == (2020, (2018, 2020))
    assert (seed.supervisor, seed.doc_office) == ("dcs", "皖政督")
    assert [t.process_id for t in seed.tasks] == [f"task_{n:02d}" for n in range(1, 9)]
    assert all(t.bpmn_file.is_file() and t.supervisor == "dcs" for t in seed.tasks)
    assert seed.digest == hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest()


def test_group_expands_to_the_sixteen_cities(seed: PolicyDef) -> None:
    task1 = seed.task(1)
    assert task1.lead_units == CITIES
    assert all(seed.units[u].kind == "city" for u in task1.lead_units)
    assert task1.lead_as_written == "各市人民政府"
    assert (task1.supporting_units, task1.more_units) == (("jxw",), True)
    assert task1.supporting_as_written == "省经济和信息化委等"


def test_supporting_cells_resolve_aliases(seed: PolicyDef) -> None:
    assert seed.task(2).supporting_units == CITIES + ("czt",)
    assert seed.task(3).supporting_units == ("rst", "tsw")
    assert seed.task(5).lead_units == ("rst",)
    assert seed.task(6).lead_units == ("ahtz", "jxw")
    assert seed.task(7).supporting_units == ("jrb", "czt", "pbc")
    assert seed.task(8).supporting_units == ("tjj",)


def test_targets_as_numbers(seed: PolicyDef) -> None:
    got = {t.number: [(x.key, x.amount, x.unit, x.per) for x in t.targets] for t in seed.tasks}
    assert got[2] == [("pooled", 1000, "户", "year"), ("certified", 500, "户", "year")]
    assert got[3] == [("bases", 30, "个", "year")]
    assert got[4] == [("platforms", 200, "家", "total")]
    assert [(a, p) for _, a, _, p in got[5]] == [(200, "selection"), (100, "selection"),
                                                 (50, "selection")]
    assert got[7] == [("listed", 100, "户", "year")]
    assert got[1] == got[6] == got[8] == []


def test_cycles_follow_the_deadline_phrases(seed: PolicyDef) -> None:
    ctx = seed.context()
    assert [c.due_date for c in seed.task(1).cycles(ctx)] == [date(2018, 8, 30)]
    assert [c.due_date for c in seed.task(2).cycles(ctx)] == [
        date(2018, 12, 31), date(2019, 12, 31), date(2020, 12, 31)]
    assert [c.due_date for c in seed.task(5).cycles(ctx)] == [date(2018, 12, 31),
                                                              date(2020, 12, 31)]
    assert all(c.opens_on >= seed.issued_on for t in seed.tasks for c in t.cycles(ctx))


@pytest.mark.parametrize(("unit", "before", "after", "old", "new"), [
    ("jxw", date(2018, 10, 25), date(2018, 10, 26), "安徽省经济和信息化委员会",
     "安徽省经济和信息化厅"),
    ("pbc", date(2023, 8, 17), date(2023, 8, 18), "中国人民银行合肥中心支行",
     "中国人民银行安徽省分行"),
    ("jrb", date(2018, 11, 19), date(2018, 11, 20), "安徽省人民政府金融工作办公室",
     "安徽省地方金融监督管理局"),
    ("jrb", date(2024, 4, 30), date(2024, 5, 1), "安徽省地方金融监督管理局",
     "安徽省地方金融管理局"),
])
def test_renames_give_the_name_of_the_day(seed: PolicyDef, unit: str, before: date,
                                          after: date, old: str, new: str) -> None:
    assert seed.units[unit].name_on(before) == old
    assert seed.units[unit].name_on(after) == new
    assert seed.resolve(old) == seed.resolve(new) == unit


def test_short_names_and_resolution(seed: PolicyDef) -> None:
    jxw = seed.units["jxw"]
    assert (jxw.short_name_on(date(2018, 5, 30)), jxw.short_name_on(date(2019, 1, 1))) == (
        "省经信委", "省经信厅")
    assert seed.units["hefei"].short_name_on(date(2030, 1, 1)) == "合肥市"
    assert jxw.name_on(date(2000, 1, 1)) == "安徽省经济和信息化委员会"
    for alias, uid in [("省人力资源社会保障厅", "rst"), ("团省委", "tsw"), ("省统计局", "tjj"),
                       ("省政府金融办", "jrb"), ("人行合肥中心支行", "pbc"), ("省投资集团", "ahtz"),
                       ("省财政厅", "czt"), ("省经济和信息化委", "jxw"), ("hefei", "hefei")]:
        assert seed.resolve(alias) == uid
    assert seed.members("各市人民政府") == CITIES
    with pytest.raises(NotFoundError, match="省经信局"):
        seed.resolve("省经信局")


def test_definitions_are_frozen(seed: PolicyDef) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        seed.tasks[0].number = 9  # type: ignore[misc]


def test_more_units_only_when_the_cell_says_so(tmp_path: Path) -> None:
    path = write_policy(tmp_path, edited("supporting: 省统计局等", "supporting: 省统计局"))
    task8 = load_policy(path).task(8)
    assert (task8.supporting_units, task8.more_units) == (("tjj",), False)


BROKEN = [
    pytest.param("lead: 省经济和信息化委\n    supporting: 省人力资源社会保障厅",
                 "lead: 省经信局\n    supporting: 省人力资源社会保障厅",
                 ["任务3: 牵头单位: 未知单位“省经信局”"], id="unknown-unit"),
    pytest.param("supporting: 省政府金融办、省财政厅、人行合肥中心支行等",
                 "supporting: 省政府金融办、、人行合肥中心支行等",
                 ["任务6: 配合单位", "单位名称为空"], id="empty-unit"),
    pytest.param("supporting: 省经济和信息化委等", "supporting: 合肥市人民政府等",
                 ["任务1: 配合单位", "同时是牵头单位和配合单位"], id="lead-and-supporting"),
    pytest.param("  - number: 4\n", "  - number: 3\n", ["任务3: 序号", "重复"], id="dup-number"),
    pytest.param("  - number: 4\n", "  - number: -4\n", ["第4个任务: 序号", "不小于 1"],
                 id="negative-number"),
    pytest.param("    deadline: 2020年年底前\n", "", ["任务4: 时限要求: 缺少字段"],
                 id="missing-deadline"),
    pytest.param("    title: 设立并运营省中小企业发展基金\n", "", ["任务6: 任务名称: 缺少字段"],
                 id="missing-title"),
    pytest.param("amount: 30,", "amount: -30,", ["任务3: 目标1: 数量", "不小于 1"],
                 id="negative-target"),
    pytest.param("amount: 200, unit: 家", "amount: 200.5, unit: 家", ["任务4: 目标1: 数量", "整数"],
                 id="fractional-target"),
    pytest.param("amount: 100, unit: 户", "amount: 一百, unit: 户", ["任务7: 目标1: 数量", "整数"],
                 id="text-target"),
    pytest.param("per: total", "per: month", ["任务4: 目标1: 周期", "未知周期“month”"],
                 id="unknown-period"),
    pytest.param("{key: certified,", "{key: pooled,", ["任务2: 目标2: 键", "重复"],
                 id="dup-target-key"),
    pytest.param("issued_on: 2018-05-30", "issued_on: 2018年5月30日", ["发布日期", "日期无效"],
                 id="bad-date-text"),
    pytest.param("deadline: 2018年8月30日前", "deadline: 尽快落实", ["任务1: 时限要求", "尽快落实"],
                 id="bad-deadline"),
    pytest.param("deadline: 2018年8月30日前", "deadline: 2018年3月30日前",
                 ["任务1: 时限要求", "早于发布日期"], id="deadline-before-issue"),
    pytest.param("    targets: []\n", "    target: []\n", ["任务1: 未知字段“target”"],
                 id="unknown-field"),
    pytest.param("bpmn: task_04.bpmn", "bpmn: task_44.bpmn",
                 ["任务4: 流程文件", "task_44.bpmn", "不存在"],
                 id="bpmn-missing"),
    pytest.param("process_id: task_04", "process_id: task_04b",
                 ["任务4: 流程文件", "没有流程“task_04b”"], id="bpmn-wrong-process"),
    pytest.param("process_id: task_08", "process_id: task_07", ["任务8: 流程编号", "已被"],
                 id="dup-process"),
    pytest.param("hefei: {kind: city", "hefei: {kind: town", ["单位hefei: 类别", "town"],
                 id="unknown-kind"),
    pytest.param("chizhou, bozhou]", "chizhou, bozhoux]", ["单位组: 各市人民政府", "bozhoux"],
                 id="unknown-group-member"),
    pytest.param("supervisor: dcs", "supervisor: jxwx", ["督查单位", "jxwx"],
                 id="unknown-supervisor"),
    pytest.param("short_name: 省经信厅, valid_from: 2018-10-26",
                 "short_name: 省经信厅, valid_from: 2018-10-27",
                 ["单位jxw: 名称", "停用日期须等于"], id="name-gap"),
    pytest.param("selection_years: [2018, 2020]", "selection_years: [2018, 2022]",
                 ["评选年份", "2022"], id="selection-beyond-horizon"),
    pytest.param("aliases: [省统计局]", "aliases: [省财政厅]", ["省财政厅", "czt", "tjj"],
                 id="name-of-two-units"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN)
def test_bad_input_names_file_task_and_field(tmp_path: Path, old: str, new: str,
                                             expected: list[str]) -> None:
    path = write_policy(tmp_path, edited(old, new))
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert message.startswith("broken.yaml: ")
    for part in expected:
        assert part in message


@pytest.mark.parametrize(("old", "new", "anchor", "expected"), [
    pytest.param("    deadline: 每年年底前\n", "    deadline: 每年: 年底前\n", "每年: 年底前",
                 "YAML 格式错误", id="syntax"),
    pytest.param("valid_from: 2018-10-26}", "valid_from: 2018-13-26}", "2018-13-26",
                 "日期无效", id="impossible-date"),
    pytest.param("    supporting: 省统计局等\n", "    supporting: 省统计局等\n    lead: 省财政厅\n",
                 "lead: 省财政厅", "重复的键“lead”", id="duplicate-key"),
])
def test_yaml_errors_carry_the_line(tmp_path: Path, old: str, new: str, anchor: str,
                                    expected: str) -> None:
    text = edited(old, new)
    path = write_policy(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.line == line_of(text, anchor)
    assert str(caught.value).startswith(f"broken.yaml: line {line_of(text, anchor)}: ")
    assert expected in str(caught.value)


def test_semantic_errors_carry_the_line_of_the_field(tmp_path: Path) -> None:
    text = edited("amount: 30,", "amount: -30,")
    with pytest.raises(PolicyError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert caught.value.line == line_of(text, "amount: -30")


@pytest.mark.parametrize(("content", "expected"), [
    (b"- just\n- a list\n", "须为映射"),
    (b"\xff\xfe not utf-8", "UTF-8"),
    (b"", "须为映射"),
])
def test_not_a_policy_file(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_bytes(content)
    with pytest.raises(PolicyError, match=expected):
        load_policy(path)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="nowhere.yaml"):
        load_policy(tmp_path / "nowhere.yaml")
