"""The EDXL-DE 1.0 envelope: what EDXL-RM cannot say (exercise or not, the classification,
sender and recipients) and, for answers to a post, Ack and Error.

``distributionStatus`` is ``Exercise`` when the content is an exercise, else ``Actual``;
``combinedConfidentiality`` the highest classification of the content; each contentObject's
``confidentiality`` its message's classification, its ``originatorRole`` the organisation that
took the step and its ``consumerRole``s the organisations it is addressed to
(``urn:mlob:organisation``), as are the envelope's ``explicitAddress``es.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from api.edxl.out import Sent
from api.edxl.vocab import DE, ERROR, EVENT_TYPE, ORGANISATION
from domain.envelope import Classification

#: The DE ``distributionType`` of each message type (a recall says Update or Cancel).
_KIND = {
    "OfferUnsolicitedResource": "Report",
    "ReportResourceDeploymentStatus": "Report",
}


def distribution_type(sent: Sent) -> str:
    recall = sent.element.find("{urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg}MessageRecall")
    if recall is not None:
        return str(recall.findtext("{urn:oasis:names:tc:emergency:EDXL:RM:1.0}RecallType"))
    if sent.rm_type.startswith("ResponseTo"):
        return "Response"
    return _KIND.get(sent.rm_type, "Request")


def _el(parent: Any, tag: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, f"{{{DE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _list(parent: Any, tag: str, urn: str, values: Sequence[str]) -> None:
    element = _el(parent, tag)
    _el(element, "valueListUrn", urn)
    for value in values:
        _el(element, "value", value)


def highest(levels: Sequence[str]) -> str:
    ranked = [Classification(level) for level in levels] or [Classification.UNCLASSIFIED]
    return max(ranked, key=lambda c: c.rank).value


def distribution(
    content: Sequence[Sent],
    *,
    distribution_id: str,
    sender: str,
    sent_at: datetime,
    kind: str | None = None,
    references: Sequence[str] = (),
    keywords: Sequence[tuple[str, Sequence[str]]] = (),
) -> Any:
    """An ``EDXLDistribution`` carrying ``content`` in order (one contentObject each)."""
    root = etree.Element(f"{{{DE}}}EDXLDistribution", nsmap={None: DE})
    _el(root, "distributionID", distribution_id)
    _el(root, "senderID", sender)
    _el(root, "dateTimeSent", sent_at.isoformat())
    exercise = any(s.exercise for s in content)
    _el(root, "distributionStatus", "Exercise" if exercise else "Actual")
    if kind is None:
        kind = distribution_type(content[0]) if len(content) == 1 else "Report"
    _el(root, "distributionType", kind)
    _el(root, "combinedConfidentiality", highest([s.classification for s in content]))
    _el(root, "language", "en")
    for urn, values in keywords:
        _list(root, "keyword", urn, values)
    for reference in references:
        _el(root, "distributionReference", reference)
    recipients = list(dict.fromkeys(r for s in content for r in s.recipients if r != sender))
    if recipients:
        address = _el(root, "explicitAddress")
        _el(address, "explicitAddressScheme", ORGANISATION)
        for recipient in recipients:
            _el(address, "explicitAddressValue", recipient)
    for sent in content:
        item = _el(root, "contentObject")
        _el(item, "contentDescription", f"{sent.rm_type} ({sent.api_type})")
        _list(item, "contentKeyword", EVENT_TYPE, [sent.api_type])
        _list(item, "originatorRole", ORGANISATION, [sent.org])
        if sent.recipients:
            _list(item, "consumerRole", ORGANISATION, list(sent.recipients))
        _el(item, "confidentiality", sent.classification)
        embedded = _el(_el(item, "xmlContent"), "embeddedXMLContent")
        embedded.append(sent.element)
    return root


def answer(
    *,
    kind: str,
    distribution_id: str,
    sender: str,
    sent_at: datetime,
    references: Sequence[str],
    description: str,
    keywords: Sequence[tuple[str, Sequence[str]]] = (),
    content: Sequence[Sent] = (),
    exercise: bool = False,
) -> Any:
    """An ``Ack`` or ``Error`` envelope answering a post (its reason as the first
    contentObject's description, as text), with any EDXL-RM answers after it."""
    root = distribution(
        content,
        distribution_id=distribution_id,
        sender=sender,
        sent_at=sent_at,
        kind=kind,
        references=references,
        keywords=keywords,
    )
    if exercise:
        root.find(f"{{{DE}}}distributionStatus").text = "Exercise"
    first = root.find(f"{{{DE}}}contentObject")
    note = etree.Element(f"{{{DE}}}contentObject")
    _el(note, "contentDescription", description)
    non_xml = _el(note, "nonXMLContent")
    _el(non_xml, "mimeType", "text/plain")
    if first is not None:
        first.addprevious(note)
    else:
        root.append(note)
    return root


def error_keywords(status: int, code: str, element: str | None) -> list[tuple[str, list[str]]]:
    return [(ERROR, [str(status), code, *([element] if element else [])])]
