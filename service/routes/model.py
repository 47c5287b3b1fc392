from typing import Any

from fastapi import APIRouter, HTTPException, status

from boundaryline.registry import ModelError
from service.deps import ApiKeyDep, CurrentModelDep, ScorerDep
from service.schemas import ReloadOut

router = APIRouter(prefix="/model", tags=["model"])


@router.get("", summary="The manifest of the model in service")
async def model_manifest(scorer: ScorerDep) -> dict[str, Any]:
    manifest = scorer.manifest
    keys = ("version", "created", "labels", "thresholds", "sklearn_version", "sha256", "search", "corpus", "retrain")
    out = {k: manifest[k] for k in keys if k in manifest}
    out["thresholds_in_force"] = scorer.thresholds
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
    "/reload", response_model=ReloadOut, dependencies=[ApiKeyDep], summary="Load the version `models/current` names now"
)
def reload_model(model: CurrentModelDep) -> ReloadOut:
    try:
        previous, current = model.reload()
    except ModelError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"kept the model in service: {error}") from error
    return ReloadOut(previous=previous, current=current)
