from fastapi import APIRouter, Response, status

from service.deps import StateDep
from service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="A verified model is loaded", responses={503: {"model": Health}})
async def readyz(state: StateDep, response: Response) -> Health:
    if state.model is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status=f"not ready: {state.model_error}")
    return Health(status="ready", model_version=state.model.get().version)
