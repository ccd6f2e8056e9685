"""The typed contract of ``POST /v1/events`` for the OpenAPI document.

One item model per postable type (api/commands.py's registry, the source ``/v1/event-types``
reads too): the envelope of :class:`api.post_events.Item` with ``type`` fixed to the type's name and
``data`` its own model, all of them one union discriminated by ``type``. A generated client so
knows every type's data. The server validates with the same models (``plan`` picks the type's
model by name), so the document and the checks cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from api.commands import REGISTRY, EventType
from api.post_events import Item


def model_name(type_name: str) -> str:
    """``request.drafted`` -> ``RequestDraftedItem``."""
    words = type_name.replace(".", "_").split("_")
    return "".join(w.capitalize() for w in words) + "Item"


def _item_model(t: EventType) -> type[BaseModel]:
    try:
        t.model.model_validate({})
        data: Any = (t.model, Field(default_factory=dict))  # a step without data may omit it
    except ValidationError:
        data = (t.model, ...)
    model: type[BaseModel] = create_model(
        model_name(t.name),
        __base__=Item,
        __doc__=f"{t.summary} (`{t.name}`).",
        type=(Literal[t.name], ...),  # type: ignore[arg-type]
        data=data,
    )
    return model


@cache
def typed_items() -> tuple[type[BaseModel], ...]:
    return tuple(_item_model(t) for _, t in sorted(REGISTRY.items()))


def posted_adapter() -> TypeAdapter[Any]:
    """One item (discriminated by ``type``) or a batch of them: the body's schema."""
    one = Annotated[Union[typed_items()], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007

    class Batch(BaseModel):
        """An atomic batch: every item is recorded, or none."""

        model_config = ConfigDict(extra="forbid")
        items: Annotated[list[one], Field(min_length=1)]  # type: ignore[valid-type]

    posted: Any = Annotated[Union[one, Batch], Field(title="Posted")]  # noqa: UP007
    return TypeAdapter(posted)
