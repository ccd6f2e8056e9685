"""The reference data: the 25 safety regions, organisations, capabilities, request kinds."""

from __future__ import annotations

import pytest

from domain.kinds import KIND_RULES, RequestKind
from domain.reference import (
    REFERENCE_VERSION,
    OrgKind,
    capabilities,
    capability,
    organisation,
    organisations,
    region,
    region_of_municipality,
    regions,
    request_kind_infos,
)
from domain.rights import PROVIDER_KINDS


def test_the_25_safety_regions_in_the_seeds_order() -> None:
    listed = regions()
    assert [r.code for r in listed] == [f"VR{n:02d}" for n in range(1, 26)]
    # vnog-ab-ingekomen-stukken-2025, bijlage 2: "1 Groningen", "8 Gelderland-Zuid", ...
    assert region("VR01").name == "Groningen"
    assert region("VR08").name == "Gelderland-Zuid"
    assert region("VR17").name == "Rotterdam-Rijnmond"
    assert region("VR23").name == "Limburg-Noord"
    assert region("VR25").name == "Flevoland"


def test_municipalities_map_to_one_region_each() -> None:
    seen: dict[str, str] = {}
    for r in regions():
        assert r.municipalities, f"{r.code} lists no municipality"
        for m in r.municipalities:
            assert m.casefold() not in seen, f"{m} in {seen.get(m.casefold())} and {r.code}"
            seen[m.casefold()] = r.code
    assert region_of_municipality("Nijmegen") == "VR08"
    assert region_of_municipality("venlo") == "VR23"
    assert region_of_municipality("'s-Hertogenbosch") == "VR21"
    with pytest.raises(KeyError):
        region_of_municipality("Atlantis")


def test_organisations_are_unique_and_complete() -> None:
    codes = [o.code for o in organisations()]
    assert len(codes) == len(set(codes))
    kinds = {o.kind for o in organisations()}
    assert kinds == set(OrgKind)
    assert sum(o.kind is OrgKind.POLICE_UNIT for o in organisations()) == 10
    assert organisation("POL-LE").kind is OrgKind.POLICE_LE
    assert organisation("DEF-OVR-VR08").region == "VR08"
    for r in regions():
        assert organisation(r.police_unit).kind is OrgKind.POLICE_UNIT
    with pytest.raises(KeyError):
        organisation("NOPE")


def test_capabilities_name_real_providers_and_kinds() -> None:
    known_kinds = {k.value for k in RequestKind}
    for c in capabilities():
        assert c.source, c.code
        assert set(c.request_kinds) <= known_kinds, c.code
        for provider in c.providers:
            assert organisation(provider).kind.value in PROVIDER_KINDS, (c.code, provider)
    assert capability("SIS").providers and capability("BTC").category == "crisis_communication"
    with pytest.raises(KeyError):
        capability("NOPE")


def test_every_request_kind_is_described_and_has_capabilities() -> None:
    assert REFERENCE_VERSION
    described = {k.code for k in request_kind_infos()}
    assert described == {k.value for k in RequestKind} == {k.value for k in KIND_RULES}
    for kind in RequestKind:
        assert any(kind.value in c.request_kinds for c in capabilities()), kind
