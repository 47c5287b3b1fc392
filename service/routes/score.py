import asyncio
import json
import logging
import time
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from boundaryline.results import Score
from boundaryline.senders import Event, Pattern, history_verdict
from boundaryline.settings import CONCERN_LABELS
from service.deps import TEXT_LIMIT_RESPONSES, check_lengths, scorer_in_service, state_of
from service.schemas import BatchScoreResponse, ErrorOut, ScoreRequest, ScoreResponse

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
async def score(request: ScoreRequest, http: Request) -> Response:
    """A short call is scored on the event loop; a long one on the app's dedicated scoring thread, so the
    event loop keeps serving others. The hottest route: no dependencies to solve (each costs a call about
    as much as validating its body), the state, the scorer and the settings read straight from the app."""
    state = state_of(http)
    scorer, settings = scorer_in_service(state), state.settings
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
    if sum(map(len, texts)) <= settings.inline_score_chars:
        scored = work()  # cheaper than the hop to the scoring thread
    else:
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
        state.count_prediction(label, label in CONCERN_LABELS)
        results.append(score_out(item.id, result, label, fired, pattern, reason))
    # Ids, lengths and labels only: message text never reaches the logs.
    if log.isEnabledFor(logging.INFO):
        log.info(
            "scored n=%d ids=%s lengths=%s labels=%s model=%s in %.1f ms",
            len(items), [item.id for item in items][:20], [len(t) for t in texts][:20],
            [r["label"] for r in results][:20], scorer.version, (time.perf_counter() - start) * 1000,
        )  # fmt: skip
    head = {"model_version": scorer.version, "thresholds": {k: float(v) for k, v in thresholds.items()}}
    return JSONBody(results[0] | head if not batch else head | {"results": results})


def score_out(
    id: str | None, result: Score, label: str, fired: str, pattern: Pattern | None, reason: str | None
) -> dict[str, Any]:
    """``ScoreOut``'s fields as plain JSON values, the ``None`` ones left out (as ``response_model_exclude_none``
    would), built directly rather than through the pydantic models and back."""
    out: dict[str, Any] = {} if id is None else {"id": id}
    out |= {"label": label, "scores": result.scores, "flagged": label in CONCERN_LABELS, "fired": fired}
    out["text_label"] = result.label
    if pattern is not None:
        out["pattern"] = {k: v for k, v in (pattern.to_dict() | {"reason": reason}).items() if v is not None}
    if result.explanation is not None:
        out["explanation"] = [{"term": c.term, "weight": c.weight} for c in result.explanation]
    return out


class JSONBody(Response):
    """A body that is already plain JSON values: encoded by the standard library's C encoder, with no
    validation or conversion on the way out (the route's ``response_model`` documents it in the OpenAPI
    schema, and the tests check the bodies against it)."""

    media_type = "application/json"
    # One encoder for every body (``json.dumps`` with these options would build a new one per call).
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    def render(self, content: Any) -> bytes:
        return self.encoder.encode(content).encode()
