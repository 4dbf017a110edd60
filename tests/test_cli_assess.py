"""``duban assess --year Y [--policy ID] [--json] [--xlsx FILE]`` as an operator runs it: the
JSON contract of shared/DESIGN.md, byte-identical output, the workbook read back, exit codes."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cli.main import main
from cli.policy import display_width


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """A database ticked from the issue day to 2018-09-10: 芜湖 reports task 1 in time (a day
    after its 签收 was due) and is approved, the other cities stay silent (签收 and progress
    late, 催办 on 08-31, named in August's bulletin on 09-03, 督办通知 on 09-07)."""
    tmp = tmp_path_factory.mktemp("assess-cli")
    mp = pytest.MonkeyPatch()
    mp.setenv("DUBAN_DATA_DIR", str(tmp / "var"))
    mp.setenv("DUBAN_CLOCK", "2018-05-30")
    mp.delenv("DUBAN_DATABASE_URL", raising=False)
    mp.delenv("DUBAN_SMTP_URL", raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.stdout if code == 0 else result.stderr

    run("init", "--demo")
    run("tick", "--until", "2018-06-02")
    item = next(i["id"] for i in json.loads(run("work", "list", "--unit", "wuhu", "--json"))
                if i["kind"] == "evidence")
    run("work", "submit", str(item), "--as", "wuhu", "--text", "已出台")
    review = int(re.search(r"#(\d+)", run("work", "list", "--review")).group(1))
    run("work", "review", str(review), "--as", "duchao", "--approve")
    run("tick", "--until", "2018-09-10")
    run.tmp = tmp  # type: ignore[attr-defined]
    yield run
    mp.undo()


def test_json_contract_and_score_is_base_plus_items(cli):
    out = json.loads(cli("assess", "--year", "2018", "--json"))
    assert set(out) >= {"year", "policy", "base", "rules", "units"}
    assert (out["year"], out["policy"], out["base"]) == (2018, None, 100)
    assert {r["key"] for r in out["rules"]} >= {"on_time", "late", "no_action", "urge", "notice"}
    for unit in out["units"]:
        assert set(unit) >= {"unit_id", "unit", "score", "rank", "grade", "items"}
        assert unit["score"] == out["base"] + sum(i["points"] for i in unit["items"])
        for item in unit["items"]:
            assert set(item) >= {"rule", "points", "reason", "date", "ref"}
            assert set(item["ref"]) == {"type", "id"}
    units = {u["unit_id"]: u for u in out["units"]}
    wuhu = sorted((i["rule"], i["points"], i["date"]) for i in units["wuhu"]["items"])
    assert wuhu == [("ack_late", -1, "2018-06-02"), ("ack_late", -1, "2018-06-02"),
                    ("early", 0.5, "2018-06-02"), ("on_time", 1, "2018-06-02"),
                    ("progress_late", -2, "2018-06-26")]  # 签收 on 06-02 by its report
    assert units["wuhu"]["rank"] == 1 and units["wuhu"]["score"] == 97.5
    hefei = sorted((i["rule"], i["points"], i["date"]) for i in units["hefei"]["items"])
    assert hefei == [("ack_late", -1, "2018-06-02"), ("ack_late", -1, "2018-06-02"),
                     ("no_action", -10, "2018-08-31"), ("notice", -3, "2018-09-07"),
                     ("progress_late", -2, "2018-06-26"), ("progress_late", -2, "2018-06-26"),
                     ("urge", -1, "2018-08-31")]  # named in a bulletin is no criticism
    assert units["hefei"]["score"] == 80 and units["hefei"]["grade"] == "合格"
    assert "安徽省财政厅" in out["not_assessed"]


def test_the_same_record_prints_the_same_bytes(cli):
    first = cli("assess", "--year", "2018", "--json")
    assert cli("assess", "--year", "2018", "--json") == first
    scoped = cli("assess", "--year", "2018", "--policy", "anhui-2018-zjtx", "--json")
    assert json.loads(scoped)["units"] == json.loads(first)["units"]  # the only policy
    assert cli("assess", "--year", "2018") == cli("assess", "--year", "2018")


def test_text_output_explains_each_point(cli):
    out = cli("assess", "--year", "2018")
    assert out.splitlines()[0] == "2018年度考核（全部政策，起评分 100，截至 2018-09-09，未发布）"
    assert re.search(r"^ +1  芜湖市人民政府 +97.5  优秀$", out, re.M)
    assert "-10  无正当理由逾期未办理：任务1（一次性）截止2018年8月30日" in out
    assert "不参加考核（本年度无牵头任务）：" in out
    ranked = [ln for ln in out.splitlines() if re.match(r" +\d+  ", ln)]
    assert len(ranked) > 16  # the score column aligned, whatever the name
    assert len({display_width(ln.rsplit("  ", 1)[0]) for ln in ranked}) == 1


def test_xlsx_reads_back_as_the_json(cli):
    from openpyxl import load_workbook

    path = cli.tmp / "考核.xlsx"
    out = json.loads(cli("assess", "--year", "2018", "--json", "--xlsx", str(path)))
    book = load_workbook(path)
    ranking = [row for row in book["排名"].iter_rows(min_row=4, values_only=True)]
    assert [r[:4] for r in ranking] == [(u["rank"], u["unit"], u["score"], u["grade"])
                                         for u in out["units"]]
    details = [row for row in book["明细"].iter_rows(min_row=2, values_only=True)]
    expected = [(u["unit"], i["points"], i["date"], i["reason"],
                 f"{i['ref']['type']}#{i['ref']['id']}") for u in out["units"] for i in u["items"]]
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in details] == expected


def test_unknown_policy_and_bad_year(cli):
    assert "政策“nope”不存在" in cli("assess", "--year", "2018", "--policy", "nope", code=2)
    cli("assess", "--year", "二〇一八", code=2)
    assert "2019年度尚未开始" in cli("assess", "--year", "2019", code=2)  # the clock is in 2018
