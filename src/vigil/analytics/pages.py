"""Web pages for analytics: the dashboard (four panels and who is on call) and reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from vigil.analytics import availability, panels, reports, response, service
from vigil.db import utcnow
from vigil.errors import VigilError
from vigil.web import StoreDep, Viewer, field_errors, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
WINDOWS = ("24h", "7d", "30d", "90d")


def _on_call(session: Any) -> dict[str, Any]:
    from vigil.oncall import who_is_on_call

    return who_is_on_call(session=session)


def _panels(session: Any, refresh: float) -> dict[str, Any]:
    return {
        "panels": panels.dashboard_panels(session=session),
        "active_refresh": f"{refresh:g}",
        "other_refresh": f"{2 * refresh:g}",
        "on_call": _on_call(session),
    }


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """Active incidents, availability over 24 h, summary stats, the last 20, who is on call."""
    with store.read() as session:
        return render(
            request,
            "analytics/dashboard.html",
            {"title": "Dashboard", **_panels(session, store.settings.page_refresh_seconds)},
        )


@router.get("/dashboard/active", response_class=HTMLResponse)
def active_panel(request: Request, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """Panel A alone (refreshed every 30 s)."""
    with store.read() as session:
        return render(
            request, "analytics/_active.html", _panels(session, store.settings.page_refresh_seconds)
        )


@router.get("/dashboard/other", response_class=HTMLResponse)
def other_panels(request: Request, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """Panels B, C and D and who is on call (refreshed every minute)."""
    with store.read() as session:
        return render(
            request, "analytics/_other.html", _panels(session, store.settings.page_refresh_seconds)
        )


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    store: StoreDep,
    _person: Viewer,
    window: Annotated[str, Query(max_length=10)] = "30d",
    target: Annotated[float, Query(ge=0, le=100)] = 99.0,
) -> HTMLResponse:
    """Availability with SLA bands and error budgets, MTTA/MTTR by service, weekly counts by
    severity, recurring incidents and what postmortems taught."""
    from vigil.postmortems import service as postmortems

    errors: dict[str, str] = {}
    try:
        span = reports.parse_window(window)
    except VigilError as exc:
        errors, span = field_errors(exc), dt.timedelta(days=30)
    end = utcnow()
    start = end - span
    with store.read() as session:
        avail = availability.availability_by_resource(
            session=session, start=start, end=end, target_percent=target
        )
        weeks, counts = service.weekly_by_severity(
            session=session, start=end - max(span, dt.timedelta(days=28)), end=end
        )
        chart = {
            "x": [_epoch(w) for w in weeks], "bars": True, "y_label": "incidents",
            "series": [{"label": s, "values": v} for s, v in counts.items()],
        }  # fmt: skip
        avail_chart = {
            "x": list(range(len(avail))), "time": False, "bars": True, "y_label": "% available",
            "series": [{"label": "availability", "values": [a.availability_percent for a in avail]}],
        }  # fmt: skip
        return render(
            request,
            "analytics/reports.html",
            {
                "title": "Reports", "window": window, "windows": WINDOWS, "target": target,
                "errors": errors, "availability": avail, "avail_chart": avail_chart,
                "response": response.response_metrics(
                    session=session, start=start, end=end, group_by="service"
                ),
                "weekly_chart": chart, "weeks": weeks, "weekly": counts,
                "recurring": panels.recurring_incidents(session=session, start=start, end=end),
                "learning": postmortems.learning_report(session=session, start=start, end=end),
            },
            status=422 if errors else 200,
        )  # fmt: skip
