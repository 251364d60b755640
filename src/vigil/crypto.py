"""Secrets at rest and signed links, with the one key ``VIGIL_SECRET_KEY``.

Both use Fernet (``cryptography``): AES-128-CBC with an HMAC-SHA256 over the token, and a
timestamp in every token. Stored secrets are Fernet tokens of the secret; an action link
carries a Fernet token of a small JSON claim, so it is opaque, cannot be altered, and its
age is checked when it is read (:meth:`SecretBox.read_claim` with ``max_age``).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from vigil.config import Settings
from vigil.errors import ConfigurationError, ValidationError

__all__ = ["LinkError", "SecretBox", "new_key"]

_NO_KEY = (
    "VIGIL_SECRET_KEY is not set: it encrypts channel secrets and signs action links. "
    "Make one with `vigil notify new-key` and set it in the environment of every Vigil process"
)


class LinkError(ValidationError):
    """An action link that is tampered with, expired or not one of ours."""


def new_key() -> str:
    """A fresh random key for ``VIGIL_SECRET_KEY``."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypt and decrypt with the configured key; refuse clearly without one."""

    def __init__(self, settings: Settings) -> None:
        raw = settings.secret_key.get_secret_value() if settings.secret_key else ""
        self._fernet: Fernet | None = None
        if raw:
            try:
                self._fernet = Fernet(raw.encode())
            except (ValueError, TypeError):
                raise ConfigurationError(
                    "VIGIL_SECRET_KEY is not a valid key (32 url-safe base64-encoded bytes); "
                    "make one with `vigil notify new-key`"
                ) from None

    @property
    def ready(self) -> bool:
        """True when a key is configured."""
        return self._fernet is not None

    def _key(self) -> Fernet:
        if self._fernet is None:
            raise ConfigurationError(_NO_KEY)
        return self._fernet

    def seal(self, secret: str) -> str:
        """Encrypt ``secret`` for storage."""
        return self._key().encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """Decrypt a stored secret."""
        try:
            return self._key().decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a stored secret cannot be decrypted with VIGIL_SECRET_KEY: the key differs "
                "from the one it was stored with"
            ) from None

    def claim(self, claim: dict[str, Any]) -> str:
        """A signed, encrypted token of ``claim`` (url-safe)."""
        return self.seal(json.dumps(claim, separators=(",", ":")))

    def read_claim(self, token: str, *, max_age: float) -> dict[str, Any]:
        """The claim in ``token``; LinkError if it was altered, is not ours or is too old."""
        if self._fernet is None:  # no key: this server never made a link
            raise LinkError("this link is not valid here", field="token")
        fernet = self._fernet
        try:
            fernet.decrypt(token.encode(), ttl=None)
        except (InvalidToken, ValueError):
            raise LinkError(
                "this link is not valid: it was altered or cut short", field="token"
            ) from None
        try:
            data = fernet.decrypt(token.encode(), ttl=int(max_age))
        except InvalidToken:
            raise LinkError("this link has expired", field="token") from None
        value = json.loads(data)
        if not isinstance(value, dict):
            raise LinkError("this link is not valid", field="token")
        return value
