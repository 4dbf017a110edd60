"""The cities' on-time ranking of a bulletin: competition ranking with ties (并列), and the
sentence that names the leading and the lagging cities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from notifications.charts import percent_text

if TYPE_CHECKING:
    from notifications.documents import UnitRow

NAMED = 3          # how many places the sentence names at each end
NAME_LAGGARDS = 6  # name the lagging cities only when more than this many have a rate


@dataclass(frozen=True)
class RankedCity:
    """A city with its place in the on-time ranking (None: nothing has fallen due yet)."""

    rank: int | None
    tied: bool
    row: UnitRow

    @property
    def rank_text(self) -> str:
        """第3, 并列第1, or — for a city without a rate."""
        if self.rank is None:
            return "—"
        return f"{'并列' if self.tied else ''}第{self.rank}"


def _rate(row: UnitRow) -> Fraction | None:
    """The exact on-time rate (Decimal division could make 1/3 and 2/6 differ)."""
    whole = row.closed + row.overdue
    return Fraction(row.closed_on_time, whole) if whole else None


def rank_cities(units: Sequence[UnitRow]) -> list[RankedCity]:
    """Cities by on-time rate; equal rates share a place ("1, 1, 3"), listed by closed count
    then name; cities with no rate come last, unranked."""
    cities = [row for row in units if row.is_city]
    ordered = sorted(cities, key=lambda r: (_rate(r) is None, -(_rate(r) or 0), -r.closed,
                                            r.name))
    rates = [_rate(r) for r in ordered]
    ranked = []
    for row, rate in zip(ordered, rates, strict=True):
        if rate is None:
            ranked.append(RankedCity(None, False, row))
            continue
        higher = sum(1 for other in rates if other is not None and other > rate)
        ranked.append(RankedCity(higher + 1, rates.count(rate) > 1, row))
    return ranked


def standing_sentence(ranked: Sequence[RankedCity]) -> str:
    """从各市情况看… : the best places and (with enough cities) the last ones, ties grouped."""
    rated = [r for r in ranked if r.rank is not None]
    if not rated:
        return ""
    if all(r.rank == 1 for r in rated):
        return (f"从各市情况看，已有到期任务的{len(rated)}个市任务按时办结率均为"
                f"{percent_text(rated[0].row.on_time_rate)}。")
    leaders = [r for r in rated if r.rank is not None and r.rank <= NAMED]
    text = f"从各市情况看，任务按时办结率位居前列的是{_names(leaders)}"
    if len(rated) > NAME_LAGGARDS:
        floor = rated[-NAMED].rank or 0
        laggards = [r for r in rated if (r.rank or 0) >= floor and r not in leaders]
        if laggards:
            text += f"；相对靠后的是{_names(laggards)}"
    return text + "。"


def _names(cities: Sequence[RankedCity]) -> str:
    """合肥市、芜湖市（均为100.0%）、蚌埠市（87.5%）: short names, ties grouped."""
    groups: list[list[RankedCity]] = []
    for city in cities:
        if groups and groups[-1][0].rank == city.rank:
            groups[-1].append(city)
        else:
            groups.append([city])
    parts = []
    for group in groups:
        rate = percent_text(group[0].row.on_time_rate)
        names = "、".join(c.row.label for c in group)
        parts.append(f"{names}（{'均为' if len(group) > 1 else ''}{rate}）")
    return "、".join(parts)
