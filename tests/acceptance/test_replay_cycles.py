"""The replay opened every cycle the seed's table implies, one instance per lead unit."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from conftest import Replay
from sqlalchemy import select

from engine.models import Cycle, Instance, ItemKind, ItemRole, PolicyTask, WorkItem

CITIES = {"hefei", "wuhu", "bengbu", "huainan", "maanshan", "huaibei", "tongling", "anqing",
          "huangshan", "fuyang", "suzhou", "chuzhou", "luan", "xuancheng", "chizhou", "bozhou"}
YEARS = [date(2018, 12, 31), date(2019, 12, 31), date(2020, 12, 31)]

# the annex of the 2018-05-30 opinion, read by hand: task -> (due dates, lead units)
TABLE: dict[int, tuple[list[date], set[str]]] = {
    1: ([date(2018, 8, 30)], CITIES),                        # 2018年8月30日前, 各市人民政府
    2: (YEARS, {"jxw"}),                                     # 每年年底前
    3: (YEARS, {"jxw"}),
    4: ([date(2020, 12, 31)], {"jxw"}),                      # 2020年年底前
    5: ([date(2018, 12, 31), date(2020, 12, 31)], {"rst"}),  # 评选当年年底前, 每两年
    6: ([date(2018, 12, 31)], {"ahtz", "jxw"}),              # 2018年年底前, two lead units
    7: (YEARS, {"jxw"}),
    8: ([date(2020, 12, 31)], {"jxw"}),
}


def _cycles(replay: Replay) -> dict[int, list[tuple[int, date | None, date]]]:
    with replay.sessions() as s:
        rows = s.execute(select(PolicyTask.number, Cycle.id, Cycle.due_date, Cycle.opens_on)
                         .join(Cycle, Cycle.task_id == PolicyTask.id)
                         .order_by(PolicyTask.number, Cycle.due_date))
        found: dict[int, list[tuple[int, date | None, date]]] = defaultdict(list)
        for number, cycle_id, due, opens in rows:
            found[number].append((cycle_id, due, opens))
    return found


def test_every_task_has_the_cycles_and_due_dates_of_the_table(replay: Replay) -> None:
    found = _cycles(replay)
    assert sorted(found) == sorted(TABLE)
    for number, (dues, _) in TABLE.items():
        assert [due for _, due, _ in found[number]] == dues, f"任务{number}"


def test_cycles_open_with_their_period_and_never_before_the_policy(replay: Replay) -> None:
    for number, cycles in _cycles(replay).items():
        for _, due, opens in cycles:
            assert due is not None
            assert date(2018, 5, 30) <= opens <= due, f"任务{number} {due}"
            if due.year > 2018 and number in (2, 3, 7):
                assert opens == date(due.year, 1, 1), f"任务{number} {due}"


def test_one_instance_per_cycle_and_lead_unit(replay: Replay) -> None:
    with replay.sessions() as s:
        rows = s.execute(select(PolicyTask.number, Instance.cycle_id, Instance.lead_unit_id,
                                Instance.original_due_date, Cycle.due_date)
                         .join(PolicyTask, PolicyTask.id == Instance.task_id)
                         .join(Cycle, Cycle.id == Instance.cycle_id)).all()
    per_cycle: dict[tuple[int, int], list[str]] = defaultdict(list)
    for number, cycle_id, unit, original_due, cycle_due in rows:
        per_cycle[(number, cycle_id)].append(unit)
        assert original_due == cycle_due
    for number, cycles in _cycles(replay).items():
        for cycle_id, due, _ in cycles:
            units = per_cycle[(number, cycle_id)]
            assert sorted(units) == sorted(TABLE[number][1]), f"任务{number} {due}"


def test_every_instance_has_one_lead_item_for_its_lead_unit(replay: Replay) -> None:
    with replay.sessions() as s:
        rows = s.execute(select(Instance.id, Instance.lead_unit_id, WorkItem.unit_id)
                         .join(WorkItem, WorkItem.instance_id == Instance.id)
                         .where(WorkItem.role == ItemRole.LEAD,  # its evidence, not 签收/进展
                                WorkItem.kind == ItemKind.EVIDENCE)).all()
        instances = len(s.scalars(select(Instance.id)).all())
    leads: dict[int, list[str]] = defaultdict(list)
    for inst_id, lead_unit, unit in rows:
        assert unit == lead_unit
        leads[inst_id].append(unit)
    assert len(leads) == len(rows) == instances
    assert instances == sum(len(dues) * len(units) for dues, units in TABLE.values())
