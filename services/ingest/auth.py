"""Optional bearer-token check of the posting routes: 401 without a token, 403 with a wrong one."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Final

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from services.ingest.errors import Rejected, RejectReason

CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="newsflow-ingest"'}

_SCHEME: Final = HTTPBearer(auto_error=False, description="One of NEWSFLOW_INGEST_TOKENS.")

Guard = Callable[[HTTPAuthorizationCredentials | None], Awaitable[None]]


def bearer_guard(tokens: Sequence[SecretStr]) -> Guard:
    """A FastAPI dependency admitting a request only with one of `tokens` as its bearer token."""
    secrets = [token.get_secret_value().encode() for token in tokens]

    async def guard(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_SCHEME)],
    ) -> None:
        if credentials is None:
            raise Rejected(
                RejectReason.UNAUTHORIZED, "a bearer token is required", headers=CHALLENGE
            )
        given = credentials.credentials.encode()
        # Compare with every token so the time taken does not tell which one nearly matched.
        matches = [hmac.compare_digest(given, secret) for secret in secrets]
        if not any(matches):
            raise Rejected(RejectReason.FORBIDDEN, "the bearer token is not accepted")

    return guard
