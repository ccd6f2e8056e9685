"""A replay costs what its reader may see (issue 16, defect 12): it chooses from the index's
markings (regions, classification, exercise flag, the hub's routes) which events it may show,
decodes only those, and still judges each decoded event by the whole filter.

- The choice never drops what the reader may see: for random histories (random
  classifications, regions, exercise flags, corrections) on SQLite and PostgreSQL, every
  reader's replay (national, regions that see little, providers; uncleared and cleared; with
  and without exercise items; several channels) gets the very events and positions with the
  choice as without it (every event decoded), whether the hub learnt the streams live, seeded
  them from the projections' rows, or does not know some of them.
- What it costs: a region that may see k of N events decodes k of them, not N.
- A procedure's step (a request's) is as classified as the most classified step before it,
  and a correction as the step it voids, also in a replay of streams the hub seeded from the
  projections (whose rows hold no single step's level): on 853f4e8 such a replay showed an
  uncleared reader the request's step after a Stg. Geheim assessment.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from domain import policy
from domain.envelope import Classification
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.conftest import STORES, fresh_store, require_postgres
from tests.integration.api.conftest import Api, chair, fire_request, item, serving
from tests.integration.feed.helpers import incident, next_of, within
from tests.integration.projections.test_need_to_know_properties import (
    CAPABILITIES,
    TOP,
    World,
    record_history,
)

UNCL = Classification.UNCLASSIFIED
GEHEIM = Classification.STATE_SECRET_SECRET


# --- helpers ------------------------------------------------------------------------------------


def replay(
    client: TestClient, token: str, channels: list[str], after: int, exercise: bool = False
) -> tuple[list[tuple[int, list[dict[str, Any]]]], int]:
    """Subscribe with ``after`` and ping: the pong comes once the replay is done (a message is
    handled after the subscription before it). The replay's frames that carry events, each as
    its position and its events, and the position the pong says the client is complete up to.
    (Frames of read-model rows or a region's national summary alone are left out: the hub
    sends those when the read models change, whenever that is.)"""
    with client.websocket_connect("/v1/feed", headers={"Authorization": f"Bearer {token}"}) as ws:
        next_of(ws, "welcome")
        ws.send_text(
            orjson.dumps({"subscribe": channels, "after": after, "exercise": exercise}).decode()
        )
        next_of(ws, "subscribed")
        ws.send_text('{"type": "ping"}')
        frames = []
        while True:
            message = within(ws, 30)
            assert message["type"] != "websocket.close", message
            parsed = orjson.loads(message["text"])
            assert parsed["type"] in ("frame", "pong", "heartbeat"), parsed
            if parsed["type"] == "frame" and parsed["events"]:
                frames.append((parsed["position"], parsed["events"]))
            elif parsed["type"] == "pong":
                return frames, parsed["position"]


def difference(chosen: Any, everything: Any) -> str:
    """Where two replays differ: the first frame that differs, each side's."""
    for n, (a, b) in enumerate(zip(chosen[0], everything[0], strict=False)):
        if a != b:
            return f"frame {n}: chosen {a}\n everything decoded {b}"
    return f"frames {len(chosen[0])} / {len(everything[0])}, reached {chosen[1]} / {everything[1]}"


def settle(client: TestClient, service: Service, headers: dict[str, str]) -> None:
    """Wait until the read models and the feed's hub have reached the store's last event (what
    is compared must not move meanwhile). A bound on waiting, not a measured time."""
    last = service.last_position()
    for path in ("/v1/picture", "/v1/capacity-overview"):
        answer = client.get(path, headers=headers, params={"min_position": last, "wait": 10})
        assert answer.status_code == 200 and answer.json()["reached"], answer.text
    hub = client.app.state.feed  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while hub.started and hub.head < last:
        assert time.monotonic() < deadline, "the hub did not reach the last event"
        time.sleep(0.02)


def start_hub(client: TestClient, token: str) -> None:
    """The hub starts with the first connection (seeding its routes from the read models)."""
    with client.websocket_connect("/v1/feed", headers={"Authorization": f"Bearer {token}"}) as ws:
        next_of(ws, "welcome")


@contextmanager
def world_on(store: str) -> Iterator[World]:
    """The property test's world (a store, its projections and the API, the clock standing
    still) on SQLite or on a fresh PostgreSQL schema."""
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp, fresh_store(store, Path(tmp), "t_replay") as config:
        service = Service(MlobApplication(config), lambda: now)
        with serving(service) as client:
            yield World(client, service, now)


# --- the choice never drops what the reader may see ---------------------------------------------

#: (org, role): national readers, regions (VR21 is in few of the histories' subjects: a region
#: that sees little), providers (IFV: no region; VR07: a region that provides), a viewer.
READER_KINDS = (
    ("LOCC", "coordinator"),
    ("NCC", "viewer"),
    ("VR08", "operator"),
    ("VR23", "coordinator"),
    ("VR21", "viewer"),
    ("IFV", "operator"),
    ("VR07", "operator"),
)
clearances = st.sampled_from((UNCL, UNCL, *Classification))


def channel_choices(w: World, org: str) -> list[str]:
    """Channels of every kind a reader of ``org`` may subscribe to (each still filtered)."""
    region = policy.scope_of(_Principal(org)).region
    found = ["national", f"provider:{org}", *(f"capability:{c}" for c in CAPABILITIES[:2])]
    if region:
        found.append(f"region:{region}")
    found += [f"incident:{s}" for s in w.subjects["incidents"][:2]]
    found += [f"request:{s}" for s in w.subjects["requests"][:2]]
    return [c for c in found if policy.may_subscribe(_Principal(org), c)]


class _Principal:
    """A reader for ``may_subscribe`` (scope only: the role never widens it)."""

    def __init__(self, org: str) -> None:
        self.org, self.role, self.clearance = org, "operator", UNCL


@pytest.mark.parametrize("store", STORES)
def test_a_replay_chosen_from_the_index_shows_what_decoding_everything_shows(store: str) -> None:
    if store == "postgres":
        require_postgres()

    # Each example records a whole history (~1 s) and replays it twice per reader: no shrinking;
    # a failure shows the history and the readers (``note``).
    @settings(
        max_examples=8 if store == "sqlite" else 4,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        with world_on(store) as w:
            national = w.headers("LOCC", "coordinator", TOP)
            # The hub learns every stream live (started before), or seeds them from the read
            # models' rows afterwards (their steps' levels unknown until a replay reads them).
            live = data.draw(st.booleans(), "hub started before the history")
            if live:
                start_hub(w.client, national["Authorization"].split()[1])
            record_history(w, data.draw)
            readers = [
                (org, role, data.draw(clearances, f"{org} clearance")) for org, role in READER_KINDS
            ]
            for org, role, clearance in readers:  # tokens are events too: before the replays
                w.headers(org, role, clearance)
            settle(w.client, w.service, national)
            start_hub(w.client, national["Authorization"].split()[1])
            hub = w.client.app.state.feed  # type: ignore[attr-defined]
            # Streams the read models had not reached when the hub started: it does not know
            # them, and a replay learns them from their events.
            forget = data.draw(st.sampled_from((0.0, 0.0, 0.3, 1.0)), "share of routes forgotten")
            known = sorted(hub.routes.streams)
            for key in known[: int(len(known) * forget)]:
                del hub.routes.streams[key]
            chosen_first = data.draw(st.booleans(), "the choice replays first")
            note("\n".join(w.recorded))
            last = w.service.last_position()
            for org, role, clearance in readers:
                token = w.tokens[(org, role, clearance)]
                choices = channel_choices(w, org)
                channels = data.draw(
                    st.lists(st.sampled_from(choices), min_size=1, max_size=3, unique=True),
                    f"{org} channels",
                )
                exercise = data.draw(st.booleans(), f"{org} with exercise items")
                got = {}
                for prefilter in (chosen_first, not chosen_first):
                    hub.prefilter = prefilter
                    got[prefilter] = replay(w.client, token, channels, 0, exercise)
                hub.prefilter = True
                label = f"{org}/{role}/{clearance.value} on {channels} (exercise: {exercise})"
                assert got[True] == got[False], (label, difference(got[True], got[False]))
                frames, reached = got[True]
                assert reached >= last, label  # the client resumes after what was replayed
                shown = sum(len(events) for _, events in frames)
                event(f"events shown: {'none' if not shown else 'some'}")

    check()


# --- what a replay costs ------------------------------------------------------------------------


def wait_for_read_models(api: Api) -> None:
    settle(api.client, api.service, api.headers("LOCC", "coordinator"))


@pytest.fixture
def decoding(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the events decoded in the feed's replay threads (the mapper's own work, not the
    replay's bookkeeping): one entry per decoded event."""
    mapper = api.service.app.mapper
    decode = mapper.to_domain_event
    counted: list[int] = []

    def counting(stored: Any) -> Any:
        if threading.current_thread().name.startswith("mlob-feed-replay"):
            counted.append(1)
        return decode(stored)

    monkeypatch.setattr(mapper, "to_domain_event", counting)
    return counted


def test_a_region_that_sees_k_of_n_events_decodes_k(api: Api, decoding: list[int]) -> None:
    start = api.position()
    others = []
    for _ in range(40):  # another region's incidents, each with a situation report
        subject = incident(api, "VR01")
        report = item("incident.situation_reported", UUID(subject), {"summary": "water"})
        assert api.post("VR01", report).status_code == 201
        others.append(subject)
    secret = incident(
        api,
        "VR08",
        envelope={"classification": "stg_geheim"},
        clearance=Classification.STATE_SECRET_SECRET,
    )  # in VR08, above the reader's clearance
    own = [incident(api, "VR08") for _ in range(3)]
    token = api.token("VR08", "operator")
    wait_for_read_models(api)
    start_hub(api.client, token)
    hub = api.client.app.state.feed
    every = api.position() - start  # every event of the replay's range (tokens included)

    frames, reached = replay(api.client, token, ["national"], start)
    got = [e["stream_id"] for _, events in frames for e in events]
    assert got == own and secret not in got
    assert reached == api.position()
    k = len(own)
    assert len(decoding) <= k + 2, f"decoded {len(decoding)} events to show {k} of {every}"
    assert hub.decoded == len(decoding)

    # The counter is honest: without the choice, the same replay decodes every event.
    decoding.clear()
    hub.prefilter = False
    assert replay(api.client, token, ["national"], start) == (frames, reached)
    assert len(decoding) >= every - 1 > 80


def test_a_replay_decodes_only_the_exercise_scope_it_asked_for(
    api: Api, decoding: list[int]
) -> None:
    """The choice judges the exercise flag by the subscription's scope (real only, exercises
    only): before, it took the scope for a flag (a scope is always true), so a real-only
    replay decoded every exercise event and an exercises-only one every real event."""
    start = api.position()
    drills = [incident(api, "VR08", envelope={"exercise": True}) for _ in range(30)]
    real = [incident(api, "VR08") for _ in range(30)]
    token = api.token("VR08", "operator")
    wait_for_read_models(api)
    start_hub(api.client, token)
    for exercise, shown in ((False, real), (True, drills)):
        decoding.clear()
        frames, _ = replay(api.client, token, ["national"], start, exercise)
        assert [e["stream_id"] for _, events in frames for e in events] == shown
        assert len(decoding) <= len(shown) + 2, f"decoded {len(decoding)} to show {len(shown)}"


def test_a_national_replay_decodes_what_it_shows_once(api: Api, decoding: list[int]) -> None:
    """A reader that sees everything decodes each event once: the choice costs no decoding."""
    start = api.position()
    opened = [incident(api, region) for region in ("VR01", "VR08", "VR23") for _ in range(5)]
    token = api.token("LOCC", "coordinator")
    wait_for_read_models(api)
    start_hub(api.client, token)
    frames, _ = replay(api.client, token, ["national"], start)
    assert [e["stream_id"] for _, events in frames for e in events] == opened
    assert len(decoding) <= len(opened) + 1  # + its own token's issue, in the range


# --- levels that rest on earlier steps, in a replay of seeded streams -----------------------------


@pytest.mark.parametrize("restart", [False, True], ids=["hub-live", "hub-seeded"])
def test_a_request_step_after_a_secret_step_is_secret_in_a_replay(api: Api, restart: bool) -> None:
    """A request is a procedure: its forwarding after a Stg. Geheim assessment is as secret.
    A hub that starts after these steps knows the request from the read models' rows (no
    step's level there); its replay must not judge the forwarding by its own marking."""
    geheim = {"clearance": GEHEIM}
    reader = api.token("VR08", "operator")
    cleared = api.token("VR08", "operator", GEHEIM)
    start = api.position()
    if not restart:
        start_hub(api.client, reader)
    opened = UUID(incident(api))
    subject = uuid4()
    body = fire_request(subject)
    body["data"]["incident_id"] = str(opened)
    assert api.post("VR08", body).status_code == 201
    submitted = item("request.submitted", subject, authority=chair("VR08"))
    assert api.post("VR08", submitted).status_code == 201
    assert api.post("LOCC", item("request.received", subject)).status_code == 201
    findings = {"forward": True, "findings": "secret findings", "alternatives_checked": "none"}
    assessed = item("request.assessed", subject, findings, classification="stg_geheim")
    assert api.post("LOCC", assessed, **geheim).status_code == 201
    forwarded = item("request.forwarded", subject, {"to": ["IFV"]})  # unmarked
    assert api.post("LOCC", forwarded, **geheim).status_code == 201
    wait_for_read_models(api)
    start_hub(api.client, reader)

    frames, _ = replay(api.client, reader, ["national"], start)
    types = [e["type"].rpartition(".")[2] for _, events in frames for e in events]
    assert types == ["opened", "drafted", "submitted", "received"]
    frames, _ = replay(api.client, cleared, ["national"], start)
    types = [e["type"].rpartition(".")[2] for _, events in frames for e in events]
    assert types == ["opened", "drafted", "submitted", "received", "assessed", "forwarded"]


def test_a_correction_of_a_secret_step_is_secret_in_a_replay(api: Api) -> None:
    """A correction is as classified as the step it voids, also when the hub seeded the
    stream from the read models (the void names its target only in the event)."""
    geheim = {"clearance": GEHEIM}
    reader = api.token("VR08", "operator")
    start = api.position()
    subject = UUID(incident(api))
    report = item(
        "incident.situation_reported", subject, {"summary": "secret"}, classification="stg_geheim"
    )
    assert api.post("VR08", report, **geheim).status_code == 201
    void = item("incident.voided", subject, {"target_version": 2, "reason": "in error"})
    assert api.post("VR08", void, **geheim).status_code == 201
    wait_for_read_models(api)
    start_hub(api.client, reader)

    frames, _ = replay(api.client, reader, ["national"], start)
    types = [e["type"].rpartition(".")[2] for _, events in frames for e in events]
    assert types == ["opened"]
