"""The one JSON reader for request bodies: strict about what PostgreSQL and SQLite cannot agree on.

Refused with a 400 that says where: invalid JSON (line and column), a key given twice in one
object (silently keeping the last one hides mistakes such as two ``routing_key`` fields),
``\\u0000`` in a string (PostgreSQL text cannot hold it), and nesting deeper than
``MAX_DEPTH`` (which would otherwise exhaust the stack somewhere later).
"""

from __future__ import annotations

import json
import re
from typing import Any

from vigil.errors import MalformedRequestError

__all__ = ["MAX_DEPTH", "has_nul_escape", "parse_json"]

MAX_DEPTH = 32
_NUL_ESCAPE = re.compile(rb"(\\+)u0000")


def has_nul_escape(raw: bytes) -> bool:
    """Return True if a JSON text holds ``\\u0000`` (an escape, not an escaped backslash)."""
    if b"u0000" not in raw:
        return False
    return any(len(m.group(1)) % 2 for m in _NUL_ESCAPE.finditer(raw))


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            raise MalformedRequestError(
                f"the JSON object has the key {key!r} twice; give each key once", field=key
            )
        seen.add(key)
    return out  # pragma: no cover - len(dict) < len(pairs) means some key repeats


def _depth_exceeded(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json(raw: bytes | str, *, check_depth: bool = True) -> Any:
    """Parse a request body or raise MalformedRequestError saying what and where.

    ``check_depth=False`` skips the walk that measures nesting, for callers whose schema
    admits no deep structure anyway (the event receiver validates every level it accepts).
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if b"\x00" in data or has_nul_escape(data):
        raise MalformedRequestError(
            "the body contains a NUL character (\\u0000), which is not allowed"
        )
    try:
        value = json.loads(data, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise MalformedRequestError(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except UnicodeDecodeError:
        raise MalformedRequestError("the body is not valid UTF-8 JSON") from None
    except RecursionError:
        value = None
        depth_error = True
    else:
        depth_error = check_depth and _depth_exceeded(value)
    if depth_error:
        raise MalformedRequestError(f"the JSON body nests deeper than {MAX_DEPTH} levels")
    return value
