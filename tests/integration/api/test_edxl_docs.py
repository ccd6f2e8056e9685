"""docs/edxl.md stays true (issue 23): its value lists are vocab.py's with every value, it
names all 16 message types, and its worked example is what the demo's art. 51 military request
becomes. ``PYTHONPATH=. python -m tests.integration.api.test_edxl_docs`` rewrites the generated
parts after a change."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from lxml import etree

from api.edxl import out
from api.edxl.vocab import MESSAGE_TYPES, RM, RM_MSG, VALUE_LISTS
from mlob import demo
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.integration.api.edxl_support import NOW

DOC = Path(__file__).parents[3] / "docs" / "edxl.md"
M = f"{{{RM_MSG}}}"
R = f"{{{RM}}}"


def render_value_lists() -> str:
    lines = []
    for value_list in VALUE_LISTS:
        lines.append(f"- `{value_list.urn}` — {value_list.meaning}.")
        if value_list.values_note:
            lines.append(f"  Values: {value_list.values_note}.")
        if value_list.values is None:
            lines.append("  An open list (no fixed values).")
        else:
            values = ", ".join(f"`{v}`" for v in value_list.values())
            lines.append(f"  Every value: {values}.")
    return "\n".join(lines)


def _summary(message: etree._Element) -> str:
    parts = []
    for info in message.findall(f"{M}ResourceInformation"):
        ident = info.findtext(f"{M}ResourceInfoElementID") or ""
        bits = []
        answer = info.findtext(f"{M}ResponseInformation/{R}ResponseType")
        if answer:
            bits.append(answer)
        capability = info.findtext(f"{M}Resource/{M}TypeStructure/{R}Value")
        amount = info.findtext(
            f"{M}AssignmentInformation/{M}Quantity/{R}MeasuredQuantity/{R}Amount"
        )
        if capability:
            bits.append(capability + (f" x{amount}" if amount else ""))
        elif amount:
            bits.append(f"x{amount}")
        status = info.findtext(f"{M}Resource/{M}ResourceStatus/{M}DeploymentStatus/{R}Value")
        if status:
            bits.append(status)
        for schedule in info.findall(f"{M}ScheduleInformation"):
            bits.append(schedule.findtext(f"{M}ScheduleType") or "")
        short = ident if len(ident) < 12 else ident[:8] + "…"
        parts.append(f"{short}: {', '.join(bits)}" if bits else "the step (keywords only)")
    return "; ".join(parts)


def render_example() -> str:
    """The demo's art. 51 military request (VR08's evacuation trucks) as its messages."""
    with tempfile.TemporaryDirectory() as where:
        service = Service(
            MlobApplication(StoreConfig(kind="sqlite", sqlite_path=Path(where) / "m.sqlite3"))
        )
        try:
            demo.load_demo(service, NOW)
            sent = out.messages(service.stream_events(demo.TRANSPORT_VR08))
        finally:
            service.close()
            service.app.close()
    rows = [
        "| # | mlob step | by | EDXL-RM message | MessageID | PrecedingMessageID | carries |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, message in enumerate(sent, start=1):
        element = message.element
        preceding = element.findtext(f"{M}PrecedingMessageID") or "—"
        recall = element.findtext(f"{M}MessageRecall/{R}RecallType")
        kind = message.rm_type + (f" (recall: {recall})" if recall else "")
        rows.append(
            f"| {number} | `{message.api_type}` | {message.org} | {kind} | "
            f"`{message.message_id}` | `{preceding}` | {_summary(element)} |"
        )
    first = sent[0].element
    first.find(f"{M}SentDateTime").text = "(when it was recorded)"
    etree.indent(first, space="  ")
    xml = etree.tostring(first, encoding="unicode")
    return (
        "\n".join(rows)
        + "\n\nEvery message has OriginatingMessageID "
        + f"`{sent[0].message_id}`. The first one in full:\n\n```xml\n{xml}\n```"
    )


def section(text: str, name: str) -> str:
    found = re.search(f"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    assert found, f"docs/edxl.md has no {name} section"
    return found.group(1)


def rewritten(text: str) -> str:
    for name, render in (("value-lists", render_value_lists), ("worked-example", render_example)):
        text = re.sub(
            f"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)",
            lambda m, r=render: m.group(1) + r() + "\n" + m.group(2),  # type: ignore[misc]
            text,
            flags=re.S,
        )
    return text


def test_the_value_lists_are_documented_with_every_value() -> None:
    assert section(DOC.read_text(), "value-lists") == render_value_lists(), (
        "docs/edxl.md is out of date: PYTHONPATH=. python -m tests.integration.api.test_edxl_docs"
    )


def test_the_worked_example_is_what_the_demo_becomes() -> None:
    assert section(DOC.read_text(), "worked-example") == render_example(), (
        "docs/edxl.md is out of date: PYTHONPATH=. python -m tests.integration.api.test_edxl_docs"
    )


def test_all_sixteen_message_types_are_documented() -> None:
    text = DOC.read_text()
    table = section(text, "message-types")
    for rm_type in MESSAGE_TYPES:
        assert f"| {rm_type} |" in table, rm_type


if __name__ == "__main__":
    DOC.write_text(rewritten(DOC.read_text()))
    sys.exit(0)
