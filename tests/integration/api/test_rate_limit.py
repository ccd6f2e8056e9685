"""Rate limits per token (issue 19): off by default; with ``MLOB_RATE_LIMIT`` a token past its
bucket gets 429 ``rate_limited`` with ``Retry-After`` — on reads and on the bare write path
alike — other tokens are unaffected, and ``/health*`` and ``/metrics`` are never limited."""

from __future__ import annotations

from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import Limiter, RateLimit
from mlob.config import ConfigError, load_settings
from tests.integration.api.conftest import Api, item


@pytest.fixture
def limited(api: Api) -> Api:
    """The same service behind an app limited to 1 request per second, bursts of 3."""
    app = create_app(api.service, RateLimit(per_second=1, burst=3))
    return Api(TestClient(app), api.service, api.tokens)


def test_a_token_past_its_bucket_gets_429_with_retry_after(limited: Api) -> None:
    headers = limited.headers("VR08")
    other = limited.headers("VR07")
    opened = item("incident.opened", uuid4(), {"title": "dyke", "regions": ["VR08"], "grip": "1"})
    answers = [limited.client.get("/v1/whoami", headers=headers).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    refused = limited.client.post("/v1/events", json=opened, headers=headers)  # the bare path
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert limited.client.get("/v1/whoami", headers=other).status_code == 200
    for path in ("/health", "/health/live", "/health/ready"):
        assert limited.client.get(path, headers=headers).status_code == 200
    metrics = limited.client.get("/metrics", headers=limited.headers("LOCC", "admin"))
    assert metrics.status_code == 200


def test_unlimited_by_default(api: Api) -> None:
    headers = api.headers("VR08")
    assert all(api.client.get("/v1/whoami", headers=headers).status_code == 200 for _ in range(20))


def test_the_bucket_refills_with_time() -> None:
    now = [0.0]
    limiter = Limiter(RateLimit(per_second=2, burst=2), clock=lambda: now[0])
    assert limiter.wait("t") is None and limiter.wait("t") is None
    wait = limiter.wait("t")
    assert wait == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.wait("t") is None


@pytest.mark.parametrize(
    ("text", "per_second", "burst"),
    [("20/s", 20, 20), ("600/min", 10, 10), ("5/s,burst=50", 5, 50), ("1/min", 1 / 60, 1)],
)
def test_mlob_rate_limit(text: str, per_second: float, burst: int) -> None:
    limit = load_settings({"MLOB_RATE_LIMIT": text}).rate_limit
    assert limit is not None and limit.burst == burst
    assert limit.per_second == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["fast", "0/s", "10/h", "10/s,burst=0"])
def test_an_unusable_rate_limit_is_one_clear_line(text: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"MLOB_RATE_LIMIT": text})
    assert "MLOB_RATE_LIMIT" in str(refused.value) and "\n" not in str(refused.value)
