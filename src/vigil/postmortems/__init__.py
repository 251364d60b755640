"""Postmortems, five whys, lessons learned and action items: the learning half of the loop.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.postmortems.models import ActionItem

__all__ = [
    "ActionItem",
]

_EXPORTS = {
    "ActionItem": "models",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
