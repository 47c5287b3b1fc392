"""Request and response bodies of the HTTP API.

Every string a client sends must be valid Unicode (a lone surrogate such as ``\\ud800`` is refused with a
422, not passed on to the model, the log or the feedback store); message texts must hold a non-space
character. The OpenAPI document states both (``minLength``, ``pattern``) and that a score request has
exactly one of ``text`` and ``messages``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from boundaryline.settings import check_thresholds

Label = Literal["professional", "pestering", "inappropriate_proposition"]
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _valid_unicode(value: str) -> str:
    if _SURROGATE.search(value):
        raise ValueError("not valid Unicode: holds a lone surrogate (an unpaired \\ud800-\\udfff escape)")
    return value


# Constraints first, then the check: pydantic leaves them out of the OpenAPI document the other way round.
# A message text: valid Unicode with at least one character that is not white space.
Text = Annotated[
    str,
    Field(min_length=1, pattern=r"\S", description="The message text, as received."),
    AfterValidator(_valid_unicode),
]
ClientId = Annotated[str, Field(max_length=200), AfterValidator(_valid_unicode)]


Channel = Literal["email", "linkedin_dm", "text_message", "event_app", "chat"]


class HistoryItem(BaseModel):
    """One earlier message between the sender and the recipient (the owner), oldest first."""

    model_config = ConfigDict(extra="forbid")

    direction: Literal["incoming", "outgoing"] = Field(
        description="incoming: from the sender; outgoing: the owner's reply (its text, if given, is read for a"
        " no or a not-now)"
    )
    time: datetime | None = Field(default=None, description="When it was sent (ISO 8601).")
    text: Annotated[str, Field(max_length=20_000), AfterValidator(_valid_unicode)] | None = None
    channel: Channel | None = None


History = Annotated[
    list[HistoryItem] | None,
    Field(
        max_length=500,
        description="Earlier messages of the conversation: with them the answer weighs the sender's pattern"
        " (unanswered messages, a message after a refusal, channel hopping) beside the text.",
    ),
]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    id: ClientId | None = Field(default=None, description="Your id for the message, echoed back.")
    explain: bool = Field(default=False, description="Include the terms that drove the score.")
    history: History = None
    time: datetime | None = Field(default=None, description="When this message was sent (for the pattern).")
    channel: Channel | None = None


class ScoreRequest(BaseModel):
    """Either one message (``text``, ``id``, ``explain``) or a batch (``messages``), never both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # exactly one of the two holds a value (the other is absent or null)
            "oneOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}, "messages": {"type": "null"}}},
                {"required": ["messages"], "properties": {"messages": {"type": "array"}, "text": {"type": "null"}}},
            ],
            "examples": [{"text": "Coffee next week to talk about the data team?", "explain": True}],
        },
    )

    text: Text | None = None
    id: ClientId | None = None
    explain: bool = False
    history: History = None
    time: datetime | None = None
    channel: Channel | None = None
    messages: list[MessageIn] | None = Field(default=None, min_length=1)
    thresholds: dict[str, float] | None = Field(
        default=None,
        description="Per-class thresholds for this request only, instead of the ones in force (as "
        "BOUNDARYLINE_THRESHOLDS: known labels, each in (0, 1]; `{}` is the arg-max).",
        examples=[{"pestering": 0.6, "inappropriate_proposition": 0.6}],
        # what the validator below enforces, stated in the document too (known labels, values in (0, 1])
        json_schema_extra={
            "anyOf": [
                {
                    "type": "object",
                    "propertyNames": {"enum": ["professional", "pestering", "inappropriate_proposition"]},
                    "additionalProperties": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                },
                {"type": "null"},
            ]
        },
    )

    _thresholds = field_validator("thresholds")(lambda v: v if v is None else check_thresholds(v))

    @model_validator(mode="after")
    def _one_or_many(self) -> ScoreRequest:
        if (self.text is None) == (self.messages is None):
            raise ValueError("send either `text` (one message) or `messages` (a batch), not both or neither")
        return self

    def items(self) -> list[MessageIn]:
        if self.messages is not None:
            return self.messages
        assert self.text is not None
        # Fields of the same types, validated already: built without validating them twice.
        return [
            MessageIn.model_construct(
                text=self.text,
                id=self.id,
                explain=self.explain,
                history=self.history,
                time=self.time,
                channel=self.channel,
            )
        ]


class TermWeight(BaseModel):
    term: str
    weight: float


class PatternOut(BaseModel):
    unanswered: int = Field(description="Messages from the sender since the owner's last reply, this one included.")
    span_days: float | None = Field(default=None, description="From the first of them to this one (with times).")
    shortest_gap_hours: float | None = None
    after_refusal: bool
    channels: list[str]
    reason: str | None = Field(default=None, description="Why the pattern counts (absent: it does not).")


class ScoreOut(BaseModel):
    id: str | None = None
    label: Label = Field(description="The label weighing the text and, given a history, the sender's pattern.")
    scores: dict[str, float]
    flagged: bool
    fired: Literal["text", "pattern", "both", ""] = Field(description="What made it a concern ('' when not flagged).")
    text_label: Label = Field(description="The label of the text alone.")
    pattern: PatternOut | None = Field(default=None, description="With a history: the sender's pattern.")
    explanation: list[TermWeight] | None = None


APPLIED = "The thresholds the labels were decided under: the request's, else the ones in force ({}: arg-max)."


class ScoreResponse(ScoreOut):
    model_version: str
    thresholds: dict[str, float] = Field(description=APPLIED)


class BatchScoreResponse(BaseModel):
    model_version: str
    thresholds: dict[str, float] = Field(description=APPLIED)
    results: list[ScoreOut]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    label: Label = Field(description="The correct label, by data/LABELLING.md.")
    id: ClientId | None = Field(default=None, description="Your id; sending it again is a no-op.")
    message_id: ClientId | None = Field(default=None, description="The id of the scored message.")
    channel: Literal["email", "linkedin_dm", "text_message", "event_app", "chat"] | None = None
    note: Annotated[str, Field(max_length=2000), AfterValidator(_valid_unicode)] | None = None


class FeedbackOut(BaseModel):
    id: str
    created: bool
    label: Label


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accepted", "rejected"] = Field(
        description="accepted: the next retrain merges it; rejected: it never does."
    )


class CorrectionOut(BaseModel):
    """A correction not merged yet, beside what the model in service says of its text."""

    id: str
    text: str
    label: Label = Field(description="The label the correction gives.")
    channel: str | None = None
    note: str | None = None
    created: str = Field(description="When it was stored (ISO 8601, UTC).")
    review: Literal["pending", "accepted", "rejected"]
    reviewed: str | None = Field(default=None, description="When it was accepted or rejected (ISO 8601, UTC).")
    model_label: Label = Field(description="The label the model in service gives the text (arg-max).")
    model_probability: float = Field(description="The model's probability of its own label.")
    probability_of_correction: float = Field(description="The model's probability of the corrected label.")
    evidence: list[TermWeight] = Field(description="The terms that pushed hardest towards the model's label.")
    marks: list[str] = Field(
        description="Why a reviewer should look twice: it contradicts a confident model, or another correction"
        " of the same text gives another label."
    )


class ReviewQueueOut(BaseModel):
    model_version: str = Field(description="The model whose opinion is shown.")
    corrections: list[CorrectionOut] = Field(description="Every correction not merged yet, oldest first.")


class ReloadOut(BaseModel):
    previous: str | None
    current: str


class Health(BaseModel):
    status: str
    model_version: str | None = None
    problem: str | None = Field(
        default=None, description="Why the model in service is not the one `models/current` names."
    )


class ErrorOut(BaseModel):
    """Every error: ``detail`` says what was wrong and where (a field path for a 422)."""

    detail: str | list[dict[str, object]]
