"""``/docs``: Swagger UI for the OpenAPI document, every asset served by mlob itself (a vendored
swagger-ui-dist under ``static/vendor/swagger-ui/`` with its licence): nothing is loaded from
elsewhere, so the documentation works where the centre's network reaches nothing else."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

#: Swagger UI sets style attributes and inline SVG images; scripts stay this server's own.
DOCS_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mlob — API</title>
<link rel="stylesheet" href="/screen/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/screen/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/screen/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE, headers=DOCS_HEADERS)
