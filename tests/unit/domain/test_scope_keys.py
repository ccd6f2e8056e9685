"""The reader's scope stated as keys (issue 21: lists preselect in SQL) is the policy's one rule:
for every kind of reader and every row, sharing a key is exactly lying within the scope."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from domain import policy
from domain.envelope import Classification
from domain.policy import NATIONAL_ORGS
from domain.reference import organisations


@dataclass(frozen=True)
class Reader:
    org: str
    role: str = "viewer"
    clearance: Classification = Classification.UNCLASSIFIED


ORGS = sorted(o.code for o in organisations())
REGIONS = sorted({o.region for o in organisations() if o.region})


@given(
    reader=st.sampled_from([*ORGS, "NOT-AN-ORG"]),
    regions=st.lists(st.sampled_from(REGIONS), max_size=3),
    involved=st.lists(st.sampled_from(ORGS), max_size=4),
)
def test_sharing_a_scope_key_is_lying_within_the_scope(
    reader: str, regions: list[str], involved: list[str]
) -> None:
    who = Reader(reader)
    row = {"regions": regions, "involved": involved, "classification": "ongerubriceerd"}
    keys = policy.scope_keys(who)
    preselected = keys is None or bool(keys & set(policy.row_keys(row)))
    assert preselected == policy.in_scope(who, policy.concerns_of_row(row))
    assert preselected == policy.may_see_row(who, row)


def test_the_nation_needs_no_keys_a_region_its_region_and_itself() -> None:
    assert all(policy.scope_keys(Reader(org)) is None for org in NATIONAL_ORGS)
    region = next(o for o in organisations() if o.kind.value == "safety_region")
    assert policy.scope_keys(Reader(region.code)) == frozenset(
        {f"org:{region.code}", policy.region_key(str(region.region))}
    )
    provider = next(
        o
        for o in organisations()
        if o.kind.value not in ("safety_region",) and o.code not in NATIONAL_ORGS
    )
    assert policy.scope_keys(Reader(provider.code)) == frozenset({f"org:{provider.code}"})
