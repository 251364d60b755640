"""Severity and status vocabularies and the lifecycle state machine.

States and moves::

    open ──► acknowledged ──► investigating ──► resolved ──► closed
      │          │  ▲              │               ▲  │          │
      │          └──┼──────────────┴───────────────┘  │          │
      ├─────────────┴──► investigating                │          │
      └──────────────────────────────► resolved       │          │
                    reopen: resolved/closed ──► open ◄┘◄─────────┘

Accepted aliases: monitoring's ``in_progress`` means ``investigating``; ``ack``
means ``acknowledged``; ``triggered`` means ``open``. Input is case-insensitive.
"""

from __future__ import annotations

from vigil.errors import InvalidTransitionError
from vigil.validation import require_one_of

__all__ = [
    "ACTIVE_STATUSES",
    "SEVERITIES",
    "STATUSES",
    "TRANSITIONS",
    "check_transition",
    "normalize_category",
    "normalize_severity",
    "normalize_status",
    "severity_rank",
]

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
STATUSES: tuple[str, ...] = ("open", "acknowledged", "investigating", "resolved", "closed")
#: Statuses of an incident still being worked on (at most one per dedup key).
ACTIVE_STATUSES: tuple[str, ...] = ("open", "acknowledged", "investigating")

_STATUS_ALIASES = {
    "in_progress": "investigating",
    "in-progress": "investigating",
    "ack": "acknowledged",
    "triggered": "open",
}

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("acknowledged", "investigating", "resolved"),
    "acknowledged": ("investigating", "resolved"),
    "investigating": ("acknowledged", "resolved"),
    "resolved": ("closed", "open"),
    "closed": ("open",),
}


def normalize_severity(value: str, *, field: str = "severity") -> str:
    """Return the canonical lower-case severity or raise naming the allowed values."""
    return require_one_of(str(value).strip().lower(), SEVERITIES, field=field, given=value)


def severity_rank(severity: str) -> int:
    """Return 0 for critical up to 3 for low."""
    return SEVERITIES.index(severity)


def normalize_status(value: str, *, field: str = "status") -> str:
    """Return the canonical status for a status name or alias."""
    canonical = str(value).strip().lower()
    canonical = _STATUS_ALIASES.get(canonical, canonical)
    shown = list(STATUSES) + sorted(_STATUS_ALIASES)
    return require_one_of(canonical, STATUSES, field=field, given=value, shown=shown)


def normalize_category(value: str, allowed: tuple[str, ...], *, field: str = "category") -> str:
    """Return the upper-case category or raise naming the configured categories."""
    return require_one_of(
        str(value).strip().upper(),
        allowed,
        field=field,
        given=value,
        hint=" (add more with VIGIL_EXTRA_CATEGORIES)",
    )


def check_transition(current: str, target: str) -> None:
    """Raise unless the state machine allows ``current`` → ``target``."""
    allowed = TRANSITIONS[current]
    if target == current:
        raise InvalidTransitionError(
            f"the incident is already {current!r}; from {current!r} it can go to: "
            f"{', '.join(allowed)}",
            current=current,
            target=target,
            allowed=list(allowed),
        )
    if target not in allowed:
        verb = "reopen" if target == "open" else f"move to {target!r}"
        raise InvalidTransitionError(
            f"cannot {verb} an incident that is {current!r}; "
            f"from {current!r} it can go to: {', '.join(allowed)}",
            current=current,
            target=target,
            allowed=list(allowed),
        )
