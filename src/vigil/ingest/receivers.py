"""Turn native events and PagerDuty / Alertmanager / Grafana payloads into signals."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from vigil.config import Settings
from vigil.db import utcnow
from vigil.errors import ValidationError
from vigil.incidents import normalize_category, normalize_severity
from vigil.ingest.schemas import EventIn
from vigil.ingest.signals import Signal, classify_status, namespaced_key
from vigil.jsonbody import parse_json
from vigil.validation import as_instant

__all__ = [
    "PagerDutyError",
    "alerts_to_signals",
    "events_json_to_signals",
    "events_to_signals",
    "pagerduty_to_signal",
    "parse_time",
]

PD_SEVERITY = {"critical": "critical", "error": "high", "warning": "medium", "info": "low"}
ALERT_SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "p1": "critical",
    "fatal": "critical",
    "high": "high",
    "error": "high",
    "major": "high",
    "p2": "high",
    "medium": "medium",
    "warning": "medium",
    "warn": "medium",
    "minor": "medium",
    "p3": "medium",
    "low": "low",
    "info": "low",
    "none": "low",
    "p4": "low",
}


def parse_time(value: Any, *, field: str) -> dt.datetime | None:
    """Parse an ISO 8601 time (naive means UTC); Go's zero time means none."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.startswith("0001-01-01"):
        return None
    if text.endswith("Z") and ("+" in text[10:] or text[10:].count("-") > 0):
        text = text[:-1]  # some clients send "...+00:00Z"
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"{field} {value!r} is not an ISO 8601 time", field=field) from exc
    return not_in_future(as_instant(parsed, field=field), field=field)


#: Clocks disagree a little; an observation further ahead than this is refused, since it
#: would make every real event after it look late.
FUTURE_TOLERANCE = dt.timedelta(minutes=10)


def not_in_future(when: dt.datetime, *, field: str) -> dt.datetime:
    """Return ``when`` unless it lies more than FUTURE_TOLERANCE after now."""
    if when > utcnow() + FUTURE_TOLERANCE:
        raise ValidationError(
            f"{field} {when.isoformat()} is in the future; check the sender's clock "
            f"(up to {int(FUTURE_TOLERANCE.total_seconds() // 60)} minutes ahead are accepted)",
            field=field,
        )
    return when


def _pydantic_message(exc: PydanticValidationError, prefix: str = "") -> ValidationError:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    field = f"{prefix}{where}" if prefix else where
    return ValidationError(f"{field}: {err['msg']}", field=field)


_EVENT_LIST: TypeAdapter[list[EventIn]] = TypeAdapter(list[EventIn])


def events_to_signals(settings: Settings, body: Any, *, sender: str) -> list[Signal]:
    """Validate one native event or a list of them; raise on the first bad one (nothing applied)."""
    is_list = isinstance(body, list)
    items = body if is_list else [body]
    _check_count(settings, len(items))
    events = []
    for i, raw in enumerate(items):
        prefix = f"[{i}]." if is_list else ""
        if not isinstance(raw, dict):
            raise ValidationError(
                f"{prefix or 'body'}: an event must be a JSON object", field=prefix or "body"
            )
        try:
            events.append(EventIn.model_validate(raw))
        except PydanticValidationError as exc:
            raise _pydantic_message(exc, prefix) from exc
    return _signals(settings, events, is_list=is_list, sender=sender)


def events_json_to_signals(settings: Settings, raw: bytes, *, sender: str) -> list[Signal]:
    """Like :func:`events_to_signals`, straight from the request body: parsed by the strict
    reader (a key given twice is refused), then validated in one pass by pydantic-core."""
    parsed = parse_json(raw, check_depth=False)
    is_list = isinstance(parsed, list)
    try:
        events = (
            _EVENT_LIST.validate_python(parsed) if is_list else [EventIn.model_validate(parsed)]
        )
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        if is_list and loc and isinstance(loc[0], int):
            prefix = f"[{loc[0]}]."
            if len(loc) == 1 or err["type"] == "model_type":
                raise ValidationError(
                    f"{prefix}: an event must be a JSON object", field=prefix
                ) from exc
            field = prefix + ".".join(str(p) for p in loc[1:])
            raise ValidationError(f"{field}: {err['msg']}", field=field) from exc
        if not is_list and err["type"] == "model_type":
            raise ValidationError("body: an event must be a JSON object", field="body") from exc
        raise _pydantic_message(exc) from exc
    _check_count(settings, len(events))
    return _signals(settings, events, is_list=is_list, sender=sender)


def _check_count(settings: Settings, n: int) -> None:
    if not n:
        raise ValidationError("the request holds no events", field="body")
    if n > settings.ingest_max_events:
        from vigil.errors import PayloadTooLargeError

        raise PayloadTooLargeError(
            f"{n} events in one request; the limit is {settings.ingest_max_events} "
            "(ingest_max_events)"
        )


def _signals(
    settings: Settings, events: list[EventIn], *, is_list: bool, sender: str
) -> list[Signal]:
    now = utcnow()
    latest = now + FUTURE_TOLERANCE
    signals: list[Signal] = []
    append = signals.append
    # Statuses and severities repeat: check each distinct one once (the field named in an
    # error is that of the first event carrying it).
    known: dict[str, tuple[str, str, str | None]] = {}
    severities: dict[str, str] = {}
    categories: dict[str, str] = {}
    for i, event in enumerate(events):
        classified = known.get(event.status)
        if classified is None:
            prefix = f"[{i}]." if is_list else ""
            classified = classify_status(settings, event.status, field=f"{prefix}status")
            known[event.status] = classified
        status, health, severity = classified
        if event.timestamp is not None and event.timestamp > latest:
            not_in_future(event.timestamp, field=f"[{i}].timestamp" if is_list else "timestamp")
        if event.severity:
            severity = severities.get(event.severity)
            if severity is None:
                prefix = f"[{i}]." if is_list else ""
                severity = normalize_severity(event.severity, field=f"{prefix}severity")
                severities[event.severity] = severity
        given, category = event.category, None
        if given is not None:
            # Checked here, not in the writer: one bad event must not fail a shared batch.
            category = categories.get(given)
            if category is None:
                prefix = f"[{i}]." if is_list else ""
                category = normalize_category(given, settings.categories, field=f"{prefix}category")
                categories[given] = category
        resource, component = event.resource, event.component
        append(
            Signal(
                resource,
                component,
                status,
                health,  # type: ignore[arg-type]
                event.timestamp or now,
                "events",
                sender,
                namespaced_key(
                    "events",
                    sender,
                    event.dedup_key or f"{resource}|{component}".replace("\x1f", "|"),
                ),
                severity,
                event.summary,
                event.host,
                event.service,
                category,
                event.labels,
            )
        )
    return signals


class PagerDutyError(Exception):
    """An event PagerDuty's Events API v2 would reject, with its error list."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def pagerduty_to_signal(body: Any, *, sender: str) -> tuple[Signal, str]:
    """Validate an Events API v2 body like PagerDuty does; return the signal and the dedup key."""
    if not isinstance(body, dict):
        raise PagerDutyError(["Event object must be a JSON object"])
    errors = []
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append(
            "'event_action' is missing or invalid (must be trigger, acknowledge or resolve)"
        )
    dedup = body.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    payload = body.get("payload")
    if action == "trigger":
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
            payload = {}
        for name in ("summary", "source", "severity"):
            if not isinstance(payload.get(name), str) or not payload.get(name):
                errors.append(f"'payload.{name}' is missing or blank")
        if isinstance(payload.get("severity"), str) and payload["severity"] not in PD_SEVERITY:
            errors.append(
                "'payload.severity' is invalid (must be critical, error, warning or info)"
            )
        for name in ("group", "class", "component", "source", "summary"):
            if payload.get(name) is not None and not isinstance(payload.get(name), str):
                errors.append(f"'payload.{name}' must be a string")
    elif action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for acknowledge and resolve events")
    if errors:
        raise PagerDutyError(errors)
    payload = payload if isinstance(payload, dict) else {}
    try:
        when = parse_time(payload.get("timestamp"), field="payload.timestamp") or utcnow()
    except ValidationError as exc:
        raise PagerDutyError([str(exc)]) from exc
    dedup = dedup or uuid.uuid4().hex
    details = {k: body[k] for k in ("links", "images", "client", "client_url") if k in body}
    if "custom_details" in payload:
        details["custom_details"] = payload["custom_details"]
    labels = {k: str(payload[k]) for k in ("group", "class") if payload.get(k)}
    signal = Signal(
        resource=str(payload.get("source", ""))[:200],
        component=str(payload.get("component", ""))[:200],
        status="triggered" if action == "trigger" else "resolved",
        health="failing" if action == "trigger" else "ok",
        occurred_at=when,
        source="pagerduty",
        sender=sender,
        dedup_key=namespaced_key("pagerduty", sender, dedup),
        severity=PD_SEVERITY.get(str(payload.get("severity")), "high"),
        summary=str(payload.get("summary", ""))[:1024],
        service=payload.get("group"),
        labels=labels,
        details=details,
        action=action,  # type: ignore[arg-type]
    )
    return signal, dedup


def alerts_to_signals(body: Any, *, source: str, sender: str) -> list[Signal]:
    """Turn an Alertmanager (v4) or Grafana webhook body into one signal per alert."""
    if not isinstance(body, dict) or not isinstance(body.get("alerts"), list):
        raise ValidationError("expected a webhook body with an 'alerts' list", field="alerts")
    signals = []
    for i, alert in enumerate(body["alerts"]):
        if not isinstance(alert, dict) or alert.get("status") not in ("firing", "resolved"):
            raise ValidationError(
                f"alerts[{i}].status must be 'firing' or 'resolved'",
                field=f"alerts[{i}].status",
                allowed=["firing", "resolved"],
            )
        for part in ("labels", "annotations"):
            if not isinstance(alert.get(part) or {}, dict):
                raise ValidationError(
                    f"alerts[{i}].{part} must be an object of names to values",
                    field=f"alerts[{i}].{part}",
                )
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        annotations = {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()}
        firing = alert["status"] == "firing"
        fingerprint = (
            alert.get("fingerprint")
            or hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
        )
        when = parse_time(
            alert.get("startsAt" if firing else "endsAt"), field=f"alerts[{i}].startsAt"
        )
        name = labels.get("alertname", "alert")
        severity = ALERT_SEVERITY.get(labels.get("severity", "").lower(), "high")
        signals.append(
            Signal(
                resource=(
                    labels.get("instance") or labels.get("job") or labels.get("service") or name
                )[:200],
                component=name[:200],
                status=alert["status"],
                health="failing" if firing else "ok",
                occurred_at=when or utcnow(),
                source=source,
                sender=sender,
                dedup_key=namespaced_key(source, sender, str(fingerprint)),
                severity=severity,
                summary=annotations.get("summary") or annotations.get("description") or name,
                service=labels.get("service"),
                labels=labels,
                details={
                    "annotations": annotations,
                    **{
                        k: alert[k]
                        for k in (
                            "generatorURL",
                            "values",
                            "valueString",
                            "dashboardURL",
                            "panelURL",
                        )
                        if k in alert
                    },
                },
            )
        )
    return signals
