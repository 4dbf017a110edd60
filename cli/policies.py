"""``duban policy import|list|export-bpmn|archive|activate`` and ``duban units list``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from cli.main import friendly, runtime

MAX_UPLOAD = 10 * 1024 * 1024


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="只预览，不写入数据库")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出预览（任务、问题、新单位）")
@click.option("--id", "policy_id", default=None, help="政策编号（默认：发布日期与文件摘要）")
@click.option("--title", default=None, help="政策标题（默认：从文件读取）")
@click.option("--issued-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="发布日期 YYYY-MM-DD（默认：从文件读取）")
@click.option("--create-units", is_flag=True, help="未登记的单位自动新建（否则视为错误）")
@click.option("--supervisor", default=None, help="督查单位编号（默认：现有政策的督查单位）")
@friendly
def import_policy(file: Path, dry_run: bool, as_json: bool, policy_id: str | None,
                  title: str | None, issued_on: datetime | None, create_units: bool,
                  supervisor: str | None) -> None:
    """导入任务分解表（.txt/.md、.csv、.xlsx、.docx、.pdf）：先预览，无错误才写入。"""
    from engine.access import Actor
    from engine.importing import ImportOptions, read_policy_file
    from engine.policy_import import Confirmation, confirm, default_policy_id, directory

    rt = runtime()
    options = ImportOptions(policy_id=policy_id, title=title,
                            issued_on=issued_on.date() if issued_on else None,
                            create_units=create_units)
    data = file.read_bytes()[:MAX_UPLOAD + 1]
    with rt.sessions() as s, s.begin():
        found = directory(s)
        result = read_policy_file(file.name, data, found, options)
        if result.policy.id is None and result.policy.issued_on is not None:
            result.policy.id = default_policy_id(result)
        preview = result.to_json(found)
        if not result.ok() or dry_run:
            _report(preview, as_json)
            raise click.exceptions.Exit(0 if result.ok() else 1)
        row = confirm(s, rt.clock, Actor.system(), result,
                      Confirmation(source_name=file.name, supervisor_unit_id=supervisor,
                                   create_units=create_units))
        preview["policy"]["id"], preview["version"] = row.id, row.version
    _report(preview, as_json, imported=True)


def _report(preview: dict[str, Any], as_json: bool, imported: bool = False) -> None:
    """The preview as JSON, or as lines a person reads."""
    if as_json:
        _dump(preview)
        return
    pol = preview["policy"]
    click.echo(f"{pol.get('title') or '（未读到标题）'}　{pol.get('issuer') or ''}　"
               f"{pol.get('issued_on') or '（未读到发布日期）'}　共 {len(preview['tasks'])} 项任务")
    for task in preview["tasks"]:
        click.echo(f"  {task['number']:>3}. {task['title']}｜牵头：{'、'.join(task['lead_units'])}"
                   f"｜时限：{task['deadline']}")
    for p in preview["problems"]:
        label = "错误" if p["severity"] == "error" else "提示"
        click.echo(f"{label}：{p['place']}：{p['message']}", err=p["severity"] == "error")
    if preview["new_units"]:
        click.echo(f"未登记的单位：{'、'.join(preview['new_units'])}", err=True)
    if imported:
        click.echo(f"已导入：{pol['id']}（第 {preview.get('version', 1)} 版）")


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@friendly
def list_policies(as_json: bool) -> None:
    """列出数据库中的全部政策（执行中与已归档）。"""
    from engine.policies import policies_json

    rt = runtime()
    with rt.sessions() as s:
        rows = policies_json(s)
    if as_json:
        _dump(rows)
        return
    for row in rows:
        state = "执行中" if row["status"] == "active" else "已归档"
        click.echo(f"{row['id']:<24} {state}  {row['issued_on']}  任务 {row['tasks']:>3}  "
                   f"事项 {row['obligations']:>5}  {row['title']}")


def show_stored(policy_id: str, as_json: bool) -> None:
    """``duban policy show ID``: a policy from the database."""
    from engine.policies import get, tasks_json

    rt = runtime()
    with rt.sessions() as s:
        row = get(s, policy_id)
        tasks = tasks_json(s, row)
        head = f"{row.title}\n{row.issuer}　{row.issued_on.isoformat()}　共 {len(tasks)} 项任务"
    if as_json:
        _dump(tasks)
        return
    click.echo(head)
    for t in tasks:
        due = "、".join(c["due_date"] or "长期" for c in t["cycles"]) or "长期"
        click.echo(f"  {t['number']:>3}. {t['title']}｜牵头：{'、'.join(t['lead_units'])}｜"
                   f"{t['deadline']}（{due}）")


@click.command("export-bpmn")
@click.argument("policy_id")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@friendly
def export_bpmn(policy_id: str, directory: Path) -> None:
    """把政策的每个流程写成 .bpmn 文件（bpmn.io、Camunda Modeler 可打开）。"""
    from engine.policies import export_bpmn as export

    rt = runtime()
    with rt.sessions() as s:
        written = export(s, policy_id, directory)
    for path in written:
        click.echo(str(path))
    click.echo(f"共 {len(written)} 个流程")


def _status_command(name: str, status: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("policy_id")
    @friendly
    def command(policy_id: str) -> None:
        from engine.access import Actor
        from engine.models import PolicyStatus
        from engine.policies import set_status

        rt = runtime()
        with rt.sessions() as s, s.begin():
            set_status(s, rt.clock, Actor.system(), policy_id, PolicyStatus(status))
        click.echo(f"{policy_id}：{'已归档' if status == 'archived' else '恢复执行'}")
    return command


archive = _status_command("archive", "archived", "归档政策：不再开启新周期，已有事项照常办理。")
activate = _status_command("activate", "active", "恢复执行已归档的政策。")


@click.group()
def units() -> None:
    """单位登记（各政策共用）。"""


@units.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@friendly
def list_units(as_json: bool) -> None:
    """列出全部单位：编号、今日名称、简称、类别、历史名称、别名。"""
    from engine.clock import today
    from engine.registry import units_json

    rt = runtime()
    with rt.sessions() as s:
        rows = units_json(s, today(rt.clock))
    if as_json:
        _dump(rows)
        return
    for row in rows:
        click.echo(f"{row['id']:<12} {row['kind']:<10} {row['name']}"
                   f"{'（' + row['short_name'] + '）' if row['short_name'] else ''}")
