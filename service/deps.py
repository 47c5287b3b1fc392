"""Dependencies the routes declare: settings, the model in service, the feedback store, the API key check.

All are ``async``: FastAPI would run a plain ``def`` dependency in its threadpool, a thread hop per
request for what is an attribute lookup.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from boundaryline.feedback import FeedbackStore
from boundaryline.predict import CurrentModel, Scorer
from boundaryline.settings import Settings


async def app_settings(request: Request) -> Settings:
    """The settings the app started with (``get_settings``, or its override in tests, read in lifespan)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def get_current_model(request: Request) -> CurrentModel:
    model: CurrentModel | None = request.app.state.model
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=request.app.state.model_error)
    return model


CurrentModelDep = Annotated[CurrentModel, Depends(get_current_model)]


async def get_scorer(model: CurrentModelDep) -> Scorer:
    return model.get()


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


async def get_feedback_store(request: Request, settings: SettingsDep) -> FeedbackStore:
    store: FeedbackStore | None = request.app.state.feedback
    if store is None:  # created on first use, so a service without feedback never touches the disk
        store = request.app.state.feedback = FeedbackStore(settings.feedback_path)
    return store


FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
