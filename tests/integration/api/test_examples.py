"""Every postable type carries a valid example of its data, given once (``api/commands.py``)
and published by ``GET /v1/event-types`` and the OpenAPI document; the registry refuses a type
without one at import. The tests take their sample data from these examples
(``tests/samples.py``), so a new type is covered without editing them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from api.commands import EXAMPLE_CAPACITY, REGISTRY, Data, event_type
from api.post_events import POSTED
from domain.rights import Step
from tests.integration.api.conftest import Api


def test_event_types_publish_each_types_example(api: Api) -> None:
    listed = api.client.get("/v1/event-types", headers=api.headers("VR08")).json()
    postable = {t["type"]: t for t in listed if t["postable"]}
    assert set(postable) == set(REGISTRY)
    for name, t in postable.items():
        assert t["example"] == REGISTRY[name].example, name
        assert t["schema"]["examples"] == [t["example"]], name
        REGISTRY[name].model.model_validate(t["example"])
    assert all("example" not in t for t in listed if not t["postable"])
    # The examples name one capacity, as registered, and its bookings.
    assert postable["request.committed"]["example"]["capacity_id"] == EXAMPLE_CAPACITY


def test_the_openapi_document_has_a_valid_body_for_every_type(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    examples: dict[str, Any] = body["examples"]
    assert set(examples) == set(REGISTRY)
    for name, example in examples.items():
        assert example["summary"] == REGISTRY[name].summary
        posted = POSTED.validate_python(example["value"])
        assert posted.type == name and posted.data == REGISTRY[name].example  # type: ignore[union-attr]


def test_each_example_body_passes_every_check_of_its_shape(api: Api) -> None:
    """Posted as it stands, an example body is never refused for its shape or its data (422
    ``invalid_data`` or a malformed body): only the domain may refuse it (the subject does not
    exist, the step is not the caller's, ...)."""
    document = api.client.get("/openapi.json").json()
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    # The creating types first, so that the others reach an existing subject where they can.
    for name, example in sorted(body["examples"].items(), key=lambda x: not REGISTRY[x[0]].creates):
        response = api.post("LOCC", example["value"], role="coordinator")
        error = response.json().get("error", {})
        assert response.status_code < 500 and response.status_code != 400, (name, response.text)
        assert error.get("code") not in ("invalid_data", "invalid_item", "malformed_json"), (
            name,
            response.text,
        )


def _model() -> type[Data]:
    class Tested(Data):
        reason: str

    return Tested


def test_the_registry_refuses_a_type_without_a_valid_example() -> None:
    before = dict(REGISTRY)
    unregistered: Any = event_type
    with pytest.raises(TypeError, match="example"):
        unregistered("request.submitted", "request", "no example", step=Step.SUBMIT)
    wrong = _model()
    for example in ({}, {"reason": 3}, {"reason": "r", "extra": 1}, {"reason": UUID(int=1)}):
        with pytest.raises(TypeError, match=r"example of request\.submitted"):
            event_type(
                "request.submitted", "request", "a wrong example", example=example, step=Step.SUBMIT
            )(wrong)
    assert before == REGISTRY
    assert "json_schema_extra" not in wrong.model_config
