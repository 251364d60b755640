"""FastAPI dependencies: the store, read sessions, authentication and scopes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from vigil.auth import (
    FEED_SCOPE,
    RECEIVER_PATHS,
    Principal,
    authenticate,
    integrations,
    require_scope,
)
from vigil.db import Store
from vigil.errors import AuthError, PermissionDeniedError

__all__ = [
    "CredentialCache",
    "ReadSession",
    "StoreDep",
    "bearer",
    "calendar_reader",
    "get_store",
    "ingest_sender",
    "integration_identity",
    "integration_sender",
    "requires",
    "sender_of",
    "token_principal",
]


def get_store(request: Request) -> Store:
    """Return the app's store."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def _read_session(store: StoreDep) -> Iterator[Session]:
    with store.read() as session:
        yield session


ReadSession = Annotated[Session, Depends(_read_session)]


class CredentialCache:
    """Remember verified credentials for a few seconds so each request skips a query."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget everything (after a revocation or rotation made here)."""
        with self._lock:
            self._entries.clear()

    def peek(self, key: str) -> Any | None:
        """Return the cached value of ``key`` if still fresh, else None."""
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        """Return the cached value of ``key`` or load (and cache) it; errors are not cached."""
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) > 10_000:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl, value)
        return value


def bearer(authorization: str | None) -> str:
    """Return the token of an ``Authorization: Bearer`` header or raise AuthError."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthError("send the credential as 'Authorization: Bearer <token>'")
    return authorization[7:].strip()


def token_principal(request: Request, secret: str) -> Principal:
    """Authenticate an API token through the app's credential cache."""
    store: Store = request.app.state.store
    cache: CredentialCache = request.app.state.credentials

    def load() -> Principal:
        with store.read() as session:
            return authenticate(session=session, secret=secret)

    principal: Principal = cache.get("t:" + secret, load)
    return principal


def requires(scope: str) -> Callable[..., Principal]:
    """Return a dependency that authenticates the bearer token and checks ``scope``."""

    def _principal(
        request: Request,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Principal:
        principal = token_principal(request, bearer(authorization))
        require_scope(principal, scope)
        return principal

    return _principal


def integration_identity(request: Request, key: str) -> tuple[str, str]:
    """Return (name, kind) of the active integration owning ``key``, or raise AuthError."""
    store: Store = request.app.state.store
    cache: CredentialCache = request.app.state.credentials

    def load() -> tuple[str, str]:
        with store.read() as session:
            found = integrations.authenticate_integration(session=session, key=key)
            return found.name, found.kind

    identity: tuple[str, str] = cache.get("i:" + key, load)
    return identity


def integration_sender(identity: tuple[str, str], kind: str) -> str:
    """Return the integration's name if it may send to the receiver of ``kind``, else raise."""
    name, actual = identity
    if actual != kind:
        raise PermissionDeniedError(
            f"integration {name!r} is a {actual} integration; it may only send to "
            f"{RECEIVER_PATHS.get(actual, 'its own receiver')}"
        )
    return name


def _sender_for(request: Request, secret: str, kind: str) -> str:
    try:
        identity = integration_identity(request, secret)
    except AuthError:
        principal = token_principal(request, secret)
        require_scope(principal, "write")
        return principal.name
    return integration_sender(identity, kind)


async def ingest_sender(request: Request, authorization: str | None, kind: str) -> str:
    """Accept an integration key of ``kind`` or an API token with write scope; return the sender."""
    secret = bearer(authorization)
    cache: CredentialCache = request.app.state.credentials
    # The hot path stays on the event loop; only a cache miss touches the database.
    known = cache.peek("i:" + secret)
    if isinstance(known, tuple):
        return integration_sender(known, kind)
    principal = cache.peek("t:" + secret)
    if isinstance(principal, Principal) and "write" in principal.scopes:
        return principal.name
    return await run_in_threadpool(_sender_for, request, secret, kind)


def sender_of(kind: str) -> Callable[..., Coroutine[Any, Any, str]]:
    """A dependency: the sender of a request to the receiver of integration ``kind``."""

    async def sender_of_kind(
        request: Request,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> str:
        return await ingest_sender(request, authorization, kind)

    return sender_of_kind


def calendar_reader(request: Request, token: str | None, key: str | None) -> None:
    """Let a calendar feed be read with a read token in the header or a feed key as ``?key=``.

    Calendar apps cannot send headers, so feeds take a key that reads them and nothing else;
    API tokens are only accepted in the ``Authorization`` header, never in a URL.
    """
    header = request.headers.get("authorization")
    if token is not None:
        raise AuthError(
            "API tokens are not accepted in URLs; send one as 'Authorization: Bearer <token>' "
            "or subscribe with a calendar feed key as ?key="
        )
    if header is not None:
        require_scope(token_principal(request, bearer(header)), "read")
    elif key:
        principal = token_principal(request, key)
        if FEED_SCOPE not in principal.scopes:
            raise AuthError(
                "only calendar feed keys are accepted as ?key=; send API tokens as "
                "'Authorization: Bearer <token>'"
            )
    else:
        raise AuthError(
            "send a read token as 'Authorization: Bearer <token>' or a calendar feed key as ?key="
        )
