"""The synthetic organisation tree: one city branch, its county branches and their sub-branches.

The tree is written as the organisation file (``org_units.csv``, columns ``ORG_COLUMNS``) that
``npldesk org import`` reads; the generator places every loan in one sub-branch and gives it one of
that sub-branch's loan officers.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from npldesk.tape.schema import ORG_COLUMNS

CITY_BRANCH = "city_branch"
COUNTY_BRANCH = "county_branch"
SUB_BRANCH = "sub_branch"


@dataclass(frozen=True)
class OrgUnit:
    """One unit of the tree; ``officers``, ``weight`` and ``region_codes`` only drive generation."""

    code: str
    name: str
    parent_code: str | None
    level: str
    # Sub-branches: how many loan officers the unit has and its relative share of the book.
    officers: int = 0
    weight: float = 0.0
    # County branches: ID-card region codes (GB/T 2260) of the people living in the county.
    region_codes: tuple[str, ...] = ()

    def officer_ids(self) -> list[str]:
        """The unit's officer ids, ``HB0101-01`` … (sub-branches only)."""
        return [f"{self.code}-{number:02d}" for number in range(1, self.officers + 1)]


def _county(code: str, name: str, regions: tuple[str, ...]) -> OrgUnit:
    return OrgUnit(code, name, "HB00", COUNTY_BRANCH, region_codes=regions)


def _sub(code: str, name: str, officers: int, weight: float) -> OrgUnit:
    return OrgUnit(code, name, code[:4], SUB_BRANCH, officers=officers, weight=weight)


# Names follow real street and township names of Huaibei (GB/T 2260 codes: 340602 杜集区,
# 340603 相山区, 340604 烈山区, 340621 濉溪县); the units themselves are invented.
HUAIBEI_ORG: tuple[OrgUnit, ...] = (
    OrgUnit("HB00", "淮北分行", None, CITY_BRANCH),
    _county("HB01", "相山区支行", ("340603",)),
    _county("HB02", "杜集区支行", ("340602",)),
    _county("HB03", "烈山区支行", ("340604",)),
    _county("HB04", "濉溪县支行", ("340621",)),
    _county("HB05", "经济开发区支行", ("340603", "340602")),
    _sub("HB0101", "相山区淮海路支行", 8, 1.6),
    _sub("HB0102", "相山区人民路支行", 7, 1.4),
    _sub("HB0103", "相山区孟山路营业所", 5, 1.0),
    _sub("HB0104", "相山区长山路营业所", 5, 0.9),
    _sub("HB0105", "相山区南黎路营业所", 4, 0.8),
    _sub("HB0106", "相山区渠沟营业所", 3, 0.6),
    _sub("HB0201", "杜集区高岳营业所", 5, 0.9),
    _sub("HB0202", "杜集区朔里营业所", 4, 0.7),
    _sub("HB0203", "杜集区石台营业所", 3, 0.6),
    _sub("HB0204", "杜集区段园营业所", 3, 0.5),
    _sub("HB0301", "烈山区青龙山营业所", 5, 0.8),
    _sub("HB0302", "烈山区宋疃营业所", 4, 0.6),
    _sub("HB0303", "烈山区古饶营业所", 3, 0.5),
    _sub("HB0304", "烈山区烈山营业所", 3, 0.5),
    _sub("HB0401", "濉溪县城关营业所", 7, 1.3),
    _sub("HB0402", "濉溪县百善营业所", 4, 0.8),
    _sub("HB0403", "濉溪县临涣营业所", 4, 0.8),
    _sub("HB0404", "濉溪县韩村营业所", 4, 0.7),
    _sub("HB0405", "濉溪县孙疃营业所", 3, 0.6),
    _sub("HB0406", "濉溪县五沟营业所", 3, 0.6),
    _sub("HB0407", "濉溪县铁佛营业所", 3, 0.5),
    _sub("HB0501", "经济开发区龙湖营业所", 5, 0.9),
    _sub("HB0502", "经济开发区凤凰山营业所", 4, 0.7),
    _sub("HB0503", "经济开发区新区营业所", 3, 0.5),
)


def sub_branches(units: Sequence[OrgUnit]) -> list[OrgUnit]:
    """The units that hold loans, in file order."""
    return [unit for unit in units if unit.level == SUB_BRANCH]


def region_codes_for(units: Sequence[OrgUnit], unit: OrgUnit) -> tuple[str, ...]:
    """The ID-card region codes of a sub-branch's customers: those of its county branch."""
    by_code = {u.code: u for u in units}
    current: OrgUnit | None = unit
    while current is not None:
        if current.region_codes:
            return current.region_codes
        current = by_code.get(current.parent_code) if current.parent_code else None
    raise ValueError(f"no region code above unit {unit.code}")


def write_org_file(path: Path, units: Sequence[OrgUnit]) -> None:
    """Write the organisation file: UTF-8, header ``code,name,parent_code,level``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ORG_COLUMNS)
        for unit in units:
            writer.writerow((unit.code, unit.name, unit.parent_code or "", unit.level))
