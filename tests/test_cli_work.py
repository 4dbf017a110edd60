"""``duban work``: the review queue names task, unit and cycle; history numbered in the audit
log's order on a standing clock; --number errors list the keys; every help text in Chinese."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from cli.main import DubanGroup, main
from tests.test_cli import _first_id, cli  # noqa: F401  (the fixture)

ENGLISH = ("Usage", "Options", "Commands", "Show this message", "[required]", "default:")


def _line_of(listing: str, item: int) -> str:
    return next(line for line in listing.splitlines() if line.startswith(f"#{item} "))


def test_review_queue_and_history_on_a_standing_clock(cli) -> None:  # noqa: F811
    cli("init", "--demo")
    cli("tick", "--until", "2018-06-02")  # the simulated clock now stands on 06-02
    item = _first_id(cli("work", "list", "--unit", "hefei"))
    cli("work", "submit", str(item), "--as", "hefei", "--text", "第一次")
    queue = cli("work", "list", "--review")
    review = _first_id(queue)
    line = _line_of(queue, review)
    assert "任务1" in line and "合肥市人民政府" in line and "一次性" in line
    assert "审核期限" in line
    cli("work", "review", str(review), "--as", "duchao", "--return", "--reason", "缺少文件")
    cli("work", "submit", str(item), "--as", "hefei", "--text", "第二次")
    cli("work", "review", str(_first_id(cli("work", "list", "--review"))), "--as", "duchao",
        "--approve")
    lines = [line for line in cli("work", "history", str(item)).splitlines()
             if re.match(r"\s*\d+\. ", line)]
    numbers = [int(line.split(".")[0]) for line in lines]
    assert numbers == list(range(1, len(lines) + 1))
    actions = [a for line in lines for a in ("报送材料", "退回修改", "审核通过") if a in line]
    assert actions == ["报送材料", "退回修改", "报送材料", "审核通过"]
    stamps = {re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line).group(0)  # type: ignore
              for line in lines[-4:]}
    assert len(stamps) == 1  # one instant for all four: only the numbers show the order


def test_number_errors_list_the_tasks_keys(cli) -> None:  # noqa: F811
    cli("init", "--demo")
    cli("tick")
    listing = cli("work", "list", "--unit", "jxw")
    task2 = next(line for line in listing.splitlines() if "报送年度培育入库和认定情况" in line)
    item = int(re.search(r"#(\d+)", task2).group(1))  # type: ignore[union-attr]
    err = cli("work", "submit", str(item), "--as", "jxw", "--text", "入库",
              "--number", "cultivated=1000", code=2)
    assert "没有指标“cultivated”" in err
    assert "pooled（培育入库“专精特新”中小企业）" in err and "certified（" in err
    err = cli("work", "submit", str(item), "--as", "jxw", "--text", "入库",
              "--number", "pooled=1.5", code=2)
    assert "应为整数" in err


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(group, DubanGroup):
        group.load_all()  # the groups imported on first use
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


@pytest.mark.parametrize("path", _commands(main), ids=lambda p: " ".join(p) or "duban")
def test_every_help_text_is_chinese(path: tuple[str, ...]) -> None:
    out = CliRunner().invoke(main, [*path, "--help"]).output
    for word in ENGLISH:
        assert word not in out, (path, word)
    description = out.split("\n\n")[1]
    assert re.search(r"[\u4e00-\u9fff]", description), (path, description)
    options = out.split("选项：", 1)[1]
    for line in options.splitlines():
        if line.strip().startswith("-"):
            assert re.search(r"[\u4e00-\u9fff]", line), (path, line)  # every option explained


def test_work_list_json_gives_every_kind_with_due_date_status_and_light(cli) -> None:  # noqa: F811
    import json

    cli("init", "--demo")
    cli("tick", "--until", "2018-06-02")  # 签收 due 06-01: the ack is overdue on 06-02
    rows = json.loads(cli("work", "list", "--unit", "hefei", "--json"))
    assert rows and all(set(r) == {"id", "policy", "task_number", "title", "kind", "role",
                                   "cycle", "due_date", "status", "light"} for r in rows)
    assert {r["kind"] for r in rows} == {"ack", "progress", "plan", "evidence", "contribution"}
    by_kind = {r["kind"]: r for r in rows if r["task_number"] == 1}  # hefei leads task 1
    assert set(by_kind) == {"ack", "progress", "plan", "evidence"}
    assert (by_kind["plan"]["due_date"], by_kind["plan"]["status"]) == ("2018-06-13", "open")
    ack, progress, evidence = by_kind["ack"], by_kind["progress"], by_kind["evidence"]
    assert (ack["due_date"], ack["status"], ack["light"], ack["role"]) == (
        "2018-06-01", "open", "red", "lead")
    assert (progress["due_date"], progress["light"]) == ("2018-06-25", "green")
    assert (evidence["due_date"], evidence["task_number"], evidence["cycle"]) == (
        "2018-08-30", 1, "一次性")
    assert {r["policy"] for r in rows} == {"anhui-2018-zjtx"}
    jxw = json.loads(cli("work", "list", "--unit", "jxw", "--policy", "anhui-2018-zjtx",
                         "--json"))
    assert {"contribution", "ack", "progress", "evidence"} <= {r["kind"] for r in jxw}
    assert {r["role"] for r in jxw if r["kind"] == "contribution"} == {"supporting"}
    cli("work", "submit", str(evidence["id"]), "--as", "hefei", "--text", "已完成")
    rows = json.loads(cli("work", "list", "--unit", "hefei", "--json"))
    statuses = {r["kind"]: (r["status"], r["light"]) for r in rows if r["task_number"] == 1}
    # handing in the evidence acknowledged the late ack and withdrew the open progress item
    # and the plan not yet proposed
    assert statuses == {"ack": ("closed", "grey"), "progress": ("cancelled", "grey"),
                        "plan": ("cancelled", "grey"),
                        "evidence": ("submitted", "green")}
    review = json.loads(cli("work", "list", "--unit", "dcs", "--json"))
    assert [r["kind"] for r in review] == ["review"] and review[0]["role"] == "supervisor"
    assert "不存在" in cli("work", "list", "--unit", "nowhere", "--json", code=2)
    assert "不存在" in cli("work", "list", "--unit", "hefei", "--policy", "x", "--json", code=2)


def test_ack_and_report_from_the_command_line(cli, tmp_path) -> None:  # noqa: F811
    import json

    cli("init", "--demo")
    cli("tick", "--until", "2018-06-20")
    rows = json.loads(cli("work", "list", "--unit", "jxw", "--json"))
    ack = next(r for r in rows if r["kind"] == "ack" and r["task_number"] == 2)
    progress = next(r for r in rows if r["kind"] == "progress" and r["task_number"] == 2)
    assert "已签收" in cli("work", "ack", str(ack["id"]), "--as", "jxw")
    assert "不能再办理" in cli("work", "ack", str(ack["id"]), "--as", "jxw", code=2)
    assert "不适用" in cli("work", "submit", str(progress["id"]), "--as", "jxw", "--text", "x",
                        code=2)
    note = tmp_path / "进展.txt"
    note.write_text("第二季度进展", encoding="utf-8")
    out = cli("work", "report", str(progress["id"]), "--as", "jxw", "--text", "已完成首批入库",
              "--number", "pooled=300", "--problems", "需财政厅明确资金", "--file", str(note))
    assert "已报送工作进展" in out
    rows = {r["id"]: r for r in json.loads(cli("work", "list", "--unit", "jxw", "--json"))}
    assert rows[ack["id"]]["status"] == "closed" and rows[ack["id"]]["light"] == "grey"
    assert rows[progress["id"]]["status"] == "closed"
    history = cli("work", "history", str(progress["id"]))
    assert "签收" in history and "报送工作进展" in history
