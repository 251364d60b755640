"""Assemble the HTTP application."""

from __future__ import annotations

import gc
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST

from vigil import __version__
from vigil.config import Settings
from vigil.db import Store
from vigil.metrics import Metrics
from vigil.web import (
    ERROR_RESPONSES,
    BodyLimitMiddleware,
    CredentialCache,
    install_assets,
    install_error_handlers,
    media_responses,
)

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the FastAPI app for ``settings`` (or an already open ``store``)."""
    from vigil.analytics import api as analytics_api
    from vigil.analytics import pages as analytics_pages
    from vigil.auth import api as auth_api
    from vigil.auth import pages as auth_pages
    from vigil.auth import settings_pages as access_settings
    from vigil.incidents import api as incidents_api
    from vigil.incidents import detail_pages as incident_pages
    from vigil.incidents import pages as incidents_pages
    from vigil.ingest import api as ingest_api
    from vigil.ingest import pages as ingest_pages
    from vigil.ingest import pipeline as ingest_pipeline
    from vigil.ingest import settings_pages as monitoring_settings
    from vigil.jobs import runners_for
    from vigil.notify import api as notify_api
    from vigil.notify import pages as notify_pages
    from vigil.notify import settings_pages as channel_settings
    from vigil.oncall import PAGING_FOR_LEARNING
    from vigil.oncall import api as oncall_api
    from vigil.oncall import pages as oncall_pages
    from vigil.oncall import schedules_api as oncall_schedules_api
    from vigil.oncall import settings_pages as people_settings
    from vigil.postmortems import api as postmortems_api
    from vigil.postmortems import learning_sources
    from vigil.postmortems import pages as postmortems_pages

    settings = settings or (store.settings if store else Settings())
    store = store or Store(settings)
    metrics = Metrics(store)
    pipeline = ingest_pipeline.IngestPipeline(store, metrics)
    runners = runners_for(store) if settings.serve_jobs else []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pipeline.start()
        for runner in runners:
            runner.start()
        # Everything loaded so far lives as long as the process: keep it out of GC passes,
        # which otherwise show up as latency spikes under load.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for runner in runners:
                runner.stop()
            pipeline.stop()

    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="Vigil",
        version=__version__,
        description="Incident management: detect, respond, resolve, learn.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.metrics = metrics
    app.state.credentials = CredentialCache(settings.auth_cache_seconds)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    learning_sources.add_learning_source(PAGING_FOR_LEARNING)
    app.include_router(postmortems_api.router)
    app.include_router(incidents_api.router)
    app.include_router(analytics_api.router)
    app.include_router(auth_api.router)
    app.include_router(ingest_api.router)
    app.include_router(notify_api.router)
    app.include_router(oncall_api.router)
    app.include_router(oncall_schedules_api.router)
    app.include_router(notify_pages.router)
    install_assets(app)
    for pages in (auth_pages, analytics_pages, incidents_pages, incident_pages, oncall_pages,
                  ingest_pages, postmortems_pages, access_settings, monitoring_settings,
                  channel_settings, people_settings):  # fmt: skip
        app.include_router(pages.router)

    @app.get(
        "/metrics",
        tags=["health"],
        response_class=Response,
        responses=media_responses("text/plain"),
    )
    def prometheus_metrics() -> Response:
        """Prometheus metrics: active incidents, ingested events, group-commit batches."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        """Whether the database answers and its schema is current; this process (host:pid),
        the periodic jobs it runs (none with ``VIGIL_SERVE_JOBS=false``) and how far each
        change-feed follower is behind."""
        from vigil.feed import follower_lag

        store.ensure_schema()
        revision = store.current_revision()
        with store.read() as session:
            lag = follower_lag(session=session)
        return {
            "status": "ok",
            "version": __version__,
            "schema": revision,
            "process": f"{socket.gethostname()}:{os.getpid()}",  # as job leases name it
            "jobs": sorted(job.name for runner in runners for job in runner.jobs),
            "followers": [{"follower": f.follower, "log": f.log, "behind": f.rows} for f in lag],
        }

    return app
