"""The ``duban`` command line: a thin layer over the engine's service functions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeGuard, TypeVar

import click

from cli.help import ZhGroup
from engine.clock import CHINA_TZ, today
from engine.config import Config
from engine.errors import DubanError

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

    from engine.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
_URL: list[str] = []  # the database URL of the command's runtime, for error lines


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and a non-zero exit."""
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def _database_error(exc: BaseException) -> TypeGuard[SQLAlchemyError]:
    """Whether ``exc`` is SQLAlchemy's, without importing SQLAlchemy when nothing else has."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError)


def explain(exc: BaseException) -> str | None:
    """The one line for an error a user can fix (a setting, a file, the database), or None."""
    if isinstance(exc, DubanError):
        return str(exc)
    if _database_error(exc):
        from engine.health import database_problem

        return str(database_problem(exc, _URL[-1] if _URL else None))
    if isinstance(exc, OSError) and exc.filename:
        return f"无法访问 {exc.filename}：{exc.strerror}"
    return None


def friendly(fn: F) -> F:
    """Print the one line of a user-fixable error and exit 2 instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # explain() lets through what it cannot name
            message = explain(exc)
            if message is None:
                raise
            fail(message)

    return wrapper  # type: ignore[return-value]


# The command groups kept in modules of their own, imported when first used, with their help
# line here: ``duban --help`` lists them without importing SQLAlchemy, SpiffWorkflow or
# WeasyPrint (tests/test_cli_start.py checks the lines match the commands' own).
LAZY: dict[str, tuple[str, str]] = {
    "assess": ("cli.assess", "年度考核：每个单位的得分、名次、等次，每一分都可追溯到事实。"),
    "policy": ("cli.policy", "政策及其任务分解表。"),
    "units": ("cli.policies", "单位登记（各政策共用）。"),
    "work": ("cli.work", "待办事项：列出、报送、审核、延期、办理记录。"),
}


def _load(name: str) -> click.Command:
    """The command ``name`` of LAZY, imported now (``policy`` with its commands)."""
    import importlib

    command: click.Command = getattr(importlib.import_module(LAZY[name][0]), name)
    if name == "policy":
        from cli.policies import activate, archive, export_bpmn, import_policy, list_policies

        assert isinstance(command, click.Group)
        for sub in (import_policy, list_policies, export_bpmn, archive, activate):
            command.add_command(sub)
    return command


class DubanGroup(ZhGroup):
    """Every subcommand, even one without ``friendly``, ends a fixable error in one line; the
    groups of LAZY are imported when a command line names them, not to list them."""

    listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY and cmd_name not in self.commands:
            if self.listing:  # a stand-in that carries the help line only
                return click.Command(cmd_name, short_help=LAZY[cmd_name][1])
            self.add_command(_load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.listing = False

    def load_all(self) -> None:
        """Import every command now (for tools that walk ``commands``)."""
        for name in LAZY:
            self.get_command(click.Context(self), name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:  # explain() lets through what it cannot name
            message = explain(exc)
            if message is None:
                raise
            fail(message)


def runtime(*, quiet_steps: bool = False) -> Runtime:
    """The runtime configured by the environment, with logging set up from the same settings."""
    from engine.runtime import open_runtime

    config = runtime_config(quiet_steps=quiet_steps)
    _URL.append(config.database_url)
    return open_runtime(config)


def runtime_config(*, quiet_steps: bool = False) -> Config:
    """The configuration, with logging set up (commands that open no runtime of their own)."""
    from cli.logs import configure_logging

    config = Config.from_env()
    configure_logging(config, quiet_steps=quiet_steps)
    return config


def ready_runtime() -> Runtime:
    """A runtime whose database, policy, BPMN files and clock were checked (long runners)."""
    from engine.health import check_ready

    rt = runtime()
    check_ready(rt)
    return rt


@click.group(cls=DubanGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """督办：按政策的任务分解表交办、提醒、督办和通报。"""


@main.command()
@click.option("--demo", is_flag=True, help="为每个单位创建演示账号（密码只显示一次）")
@friendly
def init(demo: bool) -> None:
    """创建或升级数据库，载入政策及其流程。"""
    from engine.bootstrap import init_database

    rt = runtime()
    created = init_database(rt, demo=demo)
    click.echo(f"数据库已就绪：{rt.config.database_url}")
    if created:
        click.echo("新建账号（密码只显示这一次，请妥善保存）：")
        for acc in created:
            click.echo(f"  {acc.username:<12} {acc.password:<14} {acc.role.value:<10} "
                       f"{acc.unit_name}")


@main.command()
@click.option("--until", "until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              metavar="日期", help="模拟时钟逐日推进到该日期（YYYY-MM-DD），每天运行一次")
@friendly
def tick(until: datetime | None) -> None:
    """运行一次调度步骤；或在模拟时钟上逐日推进到指定日期。"""
    from notifications.advance import AdvanceStopped, advance
    from notifications.tick import run_tick

    rt = ready_runtime()
    if until is None:
        report = run_tick(rt)
        click.echo(f"{today(rt.clock)}：{report}")
        if report.failed:
            fail(f"调度步骤 {'、'.join(report.failed)} 失败（原因见日志）", 1)
        return
    try:
        days = advance(rt, until.date(), on_day=lambda day, report: click.echo(f"{day}：{report}"))
    except AdvanceStopped as exc:
        fail(str(exc), 1)
    if not days:
        click.echo(f"{until.date()}：此前各日的调度步骤都已运行，无需再推进")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, metavar="地址",
              help="监听地址")
@click.option("--port", default=5000, show_default=True, type=int, metavar="端口",
              help="监听端口")
@click.option("--no-scheduler", is_flag=True,
              help="不启动调度进程（另行运行 duban scheduler）")
@friendly
def serve(host: str, port: int, no_scheduler: bool) -> None:
    """启动网页服务（gunicorn 多进程），调度器作为单独的子进程运行一次。"""
    from web.serve import serve as run_server

    rt = ready_runtime()
    now = rt.clock.now().astimezone(CHINA_TZ)
    rt.sessions.kw["bind"].dispose()  # the checks' connections must not be shared by the workers
    click.echo(f"督办系统：http://{host}:{port}/  （当前时钟：{now:%Y-%m-%d %H:%M}；"
               f"{rt.config.web_workers} 个进程 × {rt.config.web_threads} 个线程）")
    run_server(rt, host, port, scheduler=not no_scheduler)


@main.command()
@click.option("--parent", type=int, default=None, hidden=True,
              help="随该进程结束（duban serve 启动调度进程时使用）")
@friendly
def scheduler(parent: int | None) -> None:
    """单独运行调度器（部署了多个网页进程时使用）。"""
    from notifications.scheduler import run_blocking

    run_blocking(ready_runtime(), parent=parent)


@main.command()
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              metavar="日期", help="回放起始日期（YYYY-MM-DD）")
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              metavar="日期", help="回放截止日期（YYYY-MM-DD）")
@click.option("--seed", default=1, show_default=True, type=int, metavar="整数",
              help="随机种子：相同的种子得到相同的结果")
@click.option("--out", "out", default="var/simulation", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), metavar="目录",
              help="文书 PDF 和 summary.json 的输出目录")
@click.option("--import", "imports", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="文件",
              help="同时运行的另一项政策（任务分解表文件，可重复）")
@friendly
def simulate(start: datetime, end: datetime, seed: int, out: Path,
             imports: tuple[Path, ...]) -> None:
    """在新数据库上按日回放政策执行，各单位按脚本办理。"""
    import json

    from simulator.replay import SimulationRequest, simulate, terminal_progress

    config = runtime_config(quiet_steps=True)
    req = SimulationRequest(start.date(), end.date(), seed, out,
                            database_url=config.simulation_database_url, smtp_url=config.smtp_url,
                            imports=imports)
    summary = simulate(req, progress=terminal_progress)
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
    click.echo(f"文书与汇总已写入 {out}")


@main.group()
def audit() -> None:
    """审计日志。"""


@audit.command("verify")
@friendly
def audit_verify() -> None:
    """校验审计日志的哈希链；被篡改时以状态 1 退出。"""
    from engine.audit import verify_chain

    rt = runtime()
    with rt.sessions() as s:
        report = verify_chain(s)
    if report.ok:
        click.echo(f"审计链完整：{report.count} 条记录")
        return
    click.echo(f"审计链被破坏：记录 #{report.first_bad_id}：{report.reason}", err=True)
    sys.exit(1)
