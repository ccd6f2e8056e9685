"""The picture and the capacity overview as they were, on both time axes, from the demo's
story (times are hours before the demo's moment; everything was recorded when the test ran)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.envelope import Classification
from mlob import demo
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api
from tests.integration.projections.conftest import NOW

pytestmark = on_both_stores


def _get(api: Api, path: str, **params: object) -> dict:
    headers = api.headers("INSP-JENV", "auditor", clearance=Classification.STATE_SECRET_SECRET)
    response = api.client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def trucks(overview: dict) -> dict:
    return next(
        c for c in overview["capabilities"] if c["capability"] == "DEF_EVACUATION_TRANSPORT"
    )


def test_as_occurred_by_then(api: Api) -> None:
    demo.load_demo(api.service, NOW)
    # 6.5 h before: GRIP 4 already (9 h), VR08's trucks forwarded and advised, not yet decided.
    then = (NOW - timedelta(hours=6.5)).isoformat()
    picture = _get(api, "/v1/picture", as_of=then, axis="occurred")
    assert picture["as_of"] == {"moment": then, "axis": "occurred"}
    [flood] = picture["incidents"]
    assert flood["grip"] == "4" and flood["deployed"] == {}
    statuses = {r["id"]: r["status"] for r in flood["requests"]}
    assert statuses[str(demo.TRANSPORT_VR08)] == "forwarded"
    assert str(demo.PUMPS_URGENT) not in statuses, "phoned in only 1.5 h before the moment"
    overview = _get(api, "/v1/capacity-overview", as_of=then, axis="occurred")
    assert (trucks(overview)["available"], trucks(overview)["deployed"]) == (6, 0)
    # 3 h before: the 4 trucks arrived at Beuningen.
    later = _get(
        api, "/v1/capacity-overview", as_of=(NOW - timedelta(hours=3)).isoformat(), axis="occurred"
    )
    assert (trucks(later)["available"], trucks(later)["deployed"]) == (2, 4)
    # Before the flood was opened (12 h): no incident at all.
    assert (
        _get(api, "/v1/picture", as_of=(NOW - timedelta(hours=13)).isoformat(), axis="occurred")[
            "incidents"
        ]
        == []
    )


def test_as_recorded_by_then(api: Api) -> None:
    before = datetime.now(UTC)
    demo.load_demo(api.service, NOW)
    # Everything was recorded while this test ran: as recorded before it, nothing was known,
    # although most of it had occurred by then.
    assert _get(api, "/v1/picture", as_of=before.isoformat())["incidents"] == []
    assert _get(api, "/v1/picture", as_of=before.isoformat(), axis="occurred")["incidents"]
    now = _get(api, "/v1/picture", as_of=datetime.now(UTC).isoformat())
    assert [i["id"] for i in now["incidents"]] == [str(demo.FLOOD)]
    assert now["position"] > 0


def test_as_of_needs_a_zone_and_a_known_axis(api: Api) -> None:
    headers = api.headers("INSP-JENV", "auditor")
    for params in ({"as_of": "2026-11-25T10:00:00"}, {"as_of": NOW.isoformat(), "axis": "x"}):
        assert api.client.get("/v1/picture", headers=headers, params=params).status_code == 422


def test_answers_from_a_kept_base_leave_it_as_stored(api: Api) -> None:
    """The base a read starts from is kept parsed for the next read of the same moment
    (mlob/read/pictures.py ``BASES``): the answers built from it must leave it as stored, so
    the same question asked again, from the kept base, gets the same answer."""
    from mlob.read import pictures

    demo.load_demo(api.service, NOW)
    assert api.service.projections is not None
    store = api.service.projections.store
    pictures.PictureCheckpoints(api.service.app, store, every=10).advance()
    pictures.BASES.clear()
    then = (NOW - timedelta(hours=3)).isoformat()
    asked = [
        ("/v1/picture", {"as_of": then, "axis": "occurred"}),
        ("/v1/picture", {"as_of": then, "axis": "occurred", "limit": 1}),
        ("/v1/capacity-overview", {"as_of": then, "axis": "occurred"}),
        ("/v1/capacity-overview", {"as_of": then, "axis": "occurred", "exercise": "all"}),
    ]
    first = [_get(api, path, **params) for path, params in asked]
    [kept] = pictures.BASES._kept[store].values()
    stored = pictures.Picture.load(store, kept.position)
    assert (kept.rows, kept.places) == (stored.rows, stored.places)
    assert [_get(api, path, **params) for path, params in asked] == first


def test_a_region_reader_as_of_counts_what_it_may_not_see_in_the_national_totals(
    api: Api,
) -> None:
    """A safety region's picture as of a moment shows its own region's incidents but national
    totals (domain/policy.py): its answer needs the rows of requests outside its scope, so
    no cut of the rows it starts from (a checkpoint's, a replay's) may leave those out. VR07
    has no part in the flood: it sees none of it, yet its totals are the nation's, as an
    auditor at its clearance counts them, from a checkpoint with events after it."""
    from mlob.read import pictures

    demo.load_demo(api.service, NOW)
    assert api.service.projections is not None
    pictures.PictureCheckpoints(api.service.app, api.service.projections.store, every=10).advance()
    then = {"as_of": (NOW - timedelta(hours=3)).isoformat(), "axis": "occurred"}
    region = api.client.get(
        "/v1/picture", headers=api.headers("VR07", "operator"), params=then
    ).json()
    auditor = api.client.get(
        "/v1/picture",
        headers=api.headers("INSP-JENV", "auditor", clearance=Classification.UNCLASSIFIED),
        params=then,
    ).json()
    assert region["incidents"] == [] and region["total_incidents"] == 0
    assert auditor["summary"]["open_requests"] > 0 and auditor["summary"]["by_kind"]
    national = {k: v for k, v in auditor["summary"].items() if k != "by_region"}
    assert {k: v for k, v in region["summary"].items() if k != "by_region"} == national
    assert set(region["summary"]["by_region"]) <= {"VR07"}
