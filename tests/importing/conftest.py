"""Fixtures of the importer tests: a small city's unit directory and the fixture files.

The directory (``city``) has a few 市级 units with short names, an alias (市发展改革委), a renamed
unit (市经信委 -> 市工信局 on 2019-01-01), two districts and two streets, a few provincial units
for the provincial plan, and the groups 各区县政府, 各县市区政府 and 各街道.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.importing import ImportOptions, ImportResult, StaticDirectory, read_policy_file
from engine.policy import UnitDef, UnitName

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
# A copy of shared/seeds/000_8cf7f8447cb07457.txt, so the tests need nothing outside the repository
SEED = DATA / "seed_000_8cf7f8447cb07457.txt"
SHARED_SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / SEED.name[5:]


def _unit(uid: str, name: str, short: str, *aliases: str, kind: str = "department") -> UnitDef:
    return UnitDef(uid, kind, (UnitName(name, short),), aliases)


UNITS = (
    _unit("fgw", "东江市发展和改革委员会", "市发改委", "市发展改革委"),
    _unit("czj", "东江市财政局", "市财政局"),
    _unit("spj", "东江市行政审批局", "市行政审批局"),
    _unit("sfj", "东江市司法局", "市司法局"),
    _unit("zfb", "东江市人民政府办公室", "市政府办公室", "市政府办"),
    _unit("sgb", "东江市审批制度改革办公室", "市审改办"),
    UnitDef("gxj", "department", (
        UnitName("东江市经济和信息化委员会", "市经信委", None, date(2019, 1, 1)),
        UnitName("东江市工业和信息化局", "市工信局", date(2019, 1, 1), None))),
    _unit("dongcheng", "东江市东城区人民政府", "东城区", kind="city"),
    _unit("xicheng", "东江市西城区人民政府", "西城区", kind="city"),
    _unit("lishan", "东城区立山街道办事处", "立山街道", kind="other"),
    _unit("hexi", "东城区河西街道办事处", "河西街道", kind="other"),
    _unit("kfq", "立山经济开发区管理委员会", "立山经济开发区", kind="other"),
    _unit("qfgj", "东城区发展和改革局", "区发改局"),
    _unit("qsfj", "东城区司法局", "区司法局"),
    _unit("sfgw", "江南省发展和改革委员会", "省发展改革委", "省发改委"),
    _unit("sczt", "江南省财政厅", "省财政厅"),
    _unit("stxj", "江南省通信管理局", "省通信管理局"),
)
GROUPS = {"各区县政府": ("dongcheng", "xicheng"), "各县市区政府": ("dongcheng", "xicheng"),
          "各街道": ("lishan", "hexi"), "各乡镇": ()}


@pytest.fixture(scope="session")
def city() -> StaticDirectory:
    return StaticDirectory(UNITS, GROUPS)


def read(name: str, directory: StaticDirectory, **options: object) -> ImportResult:
    """Read a fixture file of tests/data/import."""
    return read_policy_file(name, (DATA / name).read_bytes(), directory,
                            ImportOptions(**options))  # type: ignore[arg-type]


def problems(result: ImportResult, severity: str | None = None) -> list[tuple[str, str]]:
    """(place, message) of the result's problems, of one severity when given."""
    return [(p.place, p.message) for p in result.problems
            if severity is None or p.severity == severity]
