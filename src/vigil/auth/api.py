"""REST endpoints for managing API tokens (admin scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from vigil.auth import service
from vigil.auth.schemas import TokenCreate, TokenCreated, TokenRead
from vigil.auth.service import Principal
from vigil.web import ReadSession, StoreDep, VigilRoute, requires

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"], route_class=VigilRoute)
Admin = Annotated[Principal, Depends(requires("admin"))]


@router.get("", response_model=list[TokenRead])
def list_(session: ReadSession, _who: Admin) -> list[TokenRead]:
    """List active tokens."""
    return [TokenRead.model_validate(t) for t in service.list_tokens(session=session)]


@router.post("", status_code=201, response_model=TokenCreated)
def create(data: TokenCreate, store: StoreDep, _who: Admin) -> TokenCreated:
    """Create a token; its secret is in this response only."""
    with store.write() as session:
        token, secret = service.create_token(session=session, name=data.name, scopes=data.scopes)
        return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=secret)


@router.delete("/{name}", response_model=TokenRead)
def revoke(name: str, request: Request, store: StoreDep, _who: Admin) -> TokenRead:
    """Revoke a token; this server stops accepting it at once."""
    with store.write() as session:
        token = TokenRead.model_validate(service.revoke_token(session=session, name=name))
    request.app.state.credentials.clear()
    return token
