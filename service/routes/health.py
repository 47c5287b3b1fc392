from fastapi import APIRouter, Request, Response, status

from service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="A verified model is loaded", responses={503: {"model": Health}})
async def readyz(request: Request, response: Response) -> Health:
    model = request.app.state.model
    if model is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status=f"not ready: {request.app.state.model_error}")
    return Health(status="ready", model_version=model.get().version)
