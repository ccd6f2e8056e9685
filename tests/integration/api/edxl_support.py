"""Shared by the EDXL tests: the demo over a real store, and reading what mlob sends.

Every document is checked against the OASIS schemas copied unchanged into api/edxl/xsd/
(tests/unit/api/test_edxl_xml.py proves the check refuses what the schemas refuse).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from api.edxl.vocab import DE, RM, RM_MSG
from api.edxl.xmlsafe import parse, validate_de, validate_rm
from domain.envelope import Classification
from mlob import demo
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import STORES, fresh_store
from tests.integration.api.conftest import Api, serving

M = f"{{{RM_MSG}}}"
R = f"{{{RM}}}"
D = f"{{{DE}}}"
ZG = Classification.STATE_SECRET_TOP_SECRET
SAMPLES = Path(__file__).parents[2] / "data" / "edxl" / "samples"
#: The demo's clock (fixed, so that the worked example in docs/edxl.md stays the same).
NOW = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=STORES)
def demo_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The demo, recorded once per module and store, served over HTTP."""
    with fresh_store(request.param, tmp_path_factory.mktemp("edxl"), "t_edxl") as config:
        service = Service(MlobApplication(config))
        demo.load_demo(service, NOW)
        with serving(service) as client:
            yield Api(client, service)


@dataclass(frozen=True)
class Exported:
    """An EDXL-DE envelope mlob sent, checked against the schemas, and its messages."""

    root: Any
    messages: list[Any]

    def types(self) -> list[str]:
        return [etree.QName(m).localname for m in self.messages]

    def ids(self) -> list[str]:
        return [m.findtext(f"{M}MessageID") for m in self.messages]

    def text(self, tag: str) -> str | None:
        return self.root.findtext(f"{D}{tag}")

    def keyword(self, message: Any, urn: str) -> list[str] | None:
        for keyword in message.iter(f"{M}Keyword"):
            if keyword.findtext(f"{R}ValueListURN") == urn:
                return [v.text or "" for v in keyword.findall(f"{R}Value")]
        return None


def valid_distribution(body: bytes) -> Exported:
    """The envelope in ``body``, asserting that it and every message in it are valid."""
    root = parse(body)
    invalid = validate_de(root)
    assert invalid is None, invalid
    messages = [
        m
        for item in root.findall(f"{D}contentObject")
        for part in item.findall(f"{D}xmlContent/*")
        for m in part
    ]
    for message in messages:
        invalid = validate_rm(message)
        assert invalid is None, (etree.QName(message).localname, invalid)
    return Exported(root, messages)


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()
