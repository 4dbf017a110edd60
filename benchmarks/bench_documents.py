"""Measure how long a supervision notice and a monthly bulletin take to render as PDF.

Run: .venv/bin/python benchmarks/bench_documents.py [--runs N] [--out DIR]
Goals: a notice under 0.5 s, a bulletin (16 cities, 8 tasks) under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifications.documents import (  # noqa: E402
    BulletinDoc,
    Contact,
    NoticeDoc,
    NoticeItem,
    OverdueRow,
    TargetRow,
    Totals,
    UnitRow,
    bulletin_pdf,
    notice_pdf,
)

CITIES = ("合肥市", "芜湖市", "蚌埠市", "淮南市", "马鞍山市", "淮北市", "铜陵市", "安庆市",
          "黄山市", "阜阳市", "宿州市", "滁州市", "六安市", "宣城市", "池州市", "亳州市")
DEPARTMENTS = ("省经济和信息化厅", "省人力资源社会保障厅", "省投资集团")
TASKS = {
    1: "各市要结合实际制定“地方版”和“加强版”政策措施。",
    2: "指导各市开展市级“专精特新”中小企业培育，每年培育入库1000户，认定500户左右。",
    3: "每年培育认定30个省级小微企业创业基地。",
    4: "重点培育省中小企业公共服务示范平台200家。",
    5: "每两年评选200名安徽省技术能手、100名技能大奖获得者、50名“江淮杰出工匠”。",
    6: "设立并运营省中小企业（专精特新）发展基金。",
    7: "推动“专精特新”中小企业在区域性股权市场挂牌，每年100户。",
    8: "建立“专精特新”中小企业统计监测制度。",
}
POLICY = "安徽省人民政府关于进一步推进中小企业“专精特新”发展的意见"
OFFICE = "安徽省经济和信息化厅"


def sample_notice() -> NoticeDoc:
    """A notice to one city with three overdue items."""
    items = tuple(NoticeItem(n, TASKS[n], "2018年度" if n > 1 else "一次性", date(2018, 8, 30),
                             16, 11) for n in (1, 2, 3))
    return NoticeDoc("皖政督〔2018〕3号", OFFICE, "蚌埠市人民政府", date(2018, 9, 15), POLICY,
                     items, 5, date(2018, 9, 21), Contact("王明", "0551-62871234"),
                     ("省人民政府办公厅",))


def sample_bulletin(yearly: bool = False) -> BulletinDoc:
    """A bulletin with 16 cities, 3 departments and 8 tasks, deterministic numbers."""
    units = [UnitRow(name, 8, 8 - i % 5, 8 - i % 5 - i % 3 if i % 3 <= 8 - i % 5 else 0, i % 5,
                     True) for i, name in enumerate(CITIES)]
    units += [UnitRow(name, 6, 4, 3, 1) for name in DEPARTMENTS]
    closed = sum(u.closed for u in units)
    overdue = sum(u.overdue for u in units)
    assigned = sum(u.assigned for u in units)
    targets = (TargetRow(2, "培育入库“专精特新”中小企业", 1000, 860, "户"),
               TargetRow(3, "培育认定省级小微企业创业基地", 30, 31, "个"),
               TargetRow(7, "在区域性股权市场挂牌", 100, 45, "户"))
    late = tuple(OverdueRow(1 + i % 8, TASKS[1 + i % 8], u.name, date(2018, 8, 30),
                            16 + i) for i, u in enumerate(units) if u.overdue)
    return BulletinDoc(
        "2018年第3期", "皖政督〔2018〕5号", f"关于《{POLICY}》落实情况的通报",
        "2018年度" if yearly else "2018年8月", date(2018, 9, 15), OFFICE, POLICY,
        Totals(assigned, closed, assigned - closed - overdue, overdue), tuple(units), targets,
        late, ("各地、各有关单位要对照任务分解表，逐项抓好落实。",
               "逾期未办结的单位要查明原因，限期整改，并于10个工作日内报送整改情况。"),
        yearly, Contact("王明", "0551-62871234"), ("省人民政府办公厅", "省政府督查室"))


def measure(render: Callable[[], bytes], runs: int) -> tuple[float, float, int]:
    """Median and worst time over ``runs`` renders, and the PDF size."""
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(render())
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times), size


def main() -> None:
    """Print the render times (first render separately: it pays for font loading)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the sample PDFs into this directory")
    args = parser.parse_args()
    notice, bulletin = sample_notice(), sample_bulletin()
    start = time.perf_counter()
    first = notice_pdf(notice)
    print(f"first render (import WeasyPrint, load fonts): {time.perf_counter() - start:.2f} s")
    for label, render, goal in (("notice", lambda: notice_pdf(notice), 0.5),
                                ("monthly bulletin", lambda: bulletin_pdf(bulletin), 2.0)):
        median, worst, size = measure(render, args.runs)
        verdict = "ok" if median < goal else "SLOWER THAN GOAL"
        print(f"{label}: median {median:.3f} s, worst {worst:.3f} s over {args.runs} runs, "
              f"{size / 1024:.0f} KiB (goal < {goal} s: {verdict})")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "notice.pdf").write_bytes(first)
        (args.out / "bulletin.pdf").write_bytes(bulletin_pdf(bulletin))
        (args.out / "bulletin-yearly.pdf").write_bytes(bulletin_pdf(sample_bulletin(True)))


if __name__ == "__main__":
    main()
