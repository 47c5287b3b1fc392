from fastapi import APIRouter, Response, status

from service.deps import CurrentModelDep
from service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    response_model_exclude_none=True,
    summary="A verified model is in service",
    responses={503: {"model": Health, "description": "No model could be loaded (the reason is in `problem`)"}},
)
async def readyz(model: CurrentModelDep, response: Response) -> Health:
    scorer = model.get()
    if scorer is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="not ready", problem=model.problem)
    # Ready, possibly on the last good model while models/current names one that cannot be loaded.
    return Health(status="ready", model_version=scorer.version, problem=model.problem)
