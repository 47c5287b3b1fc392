from typing import Any

from fastapi import APIRouter, HTTPException, status

from boundaryline.registry import ModelError
from service.deps import API_KEY_RESPONSES, ApiKeyDep, CurrentModelDep, ScorerDep
from service.schemas import ErrorOut, ReloadOut

router = APIRouter(prefix="/model", tags=["model"])


@router.get(
    "",
    summary="The manifest of the model in service",
    responses={503: {"model": ErrorOut, "description": "No model in service"}},
)
async def model_manifest(scorer: ScorerDep) -> dict[str, Any]:
    manifest = scorer.manifest
    keys = ("version", "created", "labels", "thresholds", "sklearn_version", "sha256", "search", "corpus", "retrain")
    out = {k: manifest[k] for k in keys if k in manifest}
    # The thresholds the service labels with (BOUNDARYLINE_THRESHOLDS, else the manifest's); what the
    # manifest recorded at training time stays beside them.
    out["thresholds"] = scorer.thresholds
    out["thresholds_recorded"] = manifest.get("thresholds") or {}
    out["metrics"] = {
        split: {
            k: v
            for k, v in metrics.items()
            if k in ("n", "accuracy", "macro_f1", "per_class", "professional_flag_rate")
        }
        for split, metrics in manifest.get("metrics", {}).items()
    }
    return out


@router.post(
    "/reload",
    response_model=ReloadOut,
    dependencies=[ApiKeyDep],
    summary="Load the version `models/current` names now",
    responses={
        409: {"model": ErrorOut, "description": "That version cannot be loaded; the model in service stays"},
        **API_KEY_RESPONSES,
    },
)
def reload_model(model: CurrentModelDep) -> ReloadOut:
    try:
        previous, current = model.reload()
    except ModelError as error:
        kept = model.get()
        code = status.HTTP_409_CONFLICT if kept is not None else status.HTTP_503_SERVICE_UNAVAILABLE
        where = f"kept {kept.version} in service" if kept is not None else "no model in service"
        raise HTTPException(code, detail=f"{where}: {error}") from error
    return ReloadOut(previous=previous, current=current)
