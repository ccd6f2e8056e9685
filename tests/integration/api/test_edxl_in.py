"""EDXL in (issue 23): ``POST /v1/edxl`` takes an EDXL-DE envelope or a bare EDXL-RM message,
validated against the OASIS schemas, mapped onto the commands the JSON API runs, idempotent on
(sender, MessageID); hostile XML is refused before anything is read, and a refusal records
nothing."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID, uuid4

import pytest
from lxml import etree

from api.edxl.vocab import DE, foreign_subject, mlob_message_id
from domain.refusals import render
from mlob import demo
from tests.integration.api.conftest import Api
from tests.integration.api.edxl_support import (
    SAMPLES,
    D,
    M,
    R,
    ago,
    demo_api,
    valid_distribution,
)
from tests.integration.api.test_exercise import LOCC, ok, steps_to_approval

__all__ = ["demo_api"]

XML = {"Content-Type": "application/xml"}


def foreign_request(
    message_id: str,
    *,
    kind: str | None = "region_art51",
    capability: str = "FIRE_WATER_SUPPLY",
    quantity: str = "2",
    authority: tuple[str, ...] | None = ("chair_safety_region", "VR08", "namens"),
    urn: str = "urn:mlob:capability",
    sent: str | None = None,
) -> str:
    """A RequestResource as another system writes it, with mlob's value lists."""
    keywords = ""
    if kind is not None:
        keywords += keyword("urn:mlob:request-kind", kind)
    if authority is not None:
        keywords += keyword("urn:mlob:authority", *authority)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rmsg:RequestResource xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
    xmlns:rm="urn:oasis:names:tc:emergency:EDXL:RM:1.0">
  <rmsg:MessageID>{message_id}</rmsg:MessageID>
  <rmsg:SentDateTime>{sent or ago(5)}</rmsg:SentDateTime>
  <rmsg:MessageContentType>RequestResource</rmsg:MessageContentType>
  <rmsg:MessageDescription>pumps for the tunnel</rmsg:MessageDescription>
  <rmsg:OriginatingMessageID>{message_id}</rmsg:OriginatingMessageID>
  <rmsg:ContactInformation>
    <rm:ContactDescription>Veiligheidsregio Gelderland-Zuid</rm:ContactDescription>
    <rm:ContactRole>Requester</rm:ContactRole>
  </rmsg:ContactInformation>
  <rmsg:ResourceInformation>
    <rmsg:ResourceInfoElementID>L1</rmsg:ResourceInfoElementID>
    <rmsg:Resource>
      <rmsg:TypeStructure>
        <rm:ValueListURN>{urn}</rm:ValueListURN>
        <rm:Value>{capability}</rm:Value>
      </rmsg:TypeStructure>
      {keywords}
      <rmsg:Description>pump out the tunnel</rmsg:Description>
    </rmsg:Resource>
    <rmsg:AssignmentInformation>
      <rmsg:Quantity><rm:QuantityText>{quantity}</rm:QuantityText></rmsg:Quantity>
    </rmsg:AssignmentInformation>
    <rmsg:ScheduleInformation>
      <rmsg:ScheduleType>RequestedArrival</rmsg:ScheduleType>
      <rmsg:Location><rm:LocationDescription>Nijmegen</rm:LocationDescription></rmsg:Location>
    </rmsg:ScheduleInformation>
  </rmsg:ResourceInformation>
</rmsg:RequestResource>
"""


def keyword(urn: str, *values: str) -> str:
    inner = "".join(f"<rm:Value>{v}</rm:Value>" for v in values)
    return f"<rmsg:Keyword><rm:ValueListURN>{urn}</rm:ValueListURN>{inner}</rmsg:Keyword>"


def enveloped(
    message: str, sender: str, status: str = "Actual", level: str = "ongerubriceerd"
) -> str:
    body = message.split("?>", 1)[1] if message.startswith("<?xml") else message
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EDXLDistribution xmlns="{DE}">
  <distributionID>{uuid4()}</distributionID>
  <senderID>{sender}</senderID>
  <dateTimeSent>{ago(1)}</dateTimeSent>
  <distributionStatus>{status}</distributionStatus>
  <distributionType>Request</distributionType>
  <combinedConfidentiality>{level}</combinedConfidentiality>
  <contentObject>
    <confidentiality>{level}</confidentiality>
    <xmlContent><embeddedXMLContent>{body}</embeddedXMLContent></xmlContent>
  </contentObject>
</EDXLDistribution>
"""


def post(
    api: Api, body: str | bytes, org: str = "VR08", accept: str | None = None, **kw: Any
) -> Any:
    headers = {**XML, **api.headers(org, kw.pop("role", "operator"), **kw)}
    if accept:
        headers["Accept"] = accept
    content = body.encode() if isinstance(body, str) else body
    return api.client.post("/v1/edxl", content=content, headers=headers)


def refused(
    api: Api, body: str | bytes, status: int, code: str, org: str = "VR08", **kw: Any
) -> dict[str, Any]:
    headers = api.headers(org, kw.get("role", "operator"))  # a token is an event: issue first
    del headers
    before = api.position()
    response = post(api, body, org, **kw)
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert api.position() == before, "a refused message recorded something"
    return error


# --- a foreign request ------------------------------------------------------------------------


def test_a_foreign_request_resource_is_drafted_and_submitted_as_json_would_be(api: Api) -> None:
    body = foreign_request("GZ-2026-0042")
    response = post(api, body)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert [e["type"] for e in answer["events"]] == ["request.drafted", "request.submitted"]
    subject = foreign_subject("VR08", "GZ-2026-0042")
    assert {e["stream_id"] for e in answer["events"]} == {str(subject)}
    assert answer["events"][0]["message_id"] == mlob_message_id("VR08", "GZ-2026-0042")
    assert answer["replayed"] is False
    detail = api.client.get(f"/v1/requests/{subject}", headers=api.headers("VR08")).json()
    assert detail["kind"] == "region_art51"
    [line] = detail["lines"]
    assert (line["capability"], line["quantity"], line["location"]) == (
        "FIRE_WATER_SUPPLY",
        2,
        "Nijmegen",
    )
    # The raw message's digest is kept under the message ids of the events it produced.
    digest = "edxl-sha256:" + hashlib.sha256(body.encode()).hexdigest()
    key = f"VR08/{answer['events'][0]['message_id']}"
    kept = api.service.app.recorder.messages([key])
    assert kept[key][0] == digest
    assert kept[key][1] == answer["events"][0]["position"]


def test_the_same_message_again_is_a_replay_and_another_under_its_id_a_conflict(
    api: Api,
) -> None:
    body = foreign_request("GZ-2026-0043")
    first = post(api, body)
    assert first.status_code == 201, first.text
    again = post(api, body)
    assert again.status_code == 201
    assert again.json()["replayed"] is True
    assert again.json()["events"] == first.json()["events"]
    refused(api, foreign_request("GZ-2026-0043", quantity="3"), 409, "message_id_reused")


def test_mlob_form_message_ids_are_taken_as_the_senders_own(api: Api) -> None:
    response = post(api, foreign_request("VR08:vr08-2026-0042"))
    assert response.status_code == 201, response.text
    assert response.json()["events"][0]["message_id"] == "vr08-2026-0042"
    # Another organisation's prefix is a foreign id to this sender: derived, never taken.
    assert mlob_message_id("VR08", "VR23:x") != "x"


def test_the_law_applies_as_for_json(api: Api) -> None:
    body = foreign_request("GZ-1", authority=("chair_safety_region", "VR23", "namens"))
    refused(api, body, 422, "wrong_authority")
    refused(api, foreign_request("GZ-2"), 403, "read_only_role", role="viewer")


# --- unmapped -----------------------------------------------------------------------------------

RESOURCE = "/rmsg:RequestResource/rmsg:ResourceInformation/rmsg:Resource"


@pytest.mark.parametrize(
    ("changes", "element"),
    [
        ({"kind": None}, RESOURCE),
        ({"kind": "bijstand"}, f"{RESOURCE}/rmsg:Keyword[1]"),
        ({"capability": "NIMS_DOZER"}, f"{RESOURCE}/rmsg:TypeStructure/rm:Value"),
        ({"urn": "http://nimsonline.org/2.0"}, f"{RESOURCE}/rmsg:TypeStructure"),
        (
            {"quantity": "two"},
            "/rmsg:RequestResource/rmsg:ResourceInformation/rmsg:AssignmentInformation/rmsg:Quantity",
        ),
        ({"sent": "2026-11-23T21:40:00"}, "/rmsg:RequestResource/rmsg:SentDateTime"),
        # xs:double admits them, as QuantityText's text: no number of anything (was a 500).
        *(
            (
                {"quantity": q},
                "/rmsg:RequestResource/rmsg:ResourceInformation/rmsg:AssignmentInformation/rmsg:Quantity",
            )
            for q in ("INF", "-INF", "NaN")
        ),
    ],
)
def test_what_maps_onto_nothing_mlob_knows_is_named(
    api: Api, changes: dict[str, Any], element: str
) -> None:
    error = refused(api, foreign_request(f"GZ-{uuid4()}", **changes), 422, "edxl_unmapped")
    assert error["details"][0]["element"] == element
    assert element in error["reason"]


@pytest.mark.parametrize("rm_type", ["RequestQuote", "ResponseToRequestQuote"])
def test_quotes_are_refused(api: Api, rm_type: str) -> None:
    preceding = "<rmsg:PrecedingMessageID>Q-0</rmsg:PrecedingMessageID>"
    response_info = (
        "<rmsg:ResponseInformation><rm:PrecedingResourceInfoElementID>1"
        "</rm:PrecedingResourceInfoElementID><rm:ResponseType>Accept</rm:ResponseType>"
        "</rmsg:ResponseInformation>"
    )
    body = f"""<rmsg:{rm_type} xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
    xmlns:rm="urn:oasis:names:tc:emergency:EDXL:RM:1.0">
  <rmsg:MessageID>Q-1</rmsg:MessageID><rmsg:SentDateTime>{ago(1)}</rmsg:SentDateTime>
  <rmsg:MessageContentType>{rm_type}</rmsg:MessageContentType>
  <rmsg:OriginatingMessageID>Q-0</rmsg:OriginatingMessageID>{preceding}
  <rmsg:ContactInformation><rm:ContactRole>Requester</rm:ContactRole></rmsg:ContactInformation>
  <rmsg:ResourceInformation><rmsg:ResourceInfoElementID>1</rmsg:ResourceInfoElementID>
  {response_info if rm_type.startswith("Response") else ""}
  <rmsg:Resource><rmsg:Name>pump</rmsg:Name></rmsg:Resource></rmsg:ResourceInformation>
</rmsg:{rm_type}>"""
    error = refused(api, body, 422, "edxl_unmapped")
    assert error["details"][0]["element"] == f"/rmsg:{rm_type}"
    assert "charges nothing" in error["reason"]


# --- the samples ------------------------------------------------------------------------------

ONE = ":ResourceInformation/rmsg:Resource/rmsg:TypeStructure"
FIRST = ":ResourceInformation[1]/rmsg:Resource/rmsg:TypeStructure"
SAMPLE_ANSWERS = {
    "RequestResource.1.xml": f"/rmsg:RequestResource/rmsg{ONE}",
    "RequestResource.2.xml": f"/rmsg:RequestResource/rmsg{ONE}",
    "RequestResource.NoLocation.xml": f"/rmsg:RequestResource/rmsg{ONE}",
    "CommitResource.1.xml": f"/rmsg:CommitResource/rmsg{FIRST}",
    "CommitResource.2.xml": f"/rmsg:CommitResource/rmsg{FIRST}",
}


def test_every_sample_has_a_precise_answer(api: Api) -> None:
    """The public samples use US resource typing (NIMS): each is valid EDXL-RM, and each is
    refused naming the first resource type mlob does not know; as XML, a refused
    RequestResource is answered with a ResponseToRequestResource Decline."""
    assert sorted(SAMPLE_ANSWERS) == sorted(p.name for p in SAMPLES.iterdir())
    for name, element in SAMPLE_ANSWERS.items():
        body = (SAMPLES / name).read_bytes()
        error = refused(api, body, 422, "edxl_unmapped")
        assert error["details"][0]["element"] == element, name
        assert "http://nimsonline.org/2.0" in error["reason"]
        answer = post(api, body, accept="application/xml")
        assert answer.status_code == 422
        sent = valid_distribution(answer.content)
        assert sent.text("distributionType") == "Error"
        keyword = sent.root.find(f"{D}keyword")
        assert [v.text for v in keyword.findall(f"{D}value")] == ["422", "edxl_unmapped", element]
        if name.startswith("RequestResource"):
            [decline] = sent.messages
            assert etree.QName(decline).localname == "ResponseToRequestResource"
            types = decline.findall(f".//{R}ResponseType")
            assert types and {t.text for t in types} == {"Decline"}
            asked = etree.fromstring(body).findtext(f"{M}MessageID")
            assert decline.findtext(f"{M}PrecedingMessageID") == asked
        else:
            assert sent.messages == []


def test_a_schema_invalid_message_names_its_first_invalid_element(api: Api) -> None:
    body = (SAMPLES / "CommitResource.1.xml").read_text()
    body = body.replace("<rmsg:ResourceID>TD7</rmsg:ResourceID>", "<rmsg:Bogus>TD7</rmsg:Bogus>")
    error = refused(api, body, 422, "edxl_invalid")
    assert error["details"][0]["element"] == (
        "/rmsg:CommitResource/rmsg:ResourceInformation[2]/rmsg:Resource/rmsg:Bogus"
    )


# --- the envelope -------------------------------------------------------------------------------


def test_an_envelope_carries_exercise_and_classification(api: Api) -> None:
    body = enveloped(foreign_request("GZ-EX-1"), "VR08", status="Exercise")
    response = post(api, body)
    assert response.status_code == 201, response.text
    subject = foreign_subject("VR08", "GZ-EX-1")
    timeline = api.client.get(
        f"/v1/requests/{subject}/timeline", headers=api.headers("VR08")
    ).json()
    assert [e["exercise"] for e in timeline["events"]] == [True, True]
    # Above the sender's clearance: refused as for JSON.
    secret = enveloped(foreign_request("GZ-S-1"), "VR08", level="stg_geheim")
    refused(api, secret, 403, "classification_above_clearance")
    unknown = enveloped(foreign_request("GZ-S-2"), "VR08", level="SECRET")
    error = refused(api, unknown, 422, "edxl_unmapped")
    assert error["details"][0]["element"] == "/de:EDXLDistribution/de:combinedConfidentiality"


def test_a_sender_other_than_the_tokens_organisation_is_refused(api: Api) -> None:
    body = enveloped(foreign_request("GZ-M-1"), "VR23")
    error = refused(api, body, 403, "sender_mismatch")
    assert "VR23" in error["reason"]


def test_an_envelope_for_tests_or_the_system_records_nothing(api: Api) -> None:
    error = refused(api, enveloped(foreign_request("GZ-T-1"), "VR08", "Test"), 422, "edxl_unmapped")
    assert error["details"][0]["element"] == "/de:EDXLDistribution/de:distributionStatus"


def test_an_ack_answers_a_recorded_message_as_xml(api: Api) -> None:
    response = post(api, enveloped(foreign_request("GZ-A-1"), "VR08"), accept="application/xml")
    assert response.status_code == 201, response.text
    sent = valid_distribution(response.content)
    assert sent.text("distributionType") == "Ack"
    assert "GZ-A-1" in [r.text for r in sent.root.findall(f"{D}distributionReference")]


# --- hostile XML ----------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rmsg:RequestResource xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg">
&lol9;</rmsg:RequestResource>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rmsg:RequestResource xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg">
<rmsg:MessageID>&xxe;</rmsg:MessageID></rmsg:RequestResource>
"""
NETWORK_DTD = """<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">
<rmsg:RequestResource xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"/>
"""
UNDECLARED_ENTITY = foreign_request("GZ-E-1").replace("pumps for the tunnel", "&evil;")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (BILLION_LAUGHS, "xml_forbidden"),
        (EXTERNAL_ENTITY, "xml_forbidden"),
        (NETWORK_DTD, "xml_forbidden"),
        (UNDECLARED_ENTITY, "xml_forbidden"),
        ("<a>" * 65 + "</a>" * 65, "xml_too_deep"),
        ("<a>" * 5000 + "</a>" * 5000, "xml_too_deep"),
        ("<rmsg:RequestResource", "malformed_xml"),
        ("", "malformed_xml"),
        ('{"type": "request.drafted"}', "malformed_xml"),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "network-dtd",
        "undeclared-entity",
        "depth-65",
        "depth-5000",
        "truncated",
        "empty",
        "json",
    ],
)
def test_hostile_xml_is_refused_before_anything_is_read(api: Api, body: str, code: str) -> None:
    error = refused(api, body, 400, code)
    assert "passwd" not in error["reason"] and "root:" not in error["reason"]


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_a_dtd_in_utf16_or_inside_an_envelope_is_refused_too(api: Api, document: str) -> None:
    utf16 = document.replace('version="1.0"?>', 'version="1.0" encoding="UTF-16"?>')
    refused(api, utf16.encode("utf-16"), 400, "xml_forbidden")
    inner = document.split("]>", 1)[1]
    dtd = document.split("<rmsg:", 1)[0].split("?>", 1)[1]
    wrapped = enveloped(inner, "VR08").replace("<EDXLDistribution", dtd + "<EDXLDistribution", 1)
    error = refused(api, wrapped, 400, "xml_forbidden")
    assert "passwd" not in error["reason"] and "root:" not in error["reason"]


def test_a_body_over_one_mebibyte_is_too_large(api: Api) -> None:
    padding = "<!-- " + "x" * (1024 * 1024) + " -->"
    refused(api, foreign_request("GZ-BIG") + padding, 413, "body_too_large")


@pytest.mark.parametrize(
    "body",
    [
        foreign_request("GZ-NS").replace(
            "urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg", "urn:example:not-edxl"
        ),
        "<RequestResource><MessageID>x</MessageID></RequestResource>",
        enveloped(foreign_request("GZ-NS2"), "VR08").replace(
            DE, "urn:oasis:names:tc:emergency:EDXL:DE:2.0"
        ),
    ],
    ids=["foreign-namespace", "no-namespace", "de-2.0"],
)
def test_a_wrong_namespace_is_not_edxl(api: Api, body: str) -> None:
    error = refused(api, body, 422, "edxl_invalid")
    assert error["details"][0]["element"].count("/") == 1  # the root element


def test_without_a_token_nothing_is_read(api: Api) -> None:
    response = api.client.post("/v1/edxl", content=BILLION_LAUGHS.encode(), headers=XML)
    assert response.status_code == 401


# --- questions ----------------------------------------------------------------------------------


def question(rm_type: str, names: str, message_id: str = "Q-1") -> str:
    description = "<rmsg:MessageDescription>how far?</rmsg:MessageDescription>"
    return f"""<rmsg:{rm_type} xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
    xmlns:rm="urn:oasis:names:tc:emergency:EDXL:RM:1.0">
  <rmsg:MessageID>{message_id}</rmsg:MessageID><rmsg:SentDateTime>{ago(1)}</rmsg:SentDateTime>
  <rmsg:MessageContentType>{rm_type}</rmsg:MessageContentType>{description}
  <rmsg:OriginatingMessageID>{names}</rmsg:OriginatingMessageID>
  <rmsg:ContactInformation><rm:ContactRole>Requester</rm:ContactRole></rmsg:ContactInformation>
  <rmsg:ResourceInformation><rmsg:ResourceInfoElementID>L1</rmsg:ResourceInfoElementID>
  <rmsg:Resource><rmsg:Name>trucks</rmsg:Name></rmsg:Resource></rmsg:ResourceInformation>
</rmsg:{rm_type}>"""


def first_message(api: Api, subject: UUID) -> str:
    first = api.service.stream_events(subject)[0]
    return f"{first.actor_org}:{first.message_id}"


@pytest.mark.parametrize(
    ("rm_type", "answer_type"),
    [
        ("RequestResourceDeploymentStatus", "ReportResourceDeploymentStatus"),
        ("RequestInformation", "ResponseToRequestInformation"),
    ],
)
def test_a_question_about_a_request_is_answered_from_what_the_asker_may_see(
    demo_api: Api, rm_type: str, answer_type: str
) -> None:
    api = demo_api
    body = question(rm_type, first_message(api, demo.TRANSPORT_VR08))
    api.headers("VR08"), api.headers("VR05")  # tokens are events: issued before counting
    before = api.position()
    response = post(api, body, "VR08")
    assert response.status_code == 200, response.text
    assert api.position() == before
    [text] = response.json()["answers"]
    answer = etree.fromstring(text.encode())
    assert etree.QName(answer).localname == answer_type
    assert answer.findtext(f"{M}PrecedingMessageID") == "Q-1"
    as_xml = post(api, body, "VR08", accept="application/xml")
    sent = valid_distribution(as_xml.content)
    assert sent.text("distributionType") == "Ack"
    assert sent.types() == [answer_type]
    if answer_type == "ReportResourceDeploymentStatus":
        statuses = {
            v.text for v in answer.iter(f"{R}Value") if v.getparent().tag == f"{M}DeploymentStatus"
        }
        assert statuses and statuses <= {
            "en_route",
            "on_scene",
            "committed",
            "returning",
            "returned",
            "made_ready",
            "requested",
            "cancelled",
        }
    # A region not involved, and an unknown message: the same answer.
    hidden = post(api, body, "VR05")
    unknown = post(api, question(rm_type, "VR08:no-such-message"), "VR05")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json()


# --- one post, several messages -------------------------------------------------------------------


def two(first: str, second: str, sender: str = "VR08") -> str:
    """Two messages in one envelope."""
    doc = enveloped(first, sender)
    body = second.split("?>", 1)[1] if second.startswith("<?xml") else second
    extra = (
        "<contentObject><confidentiality>ongerubriceerd</confidentiality><xmlContent>"
        f"<embeddedXMLContent>{body}</embeddedXMLContent></xmlContent></contentObject>"
    )
    return doc.replace("</EDXLDistribution>", extra + "</EDXLDistribution>")


def test_an_envelope_is_one_atomic_post(api: Api) -> None:
    response = post(api, two(foreign_request("GZ-B-1"), foreign_request("GZ-B-2")))
    assert response.status_code == 201, response.text
    assert len(response.json()["events"]) == 4


@pytest.mark.parametrize(
    ("second", "status", "code"),
    [
        (foreign_request("GZ-H-2", capability="NIMS_DOZER"), 422, "edxl_unmapped"),
        (
            foreign_request("GZ-H-3", authority=("chair_safety_region", "VR23", "namens")),
            422,
            "wrong_authority",
        ),
        (foreign_request("GZ-H-1"), 422, "duplicate_message_in_batch"),
    ],
    ids=["unmapped", "refused-by-the-law", "the-same-message-twice"],
)
def test_nothing_is_half_recorded(api: Api, second: str, status: int, code: str) -> None:
    """When any message of an envelope is refused, none of it is recorded."""
    refused(api, two(foreign_request("GZ-H-1"), second), status, code)
    subject = foreign_subject("VR08", "GZ-H-1")
    answer = api.client.get(f"/v1/requests/{subject}", headers=api.headers("VR08"))
    assert answer.status_code == 404


def test_a_step_expecting_another_version_conflicts(api: Api) -> None:
    response = post(api, foreign_request("GZ-V-1"))
    assert response.status_code == 201, response.text
    subject = foreign_subject("VR08", "GZ-V-1")
    withdrawal = f"""<rmsg:RequestResource xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
    xmlns:rm="urn:oasis:names:tc:emergency:EDXL:RM:1.0">
  <rmsg:MessageID>VR08:withdraw-1</rmsg:MessageID><rmsg:SentDateTime>{ago(1)}</rmsg:SentDateTime>
  <rmsg:MessageContentType>RequestResource</rmsg:MessageContentType>
  <rmsg:OriginatingMessageID>GZ-V-1</rmsg:OriginatingMessageID>
  <rmsg:MessageRecall><rm:RecallMessageID>GZ-V-1</rm:RecallMessageID>
    <rm:RecallType>Cancel</rm:RecallType></rmsg:MessageRecall>
  <rmsg:ContactInformation><rm:ContactRole>Requester</rm:ContactRole></rmsg:ContactInformation>
  <rmsg:ResourceInformation><rmsg:ResourceInfoElementID>L1</rmsg:ResourceInfoElementID>
  <rmsg:Resource>{keyword("urn:mlob:event-type", "request.withdrawn")}
  {keyword("urn:mlob:subject", str(subject))}{keyword("urn:mlob:expected-version", "{version}")}
  {keyword("urn:mlob:data", '{"reason": "no longer needed"}')}</rmsg:Resource>
  </rmsg:ResourceInformation>
</rmsg:RequestResource>"""
    refused(api, withdrawal.replace("{version}", "1"), 409, "version_conflict")
    accepted = post(api, withdrawal.replace("{version}", "2"))
    assert accepted.status_code == 201, accepted.text
    assert [e["type"] for e in accepted.json()["events"]] == ["request.withdrawn"]
    assert accepted.json()["events"][0]["message_id"] == "withdraw-1"


def test_schema_location_hints_are_never_followed(api: Api) -> None:
    body = (SAMPLES / "RequestResource.1.xml").read_text()
    body = body.replace(
        "external/edxl-rm/1.0/EDXL-RMRequestResource.xsd", "http://127.0.0.1:9/evil.xsd"
    )
    assert "http://127.0.0.1:9/evil.xsd" in body
    error = refused(api, body, 422, "edxl_unmapped")  # validated against the local schemas
    assert error["details"][0]["element"].endswith("rmsg:TypeStructure")


def test_every_refusal_is_kept_in_the_rejection_log(api: Api) -> None:
    refused(api, enveloped(foreign_request("GZ-L-1"), "VR23"), 403, "sender_mismatch")
    refused(api, foreign_request("GZ-L-2", capability="NIMS_DOZER"), 422, "edxl_unmapped")
    refused(api, BILLION_LAUGHS, 400, "xml_forbidden")
    log = api.client.get("/v1/rejections", headers=api.headers("LOCC", "auditor")).json()["items"]
    codes = [(r["org"], r["code"]) for r in log]
    for code in ("sender_mismatch", "edxl_unmapped", "xml_forbidden"):
        assert ("VR08", code) in codes


# --- answers from another system ------------------------------------------------------------------


def forwarded(api: Api) -> tuple[UUID, str]:
    """VR08's fire request, forwarded by LOCC to VR07; the forward's EDXL MessageID."""
    subject = uuid4()
    steps = steps_to_approval(subject, exercise=False)
    for org, body in steps[:5]:
        ok(api, org, body, **(LOCC if org == "LOCC" else {}))
    return subject, f"LOCC:{steps[4][1]['message_id']}"


def answer(rm_type: str, preceding: str, infos: str, message_id: str = "VR07-A-1") -> str:
    return f"""<rmsg:{rm_type} xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
    xmlns:rm="urn:oasis:names:tc:emergency:EDXL:RM:1.0">
  <rmsg:MessageID>{message_id}</rmsg:MessageID><rmsg:SentDateTime>{ago(1)}</rmsg:SentDateTime>
  <rmsg:MessageContentType>{rm_type}</rmsg:MessageContentType>
  <rmsg:OriginatingMessageID>{preceding}</rmsg:OriginatingMessageID>
  <rmsg:PrecedingMessageID>{preceding}</rmsg:PrecedingMessageID>
  <rmsg:ContactInformation><rm:ContactRole>RespondingOrg</rm:ContactRole></rmsg:ContactInformation>
  {infos}
</rmsg:{rm_type}>"""


def info(element_id: str, kind: str, line: str = "L1", quantity: int | None = 2, **kw: str) -> str:
    resource = kw.get("resource", "<rmsg:Name>pumps</rmsg:Name>")
    amount = (
        "<rmsg:AssignmentInformation><rmsg:Quantity><rm:QuantityText>"
        f"{quantity}</rm:QuantityText></rmsg:Quantity></rmsg:AssignmentInformation>"
        if quantity is not None
        else ""
    )
    return f"""<rmsg:ResourceInformation>
    <rmsg:ResourceInfoElementID>{element_id}</rmsg:ResourceInfoElementID>
    <rmsg:ResponseInformation><rm:PrecedingResourceInfoElementID>{line}
    </rm:PrecedingResourceInfoElementID><rm:ResponseType>{kind}</rm:ResponseType>
    <rm:ResponseReason>{kw.get("reason", "we can")}</rm:ResponseReason></rmsg:ResponseInformation>
    <rmsg:Resource>{resource}</rmsg:Resource>{amount}</rmsg:ResourceInformation>"""


def test_a_providers_system_decides_and_commits_in_edxl(api: Api) -> None:
    subject, forward = forwarded(api)
    decision = post(api, answer("ResponseToRequestResource", forward, info("1", "Accept")), "VR07")
    assert decision.status_code == 201, decision.text
    [decided] = decision.json()["events"]
    assert (decided["type"], decided["stream_id"]) == ("request.decided", str(subject))
    capacity = uuid4()
    registered = {
        "type": "capacity.registered",
        "subject": str(capacity),
        "message_id": str(uuid4()),
        "occurred_at": ago(60),
        "data": {"capability": "FIRE_WATER_SUPPLY", "quantity": 3},
    }
    assert api.post("VR07", registered).status_code == 201
    decided_id = f"VR07:{decided['message_id']}"
    own = f"<rmsg:ResourceID>{capacity}</rmsg:ResourceID>"
    commitment = answer(
        "CommitResource", decided_id, info("truck-1", "Accept", resource=own), "VR07-C-1"
    )
    response = post(api, commitment, "VR07")
    assert response.status_code == 201, response.text
    assert [e["type"] for e in response.json()["events"]] == [
        "request.committed",
        "capacity.booked",
    ]
    detail = api.client.get(f"/v1/requests/{subject}", headers=api.headers("VR08")).json()
    assert detail["lines"][0]["committed"] == 2
    [booking] = detail["bookings"]
    assert booking["capacity_id"] == str(capacity)


def test_an_answer_naming_no_request_one_may_see_is_unmapped_alike(api: Api) -> None:
    _, forward = forwarded(api)
    body = answer("ResponseToRequestResource", forward, info("1", "Accept"))
    hidden = refused(api, body, 422, "edxl_unmapped", org="VR05")
    unknown = refused(
        api,
        answer("ResponseToRequestResource", "LOCC:no-such-message", info("1", "Accept")),
        422,
        "edxl_unmapped",
        org="VR05",
    )
    assert hidden == unknown
    assert (
        hidden["details"][0]["element"] == "/rmsg:ResponseToRequestResource/rmsg:PrecedingMessageID"
    )


def test_a_provisional_answer_is_no_decision(api: Api) -> None:
    _, forward = forwarded(api)
    body = answer("ResponseToRequestResource", forward, info("1", "Provisional"))
    error = refused(api, body, 422, "edxl_unmapped", org="VR07")
    assert error["details"][0]["element"].endswith("rmsg:ResponseInformation/rm:ResponseType")


def test_a_decline_refuses_and_the_law_still_decides_who_may(api: Api) -> None:
    _, forward = forwarded(api)
    declined = answer("ResponseToRequestResource", forward, info("1", "Decline", quantity=None))
    error = refused(api, declined, 403, "wrong_decider", org="VR08")
    assert "VR08 was not asked" in error["reason"]
    response = post(api, declined, "VR07")
    assert response.status_code == 201, response.text


def test_a_comment_in_the_envelope_is_no_message(api: Api) -> None:
    """A comment beside the message in embeddedXMLContent is dropped when parsing (it was
    taken for a message and raised a 500)."""
    message = foreign_request(f"GZ-{uuid4()}")
    body = enveloped(message, "VR08").replace(
        "<embeddedXMLContent>", "<embeddedXMLContent><!-- from GMS -->"
    )
    assert post(api, body).status_code == 201


def test_refusals_answer_in_the_language_asked(api: Api) -> None:
    """``Accept-Language: nl`` gives Dutch on this route too, as on every other."""
    body = enveloped(foreign_request(f"GZ-{uuid4()}"), "VR23")  # VR08's token: not its sender
    english = refused(api, body, 403, "sender_mismatch")
    headers = {**XML, **api.headers("VR08"), "Accept-Language": "nl"}
    dutch = api.client.post("/v1/edxl", content=body.encode(), headers=headers).json()["error"]
    assert dutch["code"] == "sender_mismatch" and dutch["reason"] != english["reason"]
    assert dutch["reason"] == render("sender_mismatch", dutch.get("params", {}), "nl")
