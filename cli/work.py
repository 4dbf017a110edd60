"""``duban work ...``: list, submit, review, extend and trace work from the command line."""

from __future__ import annotations

import json
import mimetypes
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from cli.help import ZhGroup
from cli.main import friendly, runtime
from engine import checkins, queries, service
from engine.attachments import store_upload
from engine.clock import CHINA_TZ, today
from engine.errors import NotFoundError, ValidationError
from engine.lights import days_left, light
from engine.models import Instance, ItemStatus, Policy, PolicyTask, Unit, User, WorkItem
from engine.queries import action_label
from engine.units import unit_names

OBJECTS = {"work_item": "事项", "instance": "督办事项", "extension": "延期申请"}


class IdType(click.ParamType):
    """An item or request number a database column can hold (a larger one was a traceback:
    SQLite's OverflowError)."""

    name = "编号"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        text = str(value)
        if text.isascii() and text.isdigit() and 0 < int(text) <= 2**63 - 1:
            return int(text)
        self.fail(f"“{value}”不是有效的编号（正整数）", param, ctx)


ID = IdType()


def _actor(s: Session, username: str) -> service.Actor:
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFoundError(f"用户“{username}”不存在或已停用")
    return service.Actor.of(user)


@click.group(cls=ZhGroup)
def work() -> None:
    """待办事项：列出、报送、审核、延期、办理记录。"""


@work.command("list")
@click.option("--unit", default=None, metavar="单位编号", help="单位编号，如 hefei")
@click.option("--review", is_flag=True, help="督查审核队列（代替 --unit）")
@click.option("--all", "show_all", is_flag=True, help="包括已报送和已办结")
@click.option("--policy", default=None, metavar="政策编号", help="只列出该政策的事项")
@click.option("--json", "as_json", is_flag=True,
              help="JSON 输出：单位的全部事项（各类、各状态），含 kind、status、light")
@friendly
def list_items(unit: str | None, review: bool, show_all: bool, policy: str | None,
               as_json: bool) -> None:
    """列出单位的待办（或督查审核队列），先到期的在前。"""
    if not unit and not review:
        raise ValidationError("请指定 --unit 单位编号，或 --review 查看审核队列")
    rt = runtime()
    with rt.sessions() as s:
        day = today(rt.clock)
        if unit and as_json:
            _check_unit(s, unit, policy)
            click.echo(json.dumps([r.to_json() for r in queries.unit_work(
                s, unit, day, policy=policy)], ensure_ascii=False, indent=2))
            return
        statuses = list(ItemStatus) if show_all else list(queries.ACTIONABLE)
        items = (queries.review_queue(s, limit=1000) if review else
                 queries.inbox(s, unit or "", statuses=statuses, limit=1000))
        labels = queries.instance_labels(s, (it.instance_id for it in items))
        if policy:
            _check_unit(s, unit or "", policy)
            keep = set(s.scalars(select(Instance.id).join(PolicyTask).where(
                PolicyTask.policy_id == policy)))
            items = [it for it in items if it.instance_id in keep]
        names = unit_names(s, day, {label[3] for label in labels.values()})
        for it in items:
            click.echo(_line(it, labels[it.instance_id], names, day, review))
        click.echo(f"共 {len(items)} 项")


def _check_unit(s: Session, unit: str, policy: str | None) -> None:
    """A clear refusal of an unknown unit or policy (an empty list would hide the typo)."""
    if unit and s.get(Unit, unit) is None:
        raise NotFoundError(f"单位“{unit}”不存在（单位编号见 duban units list）")
    if policy and s.get(Policy, policy) is None:
        raise NotFoundError(f"政策“{policy}”不存在（政策编号见 duban policy list）")


def _line(it: WorkItem, label: tuple[int, str, str, str, str], names: dict[str, str],
          day: date, review: bool) -> str:
    """One work item: id, light, status, due date and days, task, unit, cycle, title."""
    number, _title, cycle, lead, _policy = label
    left = days_left(it.due_date, day)
    when = "无期限" if left is None else (f"逾期{-left}天" if left < 0 else f"剩余{left}天")
    due = f"{'审核期限' if review else '截止'} {it.due_date or '—'}"
    return (f"#{it.id:<6} {light(it.status, it.due_date, day).label:<4} {it.status.label:<4} "
            f"{it.kind.label} 任务{number} {names.get(lead, lead)} {cycle} {due} {when} "
            f"{it.title}")


@work.command()
@click.argument("item_id", type=ID, metavar="事项编号")
@click.option("--as", "username", required=True, metavar="用户名", help="办理人用户名")
@click.option("--text", required=True, metavar="文字", help="办理情况说明")
@click.option("--number", "numbers", multiple=True, metavar="指标=数值",
              help="量化指标完成数，如 pooled=1000（可多次填写）")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              metavar="文件", help="佐证材料附件（可多次填写）")
@friendly
def submit(item_id: int, username: str, text: str, numbers: tuple[str, ...],
           files: tuple[str, ...]) -> None:
    """报送佐证材料（牵头单位）或配合情况（配合单位）。"""
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


@work.command()
@click.argument("item_id", type=ID, metavar="事项编号")
@click.option("--as", "username", required=True, metavar="用户名", help="联络员用户名")
@friendly
def ack(item_id: int, username: str) -> None:
    """签收交办的任务（签收事项）。"""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        item = checkins.acknowledge(s, rt.clock, _actor(s, username), item_id)
        click.echo(f"已签收：#{item.id}")


@work.command()
@click.argument("item_id", type=ID, metavar="事项编号")
@click.option("--as", "username", required=True, metavar="用户名", help="联络员用户名")
@click.option("--text", required=True, metavar="文字", help="已做工作和进展")
@click.option("--number", "numbers", multiple=True, metavar="指标=数值",
              help="截至目前的量化指标完成数，如 pooled=300（可多次填写）")
@click.option("--problems", default=None, metavar="文字", help="需协调解决的问题")
@click.option("--next-steps", default=None, metavar="文字", help="下一步工作安排")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              metavar="文件", help="附件（可多次填写）")
@friendly
def report(item_id: int, username: str, text: str, numbers: tuple[str, ...],
           problems: str | None, next_steps: str | None, files: tuple[str, ...]) -> None:
    """报送本期工作进展（进展报送事项）。"""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        actor = _actor(s, username)
        ids = _store(s, rt, actor, files)
        done = checkins.report_progress(s, rt.clock, actor, item_id, text=text,
                                        numbers=dict(_pair(n) for n in numbers),
                                        problems=problems, next_steps=next_steps,
                                        attachment_ids=ids)
        click.echo(f"已报送工作进展：#{done.work_item_id}")


def _store(s: Session, rt: Any, actor: service.Actor, files: tuple[str, ...]) -> list[int]:
    """Store the files as the actor's unit's uploads; their ids."""
    ids = [store_upload(s, rt.clock, rt.config.blob_dir, filename=Path(f).name,
                        data=Path(f).read_bytes(), declared_type=mimetypes.guess_type(f)[0],
                        unit_id=actor.unit_id or "", max_bytes=rt.config.upload_max_bytes).id
           for f in files]
    s.flush()
    return ids


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValidationError(f"指标应写成 名称=数值，而不是“{text}”")
    return key.strip(), value.strip()


@work.command()
@click.argument("item_id", type=ID, metavar="事项编号")
@click.option("--as", "username", required=True, metavar="用户名", help="督查人员用户名")
@click.option("--approve/--return", "approve", required=True, help="通过或退回")
@click.option("--reason", default=None, metavar="文字", help="退回理由（退回时必填）")
@friendly
def review(item_id: int, username: str, approve: bool, reason: str | None) -> None:
    """审核报送：通过（办结销号）或退回（须写明理由）。"""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        item = service.review(s, rt.clock, _actor(s, username), item_id, approve=approve,
                              reason=reason)
        click.echo(("已通过：" if approve else "已退回：") + f"#{item.id}")


@work.command()
@click.argument("item_id", type=ID, metavar="事项编号")
@click.option("--as", "username", required=True, metavar="用户名", help="申请人用户名")
@click.option("--date", "new_due", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              metavar="日期", help="申请延期至（YYYY-MM-DD）")
@click.option("--reason", required=True, metavar="文字", help="延期理由")
@click.option("--progress", default=None, metavar="文字", help="当前进展")
@friendly
def extend(item_id: int, username: str, new_due: datetime, reason: str,
           progress: str | None) -> None:
    """为牵头事项提出延期申请。"""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        req = service.request_extension(s, rt.clock, _actor(s, username), item_id,
                                        new_due=new_due.date(), reason=reason, progress=progress)
        click.echo(f"已提交延期申请 #{req.id}：{req.old_due_date} → {req.requested_due_date}")


@work.command()
@click.argument("request_id", type=ID, metavar="申请编号")
@click.option("--as", "username", required=True, metavar="用户名", help="督查人员用户名")
@click.option("--approve/--reject", "approve", required=True, help="批准或驳回")
@click.option("--date", "due", default=None, type=click.DateTime(formats=["%Y-%m-%d"]),
              metavar="日期", help="批准的截止日期（默认为申请的日期）")
@click.option("--note", default=None, metavar="文字", help="审批意见")
@friendly
def decide(request_id: int, username: str, approve: bool, due: datetime | None,
           note: str | None) -> None:
    """审批延期申请：批准（可另定日期）或驳回。"""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        req = service.decide_extension(s, rt.clock, _actor(s, username), request_id,
                                       approve=approve, due=due.date() if due else None, note=note)
        outcome = f"已批准，新截止日期 {req.decided_due_date}" if approve else "已驳回"
        click.echo(f"延期申请 #{req.id}：{outcome}")


@work.command()
@click.argument("item_id", type=ID, metavar="事项编号")
@friendly
def history(item_id: int) -> None:
    """事项所属督办事项的办理记录（审计日志的每一条，按记录顺序编号）。"""
    rt = runtime()
    with rt.sessions() as s:
        detail = queries.item_detail(s, service.Actor.system(), item_id)
        click.echo(f"任务{detail.task.number} {detail.task.title} / {detail.cycle.label} / "
                   f"{detail.instance.lead_unit.name_on(today(rt.clock))}")
        # numbered in the audit log's order, to the second: on a standing clock the entries
        # share their time and the number is what shows the order
        for seq, ev in enumerate(detail.history, start=1):
            when = ev.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
            what = OBJECTS.get(ev.object_type, ev.object_type)
            click.echo(f"{seq:>3}. {when} {ev.actor:<10} {action_label(ev.action)} "
                       f"（{what} #{ev.object_id}）")
