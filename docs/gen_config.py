"""Regenerate the settings table in docs/configuration.md (`make docs`)."""

from __future__ import annotations

import re
from pathlib import Path

from vigil.config import settings_reference

path = Path(__file__).with_name("configuration.md")
text = path.read_text()
new = re.sub(
    r"(<!-- settings-table:start -->\n).*(<!-- settings-table:end -->)",
    lambda m: m.group(1) + settings_reference() + m.group(2),
    text,
    flags=re.S,
)
path.write_text(new)
