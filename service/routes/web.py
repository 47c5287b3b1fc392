"""The review page at ``/``: check a message, correct it, read a scored inbox, see the model.

Server-rendered (Jinja2) with one small script and one style sheet from ``service/static/``; nothing is
fetched from anywhere else (the Content-Security-Policy says so). The page scores through the public API
(``POST /v1/score``, ``POST /v1/feedback``); the two routes here add what only the page needs: the words
of a message with their contributions (``POST /web/highlight``) and the plots of the model in service.
Message text travels only in request bodies, never in a URL, and is never logged.
"""

from __future__ import annotations

import ast
import asyncio
import json
import logging
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from boundaryline.highlight import highlight
from boundaryline.predict import Scorer
from boundaryline.settings import CONCERN_LABELS, LABELS, Settings
from service.deps import ScorerDep, SettingsDep, StateDep, check_lengths
from service.schemas import Label, Text

SERVICE_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = SERVICE_DIR / "templates"
STATIC_DIR = SERVICE_DIR / "static"
CHANNELS = ("email", "linkedin_dm", "text_message", "event_app", "chat")
# Everything from this origin, nothing inline, nothing from elsewhere: the page works offline.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

router = APIRouter(tags=["review page"], include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)
log = logging.getLogger("boundaryline.service")


class HighlightIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    label: Label | None = Field(default=None, description="The label to explain (default: the one it gets).")


class SegmentOut(BaseModel):
    text: str
    weight: float | None


class HighlightOut(BaseModel):
    model_version: str
    label: str
    decision: float
    intercept: float
    unplaced: float
    segments: list[SegmentOut]


def plots_dir(settings: Settings, scorer: Scorer) -> Path:
    return settings.models_dir / scorer.version / "plots"


def plot_names(settings: Settings, scorer: Scorer) -> list[str]:
    """The PNG plots saved with the model in service (confusion, precision-recall, calibration per set),
    in the order of the manifest's evaluation sets, then by name."""
    folder = plots_dir(settings, scorer)
    names = [p.name for p in folder.glob("*.png") if p.is_file()] if folder.is_dir() else []
    sets = list(scorer.manifest.get("metrics", {}))
    return sorted(names, key=lambda name: (sets.index(name[:-4]) if name[:-4] in sets else len(sets), name))


def source_counts(corpus: dict[str, Any]) -> list[dict[str, Any]]:
    """Training rows by kind of source (authored, generated, external, feedback, ...), each with its
    sources; ``external`` is always listed, so a model trained on none says so."""
    kinds: dict[str, dict[str, int]] = {"external": {}}
    for source, n in corpus.get("counts", {}).get("source", {}).items():
        kind, _, name = str(source).partition(":")
        kinds.setdefault(kind, {})[name or kind] = int(n)
    return [
        {"kind": kind, "rows": sum(sources.values()), "sources": sorted(sources.items())}
        for kind, sources in sorted(kinds.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    ]


STEP_NAMES = {"clf": "classifier", "tfidf": "TF-IDF"}  # the pipeline's step names, spelt out


def readable_value(value: Any) -> str:
    """A searched parameter as a person reads it: an estimator saved as its repr (``Vectorizer(min_df=2)``)
    becomes its name and settings ("Vectorizer with min_df 2", strings unescaped); anything else that is not
    a plain string is written as JSON."""
    if not isinstance(value, str):
        return json.dumps(value)
    text = " ".join(value.split())
    try:
        call = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text
    if not isinstance(call, ast.Call) or call.args:
        return text
    try:
        settings = [(k.arg, ast.literal_eval(k.value)) for k in call.keywords]
    except ValueError:
        return text
    name = ast.unparse(call.func)
    if not settings:
        return name
    return f"{name} with " + ", ".join(f"{key} {item}" for key, item in settings)


def readable_parameters(chosen: Any) -> list[tuple[str, str]]:
    """The parameters the search chose (``{"clf__C": 3.0}``) as (name, value) pairs: "classifier C", "3.0"."""
    if not isinstance(chosen, dict):
        return [("chosen", readable_value(chosen))] if chosen else []
    pairs = []
    for key, value in chosen.items():
        step, _, name = str(key).partition("__")
        label = f"{STEP_NAMES.get(step, step)} {name}" if name else step
        pairs.append((label.replace("_", " "), readable_value(value)))
    return pairs


def model_view(settings: Settings, scorer: Scorer) -> dict[str, Any]:
    """What the model section shows, from the manifest of the model in service."""
    manifest = scorer.manifest
    corpus = manifest.get("corpus", {})
    return {
        "version": scorer.version,
        "created": manifest.get("created", "unknown"),
        "sklearn_version": manifest.get("sklearn_version", "unknown"),
        "chosen": manifest.get("search", {}).get("chosen"),
        "parameters": readable_parameters(manifest.get("search", {}).get("chosen")),
        "retrain": manifest.get("retrain"),
        "corpus_rows": corpus.get("rows"),
        "challenge_rows": corpus.get("challenge_rows"),
        "counts": corpus.get("counts", {}),
        "sources": source_counts(corpus),
        "metrics": manifest.get("metrics", {}),
        "plots": plot_names(settings, scorer),
        "thresholds": scorer.thresholds,
    }


@router.get("/", response_class=HTMLResponse, summary="The review page")
async def review_page(request: Request, state: StateDep, settings: SettingsDep) -> HTMLResponse:
    scorer = state.model.get()
    context = {
        "model": model_view(settings, scorer) if scorer is not None else None,
        "model_error": state.model.problem,
        "labels": LABELS,
        "concern_labels": CONCERN_LABELS,
        "channels": CHANNELS,
        "max_text_chars": settings.max_text_chars,
    }
    return templates.TemplateResponse(request, "review.html", context, headers=PAGE_HEADERS)


@router.post("/web/highlight", response_model=HighlightOut, summary="Each word of a message with its contribution")
async def highlight_words(body: HighlightIn, scorer: ScorerDep, settings: SettingsDep, state: StateDep) -> HighlightOut:
    """``Scorer.explain`` laid onto the words of the text (``boundaryline.highlight`` documents the rule)."""
    check_lengths([("text", body.text)], settings)
    work = partial(highlight, scorer, body.text, body.label)
    laid = await asyncio.get_running_loop().run_in_executor(state.executor, work)
    log.info("highlighted length=%d label=%s model=%s", len(body.text), laid.label, scorer.version)
    return HighlightOut(model_version=scorer.version, **asdict(laid))


@router.get("/web/plots/{version}/{name}", summary="A plot of the model in service")
async def model_plot(version: str, name: str, scorer: ScorerDep, settings: SettingsDep) -> FileResponse:
    """Only the files listed in the plots folder of the version in service; anything else is a 404."""
    if version != scorer.version or name not in plot_names(settings, scorer):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no plot {name!r} for the model in service")
    return FileResponse(plots_dir(settings, scorer) / name, media_type="image/png")
