"""Assemble ``data/corpus/messages.csv`` and ``challenge.csv`` from the authored sources in ``data/raw/``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from boundaryline import registry
from boundaryline.data import (
    CHALLENGE_COLUMNS,
    CORPUS_COLUMNS,
    load_challenge,
    load_corpus,
    near_duplicate_pairs,
    split_for_scenario,
    stable_id,
    text_key,
    today,
    write_corpus,
)
from boundaryline.files import read_json_lines
from boundaryline.settings import Settings


def _read_raw(path: Path, required: Sequence[str]) -> list[dict[str, object]]:
    """Rows of one authored JSON Lines file; a bad line is an error naming the file and line."""
    rows = []
    for line in read_json_lines(path):
        if line.error is not None:
            raise ValueError(f"{path}: line {line.number}: {line.error}")
        missing = [key for key in required if key not in line.value]
        if missing:
            raise ValueError(f"{path}: line {line.number}: missing field(s) {', '.join(missing)}")
        rows.append(line.value)
    return rows


def assemble_corpus(settings: Settings, *, date_added: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Build ``messages.csv`` and ``challenge.csv`` from ``data/raw/`` (how the shipped corpus was made).

    Rows already in the corpus keep their ``added`` date, and rows that came from elsewhere (feedback,
    retraining files) are kept as they are. Exact duplicates and texts given two labels are dropped; a
    near-duplicate across the split loses its test-side copy; anything near a challenge message leaves
    the corpus, since the challenge set must stay unseen. Returns both frames and how many rows were dropped.
    """
    existing = load_corpus(settings) if settings.corpus_path.exists() else pd.DataFrame(columns=CORPUS_COLUMNS)
    added_before = dict(zip(existing["id"], existing["added"], strict=True))
    if settings.challenge_path.exists():  # the frozen set keeps its dates too
        frozen = load_challenge(settings)
        added_before |= dict(zip(frozen["id"], frozen["added"], strict=True))
    stamp = date_added or today()

    challenge_rows = [
        {
            "id": stable_id(str(r["text"]), "ch"),
            "text": str(r["text"]).strip(),
            "label": r["label"],
            "channel": r["channel"],
            "scenario": r["scenario"],
            "edge": r["edge"],
            "sender_role": r.get("sender_role", ""),
            "source": "authored:challenge",
            "added": added_before.get(stable_id(str(r["text"]), "ch"), stamp),
        }
        for r in _read_raw(settings.raw_dir / "challenge.jsonl", ("text", "label", "channel", "scenario", "edge"))
    ]
    challenge = pd.DataFrame(challenge_rows, columns=CHALLENGE_COLUMNS).drop_duplicates("id")

    rows = []
    for path in sorted(settings.raw_dir.glob("*.jsonl")):
        if path.name == "challenge.jsonl":
            continue
        kind = "generated" if path.stem.startswith("generated") else "authored"
        for r in _read_raw(path, ("text", "label", "channel", "scenario")):
            text = str(r["text"]).strip()
            rows.append({
                "id": stable_id(text), "text": text, "label": r["label"], "channel": r["channel"],
                "scenario": r["scenario"], "hard": str(bool(r.get("hard", False))).lower(),
                "sender_role": r.get("sender_role", ""), "source": f"{kind}:{path.stem}",
                "split": split_for_scenario(str(r["scenario"])),
            })  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["added"] = [added_before.get(i, stamp) for i in frame["id"]]
    before = len(frame)

    keys = frame["text"].map(text_key)
    labels_per_key = frame.groupby(keys)["label"].nunique()
    frame = frame[keys.map(labels_per_key) == 1]
    frame = frame[~frame["text"].map(text_key).duplicated()].reset_index(drop=True)

    texts = frame["text"].tolist() + challenge["text"].tolist()
    drop: set[int] = set()
    split = frame["split"].to_numpy()
    for i, j, _ in near_duplicate_pairs(texts):
        if j >= len(frame):
            if i < len(frame):
                drop.add(i)  # a corpus row too close to a challenge message
        elif split[i] != split[j]:
            drop.add(i if split[i] == "test" else j)
    frame = frame.drop(index=sorted(drop)).reset_index(drop=True)
    dropped = before - len(frame)

    kept = existing[~existing["source"].str.match(r"^(authored|generated):")]
    corpus = pd.concat([frame, kept], ignore_index=True)[list(CORPUS_COLUMNS)]
    # Under the registry's lock, as retrain writes the corpus: `models clean` then never removes the temp
    # file of a write in progress.
    with registry.exclusive(settings.models_dir):
        write_corpus(corpus, settings.corpus_path, CORPUS_COLUMNS)
        write_corpus(challenge, settings.challenge_path, CHALLENGE_COLUMNS)
    return corpus, challenge, dropped
