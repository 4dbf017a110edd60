"""``duban work ...``: list, submit, review, extend and trace work from the command line."""

from __future__ import annotations

import mimetypes
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from cli.main import friendly, runtime
from engine import queries, service
from engine.attachments import store_upload
from engine.clock import CHINA_TZ, today
from engine.errors import NotFoundError, ValidationError
from engine.lights import days_left, light
from engine.models import ItemStatus, User


def _actor(s: Session, username: str) -> service.Actor:
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFoundError(f"用户“{username}”不存在或已停用")
    return service.Actor.of(user)


@click.group()
def work() -> None:
    """Work items: list, submit, review, extensions, history."""


@work.command("list")
@click.option("--unit", default=None, help="单位编号，如 hefei")
@click.option("--review", is_flag=True, help="督查审核队列（代替 --unit）")
@click.option("--all", "show_all", is_flag=True, help="包括已报送和已办结")
@friendly
def list_items(unit: str | None, review: bool, show_all: bool) -> None:
    """A unit's open work (or the review queue), the earliest due first."""
    if not unit and not review:
        raise ValidationError("请指定 --unit 单位编号，或 --review 查看审核队列")
    rt = runtime()
    with rt.sessions() as s:
        day = today(rt.clock)
        statuses = list(ItemStatus) if show_all else list(queries.ACTIONABLE)
        items = (queries.review_queue(s, limit=1000) if review else
                 queries.inbox(s, unit or "", statuses=statuses, limit=1000))
        for it in items:
            left = days_left(it.due_date, day)
            when = "无期限" if left is None else (f"逾期{-left}天" if left < 0 else f"剩余{left}天")
            click.echo(f"#{it.id:<6} {light(it.status, it.due_date, day).label:<4} "
                       f"{it.status.label:<4} {it.due_date or '—'} {when:<8} {it.title}")
        click.echo(f"共 {len(items)} 项")


@work.command()
@click.argument("item_id", type=int)
@click.option("--as", "username", required=True, help="办理人用户名")
@click.option("--text", required=True, help="办理情况说明")
@click.option("--number", "numbers", multiple=True, help="指标值，如 cultivated=1000")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False))
@friendly
def submit(item_id: int, username: str, text: str, numbers: tuple[str, ...],
           files: tuple[str, ...]) -> None:
    """Submit evidence (lead unit) or a contribution (supporting unit)."""
    rt = runtime()
    parsed: dict[str, Any] = dict(_pair(n) for n in numbers)
    with rt.sessions() as s, s.begin():
        actor = _actor(s, username)
        ids = [store_upload(s, rt.clock, rt.config.blob_dir, filename=Path(f).name,
                            data=Path(f).read_bytes(), declared_type=mimetypes.guess_type(f)[0],
                            unit_id=actor.unit_id or "", max_bytes=rt.config.upload_max_bytes).id
               for f in files]
        s.flush()
        item = service.submit(s, rt.clock, actor, item_id, text=text, numbers=parsed,
                              attachment_ids=ids)
        click.echo(f"已报送：#{item.id} {item.title}")


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValidationError(f"指标应写成 名称=数值，而不是“{text}”")
    return key.strip(), value.strip()


@work.command()
@click.argument("item_id", type=int)
@click.option("--as", "username", required=True)
@click.option("--approve/--return", "approve", required=True, help="通过或退回")
@click.option("--reason", default=None, help="退回理由（退回时必填）")
@friendly
def review(item_id: int, username: str, approve: bool, reason: str | None) -> None:
    """Approve a submission or return it with a reason."""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        item = service.review(s, rt.clock, _actor(s, username), item_id, approve=approve,
                              reason=reason)
        click.echo(("已通过：" if approve else "已退回：") + f"#{item.id}")


@work.command()
@click.argument("item_id", type=int)
@click.option("--as", "username", required=True)
@click.option("--date", "new_due", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--reason", required=True)
@click.option("--progress", default=None)
@friendly
def extend(item_id: int, username: str, new_due: datetime, reason: str,
           progress: str | None) -> None:
    """Request an extension (延期申请) of a lead item."""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        req = service.request_extension(s, rt.clock, _actor(s, username), item_id,
                                        new_due=new_due.date(), reason=reason, progress=progress)
        click.echo(f"已提交延期申请 #{req.id}：{req.old_due_date} → {req.requested_due_date}")


@work.command()
@click.argument("request_id", type=int)
@click.option("--as", "username", required=True)
@click.option("--approve/--reject", "approve", required=True)
@click.option("--date", "due", default=None, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--note", default=None)
@friendly
def decide(request_id: int, username: str, approve: bool, due: datetime | None,
           note: str | None) -> None:
    """Approve (optionally with another date) or reject an extension request."""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        req = service.decide_extension(s, rt.clock, _actor(s, username), request_id,
                                       approve=approve, due=due.date() if due else None, note=note)
        outcome = f"已批准，新截止日期 {req.decided_due_date}" if approve else "已驳回"
        click.echo(f"延期申请 #{req.id}：{outcome}")


@work.command()
@click.argument("item_id", type=int)
@friendly
def history(item_id: int) -> None:
    """The history of a work item's obligation (every audited change, in order)."""
    rt = runtime()
    with rt.sessions() as s:
        detail = queries.item_detail(s, service.Actor.system(), item_id)
        click.echo(f"任务{detail.task.number} {detail.task.title} / {detail.cycle.label} / "
                   f"{detail.instance.lead_unit.name_on(today(rt.clock))}")
        for ev in detail.history:
            when = ev.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
            click.echo(f"{when} {ev.actor:<10} {ev.action:<18} {ev.object_type}#{ev.object_id}")
