"""The benchmarks in bench/ still run on the current code (they rotted once, silently, when
issue 17 moved modules: bench/audit.py asked bench/projections.py for settings it no longer
had). Cheap: no benchmark runs here, only what a refactor breaks — the imports (also those inside
functions), the attributes asked of imported modules, and bench/audit.py's picture for a reader,
which must be what ``GET /v1/picture?as_of=`` answers that reader."""

from __future__ import annotations

import ast
import importlib
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from api.ports import Principal
from domain.envelope import Classification
from mlob import demo
from mlob.config import StoreConfig
from mlob.read.pictures import CODE_VERSION, PictureCheckpoints
from mlob.service import Service
from mlob.write.application import MlobApplication
from tests.integration.api.conftest import Api, item, serving
from tests.integration.projections.conftest import NOW

BENCH = Path(__file__).resolve().parents[2] / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__")


def test_the_benchmarks_are_all_here() -> None:
    # A bench renamed or removed shows here, so the list below is not silently shorter.
    assert {"audit", "bench", "feed", "feed_replays", "projections", "loadgen"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_a_bench_imports_and_names_only_what_exists(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    tree = ast.parse((BENCH / f"{name}.py").read_text())
    missing = []
    for node in ast.walk(tree):
        # Imports inside functions run only when a benchmark reaches them: import them now.
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            source = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(source, alias.name):
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        missing.append(f"line {node.lineno}: {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        # ``bp.HOST`` where ``bp`` is a module: the attribute must exist.
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = getattr(module, node.value.id, None)
            if isinstance(owner, types.ModuleType) and not hasattr(owner, node.attr):
                missing.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    assert not missing, f"bench/{name}.py names what is gone: {missing}"


def test_the_audit_bench_pictures_are_the_routes_answers(tmp_path: Path) -> None:
    """bench/audit.py times the picture as of a moment through the functions the route uses;
    for the auditor and for an uncleared region's reader (VR08 operator, ongerubriceerd) its
    picture and capacity overview are the answers of ``GET /v1/picture?as_of=`` and
    ``GET /v1/capacity-overview?as_of=``, from a picture checkpoint as the bench writes them."""
    from bench import audit

    service = Service(MlobApplication(StoreConfig(kind="sqlite", sqlite_path=tmp_path / "a.db")))
    with serving(service) as client:
        api = Api(client, service)
        readers = [audit.AUDITOR, audit.REGION]
        headers = {
            r: api.headers(r.org, r.role, clearance=r.clearance) for r in readers
        }  # tokens are events too: issued before the moments
        demo.load_demo(service, NOW)
        # Outside VR08's scope, and above its clearance: what the two readers must differ in.
        elsewhere, flood = uuid4(), str(demo.FLOOD)
        opened = item(
            "incident.opened", elsewhere, {"title": "dike", "regions": ["VR01"], "grip": "1"}
        )
        api.accepted("VR01", {"items": [opened]})
        secret = item(
            "incident.situation_reported",
            demo.FLOOD,
            {"summary": "classified"},
            classification="stg_geheim",
        )
        api.accepted("VR08", {"items": [secret]}, clearance=Classification.STATE_SECRET_SECRET)
        assert service.projections is not None
        assert service.wait_for_views(service.last_position(), ["incidents", "requests"], 10)
        written = PictureCheckpoints(service.app, service.projections.store, 20).advance()
        assert written and service.projections.store.picture_checkpoints(CODE_VERSION)
        moments = [
            ("occurred", NOW - timedelta(hours=6.5)),
            ("recorded", datetime.now(UTC)),
        ]
        pictures: dict[Principal, dict[str, Any]] = {}
        for axis, moment in moments:
            for reader in readers:
                params = {"as_of": moment.isoformat(), "axis": axis}
                answers = [
                    client.get(path, params=params, headers=headers[reader])
                    for path in ("/v1/picture", "/v1/capacity-overview")
                ]
                assert all(a.status_code == 200 for a in answers), answers
                picture, overview, rows = audit.picture_for(service, moment, axis, True, reader)
                assert rows > 0
                got = answers[0].json()
                assert picture == {"incidents": got["incidents"], "summary": got["summary"]}
                meta = {"position", "positions", "reached", "at", "as_of", "rebuilding", "scope"}
                assert overview == {k: v for k, v in answers[1].json().items() if k not in meta}
                pictures[reader] = picture
        # The recorded axis, last: VR08's reader sees its flood without the secret report and
        # not VR01's incident; the auditor all of it.
        seen = {r: {i["id"]: i for i in p["incidents"]} for r, p in pictures.items()}
        assert set(seen[audit.AUDITOR]) == {flood, str(elsewhere)}
        assert set(seen[audit.REGION]) == {flood}
        assert seen[audit.AUDITOR][flood]["latest_report"] == "classified"
        assert seen[audit.REGION][flood]["latest_report"] != "classified"
