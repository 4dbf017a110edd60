"""Bad configuration (issue 10, item 5): one line on stderr naming what is wrong, a non-zero exit,
for ``duban tick`` and for ``duban serve`` (which then never starts)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pg
import pytest
from click.testing import CliRunner
from reliability_tools import ROOT, duban, duban_env, lines

START = "2018-05-30"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory after ``duban init`` on a simulated clock (SQLite)."""
    data = tmp_path_factory.mktemp("deployment") / "var"
    done = duban(duban_env(data, clock=START), "init")
    assert done.returncode == 0, done.stderr
    return data


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A policy file that is not YAML, and a copy of the policy whose task 1 BPMN is not XML."""
    base = tmp_path_factory.mktemp("files")
    broken = base / "broken.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    copy = base / "workflows"
    shutil.copytree(ROOT / "workflows", copy)
    (copy / "task_01.bpmn").write_text("这不是 XML，而是一段文字\n", encoding="utf-8")
    return {"broken": broken, "not_xml": copy / "anhui-2018-zjtx.yaml"}


def _cases(files: dict[str, Path], tmp: Path) -> dict[str, tuple[dict[str, str | None], str]]:
    """name -> (settings, what the line must say)."""
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{pg.free_port()}/duban"
    return {
        "broken policy file": ({"policy_file": str(files["broken"])}, "YAML 格式错误"),
        "non-XML BPMN": ({"policy_file": str(files["not_xml"])}, "task_01.bpmn”不是有效的 XML"),
        "bad database URL": ({"database_url": "mysql://u@h/db"}, "DUBAN_DATABASE_URL"),
        "unparsable database URL": ({"database_url": "://"}, "DUBAN_DATABASE_URL"),
        "unreachable PostgreSQL": ({"database_url": unreachable}, "无法使用数据库"),
        "bad SMTP URL": ({"smtp_url": "smtp://"}, "DUBAN_SMTP_URL"),
        "upload limit not a number": ({"upload_max_bytes": "abc"}, "DUBAN_UPLOAD_MAX_BYTES"),
        "different DUBAN_CLOCK": ({"clock": "2018-06-01"}, "始于 2018-05-30"),
        "system clock on a simulated database": ({"clock": "system"}, "DUBAN_CLOCK='system'"),
        "bad log level": ({"log_level": "loud"}, "DUBAN_LOG_LEVEL"),
        "no schema": ({"data_dir": str(tmp / "empty")}, "尚未初始化"),
    }


CASES = list(_cases({"broken": Path(), "not_xml": Path()}, Path()))


@pytest.mark.parametrize("command", [["tick"], ["serve"]])
@pytest.mark.parametrize("case", CASES)
def test_bad_setting_is_one_line_and_a_refusal(case, command, deployment, files, tmp_path):
    settings, says = _cases(files, tmp_path)[case]
    env = duban_env(deployment, clock=START)
    env.update({f"DUBAN_{k.upper()}": v for k, v in settings.items() if v is not None})
    if command == ["serve"]:
        command = ["serve", "--port", str(pg.free_port())]
    result = duban(env, *command, timeout=300)  # a serve that starts would never return
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    [line] = lines(result.stderr)
    assert line.startswith("错误：") and says in line, line
    print(f"\n{case} | duban {command[0]} | exit {result.returncode} | {line}")


@pytest.mark.parametrize("command", [["tick"], ["scheduler"], ["serve"]])
def test_at_the_default_log_level_too(command, deployment):
    """The other tests run at WARNING; at the default INFO Alembic's seven plugin lines came
    before the one line of a bad setting, and SpiffWorkflow's task states buried the steps."""
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{pg.free_port()}/duban"
    env = duban_env(deployment, clock=START, log_level=None, database_url=unreachable)
    if command == ["serve"]:
        command = ["serve", "--port", str(pg.free_port())]
    result = duban(env, *command, timeout=300)
    assert result.returncode == 2
    [line] = lines(result.stderr)
    assert line.startswith("错误：无法使用数据库"), line
    if command == ["tick"]:
        ok = duban(duban_env(deployment, clock=START, log_level=None), "tick")
        assert ok.returncode == 0 and "alembic" not in ok.stderr, ok.stderr
        assert "open_cycles" in ok.stderr and "spiff." not in ok.stderr, ok.stderr


def test_unset_clock_follows_the_database(deployment):
    env = duban_env(deployment, clock=None)
    result = duban(env, "tick")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{START}：")


def test_tick_exits_1_when_a_step_fails(tmp_path, monkeypatch):
    from cli.main import main
    from notifications import tick

    env = duban_env(tmp_path / "var", clock=START)
    assert duban(env, "init").returncode == 0
    for key, value in env.items():
        if key.startswith("DUBAN_"):
            monkeypatch.setenv(key, value)

    def broken(_rt):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(tick, "STEPS", [("broken", broken), *tick.STEPS[:1]])
    for args in (["tick"], ["tick", "--until", "2018-05-31"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "broken" in result.stderr.splitlines()[-1]
    again = CliRunner().invoke(main, ["tick", "--until", "2018-05-30"])  # not recorded as done
    assert again.exit_code == 1 and again.stdout == ""


def test_a_tick_at_the_default_level_prints_no_workflow_state_lines(tmp_path):
    """A tick that starts processes printed a SpiffWorkflow line per task state change at the
    default INFO level (479 on the first day of the 2018 policy; 862 in a replay's output)."""
    env = duban_env(tmp_path / "var", clock=START, log_level=None)
    assert duban(env, "init").returncode == 0
    result = duban(env, "tick")
    assert result.returncode == 0, result.stderr
    assert "spiff" not in result.stderr, result.stderr[:500]
