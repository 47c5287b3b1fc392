"""Third-party data: real messages from public sources, read from ``data/external/`` and never committed.

Real direct messages: ``make train`` links ``../shared/real-dm`` (LinkedIn messages of real people, from
public data exports, read and labelled one by one) into ``data/external/real-dm``. They are split by *export*
(a whole person's inbox on one side), so the real-DM test split holds people and voices the model never saw.
The unlabelled messages of the training exports join as a low-weight "mostly professional" signal; the
project's reading of some of them lives in ``data/real_dm_review.csv`` (ids, labels, reasons; never text).

``make train`` links ``../shared/real-mail`` (messages written by real people: Enron inbox mail, public
mailing lists, dating-app pick-up lines) into the git-ignored ``data/external/real-mail``. Its labels were
suggested by source; the project's review of them lives in ``data/real_mail_review.csv`` (ids and
decisions only, never text). Rows are split by *source group* (a whole mailbox, a whole list, a block of
a pick-up-line file), so the real-mail test split holds senders and lists the model never saw.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from boundaryline.data import CORPUS_COLUMNS, LABELS, near_duplicate_pairs, text_key
from boundaryline.files import sha256_file
from boundaryline.inbox import Message
from boundaryline.inbox.cleanup import plain_text
from boundaryline.inbox.mail import read_maildir
from boundaryline.settings import Settings

REAL_MAIL_FILE = "messages.csv"
REAL_MAIL_COLUMNS = ("id", "text", "suggested_label", "source", "kind")
REVIEW_COLUMNS = ("id", "decision", "label", "reason")
CHANNEL_OF_KIND = {"enron": "email", "mailing-list": "email", "pickup-line": "chat"}
TEST_SHARE, MAX_TEST_SHARE = 0.20, 0.35  # of each kind's rows, in whole groups
PICKUP_BLOCK = 25  # neighbouring lines of a scraped list share a theme: they stay together


@dataclass
class RealMail:
    """The reviewed real messages in corpus columns (plus ``kind``), and where they came from."""

    frame: pd.DataFrame
    files: dict[str, str]  # path relative to the project root -> sha256
    review: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> pd.DataFrame:
        return self.frame[self.frame["split"] == name].reset_index(drop=True)

    def provenance(self) -> dict[str, Any]:
        """What the manifest and the datasheet record: files, hashes, rows by kind/label/split, the review."""
        counts = self.frame.groupby(["kind", "label", "split"]).size()
        return {
            "files": self.files,
            "rows": len(self.frame),
            "rows_by": [{"kind": k, "label": lbl, "split": s, "rows": int(n)} for (k, lbl, s), n in counts.items()],
            "review": self.review,
        }


def link_real_mail(settings: Settings) -> Path | None:
    """``data/external/real-mail``, linked to the shared folder when that exists; None when neither does."""
    return _link(settings.real_mail_dir, settings.real_mail_source, REAL_MAIL_FILE)


def _link(target: Path, source: Path, required: str) -> Path | None:
    """``target``, linked to ``source`` when ``target`` lacks ``required`` and ``source`` has it; else None."""
    if (target / required).is_file():
        return target
    if not (source / required).is_file():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()  # a dangling link from an earlier checkout location
    target.symlink_to(os.path.relpath(source.resolve(), target.parent.resolve()), target_is_directory=True)
    return target


def source_group(source: str, kind: str) -> str:
    """The unit of the split: a mailbox, a mailing list, or a block of neighbouring pick-up lines."""
    if kind == "enron":
        match = re.search(r"maildir/([^/]+)/", source)
        return f"enron:{match.group(1) if match else source}"
    if kind == "mailing-list":
        return "list:" + source.split(":m@", 1)[0]
    file, _, position = source.partition("#")
    number = int(re.sub(r"\D", "", position) or 0)
    return f"pickup:{file}:{number // PICKUP_BLOCK}"


def _stable_hash(value: str) -> int:
    return int(hashlib.sha256(value.encode()).hexdigest()[:12], 16)


def split_groups(frame: pd.DataFrame) -> dict[str, str]:
    """Each group's side, chosen per kind: groups in a stable hash order go to ``test`` until about 20% of the
    kind's rows are there, skipping a group that would push it past 35% (a list can be half its kind)."""
    sides = {}
    for _, rows in frame.groupby("kind"):
        sizes = rows.groupby("group").size()
        total, taken = len(rows), 0
        for group in sorted(sizes.index, key=_stable_hash):
            if taken < TEST_SHARE * total and taken + sizes[group] <= MAX_TEST_SHARE * total:
                sides[group], taken = "test", taken + int(sizes[group])
            else:
                sides[group] = "train"
    return sides


def _review_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A review file (ids and decisions, never text) with ``columns``; an empty one when there is none."""
    if not path.exists():
        return pd.DataFrame(columns=columns)
    review = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in review.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    return review


def read_review(path: Path) -> pd.DataFrame:
    """The project's decisions on suggested labels (``relabel`` to another label, or ``drop``), by id."""
    review = _review_table(path, REVIEW_COLUMNS)
    for line, row in enumerate(review.itertuples(index=False), start=2):
        if row.decision not in ("relabel", "drop"):
            raise ValueError(f"{path}: line {line}: decision must be relabel or drop, got {row.decision!r}")
        if row.decision == "relabel" and row.label not in LABELS:
            raise ValueError(f"{path}: line {line}: unknown label {row.label!r}")
    return review


def load_real_mail(settings: Settings) -> RealMail | None:
    """The reviewed, split real messages, or None when ``data/external/real-mail`` is not there."""
    folder = link_real_mail(settings)
    if folder is None:
        return None
    path = folder / REAL_MAIL_FILE
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in REAL_MAIL_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    unknown = sorted(set(raw["kind"]) - set(CHANNEL_OF_KIND))
    if unknown:
        raise ValueError(f"{path}: unknown kind(s) {', '.join(unknown)}")
    review = read_review(settings.real_mail_review_path)
    decisions = review.set_index("id")
    dropped = raw["id"].isin(decisions.index[decisions["decision"] == "drop"])
    frame = raw[~dropped].copy()
    frame["text"] = frame["text"].map(plain_text).str.strip()  # as the CSV reader would give it
    frame = frame[frame["text"].astype(bool)]
    relabel = decisions.loc[decisions["decision"] == "relabel", "label"]
    frame["label"] = frame["id"].map(relabel).fillna(frame["suggested_label"])
    frame["group"] = [source_group(s, k) for s, k in zip(frame["source"], frame["kind"], strict=True)]
    frame["split"] = frame["group"].map(split_groups(frame))
    frame = frame.assign(
        channel=frame["kind"].map(CHANNEL_OF_KIND),
        scenario=frame["group"],
        hard="false",
        sender_role="",
        added="",
        source="real-mail:" + frame["kind"],
    )
    frame = _drop_train_copies_of_test(frame.reset_index(drop=True))
    files = {path.relative_to(settings.root).as_posix(): sha256_file(path)}
    if settings.real_mail_review_path.exists():
        files[settings.real_mail_review_path.relative_to(settings.root).as_posix()] = sha256_file(
            settings.real_mail_review_path
        )
    summary = {
        "relabelled": review.loc[review["decision"] == "relabel", "label"].value_counts().to_dict(),
        "dropped": int(dropped.sum()),
        "dropped_by_reason": review.loc[review["decision"] == "drop", "reason"].value_counts().head(20).to_dict(),
    }
    return RealMail(frame[[*CORPUS_COLUMNS, "kind"]], files, summary)


def _drop_train_copies_of_test(frame: pd.DataFrame) -> pd.DataFrame:
    """Mail forwarded to several mailboxes appears on both sides of a group split: the training copy goes."""
    split = frame["split"].to_numpy()
    drop = {
        i if split[i] == "train" else j
        for i, j, _ in near_duplicate_pairs(frame["text"].tolist())
        if split[i] != split[j]
    }
    return frame.drop(index=sorted(drop)).reset_index(drop=True)


def read_real_maildir(settings: Settings) -> pd.DataFrame | None:
    """The raw real Maildir (mailing-list mail, all ``professional``) as the mail reader gives it: a frozen set
    that judges the readers and the model together. Records the reader skips are not in it."""
    folder = settings.real_mail_dir / "maildir"
    if not folder.is_dir():
        return None
    messages = [m for m in read_maildir(folder) if isinstance(m, Message)]
    return pd.DataFrame(
        {
            "id": [m.id for m in messages],
            "text": [m.text for m in messages],
            "label": "professional",
            "channel": "email",
            "kind": "maildir",
        }
    )


REAL_DM_FILE = "messages.csv"
REAL_DM_POOL_FILE = "unlabelled.csv.gz"
REAL_DM_COLUMNS = ("id", "text", "label", "hard", "direction", "conversation", "repo")
REAL_DM_REVIEW_COLUMNS = ("id", "label", "hard", "reason")


@dataclass
class RealDMs:
    """Labelled real direct messages (corpus columns plus ``kind`` and ``export``), split by export; the
    unlabelled pool of the training exports (``pool``, labelled ``professional`` by assumption); provenance."""

    frame: pd.DataFrame
    pool: pd.DataFrame
    files: dict[str, str]
    review: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> pd.DataFrame:
        return self.frame[self.frame["split"] == name].reset_index(drop=True)

    def provenance(self) -> dict[str, Any]:
        counts = self.frame.groupby(["label", "split"]).size()
        exports = self.frame.groupby("split")["export"].nunique()
        return {
            "files": self.files,
            "rows": len(self.frame),
            "rows_by": [{"label": lbl, "split": s, "rows": int(n)} for (lbl, s), n in counts.items()],
            "exports": {str(k): int(v) for k, v in exports.items()},
            "test_exports": sorted(self.frame.loc[self.frame["split"] == "test", "export"].unique()),
            "pool_rows": len(self.pool),
            "review": self.review,
        }


def read_dm_review(path: Path) -> pd.DataFrame:
    """The project's reading of unlabelled real DMs: a label (or ``unsure``) per id."""
    review = _review_table(path, REAL_DM_REVIEW_COLUMNS)
    for line, row in enumerate(review.itertuples(index=False), start=2):
        if row.label not in (*LABELS, "unsure"):
            raise ValueError(f"{path}: line {line}: unknown label {row.label!r}")
    return review


def _dm_rows(raw: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Real DMs in corpus columns (their "[email]" masks are read as addresses by the normalisation);
    ``unsure`` rows left out."""
    raw = raw[raw["label"].isin(LABELS)]
    return pd.DataFrame(
        {
            "id": raw["id"],
            "text": raw["text"].str.strip(),
            "label": raw["label"],
            "channel": "linkedin_dm",
            "scenario": "dm:" + raw["repo"],
            "hard": raw["hard"].map({"yes": "true"}).fillna("false"),
            "sender_role": "",
            "source": f"real-dm:{kind}",
            "added": "",
            "kind": kind,
            "export": raw["repo"],
        }
    ).query("text != ''")


def load_real_dms(settings: Settings) -> RealDMs | None:
    """The labelled real DMs split by export, and the training exports' unlabelled pool; None when
    ``data/external/real-dm`` is not there."""
    folder = _link(settings.real_dm_dir, settings.real_dm_source, REAL_DM_FILE)
    if folder is None:
        return None
    path, pool_path = folder / REAL_DM_FILE, folder / REAL_DM_POOL_FILE
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in REAL_DM_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    unlabelled = (
        pd.read_csv(pool_path, dtype=str, keep_default_na=False, encoding="utf-8")
        if pool_path.is_file()
        else pd.DataFrame(columns=["id", "text", "repo"])
    )
    review = read_dm_review(settings.real_dm_review_path)
    unknown = sorted(set(review["id"]) - set(unlabelled["id"]))
    if unknown:
        raise ValueError(f"{settings.real_dm_review_path}: {len(unknown)} id(s) not in {pool_path}: {unknown[:5]}")
    read = unlabelled.merge(review[["id", "label", "hard"]], on="id")
    labelled = pd.concat([_dm_rows(raw, "labelled"), _dm_rows(read, "reviewed")], ignore_index=True)
    sides = split_groups(labelled.assign(kind="dm", group=labelled["export"]))  # whole exports, as for mail
    labelled["split"] = labelled["export"].map(sides)
    # The pool: unread messages of the training exports only (the test exports stay unseen), no copy of a
    # labelled text.
    keys = set(labelled["text"].map(text_key))
    pool = unlabelled[~unlabelled["id"].isin(review["id"]) & (unlabelled["repo"].map(sides) == "train")]
    pool = _dm_rows(pool.assign(label="professional", hard="no"), "pool")
    pool = pool[~pool["text"].map(text_key).isin(keys)].drop_duplicates("text").assign(split="train")
    files = {p.relative_to(settings.root).as_posix(): sha256_file(p) for p in (path, pool_path) if p.is_file()}
    if settings.real_dm_review_path.exists():
        files[settings.real_dm_review_path.relative_to(settings.root).as_posix()] = sha256_file(
            settings.real_dm_review_path
        )
    summary = {"read": len(review), "labels": review["label"].value_counts().to_dict()}
    columns = [*CORPUS_COLUMNS, "kind", "export"]
    return RealDMs(labelled[columns].reset_index(drop=True), pool[columns].reset_index(drop=True), files, summary)


def load_real_dm_conversations(settings: Settings) -> pd.DataFrame | None:
    """Every real DM (labelled, read by the project, and unread) in its conversation, oldest first: ``id, text,
    direction (sent/received/unknown), when, conversation, export, label ('' when unread), split`` (the
    export's side in ``load_real_dms``). What the sender history is judged on: real runs and replies. None
    when ``data/external/real-dm`` is not there."""
    dms = load_real_dms(settings)
    if dms is None:
        return None
    folder = settings.real_dm_dir
    columns = ["id", "text", "direction", "date", "conversation", "repo"]
    labelled = pd.read_csv(folder / REAL_DM_FILE, dtype=str, keep_default_na=False, encoding="utf-8")
    parts = [labelled[[*columns, "label"]]]
    if (folder / REAL_DM_POOL_FILE).is_file():
        unread = pd.read_csv(folder / REAL_DM_POOL_FILE, dtype=str, keep_default_na=False, encoding="utf-8")
        review = read_dm_review(settings.real_dm_review_path)
        unread = unread[columns].merge(review[["id", "label"]], on="id", how="left").fillna({"label": ""})
        parts.append(unread)
    frame = pd.concat(parts, ignore_index=True).rename(columns={"repo": "export"})
    frame["label"] = frame["label"].where(frame["label"].isin(LABELS), "")
    frame["when"] = pd.to_datetime(frame.pop("date"), utc=True, format="mixed", errors="coerce")
    sides = dict(zip(dms.frame["export"], dms.frame["split"], strict=False))
    frame["split"] = frame["export"].map(sides).fillna("train")
    return frame.sort_values(["export", "conversation", "when"], kind="stable").reset_index(drop=True)
