import logging

from fastapi import APIRouter, HTTPException, Response, status

from boundaryline.feedback import FeedbackConflict
from service.deps import (
    API_KEY_RESPONSES,
    TEXT_LIMIT_RESPONSES,
    ApiKeyDep,
    FeedbackStoreDep,
    SettingsDep,
    check_lengths,
)
from service.schemas import ErrorOut, FeedbackIn, FeedbackOut

router = APIRouter(prefix="/feedback", tags=["feedback"])
log = logging.getLogger("boundaryline.service")


@router.post(
    "",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[ApiKeyDep],
    summary="Keep a correctly labelled example for retraining",
    responses={
        200: {"model": FeedbackOut, "description": "Already stored under this id"},
        409: {"model": ErrorOut, "description": "Id re-used for another example"},
        **API_KEY_RESPONSES,
        **TEXT_LIMIT_RESPONSES,
    },
)
def add_feedback(body: FeedbackIn, store: FeedbackStoreDep, settings: SettingsDep, response: Response) -> FeedbackOut:
    check_lengths([("text", body.text)], settings)
    try:
        item, created = store.add(
            body.text, body.label, id=body.id, message_id=body.message_id, channel=body.channel, note=body.note
        )
    except FeedbackConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from error
    if not created:
        response.status_code = status.HTTP_200_OK
    log.info("feedback id=%s label=%s length=%d created=%s", item.id, item.label, len(item.text), created)
    return FeedbackOut.model_validate({"id": item.id, "created": created, "label": item.label})
