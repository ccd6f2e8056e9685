"""``/metrics`` (issue 19): Prometheus's text format, for administrators; requests by route
(the bare write path too), refusals by code, commits, the feed and the projections — and no
label names an organisation, a subject or a classification."""

from __future__ import annotations

import re
from uuid import uuid4

from prometheus_client.parser import text_string_to_metric_families

from domain.envelope import Classification
from domain.reference import organisations
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api, item
from tests.integration.feed.helpers import incident, receive

pytestmark = on_both_stores

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = api.client.get("/metrics", headers=api.headers("LOCC", "admin"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_posts_refusals_commits_and_the_feed(api: Api) -> None:
    before = scrape(api)
    incident(api)
    bad = api.post("VR08", item("incident.bogus", uuid4(), {}))
    assert bad.status_code == 422
    assert api.client.get("/v1/requests", headers=api.headers("VR08")).status_code == 200
    with api.client.websocket_connect("/v1/feed", headers=api.headers("LOCC", "coordinator")) as ws:
        receive(ws, "welcome")
        ws.send_text('{"subscribe": ["national"]}')
        receive(ws, "subscribed")
        incident(api)
        receive(ws, "frame")
        during = scrape(api)
        assert value(during, "mlob_feed_connections") >= 1
    after = scrape(api)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    posted = {"route": "/v1/events", "method": "POST"}
    assert grew("mlob_http_requests_total", status="201", **posted) == 2  # the bare path
    assert grew("mlob_http_requests_total", status="422", **posted) == 1
    assert grew("mlob_http_requests_total", route="/v1/requests", method="GET", status="200") == 1
    assert grew("mlob_refusals_total", code="unknown_event_type") == 1
    assert grew("mlob_commits_total", outcome="committed") >= 2
    assert grew("mlob_write_group_appends_count") >= 2
    assert grew("mlob_feed_frames_total") >= 1
    assert ("mlob_projection_lag_events", (("projection", "requests"),)) in after
    assert value(after, "mlob_store_last_position") == api.position()


def test_no_label_names_an_organisation_a_subject_or_a_classification(api: Api) -> None:
    incident(api)
    api.post("VR08", item("incident.bogus", uuid4(), {}))
    codes = {o.code for o in organisations()}
    levels = {c.value for c in Classification}
    for _, labels in scrape(api):
        for _, text in labels:
            assert text not in codes and text not in levels, text
            assert not UUID_TEXT.search(text), text


def test_metrics_are_for_administrators(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 401
    answer = api.client.get("/metrics", headers=api.headers("LOCC", "coordinator"))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "role_not_permitted"
