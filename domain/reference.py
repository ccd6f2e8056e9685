"""Reference data: safety regions, organisations, capabilities and request kinds.

Versioned data (``domain/data/reference.json``), not literals scattered through the rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any


class OrgKind(str, Enum):
    SAFETY_REGION = "safety_region"
    POLICE_UNIT = "police_unit"
    POLICE_LE = "police_le"
    KMAR = "kmar"
    DEFENCE_DOPS = "defence_dops"
    DEFENCE_DOC = "defence_doc"
    DEFENCE_DJZ = "defence_djz"
    DEFENCE_CDS = "defence_cds"
    DEFENCE_JFC = "defence_jfc"
    DEFENCE_BRIGADE = "defence_brigade"
    DEFENCE_OVR = "defence_ovr"
    OM_PROSECUTOR = "om_prosecutor"
    OM_COLLEGE = "om_college"
    JV_LOCC = "jv_locc"
    JV_OZI = "jv_ozi"
    JV_DGPOL = "jv_dgpol"
    JV_MINISTER = "jv_minister"
    NCTV_DB3 = "nctv_db3"
    NCC = "ncc"
    IFV = "ifv"
    CARIBBEAN_BODY = "caribbean_body"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    kind: OrgKind
    region: str | None


@dataclass(frozen=True)
class SafetyRegion:
    """*Veiligheidsregio* VR01-VR25."""

    code: str
    number: int
    name: str
    police_unit: str
    municipalities: tuple[str, ...]


@dataclass(frozen=True)
class Capability:
    code: str
    name: str
    dutch: str
    category: str
    unit: str
    providers: tuple[str, ...]
    request_kinds: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class RequestKindInfo:
    code: str
    name: str
    dutch: str
    legal_basis: str
    source: str


@dataclass(frozen=True)
class _Reference:
    version: str
    regions: dict[str, SafetyRegion]
    organisations: dict[str, Organisation]
    capabilities: dict[str, Capability]
    kinds: dict[str, RequestKindInfo]
    municipalities: dict[str, str]


@cache
def _load() -> _Reference:
    raw: dict[str, Any] = json.loads(
        resources.files("domain").joinpath("data/reference.json").read_text(encoding="utf-8")
    )
    regions = {
        r["code"]: SafetyRegion(
            r["code"], r["number"], r["name"], r["police_unit"], tuple(r["municipalities"])
        )
        for r in raw["regions"]
    }
    municipalities = {
        m.casefold(): region.code for region in regions.values() for m in region.municipalities
    }
    return _Reference(
        version=raw["version"],
        regions=regions,
        organisations={
            o["code"]: Organisation(o["code"], o["name"], OrgKind(o["kind"]), o["region"])
            for o in raw["organisations"]
        },
        capabilities={
            c["code"]: Capability(
                c["code"],
                c["name"],
                c["dutch"],
                c["category"],
                c["unit"],
                tuple(c["providers"]),
                tuple(c["request_kinds"]),
                c["source"],
            )
            for c in raw["capabilities"]
        },
        kinds={
            k["code"]: RequestKindInfo(
                k["code"], k["name"], k["dutch"], k["legal_basis"], k["source"]
            )
            for k in raw["request_kinds"]
        },
        municipalities=municipalities,
    )


REFERENCE_VERSION: str = _load().version


def _get(table: dict[str, Any], code: str, what: str) -> Any:
    try:
        return table[code]
    except KeyError:
        raise KeyError(f"unknown {what}: {code!r}") from None


def organisation(code: str) -> Organisation:
    return _get(_load().organisations, code, "organisation")  # type: ignore[no-any-return]


def organisations() -> tuple[Organisation, ...]:
    return tuple(_load().organisations.values())


def region(code: str) -> SafetyRegion:
    return _get(_load().regions, code, "safety region")  # type: ignore[no-any-return]


def regions() -> tuple[SafetyRegion, ...]:
    return tuple(_load().regions.values())


def region_of_municipality(name: str) -> str:
    return _get(_load().municipalities, name.casefold(), "municipality")  # type: ignore[no-any-return]


def area_of(org_code: str) -> frozenset[str]:
    """The safety regions an organisation serves: a safety region (or an organisation of one)
    its own, a police unit the regions in its unit; empty for a national organisation."""
    org = organisation(org_code)
    if org.kind is OrgKind.POLICE_UNIT:
        return frozenset(r.code for r in regions() if r.police_unit == org.code)
    return frozenset({org.region}) if org.region else frozenset()


def capability(code: str) -> Capability:
    return _get(_load().capabilities, code, "capability")  # type: ignore[no-any-return]


def capabilities() -> tuple[Capability, ...]:
    return tuple(_load().capabilities.values())


def request_kind_infos() -> tuple[RequestKindInfo, ...]:
    return tuple(_load().kinds.values())
