"""Notifications: channels, routing rules, the outbox, delivery and action links.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.notify.deliverer import send_direct
    from vigil.notify.models import Channel, Notification
    from vigil.notify.outbox import outbox_row, write_rows
    from vigil.notify.senders import Answer, Message
    from vigil.notify.service import (
        NOTIFICATION_STATES,
        add_channel,
        check_key_for_channels,
        get_channel,
        remove_channel,
    )

__all__ = [
    "NOTIFICATION_STATES",
    "Answer",
    "Channel",
    "Message",
    "Notification",
    "add_channel",
    "check_key_for_channels",
    "get_channel",
    "outbox_row",
    "remove_channel",
    "send_direct",
    "write_rows",
]

_EXPORTS = {
    "NOTIFICATION_STATES": "service",
    "Answer": "senders",
    "Channel": "models",
    "Message": "senders",
    "Notification": "models",
    "add_channel": "service",
    "check_key_for_channels": "service",
    "get_channel": "service",
    "outbox_row": "outbox",
    "remove_channel": "service",
    "send_direct": "deliverer",
    "write_rows": "outbox",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
