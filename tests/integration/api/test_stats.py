"""GET /v1/stats on the demo's story, computed by hand from mlob/demo.py."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from mlob import demo
from tests.conftest import on_both_stores
from tests.integration.api.conftest import Api
from tests.integration.projections.conftest import NOW

pytestmark = on_both_stores


def _stats(api: Api, **params: object):
    return api.client.get("/v1/stats", params=params, headers=api.headers("INSP-JENV", "auditor"))


def test_stats_of_the_demo(api: Api) -> None:
    demo.load_demo(api.service, NOW)
    assert api.client.get("/v1/stats", headers=api.headers("VR08")).status_code == 403
    stats = _stats(api).json()
    total = stats["total"]
    # Eight real requests (the water-cannon exercise is left out): four granted, VR08's pumps
    # covered by several providers partly granted (issue 18), three open.
    assert total["requests"] == 8
    assert total["outcomes"] == {"granted": 4, "open": 3, "partly_granted": 1}
    assert (total["urgent"], total["normal"]) == (2, 6)  # VR08's trucks, VR21's pumps
    # Requested: 4 + 4 trucks, 2,000 blankets, 1 SIS, 2 ME, 1 KMar, 2 + 6 pumps; delivered (on
    # scene): 2 of VR08's 4 trucks (2 are still on their way: issue 18) and the 2,000 blankets
    # (VR07's pumps are on their way too).
    assert (total["quantity_requested"], total["quantity_delivered"]) == (2020, 2002)
    assert stats["by_kind"]["military_art51"]["requests"] == 2
    assert stats["by_kind"]["military_art51"]["outcomes"] == {"granted": 1, "open": 1}
    assert stats["per_year_by_kind"] == {
        "2026": {
            "kmar_art57_public_order": 1,
            "military_art51": 2,
            "police_art56_public_order": 1,
            "region_art51": 3,
            "support": 1,
        }
    }
    # Blankets: submitted 6.9 h, received 6.7 h before: 12 minutes; SIS 5.9 -> 5.8: 6 minutes;
    # ME 5.9 -> 5.7: 12; VR08 trucks 7.9 -> 7.7: 12; VR23 4.9 -> 4.5: 24; KMar 3.9 -> 3.6: 18;
    # pumps phoned in 1.5 -> received 1.4: 6; shared pumps 4.7 -> 4.6: 6. Median of
    # [6, 6, 6, 12, 12, 12, 18, 24] min = 12.
    received = total["lead_times_seconds"]["submitted->received"]
    assert (received["n"], received["p50"]) == (8, 12 * 60)
    assert stats["by_region"]["VR23"]["requests"] == 2  # VR23's trucks, KMar for Venlo
    assert stats["by_provider"]["IFV"]["requests"] == 2  # blankets and SIS


def test_stats_for_a_period_and_as_csv(api: Api) -> None:
    demo.load_demo(api.service, NOW)
    # Submitted in the last 4.5 hours: KMar (3.9 h) and the pumps (1.5 h).
    recent = _stats(api, **{"from": (NOW - timedelta(hours=4.5)).isoformat()}).json()
    assert recent["total"]["requests"] == 2
    response = _stats(api, format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    total = next(r for r in rows if r["dimension"] == "total")
    assert (total["requests"], total["granted"], total["open"]) == ("8", "4", "3")
    assert {r["key"] for r in rows if r["dimension"] == "kind"} >= {"military_art51", "support"}
    assert _stats(api, format="xml").status_code == 422
