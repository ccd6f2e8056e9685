"""XML in and out: a hardened parser and the OASIS schemas (api/edxl/xsd/, copied unchanged).

Parsing refuses what an attacker could use: a DTD (and so every entity, internal or external:
billion laughs, XXE), nesting deeper than :data:`MAX_DEPTH`, and the network (lxml's
``no_network``; the schemas are loaded with xmlschema's ``allow="local"`` and
``defuse="always"``, from the files beside this module only). The body's size limit is the
route's (1 MiB, api/edxl/routes.py).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

from api.edxl.vocab import DE, MESSAGE_TYPES, RM_MSG
from api.errors import ApiError

XSD = Path(__file__).parent / "xsd"
RM_XSD = XSD / "edxl-rm" / "1.0"
DE_XSD = XSD / "edxl-de" / "1.0" / "de.xsd"
MAX_DEPTH = 64

_PREFIXES = {RM_MSG: "rmsg", "urn:oasis:names:tc:emergency:EDXL:RM:1.0": "rm", DE: "de"}


_ENTITY_ERRORS = frozenset(
    {"ERR_UNDECLARED_ENTITY", "WAR_UNDECLARED_ENTITY", "ERR_ENTITY_LOOP", "ERR_ENTITY_PE_INTERNAL"}
)


#: A DTD or entity declaration, in UTF-8 (and ASCII-compatible encodings) and in UTF-16: refused
#: before the parser sees it (the parser would expand entities of the document's own DTD
#: before it tells the DTD is there; the checks after parsing catch other encodings).
_DECLARATIONS = tuple(
    text.encode(encoding)
    for text in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


class XmlRefused(ApiError):
    """The body is not XML mlob reads: ``code`` is ``xml_forbidden``, ``xml_too_deep`` or
    ``malformed_xml`` (all answered 400; the texts are domain/refusals.py's)."""

    def __init__(self, code: str, text: str | None = None, **params: Any) -> None:
        super().__init__(400, code, text=text, **params)


def parse(body: bytes) -> Any:
    """The document's root element; raises :class:`XmlRefused`."""
    events = etree.iterparse(
        io.BytesIO(body),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=True,  # a comment is no message: nothing after parsing meets one
    )
    if any(marker in body for marker in _DECLARATIONS):
        raise XmlRefused("xml_forbidden", text="dtd")
    etree.clear_error_log()  # the log is the thread's: only this document's errors in it
    depth = 0
    checked = False
    try:
        for event, element in events:
            if not checked:
                checked = True
                if element.getroottree().docinfo.doctype:
                    raise XmlRefused("xml_forbidden", text="dtd")
            if event == "start":
                depth += 1
                if depth > MAX_DEPTH:
                    raise XmlRefused("xml_too_deep", max_depth=MAX_DEPTH)
            else:
                depth -= 1
    except etree.XMLSyntaxError as exc:
        kinds = {entry.type_name for entry in exc.error_log}
        if kinds & _ENTITY_ERRORS or any(
            "entity" in e.message.lower() for e in exc.error_log
        ):  # an entity reference without a DTD to declare it
            raise XmlRefused("xml_forbidden", text="entities") from None
        if any("depth" in entry.message for entry in exc.error_log):
            raise XmlRefused("xml_too_deep", max_depth=MAX_DEPTH) from None
        raise XmlRefused("malformed_xml", error=str(exc)) from None
    root = events.root
    if root is None:
        raise XmlRefused("malformed_xml", text="no_element")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise XmlRefused("xml_forbidden", text="entities")
    return root


_lock = threading.Lock()


@cache
def _rm_schema() -> xmlschema.XMLSchema:
    sources: list[Any] = [str(RM_XSD / f"EDXL-RM{name}.xsd") for name in MESSAGE_TYPES]
    return xmlschema.XMLSchema(sources, allow="local", defuse="always")


@cache
def _de_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DE_XSD), allow="local", defuse="always")


def rm_schema() -> xmlschema.XMLSchema:
    """The 16 EDXL-RM 1.0 message schemas as one (loaded once: it takes seconds)."""
    with _lock:
        return _rm_schema()


def de_schema() -> xmlschema.XMLSchema:
    with _lock:
        return _de_schema()


@dataclass(frozen=True)
class Invalid:
    """The first invalid element of a message: its XPath and why."""

    element: str
    reason: str


def first_error(root: Any, schema: xmlschema.XMLSchema) -> Invalid | None:
    """The first element of ``root`` the schema refuses (None: valid)."""
    # Never the instance's xsi:schemaLocation: only the local OASIS files (no network).
    for error in schema.iter_errors(root, use_location_hints=False):
        element = getattr(error, "elem", None)
        index = getattr(error, "index", None)
        if element is not None and isinstance(index, int) and 0 <= index < len(element):
            element = element[index]  # the unexpected child itself, not its parent
        where = path(element) if element is not None else (error.path or "/")
        return Invalid(where, str(error.reason or error.message))
    return None


def validate_rm(root: Any) -> Invalid | None:
    if etree.QName(root).namespace != RM_MSG or etree.QName(root).localname not in MESSAGE_TYPES:
        return Invalid(path(root), "not an EDXL-RM 1.0 message (namespace or element)")
    return first_error(root, rm_schema())


def validate_de(root: Any) -> Invalid | None:
    if etree.QName(root).namespace != DE or etree.QName(root).localname != "EDXLDistribution":
        return Invalid(path(root), "not an EDXL-DE 1.0 EDXLDistribution")
    return first_error(root, de_schema())


def path(element: Any) -> str:
    """An element's XPath from the document's root, with the EDXL prefixes
    (``/rmsg:CommitResource/rmsg:ResourceInformation[2]/rmsg:Resource``)."""
    steps = []
    node = element
    while node is not None:
        name = etree.QName(node)
        prefix = _PREFIXES.get(name.namespace or "") or node.prefix
        label = f"{prefix}:{name.localname}" if prefix else name.localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                label += f"[{same.index(node) + 1}]"
        steps.append(label)
        node = parent
    return "/" + "/".join(reversed(steps))


def serialise(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
