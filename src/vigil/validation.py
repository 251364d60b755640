"""The one "value must be one of these" rule every service uses for enumerated input."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.errors import ValidationError

__all__ = ["require_one_of"]


def require_one_of(
    canonical: str,
    allowed: Sequence[str],
    *,
    field: str,
    given: object = None,
    hint: str = "",
    shown: Sequence[str] | None = None,
) -> str:
    """Return ``canonical`` if it is in ``allowed``, else raise naming the field and the choices.

    ``given`` is what the user typed (shown in the message; default ``canonical``), ``shown``
    the choices to list when they differ from ``allowed`` (e.g. with aliases).
    """
    if canonical in allowed:
        return canonical
    choices = list(shown if shown is not None else allowed)
    typed = canonical if given is None else given
    raise ValidationError(
        f"{field} {typed!r} is not one of: {', '.join(choices)}{hint}", field=field, allowed=choices
    )
