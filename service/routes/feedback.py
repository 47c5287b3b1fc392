"""Corrections: keep one (``POST /v1/feedback``), list those waiting to be merged beside the model's opinion
(``GET /v1/feedback``) and accept or reject one (``POST /v1/feedback/{feedback_id}/review``). All three need
the API key: the texts are people's messages. The two POSTs are rate-limited per caller
(``feedback_rate_limit``; the list is not). Logs carry ids, labels and lengths, never the text."""

import asyncio
import logging
from dataclasses import replace
from functools import partial

from fastapi import APIRouter, HTTPException, Response, status

from boundaryline.feedback import FeedbackConflict, review_queue
from service.deps import (
    API_KEY_RESPONSES,
    RATE_LIMIT_RESPONSES,
    TEXT_LIMIT_RESPONSES,
    ApiKeyDep,
    FeedbackStoreDep,
    RateLimitDep,
    ScorerDep,
    SettingsDep,
    StateDep,
    check_lengths,
)
from service.schemas import CorrectionOut, ErrorOut, FeedbackIn, FeedbackOut, ReviewIn, ReviewQueueOut

router = APIRouter(prefix="/feedback", tags=["feedback"])
log = logging.getLogger("boundaryline.service")


@router.post(
    "",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[RateLimitDep, ApiKeyDep],
    summary="Keep a correctly labelled example for retraining",
    responses={
        200: {"model": FeedbackOut, "description": "Already stored under this id"},
        409: {"model": ErrorOut, "description": "Id re-used for another example"},
        **API_KEY_RESPONSES,
        **TEXT_LIMIT_RESPONSES,
        **RATE_LIMIT_RESPONSES,
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


@router.get(
    "",
    response_model=ReviewQueueOut,
    dependencies=[ApiKeyDep],
    summary="The corrections waiting to be merged, each beside the model's opinion and marks",
    responses={**API_KEY_RESPONSES},
)
async def list_feedback(store: FeedbackStoreDep, scorer: ScorerDep, state: StateDep) -> ReviewQueueOut:
    """``boundaryline.feedback.review_queue``, oldest first, scored on the app's scoring thread."""
    queue = await asyncio.get_running_loop().run_in_executor(state.executor, review_queue, store, scorer)
    log.info("review queue n=%d marked=%d model=%s", len(queue), sum(bool(c.marks) for c in queue), scorer.version)
    return ReviewQueueOut(
        model_version=scorer.version, corrections=[CorrectionOut.model_validate(c.to_dict()) for c in queue]
    )


@router.post(
    "/{feedback_id}/review",
    response_model=CorrectionOut,
    dependencies=[RateLimitDep, ApiKeyDep],
    summary="Accept or reject a correction before a retrain merges it",
    responses={
        404: {"model": ErrorOut, "description": "No correction with this id waits for review"},
        **API_KEY_RESPONSES,
        **RATE_LIMIT_RESPONSES,
    },
)
async def review_feedback(
    feedback_id: str, body: ReviewIn, store: FeedbackStoreDep, scorer: ScorerDep, state: StateDep
) -> CorrectionOut:
    """``FeedbackStore.decide`` for one correction of the review queue; returns it as the queue now shows it.
    A merged correction is out of the queue (``boundaryline feedback`` still decides on it)."""
    loop = asyncio.get_running_loop()
    queue = await loop.run_in_executor(state.executor, partial(review_queue, store, scorer, only={feedback_id}))
    correction = next(iter(queue), None)
    if correction is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"no correction {feedback_id!r} waits for review: unknown, or merged into a model already",
        )
    (item,) = await loop.run_in_executor(state.executor, store.decide, [feedback_id], body.decision)
    log.info("review id=%s decision=%s label=%s length=%d", item.id, item.review, item.label, len(item.text))
    return CorrectionOut.model_validate(replace(correction, item=item).to_dict())
