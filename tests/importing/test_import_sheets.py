"""CSV and XLSX: the header found among title rows, merged cells, section rows, encodings."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from conftest import problems, read

from engine.importing import ImportOptions, read_policy_file


def ids(refs):
    return [r.unit_id for r in refs]


@pytest.mark.parametrize("name", ["table_utf8bom.csv", "table_gb18030.csv"])
def test_csv_in_both_encodings(city, name):
    result = read(name, city)
    assert result.ok(), result.errors()
    assert result.source_kind == "csv"
    assert result.policy.title == "东江市2022年重点工作任务分解表"
    assert result.policy.issued_on == date(2022, 2, 10)  # the "（2022年2月10日）" title row
    one, two, three = result.tasks
    assert one.path == ["一、扩大有效投资"] and three.path == ["二、优化营商环境"]
    assert ids(one.supporting) == ["czj", "dongcheng", "xicheng"]
    assert one.rule is not None and one.rule.kind == "monthly"
    assert [(t.label, t.amount, t.unit) for t in one.targets] == [
        ("实施重点项目", 120, "个"), ("完成投资", 500, "亿元")]
    assert one.remark == "按月调度"
    assert two.supporting == [] and three.more_units
    assert one.place == "第5行"


def test_xlsx_seven_column_plan(city):
    result = read("plan.xlsx", city)
    assert result.ok(), result.errors()
    assert result.source_kind == "xlsx"
    assert result.policy.title == "东江市优化营商环境改革任务分工方案"
    assert result.policy.issued_on == date(2022, 3, 15)
    one, two, three, four = result.tasks
    assert one.path == ["一、全链条优化审批", "（一）深化投资审批制度改革"]
    assert one.text == "推行投资项目承诺制" and one.label == "1"
    assert ids(two.lead) == ["fgw"]  # the lead cell merged over two rows
    assert ids(two.supporting) == ["dongcheng", "xicheng"]  # 责任单位 beside 牵头单位
    assert two.deadline == "11月底前" and two.rule is not None and two.rule.year == 2022
    assert ids(three.lead) == ["spj", "sfj"]
    assert four.deadline == "持续推进"  # the deadline cell merged over two rows
    assert four.remark == "每半年一次"
    assert ("工作表“任务”第8行 牵头单位",
            "“市行政审批局市司法局”按已知单位名称拆分为“市行政审批局”“市司法局”"
            ) in problems(result)
    assert ("工作表“任务”第8行 责任单位", "“市级各有关部门”不是具体单位") in problems(result)


def _workbook(rows, merges=()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "表1"
    for row in rows:
        sheet.append(row)
    for merge in merges:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["序号", "工作任务", "牵头单位", "配合单位", "完成时限"]


def test_xlsx_problems_carry_sheet_row_and_column(city):
    data = _workbook([["东江市任务表"], HEADER,
                      [1, "建设科创走廊。", "市发改局", "市财政局", "尽快"],
                      [2, "改造老旧小区。", None, "有关单位", "2022年9月底前"],
                      [3, None, "市财政局", None, "2022年9月底前"]])
    result = read_policy_file("t.xlsx", data, city, ImportOptions(issued_on=date(2022, 3, 1)))
    errors = problems(result, "error")
    assert ("工作表“表1”第3行 牵头单位", "未知单位“市发改局”，是否为“市发改委”？") in errors
    assert ("工作表“表1”第3行 完成时限",
            "时限“尽快”没有明确的日期，无法督办，请写明完成时间") in errors
    assert ("工作表“表1”第4行 牵头单位", "未写牵头单位") in errors
    assert ("工作表“表1”第5行", "未写任务内容") in errors
    assert result.new_units == ["市发改局"]
    assert result.tasks[0].rule is None
    assert len(errors) == 4


def test_unknown_units_are_warnings_with_create_units(city):
    data = _workbook([HEADER, [1, "建设科创走廊。", "市发改局", "市财政局", "2022年9月底前"]])
    result = read_policy_file("t.xlsx", data, city,
                              ImportOptions(issued_on=date(2022, 3, 1), create_units=True))
    assert result.ok()
    assert result.new_units == ["市发改局"]
    assert result.tasks[0].lead[0].unit_id is None
    data = result.to_json(city)["tasks"][0]
    assert (data["lead_units"], data["lead_unit_ids"]) == (["市发改局"], [None])


def test_xlsx_with_responsible_column_only(city):
    data = _workbook([["重点任务", "责任单位", "时间节点"],
                      ["建设科创走廊。", "市发改委", "年底前"]])
    result = read_policy_file("t.xlsx", data, city, ImportOptions(issued_on=date(2022, 3, 1)))
    assert result.ok(), result.errors()
    assert ids(result.tasks[0].lead) == ["fgw"] and result.tasks[0].label == ""


def test_sheet_without_a_header_is_an_error(city):
    data = _workbook([["东江市任务表"], ["一些", "没有", "表头"]])
    result = read_policy_file("t.xlsx", data, city, ImportOptions(issued_on=date(2022, 3, 1)))
    assert [p.place for p in result.errors()] == ["文件"]
    assert "未找到任务" in result.errors()[0].message and result.tasks == []


def test_sheet_over_max_rows(city):
    result = read("plan.xlsx", city, max_rows=5)
    assert problems(result) == [("文件", "工作表“任务”有 9 行，超过上限 5 行")]
    assert result.tasks == []


def test_csv_over_max_rows_and_long_cells(city):
    rows = "序号,工作任务,牵头单位,配合单位,时限要求\n" + "1,建设科创走廊。,市发改委,,年底前\n" * 4
    result = read_policy_file("t.csv", rows.encode(), city, ImportOptions(max_rows=3))
    assert problems(result) == [("文件", "表格有 5 行，超过上限 3 行")]
    long = "序号,工作任务,牵头单位,配合单位,时限要求\n1," + "建" * 50 + ",市发改委,,年底前\n"
    result = read_policy_file("t.csv", long.encode(), city,
                              ImportOptions(max_cell_chars=20, issued_on=date(2022, 3, 1)))
    assert problems(result, "error") == [("第2行", "内容长达 50 字，超过单元格上限 20 字")]
    assert len(result.tasks[0].text) == 20


def test_header_split_over_two_rows(city):
    data = _workbook([["序号", "工作任务", "责任单位", None, "完成时限"],
                      [None, None, "牵头单位", "配合单位", None],
                      [1, "建设科创走廊。", "市发改委", "市财政局", "2022年9月底前"]],
                     merges=["C1:D1", "A1:A2", "B1:B2", "E1:E2"])
    result = read_policy_file("t.xlsx", data, city, ImportOptions(issued_on=date(2022, 3, 1)))
    assert result.ok(), result.errors()
    (task,) = result.tasks
    assert (ids(task.lead), ids(task.supporting)) == (["fgw"], ["czj"])
    assert result.problems == []


def test_row_without_a_number_is_a_task_beside_the_one_above(city):
    data = _workbook([HEADER, ["一、审批", None, None, None, None],
                      [1, "推行承诺制。", "市发改委", None, "年底前"],
                      [None, "推行电子证照。", "市财政局", None, "年底前"],
                      [2, "规范执法。", "市司法局", None, "年底前"]], merges=["A2:E2"])
    result = read_policy_file("t.xlsx", data, city, ImportOptions(issued_on=date(2022, 3, 1)))
    assert result.ok(), result.errors()
    assert [(t.label, t.path, ids(t.lead)) for t in result.tasks] == [
        ("1", ["一、审批"], ["fgw"]), ("", ["一、审批"], ["czj"]), ("2", ["一、审批"], ["sfj"])]


@pytest.mark.parametrize("task, lead, supporting, deadline", [
    ("工作任务", "牵头单位", "配合单位", "完成时限"),
    ("重点任务", "牵头责任单位", "协同单位", "时限要求"),
    ("任务内容", "主要负责单位", "责任单位", "时间节点"),
    ("落实措施", "牵头(责任)单位", "配合单位", "完成时间"),
    ("具体措施", "牵头单位", "协同单位", "完成时限"),
])
def test_every_header_synonym_of_the_issue(city, task, lead, supporting, deadline):
    """Each synonym issue 11 names, found under a title row; 责任单位 beside a 牵头 column
    supports; 备注 is kept."""
    rows = [["东江市2022年重点工作任务分解表"], ["序号", task, lead, supporting, deadline, "备注"],
            [1, "建设科创走廊。", "市发改委", "市财政局", "2022年9月底前", "按月调度"]]
    result = read_policy_file("t.xlsx", _workbook(rows), city,
                              ImportOptions(issued_on=date(2022, 3, 1)))
    assert result.ok(), result.errors()
    (one,) = result.tasks
    assert (one.text, ids(one.lead), ids(one.supporting)) == ("建设科创走廊。", ["fgw"], ["czj"])
    assert one.deadline == "2022年9月底前" and one.remark == "按月调度"
    assert result.policy.title == "东江市2022年重点工作任务分解表"
