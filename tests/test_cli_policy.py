"""``duban policy show``: the JSON contract, the aligned Chinese table, exit 2 on a bad file."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.policy import LINE_WIDTH, display_width, pad, policy, wrap_items, wrap_text
from engine.config import DEFAULT_POLICY, WORKFLOWS_DIR

CITY_NAMES = ["合肥市人民政府", "芜湖市人民政府", "蚌埠市人民政府", "淮南市人民政府",
              "马鞍山市人民政府", "淮北市人民政府", "铜陵市人民政府", "安庆市人民政府",
              "黄山市人民政府", "阜阳市人民政府", "宿州市人民政府", "滁州市人民政府",
              "六安市人民政府", "宣城市人民政府", "池州市人民政府", "亳州市人民政府"]


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("DUBAN_POLICY_FILE", raising=False)
    return CliRunner()


def test_json_matches_the_contract(runner: CliRunner) -> None:
    result = runner.invoke(policy, ["show", "--json"])
    assert result.exit_code == 0, result.output
    tasks = json.loads(result.stdout)
    assert [t["number"] for t in tasks] == list(range(1, 9))
    for task in tasks:
        assert {"number", "title", "lead_units", "supporting_units", "more_units", "deadline",
                "targets", "process_id", "cycles"} <= task.keys()
        for cycle in task["cycles"]:
            assert set(cycle) == {"label", "opens_on", "due_date"}
            date.fromisoformat(cycle["opens_on"])
            assert cycle["due_date"] is None or date.fromisoformat(cycle["due_date"])
    assert tasks[0]["lead_units"] == CITY_NAMES
    assert tasks[0]["supporting_units"] == ["安徽省经济和信息化委员会"]  # the name on 2018-05-30
    assert tasks[0]["deadline"] == "2018年8月30日前"
    assert tasks[0]["cycles"][0]["due_date"] == "2018-08-30"
    assert tasks[1]["supporting_units"] == CITY_NAMES + ["安徽省财政厅"]
    assert tasks[4]["deadline"] == "评选当年年底前"
    assert [c["due_date"] for c in tasks[4]["cycles"]] == ["2018-12-31", "2020-12-31"]
    assert tasks[5]["lead_units"] == ["安徽省投资集团控股有限公司", "安徽省经济和信息化委员会"]
    assert [t["amount"] for t in tasks[1]["targets"]] == [1000, 500]
    assert tasks[6]["process_id"] == "task_07"


def test_file_option_reads_another_policy(runner: CliRunner, tmp_path: Path) -> None:
    copy = _copy_policy(tmp_path, DEFAULT_POLICY.read_text(encoding="utf-8").replace(
        "supporting: 省统计局等", "supporting: 省统计局"))
    result = runner.invoke(policy, ["show", "--json", "--file", str(copy)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[7]["more_units"] is False


def test_table_shows_chinese_names_aligned(runner: CliRunner) -> None:
    result = runner.invoke(policy, ["show"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("序号", "牵头单位", "配合单位", "时限", "周期与截止日期", "合肥市、芜湖市",
                 "省经信委等", "人行合肥中心支行等", "2018年8月30日前", "2018-08-30", "2020年度"):
        assert text in out
    label_width = display_width("周期与截止日期")
    body = [ln for ln in out.splitlines() if ln and not ln.startswith("─")][2:]
    assert len(body) > 8 * 6
    for line in body:
        head = re.match(r"\S*\s+", line)
        assert head is not None and display_width(head.group(0)) == label_width + 2, line
        assert display_width(line) <= LINE_WIDTH, line
    assert out.count("\n序号") == 8


def test_bad_file_exits_2_with_the_message(runner: CliRunner, tmp_path: Path) -> None:
    copy = _copy_policy(tmp_path, DEFAULT_POLICY.read_text(encoding="utf-8").replace(
        "lead: 省人力资源社会保障厅", "lead: 省人社局"))
    result = runner.invoke(policy, ["show", "--file", str(copy)])
    assert result.exit_code == 2
    assert "anhui.yaml" in result.stderr and "任务5: 牵头单位: 未知单位“省人社局”" in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(policy, ["show", "--json", "--file", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "none.yaml" in result.stderr and "无法读取政策文件" in result.stderr


def test_width_helpers() -> None:
    assert display_width("合肥a") == 5
    assert display_width(pad("省财政厅", 10)) == 10
    lines = wrap_items(["合肥市"] * 10, 20)
    assert all(display_width(ln) <= 20 for ln in lines)
    assert "".join(lines).replace("、", "") == "合肥市" * 10
    assert "".join(wrap_text("专精特新" * 9, 15)) == "专精特新" * 9
    assert max(display_width(ln) for ln in wrap_text("专精特新" * 9, 15)) <= 15


def _copy_policy(tmp_path: Path, text: str) -> Path:
    """Write ``text`` as anhui.yaml next to copies of the BPMN files."""
    for bpmn in WORKFLOWS_DIR.glob("task_*.bpmn"):
        shutil.copy(bpmn, tmp_path / bpmn.name)
    path = tmp_path / "anhui.yaml"
    path.write_text(text, encoding="utf-8")
    return path
