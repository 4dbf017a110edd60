"""Measure the board over many obligations: the page in SQL against the old whole-list board.

Run: .venv/bin/python benchmarks/bench_board.py [--items N] [--url URL] [--runs K]
Prints one ``name: value`` line each: ``obligations_total``, ``board_page_p50_ms``,
``board_page_p95_ms`` (engine.board.board_page, default view: first page of 100, counts of the
whole board), ``board_filtered_p95_ms`` (one unit, overdue only), ``board_list_ms`` (the
whole-list ``engine.queries.board`` that exports and the page used before, once).
The database is filled like benchmarks/bench_sweep.py (bulk inserts of instances with one lead
item each, due dates spread over 2018-06 .. 2020-12, 70 % open, 20 % submitted, 10 % closed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_sweep import DAY, fill, runtime  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from engine.board import BoardFilter, board_page  # noqa: E402
from engine.clock import CHINA_TZ, ManualClock  # noqa: E402
from engine.models import Instance  # noqa: E402
from engine.queries import board  # noqa: E402


def _times(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


def _p95(ms: list[float]) -> float:
    return ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]


def main() -> None:
    """Fill, then time the board page and the whole list."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--url", default=None, help="database URL (default: a SQLite file)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(datetime(2018, 5, 30, 8, tzinfo=CHINA_TZ))
        rt = runtime(args.url or f"sqlite:///{tmp}/board.db", Path(tmp), clock)
        fill(rt, args.items)
        with rt.sessions() as s:
            print(f"obligations_total: {s.scalar(select(func.count()).select_from(Instance))}")
            page = _times(lambda: board_page(s, DAY), args.runs)
            print(f"board_page_p50_ms: {statistics.median(page):.1f}")
            print(f"board_page_p95_ms: {_p95(page):.1f}")
            narrow = _times(lambda: board_page(s, DAY, BoardFilter(unit="hefei",
                                                                   status="overdue")), args.runs)
            print(f"board_filtered_p95_ms: {_p95(narrow):.1f}")
            whole = _times(lambda: board(s, DAY), 1)
            print(f"board_list_ms: {whole[0]:.0f}")


if __name__ == "__main__":
    main()
