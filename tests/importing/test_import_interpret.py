"""Interpretation: unit cells, vague phrases and groups, deadline phrases, targets, the cover."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import problems

from engine.importing import ImportOptions, read_policy_file
from engine.importing.cover import read_cover
from engine.importing.dates import DeadlineReader, find_in_text
from engine.importing.model import Problems
from engine.importing.outline import Field
from engine.importing.targets import read_targets
from engine.importing.units import UnitReader
from engine.policy import Target

ISSUED = date(2022, 3, 15)


def cell(city, text, create=False):
    found = Problems()
    read = UnitReader(city, ISSUED, found, create).read(Field(text, "第2行 牵头单位"))
    return read, [(p.severity, p.message) for p in found.items]


def test_separators_and_trailing_more(city):
    read, found = cell(city, "市发改委、市财政局，市司法局\n市政府办等")
    assert [r.unit_id for r in read.refs] == ["fgw", "czj", "sfj", "zfb"]
    assert read.more and found == []


def test_alias_short_and_full_names(city):
    read, _ = cell(city, "市发展改革委、东江市财政局 市行政审批局")
    assert [r.unit_id for r in read.refs] == ["fgw", "czj", "spj"]
    assert [r.written for r in read.refs] == ["市发展改革委", "东江市财政局", "市行政审批局"]


def test_a_name_wrapped_over_two_lines_is_one_name(city):
    read, found = cell(city, "东江市行政\n审批局")
    assert [r.unit_id for r in read.refs] == ["spj"] and found == []


@pytest.mark.parametrize("text", ["有关单位", "相关单位", "各有关单位", "各有关部门",
                                  "市级各有关部门",
                                  "省直有关单位", "按职责分工负责", "各地、各部门"])
def test_vague_phrases_are_notes_with_a_warning_when_alone(city, text):
    read, found = cell(city, text)
    assert read.refs == [] and read.notes
    assert found == [("warning", f"“{text}”不是具体单位")]


def test_groups_expand_and_unknown_groups_are_errors(city):
    read, found = cell(city, "各街道、市财政局")
    assert [(r.unit_id, r.group) for r in read.refs] == [
        ("lishan", "各街道"), ("hexi", "各街道"), ("czj", None)]
    read, found = cell(city, "各乡镇")
    assert found == [("error", "单位组“各乡镇”没有登记成员单位")]
    read, found = cell(city, "各社区居委会")
    assert found == [("error", "单位组“各社区居委会”不在单位目录中，无法展开为具体单位")]
    assert read.unknown == []  # a group is no new unit


def test_run_together_names_are_split_with_a_warning(city):
    read, found = cell(city, "市行政审批局市司法局")
    assert [r.unit_id for r in read.refs] == ["spj", "sfj"]
    assert found == [("warning",
                      "“市行政审批局市司法局”按已知单位名称拆分为“市行政审批局”“市司法局”")]
    read, found = cell(city, "市级各有关部门及各县市区政府按职责分工负责")
    assert [r.unit_id for r in read.refs] == ["dongcheng", "xicheng"]
    assert read.notes == ["按职责分工负责", "市级各有关部门"] and found == []


def test_unknown_unit_with_and_without_a_near_miss(city):
    read, found = cell(city, "市发改局、市教育局")
    assert found == [("error", "未知单位“市发改局”，是否为“市发改委”？"),
                     ("error", "未知单位“市教育局”")]
    assert read.unknown == ["市发改局", "市教育局"]
    _, found = cell(city, "市教育局", create=True)
    assert found == [("warning", "未知单位“市教育局”，确认导入时将新建")]


def test_duplicate_unit_counts_once(city):
    read, found = cell(city, "市发改委、市发展改革委")
    assert len(read.refs) == 1 and found == [("warning", "单位“市发展改革委”重复，只计一次")]


def deadline(phrase, text="", year=2022, issued=ISSUED):
    found = Problems()
    read = DeadlineReader(year, issued, found).read(phrase, "第2行 时限", text, "第2行")
    return read, [(p.severity, p.message) for p in found.items]


@pytest.mark.parametrize("phrase, due", [
    ("年底前", date(2022, 12, 31)), ("11月底前", date(2022, 11, 30)), ("9月末", date(2022, 9, 30)),
    ("上半年", date(2022, 6, 30)), ("下半年", date(2022, 12, 31)),
    ("2022年9月底", date(2022, 9, 30)),
    ("10月15日前", date(2022, 10, 15)), ("2023年3月31日", date(2023, 3, 31)),
])
def test_one_off_phrases(phrase, due):
    read, found = deadline(phrase)
    assert read.rule is not None and read.rule.cycles(_ctx())[0].due_date == due
    assert found == [] and read.phrase == phrase


def _ctx():
    from engine.deadlines import RuleContext
    from engine.workdays import default_calendar

    return RuleContext(ISSUED, 2022, (), default_calendar())


@pytest.mark.parametrize("phrase, kind", [("每季度末", "quarterly"),
                                          ("每季度末月25日前", "quarterly"),
                                          ("每月10日前", "monthly"), ("持续推进", "open"),
                                          ("长期坚持", "open"), ("每年年底前", "yearly")])
def test_recurring_and_open_phrases(phrase, kind):
    read, found = deadline(phrase)
    assert read.rule is not None and read.rule.kind == kind and found == []


def test_year_less_date_already_past_is_next_year():
    read, found = deadline("2月底前")
    assert read.rule is not None and read.rule.year == 2023
    assert found == [("warning", "时限“2月底前”未写年份，且2022年的该日期早于发布日期，按2023年计")]


def test_month_without_a_day_is_its_last_day():
    read, found = deadline("2022年12月")
    assert read.rule is not None and (read.rule.month, read.rule.day) == (12, None)
    assert found == [("warning", "时限“2022年12月”未写日，按当月月底计")]


@pytest.mark.parametrize("phrase", ["尽快", "及时", "适时", "按要求完成"])
def test_deadline_that_means_nothing_is_an_error(phrase):
    read, found = deadline(phrase)
    assert read.rule is None
    assert found == [("error", f"时限“{phrase}”没有明确的日期，无法督办，请写明完成时间")]


def test_unknown_phrase_is_an_error():
    read, found = deadline("每周五")
    assert read.rule is None and found == [("error", "无法识别的时限要求“每周五”")]


def test_deadline_from_the_text_and_the_default():
    read, found = deadline("", "2022年6月底前出台方案，年底前全面实施。")
    assert (read.phrase, read.source) == ("年底前", "text")
    assert found == [("warning",
                      "时限取自任务内容：“年底前”（文中另有“2022年6月底前”，取最后一个）")]
    read, found = deadline("", "推进改革。")
    assert (read.phrase, read.source) == ("2022年年底前", "default")
    assert found == [("warning", "未写时限，按2022年年底前（2022年12月31日）计")]
    assert find_in_text("自2022年1月1日起施行，每年评估") == []


def targets(text):
    found = Problems()
    return read_targets(text, "第2行", found), [p.message for p in found.items]


def test_targets_with_units_and_periods():
    read, _ = targets("每年培育入库“专精特新”中小企业1000户，"
                      "并认定“安徽省专精特新中小企业”500户左右。")
    assert read == [Target("t1", "培育入库“专精特新”中小企业", 1000, "户", "year"),
                    Target("t2", "认定“安徽省专精特新中小企业”", 500, "户", "year")]
    read, found = targets("每届评选优秀企业家五十名。力争实现增加值1.5亿元，达到95%以上。")
    assert [(t.label, t.amount, t.unit, t.per) for t in read] == [
        ("评选优秀企业家", 50, "名", "selection"), ("实现增加值", 15000, "万元", "total")]
    assert found == ["目标“95%”没有读到目标名称，未读取"]  # nothing says what reaches 95%


def test_not_targets_rates_caps_qualifiers_and_quotes():
    read, _ = targets("对认定企业每户给予奖补50万元，最高不超过500万元。")
    assert read == []
    read, _ = targets("培育主营业务收入10亿元以上“行业小巨人”50户，建立“五个一”服务体系。")
    assert [(t.label, t.amount, t.unit) for t in read] == [
        ("培育主营业务收入10亿元以上“行业小巨人”", 50, "户")]


def test_quarterly_target_is_read_as_total_with_a_warning():
    read, found = targets("每季度开展宣讲活动2场。")
    assert read[0].per == "total"
    assert found == ["目标“开展宣讲活动2场”按季度计，暂按合计读取"]


def test_cover_reporting_rules():
    text = "请各牵头单位于每月28日前将进展情况报送市政府督考办。"
    assert read_cover([("1", text)]).reporting == "每月28日前"
    assert read_cover([("1", "各单位工作落实情况请于每月23日前报市政府办公厅。")]).reporting == \
        "每月23日前"
    assert read_cover([("1", "请尽快报送。")]).reporting is None


def test_cover_issuer_from_the_title_when_no_signature():
    cover = read_cover([("1", "东江市人民政府关于加快发展的意见"), ("2", "（2022年3月1日）")])
    assert (cover.issuer, cover.issued_on) == ("东江市人民政府", date(2022, 3, 1))


def test_selection_years_every_three_years(city):
    text = ("东江市人才工作方案\n（一）每三年评选东江工匠30名。\n牵头单位：市发改委\n"
            "完成时限：评选当年年底前\n东江市人民政府\n2022年3月1日\n")
    result = read_policy_file("t.txt", text.encode(), city, ImportOptions(horizon_year=2026))
    assert result.policy.selection_years == (2022, 2025)
    assert ("第2行", "评选年份按文中“每三年”自发布当年起计为 2022、2025 年") in problems(result)
    cycles = result.to_json(city)["tasks"][0]["cycles"]
    assert [c["due_date"] for c in cycles] == ["2022-12-31", "2025-12-31"]


def test_lead_with_only_vague_phrases_is_an_error(city):
    text = ("东江市工作方案\n（一）推进改革。（有关单位牵头）\n东江市人民政府\n2022年3月1日\n")
    result = read_policy_file("t.txt", text.encode(), city)
    assert ("第2行", "牵头单位只写了“有关单位”，没有具体单位") in problems(result, "error")
