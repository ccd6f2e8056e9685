"""A bare FastAPI POST that does no work: the ceiling HTTP itself sets on this machine."""

from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()


@app.post("/v1/events", status_code=201)
async def events(request: Request) -> Response:
    await request.body()
    return Response(
        b'{"events":[],"replayed":false}', status_code=201, media_type="application/json"
    )
