"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from boundaryline.settings import check_thresholds

Label = Literal["professional", "pestering", "inappropriate_proposition"]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only white space")
    return value


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The message text, as received.")
    id: str | None = Field(default=None, max_length=200, description="Your id for the message, echoed back.")
    explain: bool = Field(default=False, description="Include the terms that drove the score.")

    _text = field_validator("text")(_not_blank)


class ScoreRequest(BaseModel):
    """Either one message (``text``, ``id``, ``explain``) or a batch (``messages``), not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Coffee next week to talk about the data team?", "explain": True}]},
    )

    text: str | None = None
    id: str | None = Field(default=None, max_length=200)
    explain: bool = False
    messages: list[MessageIn] | None = None
    thresholds: dict[str, float] | None = Field(
        default=None,
        description="Per-class thresholds for this request only, instead of the ones in force (as "
        "BOUNDARYLINE_THRESHOLDS: known labels, each in (0, 1]; `{}` is the arg-max).",
        examples=[{"pestering": 0.6, "inappropriate_proposition": 0.6}],
    )

    _text = field_validator("text")(lambda v: v if v is None else _not_blank(v))
    _thresholds = field_validator("thresholds")(lambda v: v if v is None else check_thresholds(v))

    @model_validator(mode="after")
    def _one_or_many(self) -> ScoreRequest:
        if (self.text is None) == (self.messages is None):
            raise ValueError("send either `text` (one message) or `messages` (a batch), not both or neither")
        if self.messages is not None and not self.messages:
            raise ValueError("`messages` must hold at least one message")
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

    text: str = Field(description="The message text.")
    label: Label = Field(description="The correct label, by data/LABELLING.md.")
    id: str | None = Field(default=None, max_length=200, description="Your id; sending it again is a no-op.")
    message_id: str | None = Field(default=None, max_length=200, description="The id of the scored message.")
    channel: Literal["email", "linkedin_dm", "text_message", "event_app", "chat"] | None = None
    note: str | None = Field(default=None, max_length=2000)

    _text = field_validator("text")(_not_blank)


class FeedbackOut(BaseModel):
    id: str
    created: bool
    label: Label


class ReloadOut(BaseModel):
    previous: str
    current: str


class Health(BaseModel):
    status: str
    model_version: str | None = None
