"""The text reader: annex tables (pipe, tab, one cell per line) and numbered paragraphs whose
units travel with each item (closing parentheses, 部门分工 lines, 牵头单位/责任单位 lines)."""

from __future__ import annotations

from datetime import date

from conftest import problems, read

from engine.importing import ImportOptions, read_policy_file


def ids(refs):
    return [r.unit_id for r in refs]


def test_city_work_points_with_units_in_closing_parentheses(city):
    result = read("city_points.txt", city)
    assert result.ok(), result.errors()
    meta = result.policy
    assert meta.title == "东江市人民政府办公室关于印发东江市2022年优化营商环境工作要点的通知"
    assert (meta.issuer, meta.issued_on, meta.reporting) == (
        "东江市人民政府办公室", date(2022, 3, 15), "每月23日前")
    first, second, third, fourth = result.tasks
    assert first.label == "1．" and first.path == ["二、重点任务", "（一）全链条优化审批"]
    assert first.text.endswith("编制并公布政务服务事项清单。")  # the parenthesis is read off
    assert ids(first.lead) == ["zfb", "sgb"]
    assert ids(first.supporting) == ["dongcheng", "xicheng"]
    assert {r.group for r in first.supporting} == {"各县市区政府"}
    assert first.notes == ["按职责分工负责", "市级各有关部门"]
    assert (first.deadline, first.deadline_source) == ("2022年10月底前", "text")
    assert second.deadline == "年底前" and ids(second.supporting) == ["fgw", "czj"]
    assert ids(third.lead) == ["gxj"]  # 市经信委: the unit's name before its rename
    assert ids(fourth.lead) == ["fgw"] and fourth.supporting == []  # "（市发改委负责）"
    assert ("第8行", "“一、总体要求”下的 1 项未写责任单位，未作为任务读取") in problems(result)
    assert ("第12行", "时限取自任务内容：“2022年10月底前”") in problems(result)
    assert ("第16行", "未写时限，按2022年年底前（2022年12月31日）计") in problems(result)


def test_renamed_unit_shows_its_name_on_the_issue_date(city):
    data = read("city_points.txt", city).to_json(city)
    assert data["tasks"][2]["lead_units"] == ["东江市工业和信息化局"]
    assert data["tasks"][2]["targets"] == [
        {"key": "t1", "label": "新增市场主体", "amount": 5000, "unit": "户", "per": "year",
         "kind": "count"},
        {"key": "t2", "label": "培育规模以上工业企业", "amount": 50, "unit": "家", "per": "year",
         "kind": "count"}]


def test_provincial_plan_with_division_of_duties_lines(city):
    result = read("province_plan.txt", city)
    assert result.ok(), result.errors()
    assert result.policy.reporting == "每季度末月25日前"
    one, two, three = result.tasks
    assert ids(one.lead) == ["stxj"] and ids(one.supporting) == ["sfgw", "sczt"]
    assert "张某某" not in one.text  # 分管省领导 lines are skipped
    assert two.supporting == [] and two.notes == ["各地", "各部门"]
    assert ("第14行", "“各地、各部门”不是具体单位") in problems(result, "warning")
    assert two.deadline == "9月底前" and two.rule is not None and two.rule.year == 2022
    assert three.path == ["二、推动数字产业化"]


def test_district_plan_with_unit_lines(city):
    result = read("district_plan.txt", city)
    assert result.ok(), result.errors()
    one, two, three = result.tasks
    assert one.label == "（一）" and ids(one.lead) == ["qfgj"]
    assert ids(one.supporting) == ["kfq", "lishan", "hexi"]  # 责任单位 beside 牵头单位
    assert one.deadline == "2022年12月底前" and one.deadline_source == "column"
    assert two.rule is not None and two.rule.kind == "open"
    assert ids(three.lead) == ["qsfj"]  # 责任单位 alone is the lead
    assert result.policy.issuer == "东城区人民政府"
    assert result.to_json(city)["tasks"][1]["cycles"] == []  # open-ended: no due date


def test_markdown_pipe_table(city):
    result = read("table.md", city, issued_on=date(2022, 2, 1))
    assert result.ok(), result.errors()
    assert result.policy.title == "东江市2022年政府工作报告重点任务分解表"
    assert [t.path for t in result.tasks] == [["一、稳增长"], ["一、稳增长"], ["二、惠民生"]]
    assert [t.label for t in result.tasks] == ["1", "2", "3"]
    assert result.tasks[0].rule is not None and result.tasks[0].rule.kind == "quarterly"
    assert result.tasks[2].notes == ["有关单位"] and ids(result.tasks[2].supporting) == ["fgw"]
    assert result.tasks[0].place == "第6行"


def test_markdown_table_without_a_date_is_an_error(city):
    result = read("table.md", city)
    assert not result.ok()
    assert problems(result, "error") == [
        ("文件", "未读到发布日期（成文日期，如“2018年5月30日”），请指定发布日期")]
    assert len(result.tasks) == 3  # still previewed


def test_tab_separated_rows_and_a_signature_after_the_table(city):
    result = read("tabs.txt", city)
    assert result.ok(), result.errors()
    assert (result.policy.issuer, result.policy.issued_on) == ("东江市人民政府", date(2022, 1, 20))
    assert [t.deadline for t in result.tasks] == ["2022年6月30日前", "下半年"]
    assert result.tasks[1].rule is not None and result.tasks[1].rule.year == 2022


def test_one_cell_per_line_without_tabs_or_blank_lines(city):
    text = ("东江市重点任务分解表\n2022年1月5日\n序号\n工作任务\n牵头单位\n配合单位\n时限要求\n"
            "1\n建设科创走廊。\n市发改委\n市财政局\n2022年6月30日前\n"
            "2\n改造老旧小区。\n市财政局\n市发改委\n年底前\n")
    result = read_policy_file("t.txt", text.encode(), city)
    assert result.ok(), result.errors()
    assert [(t.label, ids(t.lead), t.deadline) for t in result.tasks] == [
        ("1", ["fgw"], "2022年6月30日前"), ("2", ["czj"], "年底前")]


def test_measures_under_a_task_inherit_its_units_with_a_warning(city):
    text = ("东江市工作方案\n一、重点任务\n（一）优化审批服务。（市行政审批局牵头，市司法局配合）\n"
            "1．推行告知承诺制。\n2．推行电子证照，2022年9月底前完成。\n"
            "东江市人民政府\n2022年3月1日\n")
    result = read_policy_file("t.txt", text.encode(), city)
    assert result.ok(), result.errors()
    assert [t.label for t in result.tasks] == ["1．", "2．"]
    assert all(ids(t.lead) == ["spj"] and ids(t.supporting) == ["sfj"] for t in result.tasks)
    assert result.tasks[0].path == ["一、重点任务", "（一）优化审批服务"]
    assert any("沿用上级“（一）优化审批服务”" in m for _, m in problems(result, "warning"))


def test_repeated_labels_are_qualified_by_their_heading(city):
    text = ("东江市工作方案\n（一）审批\n1．推行承诺制。（市发改委牵头）\n（二）法治\n"
            "1．规范执法检查。（市司法局牵头）\n东江市人民政府\n2022年3月1日\n")
    result = read_policy_file("t.txt", text.encode(), city, ImportOptions())
    assert [t.label for t in result.tasks] == ["（一）1．", "（二）1．"]
    assert [t.number for t in result.tasks] == [1, 2]


def test_one_cell_per_line_with_a_task_wrapped_over_two_lines(city):
    text = ("序号\n工作任务\n牵头单位\n配合单位\n时限要求\n\n"
            "1\n建设科创走廊，\n新引进研发机构5家。\n市发改委\n市财政局\n2022年6月30日前\n\n"
            "东江市人民政府\n2022年1月5日\n")
    result = read_policy_file("t.txt", text.encode(), city)
    (task,) = result.tasks
    assert task.text == "建设科创走廊，新引进研发机构5家。" and ids(task.lead) == ["fgw"]
    assert problems(result, "warning") == [
        ("第7行", "本行有 6 行文字，多于表头的 5 列，多出的行并入“工作任务”")]
