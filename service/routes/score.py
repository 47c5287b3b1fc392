import asyncio
import logging
import time
from functools import partial

from fastapi import APIRouter, HTTPException, status

from boundaryline.senders import Event, history_verdict
from boundaryline.settings import CONCERN_LABELS
from service.deps import TEXT_LIMIT_RESPONSES, ScorerDep, SettingsDep, StateDep, check_lengths
from service.schemas import BatchScoreResponse, ErrorOut, PatternOut, ScoreOut, ScoreRequest, ScoreResponse

router = APIRouter(prefix="/score", tags=["score"])
log = logging.getLogger("boundaryline.service")


@router.post(
    "",
    response_model=ScoreResponse | BatchScoreResponse,
    response_model_exclude_none=True,
    summary="Score one message or a batch",
    responses={
        **TEXT_LIMIT_RESPONSES,
        503: {"model": ErrorOut, "description": "No model in service (the reason is in `detail`)"},
    },
)
async def score(
    request: ScoreRequest, scorer: ScorerDep, settings: SettingsDep, state: StateDep
) -> ScoreResponse | BatchScoreResponse:
    """Scoring runs on the app's dedicated executor thread, so the event loop keeps serving others."""
    items = request.items()
    if len(items) > settings.max_batch_messages:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"messages: {len(items)} messages, the limit is {settings.max_batch_messages} per call",
        )
    batch = request.messages is not None
    check_lengths(((f"messages[{i}].text" if batch else "text", m.text) for i, m in enumerate(items)), settings)
    start = time.perf_counter()
    texts = [item.text for item in items]
    thresholds = scorer.thresholds if request.thresholds is None else request.thresholds
    work = partial(scorer.score, texts, explain=[item.explain for item in items], thresholds=thresholds)
    scored = await asyncio.get_running_loop().run_in_executor(state.executor, work)
    results = []
    for item, result in zip(items, scored, strict=True):
        history = (
            [Event(h.direction == "outgoing", h.time, h.text or "", h.channel) for h in item.history]
            if item.history is not None
            else None
        )
        label, fired, pattern, reason = history_verdict(
            item.text, result.label, history, time=item.time, channel=item.channel, settings=settings
        )
        flagged = label in CONCERN_LABELS
        state.predictions.labels(label, str(flagged).lower()).inc()
        out = result.to_dict() | {"label": label, "flagged": flagged, "fired": fired, "text_label": result.label}
        if pattern is not None:
            out["pattern"] = PatternOut(**pattern.to_dict(), reason=reason)
        results.append(ScoreOut(id=item.id, **out))
    # Ids, lengths and labels only: message text never reaches the logs.
    log.info(
        "scored n=%d ids=%s lengths=%s labels=%s model=%s in %.1f ms",
        len(items), [item.id for item in items][:20], [len(t) for t in texts][:20],
        [r.label for r in results][:20], scorer.version, (time.perf_counter() - start) * 1000,
    )  # fmt: skip
    if not batch:
        return ScoreResponse(model_version=scorer.version, thresholds=thresholds, **results[0].model_dump())
    return BatchScoreResponse(model_version=scorer.version, thresholds=thresholds, results=results)
