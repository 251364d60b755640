"""Notifications: channels, routing rules, the outbox, delivery and action links.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.notify.models import Notification
    from vigil.notify.service import check_key_for_channels

__all__ = [
    "Notification",
    "check_key_for_channels",
]

_EXPORTS = {
    "Notification": "models",
    "check_key_for_channels": "service",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
