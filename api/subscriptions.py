"""Subscriptions (signed webhooks) and alerts: ``/v1/subscriptions`` and ``/v1/alerts``.

An organisation's administrators and operators subscribe its own systems to channels; the
delivery runner (mlob/runners/webhooks.py) sends what that organisation may read, through the
one access policy, signed by the Standard Webhooks scheme. The secret is answered once, at
creation (and at a rotation), and never again.
"""

from typing import Annotated, Any, Protocol, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api import paging
from api.errors import ApiError, error_responses
from api.ports import MlobService, Principal
from api.types import MAX_POSITION, After
from domain import vocabulary
from domain.envelope import Classification
from domain.exercise import ExerciseScope
from domain.policy import MAX_CHANNEL_LENGTH, MAX_CHANNELS
from domain.subscription import MAX_TYPES, MAX_URL

#: A delivery's or an alert's number: a stored row id (a bigger one would overflow SQLite).
RowId = Annotated[int, Path(ge=0, le=MAX_POSITION)]


class Webhooks(Protocol):
    """What these routes need of the composition root (mlob/subscriptions.py)."""

    def create(
        self,
        by: Principal,
        *,
        url: str,
        channels: list[str],
        types: list[str],
        alerts_only: bool,
        exercise: str,
        clearance: Classification | None,
        after: int | None,
    ) -> dict[str, Any]: ...

    def listed(self, by: Principal) -> list[dict[str, Any]]: ...

    def get(self, by: Principal, subscription_id: UUID) -> dict[str, Any]: ...

    def change(
        self, by: Principal, subscription_id: UUID, *, paused: bool | None, rotate_secret: bool
    ) -> dict[str, Any]: ...

    def delete(self, by: Principal, subscription_id: UUID, reason: str) -> None: ...

    def deliveries(
        self, by: Principal, subscription_id: UUID, *, after: int, limit: int, dead: bool
    ) -> list[dict[str, Any]]: ...

    def redeliver(
        self, by: Principal, subscription_id: UUID, delivery_id: int
    ) -> dict[str, Any]: ...

    def alerts(self, by: Principal, *, after: int, limit: int) -> list[dict[str, Any]]: ...

    def ack(self, by: Principal, alert_id: int) -> dict[str, Any]: ...


Channel = Annotated[str, Field(min_length=1, max_length=MAX_CHANNEL_LENGTH)]
TypeName = Annotated[str, Field(min_length=1, max_length=100)]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=1, max_length=MAX_URL)]
    channels: Annotated[list[Channel], Field(min_length=1, max_length=MAX_CHANNELS)]
    types: Annotated[list[TypeName], Field(max_length=MAX_TYPES)] = []
    alerts_only: bool = False
    # The one reading of exercise=: domain/exercise.py (true, false or "all").
    exercise: Annotated[ExerciseScope, BeforeValidator(ExerciseScope.parse)] = ExerciseScope.REAL
    clearance: Classification | None = None
    after: Annotated[int, Field(ge=0)] | None = None


class SubscriptionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paused: bool | None = None
    rotate_secret: bool = False


class DeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=2000)] = ""


def router(service: MlobService, caller_dependency: Any) -> APIRouter:
    routes = APIRouter(tags=["subscriptions"])
    Caller = Annotated[Principal, Depends(caller_dependency)]

    def hooks() -> Webhooks:
        found = getattr(service, "webhooks", None)
        if found is None:
            raise ApiError(503, "webhooks_not_running")
        return cast(Webhooks, found)

    @routes.post(
        "/v1/subscriptions", status_code=201, responses=error_responses(401, 403, 409, 422)
    )
    def create_subscription(body: SubscriptionIn, caller: Caller) -> dict[str, Any]:
        """Subscribe the caller's organisation's system at ``url`` to ``channels``: answers
        ``201 {"id", "secret", ...}`` (the signing secret, shown this once)."""
        unknown = [t for t in body.types if t not in vocabulary.TYPES]
        if unknown:
            raise ApiError(
                422, "unknown_type", text="subscription", unknown=unknown, pointer="/types"
            )
        exercise = body.exercise.value
        return hooks().create(
            caller,
            url=body.url,
            channels=body.channels,
            types=body.types,
            alerts_only=body.alerts_only,
            exercise=exercise,
            clearance=body.clearance,
            after=body.after,
        )

    @routes.get("/v1/subscriptions", responses=error_responses(400, 401))
    def list_subscriptions(
        caller: Caller, cursor: paging.Cursor = None, limit: paging.Limit = paging.DEFAULT_LIMIT
    ) -> dict[str, Any]:
        """The subscriptions the caller manages (its organisation's, at or below its
        clearance, as administrator or operator), oldest first, in pages; never a secret."""
        start = paging.decode(cursor, "subscriptions", {})
        # An organisation keeps a handful: they are read whole and paged here.
        ordered = sorted(hooks().listed(caller), key=lambda s: (s["created_at"], s["id"]))
        rest = [s for s in ordered if start is None or (s["created_at"], s["id"]) > start]
        page = rest[: paging.clamp(limit)]
        last = (page[-1]["created_at"], page[-1]["id"]) if len(rest) > len(page) else None
        return paging.page(page, "subscriptions", {}, last)

    @routes.get("/v1/subscriptions/{subscription_id}", responses=error_responses(401, 404))
    def get_subscription(subscription_id: UUID, caller: Caller) -> dict[str, Any]:
        return hooks().get(caller, subscription_id)

    @routes.patch(
        "/v1/subscriptions/{subscription_id}", responses=error_responses(401, 404, 409, 422)
    )
    def change_subscription(
        subscription_id: UUID, body: SubscriptionChange, caller: Caller
    ) -> dict[str, Any]:
        """Pause (``"paused": true``), resume a paused or failing one (``false``), or rotate
        the secret (``"rotate_secret": true``: the new one is in this answer only)."""
        if body.paused is None and not body.rotate_secret:
            raise ApiError(422, "nothing_to_change")
        return hooks().change(
            caller, subscription_id, paused=body.paused, rotate_secret=body.rotate_secret
        )

    @routes.delete(
        "/v1/subscriptions/{subscription_id}",
        status_code=204,
        responses=error_responses(401, 404),
    )
    def delete_subscription(
        subscription_id: UUID, caller: Caller, body: DeleteIn | None = None
    ) -> None:
        hooks().delete(caller, subscription_id, body.reason if body else "")

    @routes.get(
        "/v1/subscriptions/{subscription_id}/deliveries", responses=error_responses(400, 401, 404)
    )
    def deliveries(
        subscription_id: UUID,
        caller: Caller,
        after: After = 0,
        dead: Annotated[bool, Query(description="only the dead letters")] = False,
        cursor: paging.Cursor = None,
        limit: paging.Limit = paging.DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """The delivery log, oldest first, in pages: each delivery's state, attempts (status
        codes, latency, errors) and next retry; ``dead=true``: the dead letters only."""
        filters = {"subscription": str(subscription_id), "after": after, "dead": dead}
        start = paging.decode_offset(cursor, "deliveries", filters)
        wanted = paging.clamp(limit)
        found = hooks().deliveries(
            caller,
            subscription_id,
            after=after if start is None else start,
            limit=wanted + 1,
            dead=dead,
        )
        return _numbered_page(found, wanted, "deliveries", filters)

    @routes.post(
        "/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver",
        responses=error_responses(401, 404),
    )
    def redeliver(subscription_id: UUID, delivery_id: RowId, caller: Caller) -> dict[str, Any]:
        """Send a delivery again with the same webhook id: a dead letter in its place (the
        subscription resumes), a delivered one once more at the end of its queue."""
        return hooks().redeliver(caller, subscription_id, delivery_id)

    @routes.get("/v1/alerts", responses=error_responses(400, 401))
    def alerts(
        caller: Caller,
        after: After = 0,
        cursor: paging.Cursor = None,
        limit: paging.Limit = paging.DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """The alerts for the caller's organisation that it may see, oldest first, with
        their acknowledgements, in pages."""
        filters = {"after": after}
        start = paging.decode_offset(cursor, "alerts", filters)
        wanted = paging.clamp(limit)
        found = hooks().alerts(caller, after=after if start is None else start, limit=wanted + 1)
        return _numbered_page(found, wanted, "alerts", filters)

    @routes.post("/v1/alerts/{alert_id}/ack", responses=error_responses(401, 404, 409))
    def ack(alert_id: RowId, caller: Caller) -> dict[str, Any]:
        """Acknowledge an alert for the caller's organisation (recorded: who, when)."""
        return hooks().ack(caller, alert_id)

    return routes


def _numbered_page(
    found: list[dict[str, Any]], wanted: int, listed: str, filters: dict[str, Any]
) -> dict[str, Any]:
    """A page of a log numbered by row id, read with one row more than the page holds: that
    row tells whether another page follows."""
    page = found[:wanted]
    following = (str(page[-1]["id"]), "") if len(found) > wanted else None
    return paging.page(page, listed, filters, following)
