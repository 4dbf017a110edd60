"""``duban assess --year Y [--policy ID] [--json] [--xlsx FILE]``: a year's 考核."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.main import friendly, runtime


@click.command()
@click.option("--year", type=int, required=True, help="考核年度，如 2018")
@click.option("--policy", "policy_id", default=None, help="政策编号（默认：全部政策合并考核）")
@click.option("--json", "as_json", is_flag=True,
              help="以 JSON 输出（每个单位的得分、名次、等次和明细）")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="另存为 Excel 文件")
@friendly
def assess(year: int, policy_id: str | None, as_json: bool, xlsx: Path | None) -> None:
    """年度考核：每个单位的得分、名次、等次，每一分都可追溯到事实。"""
    from engine.clock import today
    from notifications.assessment_store import assess as compute
    from notifications.assessment_xlsx import workbook

    rt = runtime()
    with rt.sessions() as s:
        if policy_id:
            from engine.policies import get

            get(s, policy_id)
        result = compute(s, year, today(rt.clock), policy_id)
    if xlsx is not None:
        xlsx.write_bytes(workbook(result, policy_id or "全部政策"))
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    state = "已发布" if result.published else f"截至 {result.as_of.isoformat()}，未发布"
    scope = policy_id or "全部政策"
    click.echo(f"{year}年度考核（{scope}，起评分 {result.rules.base:g}，{state}）")
    from cli.policy import pad

    for unit in result.units:  # names padded by terminal columns (a CJK character is two)
        click.echo(f"{unit.rank:>3}  {pad(unit.unit, 30)} {unit.score:>7g}  {unit.grade}")
        for item in unit.items:
            click.echo(f"       {item['points']:>+6g}  {item['label']}：{item['reason']}")
    if result.not_assessed:
        click.echo(f"不参加考核（本年度无牵头任务）：{'、'.join(result.not_assessed)}")
    if xlsx is not None:
        click.echo(f"已写入 {xlsx}")
