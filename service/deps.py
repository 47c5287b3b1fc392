"""Dependencies the routes declare: the service state, settings, the model in service, the feedback store,
the API key check, the rate limit on corrections and the text-length limit.

All are ``async``: FastAPI would run a plain ``def`` dependency in its threadpool, a thread hop per
request for what is an attribute lookup.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status

from boundaryline.feedback import FeedbackStore
from boundaryline.predict import Scorer
from boundaryline.settings import Settings
from service.ratelimit import address_caller, key_caller
from service.schemas import ErrorOut
from service.state import CurrentModel, ServiceState


def state_of(request: Request) -> ServiceState:
    """The service state, for a route that takes the ``Request`` rather than dependencies (``POST /v1/score``:
    each dependency FastAPI solves costs a request about as much as validating its body)."""
    state: ServiceState = request.app.state.service
    return state


async def get_state(request: Request) -> ServiceState:
    return state_of(request)


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_settings_in_use(state: StateDep) -> Settings:
    """The settings the app was created with."""
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_in_use)]


async def get_current_model(state: StateDep) -> CurrentModel:
    return state.model


CurrentModelDep = Annotated[CurrentModel, Depends(get_current_model)]


def scorer_in_service(state: ServiceState) -> Scorer:
    """The scorer in service; 503 with the reason while no model could be loaded."""
    scorer = state.model.get()
    if scorer is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"no model in service: {state.model.problem}")
    return scorer


async def get_scorer(state: StateDep) -> Scorer:
    return scorer_in_service(state)


ScorerDep = Annotated[Scorer, Depends(get_scorer)]


async def require_api_key(
    settings: SettingsDep, x_api_key: Annotated[str | None, Header(description="The service's API key.")] = None
) -> None:
    """Constant-time check of ``X-API-Key``; the protected routes are off when no key is configured."""
    if settings.api_key is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="disabled: no API key is configured (BOUNDARYLINE_API_KEY)"
        )
    expected = settings.api_key.get_secret_value().encode()
    if x_api_key is None or not secrets.compare_digest(x_api_key.encode(), expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="missing or wrong X-API-Key", headers={"WWW-Authenticate": "X-API-Key"}
        )


ApiKeyDep = Depends(require_api_key)
# The answers a key-protected route can give besides its own, for its OpenAPI entry.
API_KEY_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or wrong X-API-Key"},
    503: {"model": ErrorOut, "description": "No API key is configured (the route is off), or no model is in service"},
}


async def limit_corrections(request: Request, state: StateDep) -> None:
    """429 with ``Retry-After`` once the caller is over ``feedback_rate_limit``: the caller is the right API
    key (by its hash), else the client's address. Declared before the key check, so that wrong keys count."""
    key, expected = request.headers.get("x-api-key"), state.settings.api_key
    if (
        key is not None
        and expected is not None
        and secrets.compare_digest(key.encode(), expected.get_secret_value().encode())
    ):
        caller = key_caller(key)
    else:
        caller = address_caller(request.client.host if request.client else None)
    wait = state.feedback_limit.hit(caller)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many corrections: the limit is {state.feedback_limit.text} per caller"
            f" (BOUNDARYLINE_FEEDBACK_RATE_LIMIT); try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


RateLimitDep = Depends(limit_corrections)
RATE_LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorOut, "description": "Over the rate limit on corrections; `Retry-After` says when to retry"},
}
TEXT_LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "A text (or the batch) is over the configured limit; the field is named"},
}


async def get_feedback_store(state: StateDep) -> FeedbackStore:
    return state.feedback


FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]


def check_lengths(texts: Iterable[tuple[str, str]], settings: Settings) -> None:
    """413 naming the field of the first text over ``max_text_chars``; ``texts`` are (field, text) pairs."""
    for where, text in texts:
        if len(text) > settings.max_text_chars:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                detail=f"{where}: {len(text)} characters, the limit is {settings.max_text_chars}",
            )
