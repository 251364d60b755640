"""Static files (Vigil's own and the vendored front-end packages) and the API docs page.

Everything a page loads comes from this server: htmx, uPlot and Swagger UI are copied from
their npm packages (versions in the directory names, licences beside them) into
``vigil/web/static/vendor``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "SWAGGER_UI", "install_assets"]

STATIC_DIR = Path(__file__).parent / "static"
SWAGGER_UI = "/static/vendor/swagger-ui-5.35.0"
_DOCS = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head><body><main id="swagger-ui"></main>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body></html>"""
#: Swagger UI sets inline styles; everything else is as strict as the pages.
_DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def install_assets(app: FastAPI) -> None:
    """Serve ``/static`` and the offline API docs at ``/docs``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        """The icon browsers ask for on pages that name none (the API docs)."""
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI for the OpenAPI description, served from this server."""
        return HTMLResponse(
            _DOCS,
            headers={"Content-Security-Policy": _DOCS_POLICY, "X-Content-Type-Options": "nosniff"},
        )
