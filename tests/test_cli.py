"""The ``duban`` command line driving the engine on a simulated clock, as an operator would."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from cli.main import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DUBAN_CLOCK", "2018-05-30")
    monkeypatch.delenv("DUBAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("DUBAN_SMTP_URL", raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.stdout if code == 0 else result.stderr  # stderr has the log lines too

    run.db = f"sqlite:///{tmp_path / 'var' / 'duban.db'}"  # type: ignore[attr-defined]
    return run


def _first_id(listing: str) -> int:
    """The first item of a listing that takes evidence, a contribution or a review (not a
    签收, progress or plan item, which come first: they are due sooner)."""
    return int(re.search(r"^#(\d+)(?!.*(签收|进展报送|形象进度) 任务)", listing, re.M).group(1))


def test_init_tick_submit_review_history_and_audit(cli, tmp_path):
    out = cli("init", "--demo")
    assert "hefei" in out and "duchao" in out and "合肥市人民政府" in out
    assert "新建账号" not in cli("init", "--demo")  # idempotent, passwords shown once
    days = cli("tick", "--until", "2018-06-02").splitlines()
    assert [d[:10] for d in days] == ["2018-05-30", "2018-05-31", "2018-06-01", "2018-06-02"]
    again = cli("tick", "--until", "2018-06-02").splitlines()  # every day done: nothing runs
    assert again == ["2018-06-02：此前各日的调度步骤都已运行，无需再推进"]
    rerun = cli("tick").splitlines()  # a plain tick repeats today: idempotent, nothing new
    assert len(rerun) == 1 and rerun[0].startswith("2018-06-02")
    assert all(part.endswith(" 0") for part in rerun[0].split("：", 1)[1].split("，"))
    listing = cli("work", "list", "--unit", "hefei")
    assert "报送‘地方版’政策措施制定情况" in listing and "剩余" in listing
    item = _first_id(listing)
    evidence = tmp_path / "合肥市政策.txt"
    evidence.write_text("合肥市“加强版”政策措施", encoding="utf-8")
    assert "已报送" in cli("work", "submit", str(item), "--as", "hefei", "--text", "已出台",
                           "--file", str(evidence))
    err = cli("work", "submit", str(item), "--as", "wuhu", "--text", "越权", code=2)
    assert "不存在" in err
    review = _first_id(cli("work", "list", "--review"))
    assert "退回理由" in cli("work", "review", str(review), "--as", "duchao", "--return", code=2)
    cli("work", "review", str(review), "--as", "duchao", "--return", "--reason", "缺少文件")
    assert "已退回" in cli("work", "list", "--unit", "hefei")
    history = cli("work", "history", str(item))
    assert "报送材料" in history and "退回修改" in history and "合肥市" in history
    assert "审计链完整" in cli("audit", "verify")


def test_extension_and_tampered_audit(cli):
    cli("init", "--demo")
    cli("tick")
    item = _first_id(cli("work", "list", "--unit", "hefei"))
    out = cli("work", "extend", str(item), "--as", "hefei", "--date", "2018-09-30",
              "--reason", "需提交常务会审议")
    req = int(re.search(r"#(\d+)", out).group(1))
    assert "2018-09-30" in cli("work", "decide", str(req), "--as", "duchao", "--approve")
    assert "2018-09-30" in cli("work", "list", "--unit", "hefei")
    engine = create_engine(cli.db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = 3"))
    assert "#3" in cli("audit", "verify", code=1)


def test_tick_until_refuses_the_system_clock(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("DUBAN_CLOCK", "system")
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path / "other"))
    cli("init")
    assert "模拟时钟" in cli("tick", "--until", "2018-07-01", code=2)


@pytest.mark.parametrize("command", [
    ("ack", "--as", "hefei"), ("report", "--as", "hefei", "--text", "x"), ("history",),
    ("decide", "--as", "duchao", "--approve"), ("review", "--as", "duchao", "--approve")])
@pytest.mark.parametrize("number", ["99999999999999999999999", "0", "²"])
def test_an_id_no_column_can_hold_is_refused_without_a_traceback(cli, command, number):
    """``duban work ack 99999999999999999999999`` was SQLite's OverflowError as a traceback."""
    cli("init")
    err = cli("work", command[0], number, *command[1:], code=2)
    assert "不是有效的编号" in err and "Traceback" not in err
