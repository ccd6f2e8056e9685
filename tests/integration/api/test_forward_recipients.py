"""Who a forward involves (issue 16's rule, "Need to know": an organisation sees what it was
forwarded, copied on, ...): a provider forwarded a share and an organisation copied on the
forward both see the request — in its detail and, live, in the feed. Before, copies were not
kept (a copied organisation got 404), and the feed learnt only ``to`` of a forward, so a
provider asked for a share got no frame until the hub restarted."""

from __future__ import annotations

from uuid import UUID

from tests.integration.api.conftest import Api, item
from tests.integration.api.test_shares import LOCC, pumps, shares
from tests.integration.feed.helpers import receive


def sees(api: Api, org: str, subject: UUID) -> int:
    return api.client.get(f"/v1/requests/{subject}", headers=api.headers(org)).status_code


def test_an_organisation_copied_on_a_forward_sees_the_request(api: Api) -> None:
    subject = pumps(api)
    assert sees(api, "VR06", subject) == 404
    forward = {**shares(("VR07", 2)), "copies": ["VR06"]}
    api.accepted(LOCC, item("request.forwarded", subject, forward))
    # Who may read a request is judged on its projected rows: wait until they hold the forward.
    assert api.service.wait_for_views(api.position(), ["requests"], 10)
    assert sees(api, "VR06", subject) == 200
    assert sees(api, "VR05", subject) == 404  # neither asked nor copied
    detail = api.client.get(f"/v1/requests/{subject}", headers=api.headers("VR06")).json()
    assert detail["copied_to"] == ["VR06"]


def test_a_provider_forwarded_a_share_gets_the_forward_live(api: Api) -> None:
    subject = pumps(api)
    with api.client.websocket_connect("/v1/feed", headers=api.headers("VR07")) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["national"]}')
        receive(ws, "subscribed")
        api.accepted(LOCC, item("request.forwarded", subject, shares(("VR07", 2))))
        deadline_events: list[str] = []
        while "request.forwarded" not in deadline_events:
            frame = receive(ws, "frame")
            deadline_events += [
                e["type"] for e in frame["events"] if e["stream_id"] == str(subject)
            ]
