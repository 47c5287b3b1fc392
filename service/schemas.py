"""Request and response bodies of the HTTP API.

Every string a client sends must be valid Unicode (a lone surrogate such as ``\\ud800`` is refused with a
422, not passed on to the model, the log or the feedback store); message texts must hold a non-space
character. The OpenAPI document states both (``minLength``, ``pattern``) and that a score request has
exactly one of ``text`` and ``messages``.
"""

from __future__ import annotations

import re
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


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    id: ClientId | None = Field(default=None, description="Your id for the message, echoed back.")
    explain: bool = Field(default=False, description="Include the terms that drove the score.")


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
        return [MessageIn(text=self.text, id=self.id, explain=self.explain)]


class TermWeight(BaseModel):
    term: str
    weight: float


class ScoreOut(BaseModel):
    id: str | None = None
    label: Label
    scores: dict[str, float]
    flagged: bool
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
