"""Each of the 16 EDXL-RM message types, both ways, on the pure mapping (api/edxl: no store):
what mlob sends as each, and what it does with each it receives (docs/edxl.md). In the
integration tier only because ``tests/unit`` may not import ``api`` (tests/unit/test_tier.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from api.edxl import inn, out
from api.edxl.vocab import (
    DATA,
    EVENT_TYPE,
    MESSAGE_TYPES,
    STEP_MESSAGE,
    SUBJECT,
    edxl_message_id,
    mlob_message_id,
)
from api.edxl.xmlsafe import parse, serialise, validate_rm
from tests.integration.api.edxl_support import SAMPLES

NOW = datetime(2026, 11, 23, 21, 40, tzinfo=UTC)
#: What mlob does with a message of each type from another system (no urn:mlob step in it).
FOREIGN = {
    "RequestResource": "mapped",
    "RequestResourceDeploymentStatus": "question",
    "RequestInformation": "question",
    "RequestQuote": "refused",
    "ResponseToRequestQuote": "refused",
    "ResponseToRequestResource": "answer",
    "CommitResource": "answer",
}


def message(rm_type: str, **keywords: list[str]) -> etree._Element:
    info = out.Info("L1", capability="FIRE_WATER_SUPPLY", quantity=2, description="pump out")
    info.keywords = list(keywords.items())
    element = out.build_message(rm_type, "GZ-2", NOW, "GZ-1", "GZ-1", "VR08", [info], "pumps")
    assert validate_rm(element) is None, rm_type
    return parse(serialise(element))


def test_there_are_sixteen_message_types_and_each_schema_is_loaded() -> None:
    assert len(MESSAGE_TYPES) == len(set(MESSAGE_TYPES)) == 16
    for rm_type in MESSAGE_TYPES:
        message(rm_type)  # valid against its own schema


@pytest.mark.parametrize("rm_type", MESSAGE_TYPES)
def test_what_mlob_does_with_each_message_type_from_another_system(rm_type: str) -> None:
    element = message(rm_type, **{"urn:mlob:request-kind": ["region_art51"]})
    result = inn.Mapped()
    expected = FOREIGN.get(rm_type, "unmapped")
    if expected in ("mapped", "question"):
        inn.one(inn.Content(element, None, None), "VR08", result)
        if expected == "mapped":
            assert [i.type for i in result.items] == ["request.drafted", "request.submitted"]
        else:
            [query] = result.queries
            assert query.names == ("GZ-1", "GZ-1") and not result.items
        return
    with pytest.raises(inn.Unmapped) as refused:
        inn.one(inn.Content(element, None, None), "VR08", result)
    if expected == "refused":
        assert refused.value.element == f"/rmsg:{rm_type}"
        assert "charges nothing" in refused.value.reason
    elif expected == "answer":  # about the request its PrecedingMessageID names: none here
        assert refused.value.element == f"/rmsg:{rm_type}/rmsg:PrecedingMessageID"
        assert refused.value.reason == "names no request you may see"
    else:
        assert refused.value.element == f"/rmsg:{rm_type}/rmsg:ResourceInformation/rmsg:Resource"
        assert EVENT_TYPE in refused.value.reason
    assert not result.items


@pytest.mark.parametrize("api_type", sorted(STEP_MESSAGE))
def test_each_step_mlob_sends_comes_back_as_itself(api_type: str) -> None:
    subject = uuid4()
    data = {"reason": "as sent"}
    element = message(
        STEP_MESSAGE[api_type],
        **{EVENT_TYPE: [api_type], SUBJECT: [str(subject)], DATA: [orjson.dumps(data).decode()]},
    )
    result = inn.Mapped()
    inn.one(inn.Content(element, None, None), "VR08", result)
    [item] = result.items
    assert (item.type, item.subject, item.data) == (api_type, subject, data)
    assert item.message_id == mlob_message_id("VR08", "GZ-2")
    assert item.occurred_at == NOW  # no occurred-at keyword: the SentDateTime


@pytest.mark.parametrize("rm_type", sorted(set(MESSAGE_TYPES) - {"RequestResource"}))
def test_a_step_in_a_message_of_another_type_is_unmapped(rm_type: str) -> None:
    if rm_type in FOREIGN:
        return  # answered before its keywords are read
    element = message(rm_type, **{EVENT_TYPE: ["request.drafted"], SUBJECT: [str(uuid4())]})
    with pytest.raises(inn.Unmapped) as refused:
        inn.one(inn.Content(element, None, None), "VR08", inn.Mapped())
    assert refused.value.element.endswith("rmsg:Resource/rmsg:Keyword[1]")


def test_the_types_mlob_sends() -> None:
    """Ten of the sixteen carry mlob's steps; the others are questions mlob answers, quotes it
    refuses and responses mlob has no step for (docs/edxl.md)."""
    assert sorted(set(STEP_MESSAGE.values())) == sorted(
        {
            "RequestResource",
            "ResponseToRequestResource",
            "RequisitionResource",
            "CommitResource",
            "ResponseToRequestInformation",
            "OfferUnsolicitedResource",
            "ReleaseResource",
            "RequestReturn",
            "ReportResourceDeploymentStatus",
            "RequestExtendedDeploymentDuration",
        }
    )


def test_the_samples_are_valid_edxl_rm_and_a_broken_one_is_not() -> None:
    """The check the tests rely on: the samples (valid, their README says) pass; a message
    with an element the schema does not allow, or without one it requires, does not."""
    for sample in SAMPLES.iterdir():
        assert validate_rm(parse(sample.read_bytes())) is None, sample.name
    body = (SAMPLES / "RequestResource.1.xml").read_bytes()
    missing = body.replace(
        b"<rmsg:MessageContentType>RequestResource</rmsg:MessageContentType>", b""
    )
    invalid = validate_rm(parse(missing))
    assert invalid is not None and "MessageContentType" in invalid.reason
    wrong = body.replace(b"<rm:QuantityText>4</rm:QuantityText>", b"<rm:Amount>4</rm:Amount>")
    invalid = validate_rm(parse(wrong))
    assert invalid is not None
    assert invalid.element.endswith("rmsg:Quantity/rm:Amount")


IDS = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=60
).filter(lambda s: s.strip())


@given(org=st.sampled_from(["VR08", "LOCC", "DEF-DOPS"]), message_id=IDS)
def test_message_ids_map_both_ways(org: str, message_id: str) -> None:
    assert mlob_message_id(org, edxl_message_id(org, message_id)) == message_id
    # Another organisation's message, or a foreign id: a stable uuid5, never the bare id.
    derived = mlob_message_id("VR23" if org != "VR23" else "VR05", edxl_message_id(org, message_id))
    assert derived != message_id and len(derived) == 36
    assert derived == mlob_message_id(
        "VR23" if org != "VR23" else "VR05", edxl_message_id(org, message_id)
    )
