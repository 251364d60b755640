"""Logging that never writes a credential: query secrets are redacted from access logs."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

__all__ = ["RedactSecretsFilter", "redact_query", "uvicorn_log_config"]

#: Query parameters whose values are credentials (or may be).
_SECRET_PARAM = re.compile(
    r"(?i)(^|[?&;])((?:[^=&;]*[-_])?(?:token|key|secret|password|passwd|signature|sig)"
    r")=([^&;#]*)"
)


def redact_query(target: str) -> str:
    """Return ``target`` (a path with a query) with every credential value replaced."""
    if "?" not in target:
        return target
    path, _, query = target.partition("?")
    return path + "?" + _SECRET_PARAM.sub(r"\1\2=REDACTED", query).lstrip("?")


class RedactSecretsFilter(logging.Filter):
    """Redact credentials from the request line of uvicorn's access log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument; always keep the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """Return uvicorn's logging configuration with the redaction filter on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": RedactSecretsFilter}
    config["handlers"]["access"].setdefault("filters", []).append("redact_secrets")
    return config
