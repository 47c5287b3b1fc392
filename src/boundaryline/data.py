"""Load and validate the labelled corpus and the challenge set; the held-out split; near-duplicate checks."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd

from boundaryline.files import read_json_lines, write_atomic
from boundaryline.settings import LABELS, Settings

CHANNELS: tuple[str, ...] = ("email", "linkedin_dm", "text_message", "event_app", "chat")
SPLITS: tuple[str, ...] = ("train", "test")
CORPUS_COLUMNS: tuple[str, ...] = (
    "id", "text", "label", "channel", "scenario", "hard", "sender_role", "source", "added", "split",
)  # fmt: skip
CHALLENGE_COLUMNS: tuple[str, ...] = (
    "id", "text", "label", "channel", "scenario", "edge", "sender_role", "source", "added",
)  # fmt: skip
TEST_FRACTION = 0.2
NEAR_DUPLICATE_JACCARD = 0.8
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row (or pair of rows)."""

    check: str
    row_id: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.row_id}: {self.message}"


@dataclass
class ValidationReport:
    """What ``validate_corpus`` found: problems (which fail the check) and the corpus's counts."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    near_duplicates: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "problems": [asdict(p) for p in self.problems],
            "counts": self.counts,
            "near_duplicates": self.near_duplicates,
        }


def text_key(text: str) -> str:
    """The key two texts share when they are the same message up to case, spacing and punctuation."""
    return " ".join(_WORD.findall(text.lower()))


def stable_id(text: str, prefix: str = "bl") -> str:
    """An id derived from the text itself, so rebuilding the corpus never renumbers a row."""
    return f"{prefix}-{hashlib.sha256(text_key(text).encode()).hexdigest()[:12]}"


def split_for_scenario(scenario: str) -> str:
    """Whole scenarios go to one side: a stable hash of the slug puts ~20% of them in ``test``."""
    bucket = int(hashlib.sha256(scenario.encode()).hexdigest()[:8], 16) % 1000
    return "test" if bucket < TEST_FRACTION * 1000 else "train"


def read_table(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read a corpus CSV as strings (no type guessing: an id like ``0012`` stays ``0012``)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such corpus file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame


def load_corpus(settings: Settings) -> pd.DataFrame:
    """The labelled corpus (``data/corpus/messages.csv``)."""
    return read_table(settings.corpus_path, CORPUS_COLUMNS)


def load_challenge(settings: Settings) -> pd.DataFrame:
    """The frozen challenge set (``data/corpus/challenge.csv``); never trained on."""
    return read_table(settings.challenge_path, CHALLENGE_COLUMNS)


def load_threads(settings: Settings) -> list[dict[str, Any]]:
    """The frozen thread set (``data/corpus/threads.jsonl``), or [] where there is none."""
    if not settings.threads_path.exists():
        return []
    threads = []
    for line in read_json_lines(settings.threads_path):
        if line.error is not None:
            raise ValueError(f"{settings.threads_path}: line {line.number}: {line.error}")
        threads.append(line.value)
    return threads


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    """Word ``size``-shingles; a text shorter than ``size`` words is one shingle of all its words."""
    words = _WORD.findall(text.lower())
    if len(words) <= size:
        return frozenset([tuple(words)])
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD, max_bucket: int = 60
) -> list[tuple[int, int, float]]:
    """Index pairs whose shingle sets have Jaccard similarity ≥ ``threshold``.

    Candidates come from an inverted index over shingles; shingles shared by more than ``max_bucket``
    texts (stock phrases) do not generate candidates, since a real near-duplicate shares rare ones too.
    """
    sets = [shingles(t) for t in texts]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    candidates: set[tuple[int, int]] = set()
    for rows in index.values():
        if 1 < len(rows) <= max_bucket:
            candidates.update(combinations(rows, 2))
    pairs = []
    for i, j in sorted(candidates):
        jaccard = len(sets[i] & sets[j]) / len(sets[i] | sets[j])
        if jaccard >= threshold:
            pairs.append((i, j, jaccard))
    return pairs


CONTAINMENT = 0.5
Shingles = frozenset[tuple[str, ...]]


class ShingleIndex:
    """Texts shingled once and indexed by shingle, so that checking another text against all of them costs that
    text's shingles, not theirs (a retrain's intake checks each new row against the training set this way).

    ``near`` and ``contained`` answer exactly as ``near_duplicate_pairs([text, *texts])`` and
    ``contained_pairs([text], texts)`` do, without shingling ``texts`` again for each text.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.sets = [shingles(t) for t in texts]
        self.index: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for j, s in enumerate(self.sets):
            for sh in s:
                self.index[sh].append(j)

    def __len__(self) -> int:
        return len(self.sets)

    def near(
        self, mine: Shingles, threshold: float = NEAR_DUPLICATE_JACCARD, max_bucket: int = 60
    ) -> list[tuple[int, float]]:
        """(j, Jaccard) for each indexed text at least ``threshold`` alike with the text of shingles ``mine``, j
        ascending. As in ``near_duplicate_pairs``, a shingle that more than ``max_bucket`` texts share (this one
        counted) proposes no candidates."""
        candidates = {j for sh in mine if len(rows := self.index.get(sh, [])) < max_bucket for j in rows}
        pairs = []
        for j in sorted(candidates):
            jaccard = len(mine & self.sets[j]) / len(mine | self.sets[j])
            if jaccard >= threshold:
                pairs.append((j, jaccard))
        return pairs

    def contained(self, mine: Shingles, threshold: float = CONTAINMENT) -> list[tuple[int, float]]:
        """(j, containment) for each indexed text where it or the text of shingles ``mine`` holds at least
        ``threshold`` of the other's shingles (see ``contained_pairs``)."""
        shared: Counter[int] = Counter(j for sh in mine for j in self.index.get(sh, ()))
        pairs = []
        for j, n in shared.items():
            score = max(n / len(mine), n / len(self.sets[j]))
            if score >= threshold:
                pairs.append((j, score))
        return pairs


def contained_pairs(
    new: Sequence[str], held: Sequence[str], threshold: float = CONTAINMENT
) -> list[tuple[int, int, float]]:
    """(i, j, containment) for each new text ``i`` and held text ``j`` where either holds at least
    ``threshold`` of the other's word 5-shingles: a prefix, a suffix or an excerpt of a frozen message is a
    copy of it, even when Jaccard similarity is low."""
    index = ShingleIndex(held)
    return [(i, j, score) for i, text in enumerate(new) for j, score in index.contained(shingles(text), threshold)]


def check_row(row: Mapping[str, object], where: str, columns: Sequence[str]) -> list[Problem]:
    """The one row schema: the problems of one row (corpus, challenge set or new examples) under ``where``.

    Only the ``columns`` given are checked, so new examples (text and label, an optional channel) use the
    same rules as the corpus. An empty channel is allowed only where the column is optional.
    """
    problems = []
    if not str(row.get("text", "")).strip():
        problems.append(Problem("text", where, "empty or whitespace-only text"))
    label = row.get("label")
    if label not in LABELS:
        problems.append(Problem("label", where, f"unknown label {label!r}; expected one of {LABELS}"))
    channel = row.get("channel", "")
    if (channel or "channel" in columns) and channel not in CHANNELS:
        problems.append(Problem("channel", where, f"unknown channel {channel!r}; expected one of {CHANNELS}"))
    if "scenario" in columns and not str(row.get("scenario", "")).strip():
        problems.append(Problem("scenario", where, "empty scenario"))
    if "split" in columns and row.get("split") not in SPLITS:
        problems.append(Problem("split", where, f"split must be one of {SPLITS}, got {row.get('split')!r}"))
    return problems


def _check_rows(frame: pd.DataFrame, columns: Sequence[str], problems: list[Problem]) -> None:
    """Per-row checks: the schema, unique ids, then ``check_row`` on every row."""
    missing = [c for c in columns if c not in frame.columns]
    for column in missing:
        problems.append(Problem("schema", "-", f"missing column {column!r}"))
    if missing:
        return
    seen: Counter[str] = Counter(frame["id"])
    for position, row in enumerate(frame.to_dict("records"), start=2):  # line 1 is the header
        row_id = row["id"] or f"line {position}"
        if not row["id"].strip():
            problems.append(Problem("id", row_id, "empty id"))
        elif seen[row["id"]] > 1:
            problems.append(Problem("id", row_id, f"id used by {seen[row['id']]} rows"))
        problems.extend(check_row(row, row_id, columns))


def _check_duplicates(frame: pd.DataFrame, problems: list[Problem]) -> None:
    """The same text twice; the same text with two labels is reported as a conflict."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(frame["text"]):
        groups[text_key(text)].append(i)
    for rows in groups.values():
        if len(rows) < 2:
            continue
        ids = [frame["id"].iat[i] for i in rows]
        labels = {frame["label"].iat[i] for i in rows}
        check = "conflict" if len(labels) > 1 else "duplicate"
        detail = f"same text with labels {sorted(labels)}" if len(labels) > 1 else "same text"
        for row_id in ids[1:]:
            problems.append(Problem(check, row_id, f"{detail} as {ids[0]}"))


def _check_split(frame: pd.DataFrame, problems: list[Problem], report: ValidationReport) -> None:
    """Leakage: a scenario on both sides, or near-duplicate texts across the split."""
    sides = frame.groupby("scenario")["split"].agg(lambda s: sorted(set(s)))
    for scenario, splits in sides.items():
        if len(splits) > 1:
            first = frame.loc[frame["scenario"] == scenario, "id"].iat[0]
            problems.append(Problem("leakage", first, f"scenario {scenario!r} is in both splits"))
    pairs = near_duplicate_pairs(frame["text"].tolist())
    split = frame["split"].to_numpy()
    cross = [(i, j, s) for i, j, s in pairs if split[i] != split[j]]
    n_train = int((split == "train").sum())
    cross_total = n_train * (len(split) - n_train)
    rate = len(cross) / cross_total if cross_total else 0.0
    report.near_duplicates = {
        "pairs_total": len(pairs),
        "pairs_across_split": len(cross),
        "rate_across_split": rate,
        "threshold_jaccard": NEAR_DUPLICATE_JACCARD,
    }
    for i, j, s in cross:
        problems.append(
            Problem(
                "near-duplicate",
                frame["id"].iat[j],
                f"Jaccard {s:.2f} with {frame['id'].iat[i]} across the train/test split",
            )
        )


def _counts(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, dict[str, int]]:
    return {c: {str(k): int(v) for k, v in frame[c].value_counts().sort_index().items()} for c in columns}


def validate_corpus(frame: pd.DataFrame) -> ValidationReport:
    """Every check on the labelled corpus; each problem names the row id."""
    report = ValidationReport()
    _check_rows(frame, CORPUS_COLUMNS, report.problems)
    if report.problems and report.problems[0].check == "schema":
        return report
    _check_duplicates(frame, report.problems)
    _check_split(frame, report.problems, report)
    report.counts = _counts(frame, ["label", "channel", "split", "source", "hard"])
    return report


def validate_challenge(challenge: pd.DataFrame, corpus: pd.DataFrame) -> ValidationReport:
    """The challenge set's rows, and that none of it (or a near-copy) sits in the corpus."""
    report = ValidationReport()
    _check_rows(challenge, CHALLENGE_COLUMNS, report.problems)
    if report.problems and report.problems[0].check == "schema":
        return report
    _check_duplicates(challenge, report.problems)
    texts = corpus["text"].tolist() + challenge["text"].tolist()
    n = len(corpus)
    for i, j, s in near_duplicate_pairs(texts):
        if i < n <= j:
            report.problems.append(
                Problem(
                    "challenge-leak",
                    challenge["id"].iat[j - n],
                    f"Jaccard {s:.2f} with corpus row {corpus['id'].iat[i]}",
                )
            )
    report.counts = _counts(challenge, ["label", "edge", "channel"])
    return report


def train_test_frames(corpus: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training rows and the held-out rows (whole scenarios never seen in training)."""
    return corpus[corpus["split"] == "train"].reset_index(drop=True), corpus[corpus["split"] == "test"].reset_index(
        drop=True
    )


def corpus_fingerprint(*frames: pd.DataFrame) -> str:
    """sha256 over the rows that matter for training, so a manifest names exactly the data it saw."""
    digest = hashlib.sha256()
    for frame in frames:
        for row in frame[["id", "text", "label"]].itertuples(index=False):
            digest.update(json.dumps(list(row), ensure_ascii=False).encode())
    return digest.hexdigest()


def corpus_csv(frame: pd.DataFrame, columns: Sequence[str] = CORPUS_COLUMNS) -> str:
    """A corpus as CSV text, columns in their documented order: the one format the files are written in."""
    return str(frame.loc[:, list(columns)].to_csv(index=False, lineterminator="\n"))


def write_corpus(frame: pd.DataFrame, path: Path, columns: Sequence[str]) -> None:
    """Write a corpus CSV atomically (temp file, then rename)."""
    write_atomic(path, corpus_csv(frame, columns))


def today() -> str:
    return date.today().isoformat()


EXAMPLE_COLUMNS: tuple[str, ...] = ("text", "label")  # required in a file of new examples
EXAMPLE_OPTIONAL: tuple[str, ...] = ("channel", "id", "note")


def read_examples(path: Path) -> pd.DataFrame:
    """New labelled examples from CSV or JSON Lines (``text``, ``label``, optional ``channel``, ``id``, ``note``).

    Each row keeps where it came from (``row``: "file.csv: row 3") and its provenance (``source``).
    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows, where = [], []
        for line in read_json_lines(path):
            if line.error is not None:
                raise ValueError(f"{path}: line {line.number}: {line.error}")
            if not isinstance(line.value, dict):
                raise ValueError(f"{path}: line {line.number}: expected a JSON object")
            rows.append(line.value)
            where.append(f"{path.name}: line {line.number}")
        frame = pd.DataFrame(rows)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        where = [f"{path.name}: row {i}" for i in range(1, len(frame) + 1)]  # data rows, header not counted
    missing = [c for c in EXAMPLE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected text, label")
    for column in EXAMPLE_OPTIONAL:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame.fillna("").astype(str)
    frame["row"] = where
    frame["source"] = f"file:{path.name}"
    return frame


def merge_examples(corpus: pd.DataFrame, accepted: pd.DataFrame, replaced_ids: Sequence[str]) -> pd.DataFrame:
    """The corpus with ``accepted`` examples appended (training split, with provenance), replaced rows removed."""
    rows = pd.DataFrame(
        {
            "id": [stable_id(t, "fb") for t in accepted["text"]],
            "text": accepted["text"].str.strip(),
            "label": accepted["label"],
            "channel": [c or "email" for c in accepted["channel"]],
            "scenario": [f"feedback-{s.replace(':', '-')}" for s in accepted["source"]],
            "hard": "false",
            "sender_role": "",
            "source": accepted["source"].tolist(),
            "added": today(),
            "split": "train",
        }
    )
    kept = corpus[~corpus["id"].isin(list(replaced_ids))]
    return pd.concat([kept, rows], ignore_index=True)[list(CORPUS_COLUMNS)]


def datasheet_block(name: str) -> tuple[str, str]:
    """The markers around a generated block of the datasheet (``counts``, ``external``)."""
    return (
        f"<!-- {name}:begin (written by `boundaryline validate-data --write-datasheet`) -->",
        f"<!-- {name}:end -->",
    )


DATASHEET_BEGIN, DATASHEET_END = datasheet_block("counts")


def datasheet_counts(corpus: pd.DataFrame, challenge: pd.DataFrame) -> str:
    """The counts tables of the datasheet, generated from the data so the two cannot disagree."""

    def table(frame: pd.DataFrame, column: str, by: str = "label") -> list[str]:
        counts = pd.crosstab(frame[column], frame[by], margins=True, margins_name="total")
        return [counts.rename_axis(index=column, columns=None).to_markdown(), ""]

    hard = corpus.assign(hard=corpus["hard"].map({"true": "near a boundary", "false": "clear"}))
    lines = [f"Corpus: {len(corpus)} messages; challenge set: {len(challenge)} messages.", ""]
    for column in ("split", "channel", "source"):
        lines += table(corpus, column)
    lines += table(hard, "hard")
    lines += ["Challenge set:", "", *table(challenge, "edge")]
    return "\n".join(lines).rstrip() + "\n"


def external_counts(provenance: Mapping[str, Any]) -> str:
    """The datasheet's table of the external real mail: rows by kind, label and split, and the review."""
    rows = pd.DataFrame(provenance["rows_by"])
    table = rows.pivot_table(index=["kind", "label"], columns="split", values="rows", aggfunc="sum", fill_value=0)
    review = provenance["review"]
    files = ", ".join(f"`{path}`" for path in provenance["files"])
    relabelled = ", ".join(f"{n} to {label}" for label, n in review["relabelled"].items()) or "none"
    return (
        f"External real mail: {provenance['rows']} rows from {files}; the review relabelled {relabelled}"
        f" and dropped {review['dropped']}.\n\n"
        + table.reset_index().rename_axis(columns=None).to_markdown(index=False)
        + "\n"
    )


def real_dm_counts(provenance: Mapping[str, Any]) -> str:
    """The datasheet's table of the external real DMs: rows by label and split, the exports, the pool."""
    rows = pd.DataFrame(provenance["rows_by"])
    table = rows.pivot_table(index="label", columns="split", values="rows", aggfunc="sum", fill_value=0)
    exports = provenance["exports"]
    return (
        f"External real DMs: {provenance['rows']} labelled rows ({len(provenance['test_exports'])} of"
        f" {sum(exports.values())} exports in test), {provenance['pool_rows']} unread rows of the training exports"
        f" in the pool; read by the project: {provenance['review']['read']}.\n\n"
        + table.reset_index().rename_axis(columns=None).to_markdown(index=False)
        + "\n"
    )


def write_datasheet_block(path: Path, name: str, content: str) -> None:
    """Replace the generated block ``name`` of the datasheet with ``content``."""
    begin, end = datasheet_block(name)
    text = path.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise ValueError(f"{path}: no generated {name} block ({begin} … {end})")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    write_atomic(path, f"{head}{begin}\n{content}{end}{tail}")
