import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.deadlines import (
    Cycle,
    FixedRule,
    HalfYearlyRule,
    MonthlyRule,
    OpenRule,
    QuarterlyRule,
    RelativeRule,
    RuleContext,
    SelectionRule,
    YearlyRule,
    parse_deadline,
    rule_from_dict,
)
from engine.errors import DeadlinePhraseError, PolicyError
from engine.workdays import WorkCalendar

CAL = WorkCalendar(range(2018, 2022))
ISSUED = date(2018, 5, 30)
SEED = RuleContext(start=ISSUED, horizon_year=2020, selection_years=(2018, 2020), calendar=CAL)
FAST = settings(max_examples=120, deadline=None)


def dues(rule, ctx=SEED):
    return [c.due_date for c in rule.cycles(ctx)]


# --- the seed table's phrases ----------------------------------------------------------------

def test_seed_one_off_date():
    rule = parse_deadline("2018年8月30日前")
    assert rule.kind == "fixed"
    assert rule.cycles(SEED) == [Cycle("一次性", ISSUED, date(2018, 8, 30))]


def test_seed_every_year_end_runs_from_issue_year_to_horizon():
    rule = parse_deadline("每年年底前")
    assert rule.kind == "yearly"
    assert rule.cycles(SEED) == [
        Cycle("2018年度", ISSUED, date(2018, 12, 31)),
        Cycle("2019年度", date(2019, 1, 1), date(2019, 12, 31)),
        Cycle("2020年度", date(2020, 1, 1), date(2020, 12, 31)),
    ]


@pytest.mark.parametrize("phrase, due", [("2020年年底前", date(2020, 12, 31)),
                                         ("2018年年底前", date(2018, 12, 31))])
def test_seed_year_end_of_a_given_year(phrase, due):
    rule = parse_deadline(phrase)
    assert rule.kind == "fixed"
    assert rule.cycles(SEED) == [Cycle("一次性", ISSUED, due)]


def test_seed_selection_year_end_uses_configured_years():
    rule = parse_deadline("评选当年年底前")
    assert rule.kind == "selection"
    assert rule.cycles(SEED) == [Cycle("2018年度", ISSUED, date(2018, 12, 31)),
                                 Cycle("2020年度", date(2020, 1, 1), date(2020, 12, 31))]


def test_selection_without_configured_years_is_an_error():
    ctx = RuleContext(start=ISSUED, horizon_year=2020)
    with pytest.raises(PolicyError, match="评选当年年底前"):
        parse_deadline("评选当年年底前").cycles(ctx)
    with pytest.raises(PolicyError):
        parse_deadline("每两年").cycles(RuleContext(ISSUED, 2020, (2016, 2018)))


# --- the other phrases of shared/notes/domain.md ---------------------------------------------

def test_month_end_and_bare_year_end():
    assert dues(parse_deadline("2018年9月底前")) == [date(2018, 9, 30)]
    assert dues(parse_deadline("2020年2月底前")) == [date(2020, 2, 29)]
    assert dues(parse_deadline("2019年2月末")) == [date(2019, 2, 28)]
    assert dues(parse_deadline("年底前")) == [date(2018, 12, 31)]
    assert dues(parse_deadline("2019年底前")) == [date(2019, 12, 31)]


@pytest.mark.parametrize("phrase", ["每季度", "每季度末", "每个季度"])
def test_every_quarter_end(phrase):
    cycles = parse_deadline(phrase).cycles(SEED)
    assert [c.label for c in cycles[:3]] == ["2018年第二季度", "2018年第三季度", "2018年第四季度"]
    assert cycles[0] == Cycle("2018年第二季度", ISSUED, date(2018, 6, 30))
    assert cycles[1].opens_on == date(2018, 7, 1)
    assert [c.due_date for c in cycles[-4:]] == [date(2020, 3, 31), date(2020, 6, 30),
                                                date(2020, 9, 30), date(2020, 12, 31)]
    assert len(cycles) == 3 + 4 + 4


def test_first_month_of_each_quarter_skips_a_due_before_the_issue_date():
    cycles = parse_deadline("每个季度第1个月20日前").cycles(SEED)
    assert cycles[0] == Cycle("2018年第三季度", date(2018, 7, 1), date(2018, 7, 20))
    assert [c.due_date for c in cycles[2:6]] == [date(2019, 1, 20), date(2019, 4, 20),
                                                date(2019, 7, 20), date(2019, 10, 20)]
    assert cycles[-1].due_date == date(2020, 10, 20)


def test_every_half_year():
    cycles = parse_deadline("每半年").cycles(SEED)
    assert cycles[:2] == [Cycle("2018年上半年", ISSUED, date(2018, 6, 30)),
                          Cycle("2018年下半年", date(2018, 7, 1), date(2018, 12, 31))]
    assert len(cycles) == 6


def test_every_month_on_a_day_clamps_short_months():
    cycles = parse_deadline("每月10日前").cycles(SEED)
    assert cycles[0] == Cycle("2018年6月", date(2018, 6, 1), date(2018, 6, 10))
    assert cycles[-1].label == "2020年12月" and len(cycles) == 7 + 24
    feb = [c for c in parse_deadline("每月31日前").cycles(SEED) if c.label == "2019年2月"]
    assert feb == [Cycle("2019年2月", date(2019, 2, 1), date(2019, 2, 28))]
    assert parse_deadline("每月三十一日前").cycles(SEED)[0].label == "2018年5月"


def test_every_two_years_is_a_selection_rule():
    assert parse_deadline("每两年").kind == "selection"
    assert dues(parse_deadline("每两年")) == [date(2018, 12, 31), date(2020, 12, 31)]


def test_working_days_from_assignment():
    rule = parse_deadline("5个工作日内")
    assert rule == RelativeRule("5个工作日内", days=5, working_days=True)
    # Friday 2018-09-28: Sat 29 and Sun 30 are make-up days, then the National Day week.
    assert rule.due_after_assignment(date(2018, 9, 28), SEED) == date(2018, 10, 10)
    assert rule.cycles(SEED) == [Cycle("自交办之日起5个工作日内", ISSUED, date(2018, 6, 6))]


def test_calendar_days_roll_forward_off_a_holiday():
    rule = parse_deadline("10日内")
    assert rule == RelativeRule("10日内", days=10, working_days=False)
    assert rule.due_after_assignment(date(2018, 9, 21), SEED) == date(2018, 10, 8)  # 10-01 off
    assert rule.due_after_assignment(date(2018, 9, 19), SEED) == date(2018, 9, 29)  # make-up Sat
    assert parse_deadline("10天内").cycles(SEED)[0].label == "自交办之日起10日内"


def test_working_day_rule_needs_a_calendar():
    ctx = RuleContext(start=ISSUED, horizon_year=2020)
    with pytest.raises(PolicyError, match="工作日"):
        parse_deadline("3个工作日内").cycles(ctx)
    assert dues(parse_deadline("3日内"), ctx) == [date(2018, 6, 4)]  # Sat 06-02 rolls to Mon


@pytest.mark.parametrize("phrase", ["长期坚持", "持续推进"])
def test_open_ended(phrase):
    rule = parse_deadline(phrase)
    assert rule.kind == "open"
    assert rule.cycles(SEED) == [Cycle("长期", ISSUED, None)]
    assert rule.due_after_assignment(ISSUED, SEED) is None


def test_only_relative_rules_have_a_due_after_assignment():
    assert parse_deadline("每年年底前").due_after_assignment(ISSUED, SEED) is None


# --- numerals, widths, whitespace, errors ------------------------------------------------------

@pytest.mark.parametrize("phrase, due", [
    ("二〇一八年八月三十日前", date(2018, 8, 30)),
    ("二零一九年十二月十五日前", date(2019, 12, 15)),
    ("２０１８年８月３０日前", date(2018, 8, 30)),
    ("  2018年8月30日前\u3000", date(2018, 8, 30)),
    ("2018 年 8 月 30 日前", date(2018, 8, 30)),
    ("2018年8月30日之前。", date(2018, 8, 30)),
    ("二〇二〇年年底前", date(2020, 12, 31)),
])
def test_numerals_and_widths(phrase, due):
    assert dues(parse_deadline(phrase)) == [due]


def test_chinese_numeral_periods():
    assert parse_deadline("三个工作日内") == RelativeRule("三个工作日内", 3, True)
    assert parse_deadline("自交办之日起十五日内") == RelativeRule("自交办之日起十五日内", 15, False)
    phrase = "每个季度第一个月二十日前"
    assert parse_deadline(phrase) == QuarterlyRule(phrase, 1, 20)


def test_phrase_is_kept_stripped():
    assert parse_deadline(" 每年年底前 ").phrase == "每年年底前"


@pytest.mark.parametrize("phrase", ["", "尽快", "2018年8月", "每周五前", "2018年8月30日后",
                                    "8月30日前", "18年8月30日前"])
def test_unknown_phrase_raises_quoting_it(phrase):
    with pytest.raises(DeadlinePhraseError) as info:
        parse_deadline(phrase)
    assert f"「{phrase}」" in str(info.value)


@pytest.mark.parametrize("phrase", ["2018年2月30日前", "2019年2月29日前", "2018年13月底前",
                                    "0个工作日内", "每个季度第4个月20日前", "每月32日前"])
def test_impossible_dates_raise(phrase):
    with pytest.raises(DeadlinePhraseError, match=phrase):
        parse_deadline(phrase)


def test_recurring_periods_already_past_at_the_start_are_skipped():
    ctx = RuleContext(start=date(2018, 11, 1), horizon_year=2018)
    assert parse_deadline("每个季度第1个月20日前").cycles(ctx) == []
    ctx = RuleContext(start=date(2018, 11, 1), horizon_year=2019)
    assert dues(parse_deadline("每个季度第1个月20日前"), ctx)[0] == date(2019, 1, 20)
    assert dues(parse_deadline("每季度末"), ctx)[0] == date(2018, 12, 31)


def test_fixed_date_before_start_still_yields_its_cycle():
    ctx = RuleContext(start=date(2018, 9, 1), horizon_year=2020)
    assert parse_deadline("2018年8月30日前").cycles(ctx) == [
        Cycle("一次性", date(2018, 9, 1), date(2018, 8, 30))]


def test_horizon_before_start_is_an_error():
    with pytest.raises(PolicyError):
        RuleContext(start=ISSUED, horizon_year=2017)


def test_rule_from_dict_rejects_bad_data():
    for bad in ({"kind": "weekly", "phrase": "每周"}, {"kind": "fixed"},
                {"kind": "fixed", "phrase": "x", "month": 2, "day": 30, "year": 2018},
                {"kind": "yearly", "phrase": "每年", "extra": 1}):
        with pytest.raises(DeadlinePhraseError):
            rule_from_dict(bad)


# --- properties ------------------------------------------------------------------------------

STARTS = st.dates(min_value=date(2001, 1, 1), max_value=date(2035, 12, 31))


@st.composite
def contexts(draw):
    start = draw(STARTS)
    horizon = start.year + draw(st.integers(min_value=0, max_value=4))
    years = draw(st.lists(st.integers(start.year, horizon), min_size=1, max_size=3))
    return RuleContext(start, horizon, tuple(years), CAL)


def _cn(n: int) -> str:
    digits = "〇一二三四五六七八九"
    if n >= 1000:
        return "".join(digits[int(c)] for c in str(n))
    tens, ones = divmod(n, 10)
    head = ("" if tens < 2 else digits[tens]) + ("十" if tens else "")
    return head + (digits[ones] if ones else "")


RULES = st.one_of(
    st.builds(lambda d: FixedRule("x", d.year, d.month, d.day), STARTS),
    st.builds(lambda y, m: FixedRule("x", y, m), st.integers(2001, 2035), st.integers(1, 12)),
    st.just(FixedRule("年底前")), st.just(YearlyRule("每年年底前")),
    st.builds(lambda m, d: QuarterlyRule("x", m, d), st.integers(1, 3),
              st.none() | st.integers(1, 31)),
    st.just(HalfYearlyRule("每半年")), st.builds(lambda d: MonthlyRule("x", d),
                                               st.none() | st.integers(1, 31)),
    st.just(SelectionRule("评选当年年底前")),
    st.builds(lambda n, w: RelativeRule("x", n, w), st.integers(1, 60), st.booleans()),
    st.just(OpenRule("长期坚持")),
)


@FAST
@given(STARTS, st.sampled_from(["arabic", "fullwidth", "chinese"]))
def test_any_date_written_any_way_parses_to_itself(day, style):
    parts = (day.year, day.month, day.day)
    if style == "chinese":
        text = "{}年{}月{}日前".format(*map(_cn, parts))
    else:
        text = "{}年{}月{}日前".format(*parts)
        if style == "fullwidth":
            text = text.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    assert parse_deadline(text).cycles(SEED)[0].due_date == day


@FAST
@given(RULES)
def test_to_dict_round_trips_through_json(rule):
    data = json.loads(json.dumps(rule.to_dict()))
    assert rule_from_dict(data) == rule
    assert data["kind"] == rule.kind


@FAST
@given(contexts())
def test_yearly_cycles_are_ordered_with_dec_31_dues(ctx):
    cycles = YearlyRule("每年年底前").cycles(ctx)
    assert [c.due_date for c in cycles] == [date(y, 12, 31)
                                            for y in range(ctx.start.year, ctx.horizon_year + 1)]
    assert cycles[0].opens_on == ctx.start
    years = range(ctx.start.year, ctx.horizon_year + 1)
    assert [c.opens_on for c in cycles[1:]] == [date(y, 1, 1) for y in years[1:]]
    assert [c.label for c in cycles] == [f"{y}年度" for y in years]


@FAST
@given(st.integers(1949, 2100), st.integers(1, 12))
def test_month_end_rule_is_always_the_last_day_of_the_month(year, month):
    due = FixedRule("x", year, month).cycles(RuleContext(date(1949, 1, 1), 2100))[0].due_date
    assert due is not None and (due.year, due.month) == (year, month)
    assert (due + timedelta(days=1)).day == 1


@FAST
@given(RULES, contexts())
def test_recurring_cycles_are_ordered_unique_and_within_the_horizon(rule, ctx):
    cycles = rule.cycles(ctx)
    # Only a rule due early in its period can have every due of the horizon before the start.
    assert cycles or (rule.kind in ("quarterly", "monthly") and ctx.start.month >= 10)
    assert all(c.opens_on >= ctx.start for c in cycles)
    assert len({c.label for c in cycles}) == len(cycles)
    if rule.kind in ("yearly", "quarterly", "half_yearly", "monthly", "selection"):
        due = [c.due_date for c in cycles]
        assert due == sorted(due) and len(set(due)) == len(due)
        assert all(d is not None and ctx.start <= d <= date(ctx.horizon_year, 12, 31)
                   for d in due)
        assert all(c.opens_on <= c.due_date for c in cycles if c.due_date)


@FAST
@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2035, 6, 30)),
       st.integers(1, 60), st.booleans())
def test_relative_due_is_never_on_a_non_working_day(assigned, n, working):
    rule = RelativeRule("x", n, working)
    due = rule.due_after_assignment(assigned, SEED)
    assert CAL.is_working_day(due)
    if working:
        assert CAL.working_days_between(assigned, due) == n
    else:
        plain = assigned + timedelta(days=n)
        assert due == CAL.roll_forward(plain) and due - plain < timedelta(days=12)


# --- phrases of other decomposition tables (the importer's, shared/notes/domain.md) ------------

@pytest.mark.parametrize("phrase, due", [
    ("9月底", date(2018, 9, 30)), ("11月底前", date(2018, 11, 30)), ("9月末", date(2018, 9, 30)),
    ("十一月底前", date(2018, 11, 30)), ("上半年", date(2018, 6, 30)),
    ("下半年", date(2018, 12, 31)), ("2019年上半年", date(2019, 6, 30)),
    ("2019年下半年前", date(2019, 12, 31)), ("年内", date(2018, 12, 31)),
    ("2019年第三季度末", date(2019, 9, 30)), ("2019年二季度", date(2019, 6, 30)),
])
def test_year_less_month_ends_and_half_years(phrase, due):
    rule = parse_deadline(phrase)
    assert rule.kind == "fixed" and rule.phrase == phrase
    assert dues(rule) == [due]


def test_year_less_month_end_has_no_year_of_its_own():
    assert parse_deadline("9月底") == FixedRule("9月底", None, 9)
    ctx = RuleContext(start=date(2022, 3, 1), horizon_year=2022)
    assert dues(parse_deadline("9月底"), ctx) == [date(2022, 9, 30)]


def test_last_month_of_each_quarter_on_a_day():
    rule = parse_deadline("每季度末月25日前")
    assert rule == QuarterlyRule("每季度末月25日前", 3, 25)
    assert dues(rule)[:2] == [date(2018, 6, 25), date(2018, 9, 25)]


@pytest.mark.parametrize("phrase", ["持续开展", "长期推进", "常态化推进"])
def test_more_open_ended_phrases(phrase):
    assert parse_deadline(phrase).kind == "open"


@pytest.mark.parametrize("phrase", ["13月底", "2019年第五季度", "尽快", "及时", "适时"])
def test_new_patterns_still_refuse_nonsense(phrase):
    with pytest.raises(DeadlinePhraseError, match=phrase):
        parse_deadline(phrase)
