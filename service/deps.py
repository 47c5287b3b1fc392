"""Dependencies the routes declare: settings, the model in service, the feedback store, the API key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from boundaryline.feedback import FeedbackStore
from boundaryline.predict import CurrentModel, Scorer
from boundaryline.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_current_model(request: Request) -> CurrentModel:
    model: CurrentModel | None = request.app.state.model
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=request.app.state.model_error)
    return model


CurrentModelDep = Annotated[CurrentModel, Depends(get_current_model)]


def get_scorer(model: CurrentModelDep) -> Scorer:
    return model.get()


ScorerDep = Annotated[Scorer, Depends(get_scorer)]


def require_api_key(
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


def get_feedback_store(request: Request, settings: SettingsDep) -> FeedbackStore:
    store: FeedbackStore | None = getattr(request.app.state, "feedback", None)
    if store is None or store.path != settings.feedback_path:
        store = request.app.state.feedback = FeedbackStore(settings.feedback_path)
    return store


FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
