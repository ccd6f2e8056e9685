"""The demo scenario: loaded once, realistic, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.capacity import Capacity
from domain.incident import GripLevel, Incident
from domain.kinds import RequestKind
from domain.lifecycle import RequestStatus
from domain.request import AssistanceRequest
from mlob import demo
from mlob.config import StoreConfig
from mlob.service import Service
from mlob.write.application import MlobApplication


def test_demo_loads_once_with_the_flood_story(store_config: StoreConfig) -> None:
    app = MlobApplication(store_config)
    try:
        now = datetime.now(UTC)
        recorded = demo.load_demo(Service(app), now)
        assert recorded > 50
        position = app.last_position()
        assert demo.load_demo(Service(app)) == 0 and app.last_position() == position

        flood = app.load(Incident, demo.FLOOD)
        assert flood.grip is GripLevel.GRIP_4 and len(flood.regions) >= 2 and not flood.exercise
        exercise = app.load(Incident, demo.EXERCISE)
        assert exercise.exercise

        requests = {
            rid: app.load(AssistanceRequest, rid)
            for rid in (
                demo.TRANSPORT_VR08,
                demo.TRANSPORT_VR23,
                demo.BLANKETS,
                demo.SIS,
                demo.POLICE_ME,
                demo.KMAR,
                demo.PUMPS_URGENT,
                demo.WATER_CANNON,
            )
        }
        kinds = {r.kind for r in requests.values()}
        assert {
            RequestKind.MILITARY_ART51,
            RequestKind.REGION_ART51,
            RequestKind.SUPPORT,
            RequestKind.POLICE_ART56_PUBLIC_ORDER,
            RequestKind.KMAR_ART57_PUBLIC_ORDER,
        } <= kinds
        urgent = requests[demo.PUMPS_URGENT]
        assert urgent.phoned_in and urgent.formalisation_outstanding and urgent.requester == "VR21"
        competing = requests[demo.TRANSPORT_VR23]
        winner = requests[demo.TRANSPORT_VR08]
        assert competing.lines["L1"].capability == winner.lines["L1"].capability
        assert competing.priority == {"DEF_EVACUATION_TRANSPORT": 2}
        assert winner.status is RequestStatus.APPROVED and winner.delivered("L1") == 2  # 2 en route
        assert requests[demo.WATER_CANNON].exercise
        transport = app.load(Capacity, demo.CAP_TRANSPORT)
        assert transport.available == 2  # 6 exist, 4 deployed for VR08: scarce for VR23

        history = app.history(limit=10_000)
        occurred = [h.occurred_at for h in history]
        assert min(occurred) < now - timedelta(hours=12) and max(occurred) <= now
        assert all(h.recorded_at >= h.occurred_at for h in history)
        assert any(
            h.actor_org == "LOCC" and h.authority and '"of":"VR21"' in h.authority for h in history
        )
    finally:
        app.close()
