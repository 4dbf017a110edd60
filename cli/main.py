"""The ``duban`` command line: a thin layer over the engine's service functions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.clock import CHINA_TZ, today
from engine.config import Config
from engine.errors import DubanError
from engine.runtime import Runtime, open_runtime

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Print a DubanError's message and exit 2 instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DubanError as exc:
            click.echo(f"错误：{exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def runtime() -> Runtime:
    """The runtime configured by the environment."""
    return open_runtime()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """督办 Duban: supervise a policy's task-decomposition table."""


@main.command()
@click.option("--demo", is_flag=True, help="为每个单位创建演示账号（密码只显示一次）")
@friendly
def init(demo: bool) -> None:
    """Create or upgrade the schema and load the policy and its processes."""
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
              help="模拟时钟逐日推进到该日期，每天运行一次")
@friendly
def tick(until: datetime | None) -> None:
    """Run the scheduler's steps once now, or day by day to a date on a simulated clock."""
    from notifications.advance import advance
    from notifications.tick import run_tick

    rt = runtime()
    if until is None:
        click.echo(f"{today(rt.clock)}：{run_tick(rt)}")
        return
    advance(rt, until.date(), on_day=lambda day, report: click.echo(f"{day}：{report}"))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True,
              help="不在本进程运行调度器（另行运行 duban scheduler）")
@friendly
def serve(host: str, port: int, no_scheduler: bool) -> None:
    """Serve the web app (gunicorn) with the scheduler in the same process."""
    from web.serve import serve as run_server

    rt = runtime()
    now = rt.clock.now().astimezone(CHINA_TZ)
    click.echo(f"督办系统：http://{host}:{port}/  （当前时钟：{now:%Y-%m-%d %H:%M}）")
    run_server(rt, host, port, scheduler=not no_scheduler)


@main.command()
@friendly
def scheduler() -> None:
    """Run the scheduler alone (for deployments with several web processes)."""
    from notifications.scheduler import run_blocking

    run_blocking(runtime())


@main.command()
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--out", "out", default="var/simulation", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--import", "imports", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="同时运行的另一项政策（任务分解表文件，可重复）")
@friendly
def simulate(start: datetime, end: datetime, seed: int, out: Path,
             imports: tuple[Path, ...]) -> None:
    """Replay the policy day by day on a fresh database with scripted units."""
    import json

    from simulator.replay import SimulationRequest, simulate, terminal_progress

    config = Config.from_env()
    req = SimulationRequest(start.date(), end.date(), seed, out,
                            database_url=config.simulation_database_url, smtp_url=config.smtp_url,
                            imports=imports)
    summary = simulate(req, progress=terminal_progress)
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
    click.echo(f"文书与汇总已写入 {out}")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@friendly
def audit_verify() -> None:
    """Check the audit log's hash chain; exit 1 if it was tampered with."""
    from engine.audit import verify_chain

    rt = runtime()
    with rt.sessions() as s:
        report = verify_chain(s)
    if report.ok:
        click.echo(f"审计链完整：{report.count} 条记录")
        return
    click.echo(f"审计链被破坏：记录 #{report.first_bad_id}：{report.reason}", err=True)
    sys.exit(1)


def _register() -> None:
    """Attach the command groups that live in their own modules."""
    from cli.policies import activate, archive, export_bpmn, import_policy, list_policies, units
    from cli.policy import policy
    from cli.work import work

    for command in (import_policy, list_policies, export_bpmn, archive, activate):
        policy.add_command(command)
    main.add_command(policy)
    main.add_command(units)
    main.add_command(work)


_register()
