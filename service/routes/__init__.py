"""One router per concern, gathered into ``api_router`` under ``/v1``; health checks stay at the root."""

from fastapi import APIRouter

from service.routes import feedback, model, score

api_router = APIRouter(prefix="/v1")
api_router.include_router(score.router)
api_router.include_router(model.router)
api_router.include_router(feedback.router)
