"""Measure how long a preview of a 171-task decomposition table takes (XLSX and text).

A synthetic 任务分解意见 of a city's government-work report: 12 parts, 171 tasks, 责任单位 and
配合单位 columns, mixed deadlines, a few targets. Run:
.venv/bin/python benchmarks/bench_import.py [--runs N]. Goal: under 2 s each (median).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402

from engine.importing import (  # noqa: E402
    ImportOptions,
    StaticDirectory,
    read_policy_file,
)
from engine.policy import UnitDef, UnitName  # noqa: E402

TASKS, PARTS = 171, 12
PARTS_CN = "一二三四五六七八九十"
DEADLINES = ("2022年6月底前", "年底前", "每季度末", "持续推进", "9月底", "每月10日前",
             "2022年10月31日前", "下半年", "11月底前", "长期坚持")
DEPARTMENTS = ("发改委", "财政局", "教育局", "科技局", "工信局", "公安局", "民政局", "司法局",
               "人社局", "自然资源局", "生态环境局", "住建局", "交通运输局", "水利局", "农业农村局",
               "商务局", "文旅局", "卫健委", "应急局", "审计局", "市场监管局", "统计局", "医保局",
               "行政审批局", "数据资源局", "金融办", "城管局", "林业局", "粮食局", "人防办")
HEADER = ["序号", "工作任务", "责任单位", "配合单位", "完成时限"]


def directory() -> StaticDirectory:
    """Thirty city departments and six districts (group 各区县政府)."""
    units = [UnitDef(f"d{i}", "department", (UnitName(f"东江市{d}", f"市{d}"),))
             for i, d in enumerate(DEPARTMENTS)]
    units += [UnitDef(f"q{i}", "city", (UnitName(f"东江市第{i}区人民政府", f"第{i}区"),))
              for i in range(6)]
    return StaticDirectory(units, {"各区县政府": tuple(f"q{i}" for i in range(6))})


def part_title(n: int) -> str:
    """A part heading ("十一、…")."""
    numeral = PARTS_CN[n] if n < 10 else "十" + PARTS_CN[n - 10]
    return f"{numeral}、第{n + 1}部分重点工作"


def rows() -> list[list[str]]:
    """Title row, header, then the 12 parts with their tasks."""
    table = [["东江市2022年政府工作报告重点任务分解意见", "", "", "", ""], ["2022年2月18日"],
             HEADER]
    per_part = -(-TASKS // PARTS)
    for number in range(1, TASKS + 1):
        if (number - 1) % per_part == 0:
            table.append([part_title((number - 1) // per_part), "", "", "", ""])
        lead = f"市{DEPARTMENTS[number % len(DEPARTMENTS)]}"
        support = f"市{DEPARTMENTS[(number * 7) % len(DEPARTMENTS)]}、各区县政府"
        if number % 5 == 0:
            support += "等"
        text = (f"推进第{number}项重点工作，完善工作机制，每年新增项目{number * 3}个，"
                "确保按期完成。")
        table.append([str(number), text, lead, support, DEADLINES[number % len(DEADLINES)]])
    return table


def as_xlsx(table: list[list[str]]) -> bytes:
    """The table as a workbook."""
    book = openpyxl.Workbook()
    for row in table:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_text(table: list[list[str]]) -> bytes:
    """The table as tab-separated lines of a text document."""
    return "\n".join("\t".join(row) for row in table).encode("utf-8")


def median_seconds(name: str, data: bytes, runs: int) -> float:
    """Median wall time of read_policy_file over ``runs``; checks that all tasks were read."""
    units = directory()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = read_policy_file(name, data, units, ImportOptions(issued_on=date(2022, 2, 18)))
        times.append(time.perf_counter() - started)
        assert len(result.tasks) == TASKS and result.ok(), result.errors()[:3]
    return statistics.median(times)


def import_seconds(data: bytes, workdir: Path) -> float:
    """Read and confirm the table into a fresh database that holds the bundled policy and the
    city's units: every task's process rendered, validated (XSD, scripts, bpmnlint) and
    stored, its cycles laid out, all in one transaction."""
    from engine import loader, migrate, registry
    from engine.access import Actor
    from engine.clock import ManualClock
    from engine.db import make_engine, session_factory
    from engine.models import Unit, UnitKind
    from engine.models import UnitName as NameRow
    from engine.policy import load_policy
    from engine.policy_import import Confirmation, confirm
    from engine.policy_import import directory as db_directory
    from engine.runtime import Runtime

    engine = make_engine(f"sqlite:///{workdir / 'bench-import.db'}")
    migrate.upgrade(engine)
    clock = ManualClock(date(2022, 2, 18))
    from engine.config import Config

    rt = Runtime(Config(data_dir=workdir, database_url=str(engine.url)),
                 session_factory(engine), clock)
    with rt.sessions() as s, s.begin():
        loader.load_into_db(s, clock, load_policy(rt.config.policy_file), rt.processes())
        for unit in directory()._units.values():
            row = Unit(id=unit.id, kind=UnitKind(unit.kind))
            row.names.append(NameRow(name=unit.names[0].name, short_name=unit.names[0].short_name))
            s.add(row)
        registry.store_groups(s, {"各区县政府": [f"q{i}" for i in range(6)]})
    started = time.perf_counter()
    with rt.sessions() as s, s.begin():
        result = read_policy_file("plan.xlsx", data, db_directory(s),
                                  ImportOptions(issued_on=date(2022, 2, 18), policy_id="dj"))
        assert result.ok(), result.errors()[:3]
        confirm(s, clock, Actor.system(), result, Confirmation(source_name="plan.xlsx"))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    table = rows()
    print(f"preview_171_xlsx_s: {median_seconds('plan.xlsx', as_xlsx(table), runs):.3f}")
    print(f"preview_171_text_s: {median_seconds('plan.txt', as_text(table), runs):.3f}")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(f"import_171_tasks_s: {import_seconds(as_xlsx(table), Path(tmp)):.3f}")


if __name__ == "__main__":
    main()
