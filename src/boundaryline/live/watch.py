"""``boundaryline watch``: a live mailbox scored as mail arrives.

Each look (a *pass*) reads the corrections made since the last one (messages moved into
``Boundaryline/Not a concern``, ``…/Pestering``, ``…/Proposition``: feedback for the next retrain), the
owner's new sent mail (their replies, for the senders' history), then the watched folder's new messages:
each is scored, given its verdict with the senders' history (``scoring.history.history_verdicts``, as a
scoring run does, over the folder's and Sent's recent messages), marked with keywords, and copied or moved
when flagged. Between passes the watch waits in IDLE (or polls, on a server without it) for at most
``watch_poll_seconds``; before each pass it looks at ``models/current`` and loads a newly promoted model.

Where it is (the UIDVALIDITY and last UID of each folder) is saved after every batch, so a restart neither
scores a message twice nor misses one; a dropped connection is retried with an exponential backoff and the
watch goes on from there. Message text is used in memory only: reports carry UIDs, counts and labels.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from selectors import EVENT_READ, DefaultSelector
from typing import TYPE_CHECKING

from imapclient import IMAPClient
from pydantic import SecretStr

from boundaryline.feedback import FeedbackConflict, FeedbackStore
from boundaryline.inbox import BadRecord, Message, finish_records
from boundaryline.inbox.mail import parse_mail
from boundaryline.inbox.records import Direction
from boundaryline.live.imap import (
    CONNECTION_ERRORS,
    FETCH_CHUNK,
    KEYWORD_OF_LABEL,
    SCORED,
    Account,
    LoginRefused,
    MailboxError,
    Place,
    PlaceFile,
    add_keywords,
    close,
    connect,
    correction_folders,
    ensure_folder,
    fetch,
    keeps_keywords,
    move_or_copy,
    new_uids,
    sent_folder,
)
from boundaryline.live.model import CurrentModel
from boundaryline.owner import OwnerEvidence
from boundaryline.scoring.history import Cues, Kept, history_verdicts, owner_of
from boundaryline.settings import CONCERN_LABELS, Settings

if TYPE_CHECKING:
    from boundaryline.predict import Scorer

log = logging.getLogger("boundaryline.live")
Report = Callable[[str], None]
TICK_SECONDS = 0.5  # how often a wait looks at the stop event


def state_path(settings: Settings, account: Account) -> Path:
    """The account's place file: ``<data>/watch/<account hash>.json`` (or under ``BOUNDARYLINE_WATCH_STATE_DIR``)."""
    return (settings.watch_state_dir or settings.data_dir / "watch") / f"{account.key}.json"


@dataclass(frozen=True)
class WatchOptions:
    move_to: str | None = None  # move flagged messages here (MOVE, or COPY + UID EXPUNGE of exactly them)
    copy_to: str | None = None  # copy flagged messages here
    backfill: int = 0  # on the first look at a folder, score its last N messages (else only what arrives)
    once: bool = False  # one pass, then return
    owner: tuple[str, ...] = ()  # the owner's other addresses (the account's own is always one)
    sent: str | None = None  # the Sent folder (default: the one the server marks, or a usual name)
    insecure: bool = False  # no certificate check; plain IMAP to this machine
    state: Path | None = None  # the place file (default: ``state_path``)
    timeout: float = 60.0  # seconds a server may take to answer


@dataclass
class Tally:
    """What a watch did, in counts."""

    scored: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    moved: int = 0
    copied: int = 0
    unreadable: int = 0
    corrections: int = 0
    reconnects: int = 0
    passes: int = 0

    @property
    def flagged(self) -> int:
        return sum(self.labels[label] for label in CONCERN_LABELS)

    def line(self) -> str:
        labels = ", ".join(f"{self.labels[label]} {label}" for label in CONCERN_LABELS)
        return (
            f"{self.scored} scored ({labels}), {self.moved} moved, {self.copied} copied, {self.unreadable}"
            f" unreadable, {self.corrections} correction(s) read, {self.reconnects} reconnection(s)"
        )


@dataclass
class History:
    """A folder's recent messages as the senders' history needs them: fields without text, and cues."""

    uidvalidity: int
    seen: dict[int, tuple[Message, Cues]] = field(default_factory=dict)

    def trim(self, keep: int) -> None:
        for uid in sorted(self.seen)[: max(0, len(self.seen) - keep)]:
            del self.seen[uid]


class Watcher:
    """One account watched: ``run`` until ``stop`` is set (or one pass with ``once``)."""

    def __init__(
        self,
        account: Account,
        password: SecretStr,
        settings: Settings,
        options: WatchOptions,
        *,
        model: CurrentModel | None = None,
        report: Report | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if options.move_to and options.copy_to:
            raise ValueError("give --move-flagged or --copy-flagged, not both")
        self.account, self.settings, self.options = account, settings, options
        self._password = password
        self.model = model or CurrentModel(settings)
        self.report: Report = report or (lambda line: log.info("%s", line))
        self.stop = stop or threading.Event()
        self.places = PlaceFile.load(options.state or state_path(settings, account), account)
        self.tally = Tally()
        self.history: dict[str, History] = {}
        self._store: FeedbackStore | None = None
        self._said: set[str] = set()
        self._sent_status: tuple[int, int] | None = None

    # ----- the loop: connect, passes and waits, reconnect with a backoff

    def run(self) -> Tally:
        """Watch until ``stop`` is set, or for one pass (``once``). A lost connection is retried after 1, 2, 4 …
        seconds (``watch_backoff_seconds`` up to ``watch_backoff_max_seconds``, from the start again once a pass
        went through); with ``once`` it is an error. A refused login stops the watch, unless it comes after a
        good one (a server restarting may refuse for a moment)."""
        delay = self.settings.watch_backoff_seconds
        logged_in = False
        while not self.stop.is_set():
            self._healthy = False
            try:
                client = connect(
                    self.account,
                    self._password.get_secret_value(),
                    insecure=self.options.insecure,
                    timeout=self.options.timeout,
                )
            except LoginRefused:
                if not logged_in:
                    raise
                why = "login refused"
            except ssl.SSLCertVerificationError as error:
                if not logged_in:  # not a passing fault: say so at once rather than retry for ever
                    raise MailboxError(
                        f"the certificate of {self.account.host} could not be verified ({error.verify_message});"
                        " --insecure skips the check (for a local test server only)"
                    ) from None
                why = type(error).__name__
            except CONNECTION_ERRORS as error:
                why = type(error).__name__
            else:
                logged_in = True
                try:
                    self._session(client)
                    return self.tally
                except CONNECTION_ERRORS as error:
                    why = type(error).__name__
                finally:
                    close(client)
            if self.options.once:
                raise MailboxError(f"{self.account.host}:{self.account.port} could not be read ({why})")
            if self._healthy:
                delay = self.settings.watch_backoff_seconds
            self.tally.reconnects += 1
            self.report(f"connection to {self.account.host} lost or refused ({why}); retrying in {delay:g} s")
            self.stop.wait(delay)
            delay = min(delay * 2, self.settings.watch_backoff_max_seconds)
        return self.tally

    _healthy = False  # a pass went through on the current connection

    def _session(self, client: IMAPClient) -> None:
        """Passes and waits on one connection until ``once`` or ``stop``."""
        self._prepare(client)
        while True:
            self._pass(client)
            self._healthy = True
            if self.options.once or self.stop.is_set():
                return
            self._wait(client)
            if self.stop.is_set():
                return

    def _prepare(self, client: IMAPClient) -> None:
        """The folders the watch uses, created when missing; the Sent folder found."""
        self.corrections = correction_folders(client)
        target = self.options.move_to or self.options.copy_to
        for folder in [*self.corrections, *([target] if target else [])]:
            if ensure_folder(client, folder):
                self.report(f"created the folder {folder}")
        self.sent = sent_folder(client, self.options.sent)
        if self.sent is None:
            self._say_once(
                "no Sent folder found (--sent-folder NAME names it): the senders' history has none of your replies"
            )
        self._sent_status = None
        self._loaded: set[tuple[str, int]] = set()

    def _wait(self, client: IMAPClient) -> None:
        """Until the server tells of a change (IDLE), ``watch_poll_seconds`` pass, or ``stop`` is set."""
        deadline = time.monotonic() + self.settings.watch_poll_seconds
        if not client.has_capability("IDLE"):
            while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
                self.stop.wait(min(left, TICK_SECONDS))
            client.noop()
            return
        client.idle()
        with DefaultSelector() as selector:
            selector.register(client.socket(), EVENT_READ)
            while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
                if selector.select(min(left, TICK_SECONDS)):
                    if not client.idle_check(timeout=0):  # readable, yet nothing to read: the server hung up
                        raise ConnectionResetError("the server closed the connection")
                    break
        client.idle_done()

    # ----- one pass

    def _pass(self, client: IMAPClient) -> None:
        self.tally.passes += 1
        scorer, previous = self.model.get()
        if previous is not None:
            self.report(f"model {previous} -> {scorer.version} (promoted)")
        self._read_corrections(client)
        self._read_sent(client)
        self._score_new(client, scorer)

    def _read_corrections(self, client: IMAPClient) -> None:
        """Messages moved into a correction folder since the last look: each stored in the feedback store (its
        text as scoring reads it, with its Message-ID), once."""
        for folder, label in self.corrections.items():
            status = client.folder_status(folder, ["UIDNEXT", "UIDVALIDITY"])
            uidvalidity, uidnext = int(status[b"UIDVALIDITY"]), int(status[b"UIDNEXT"])
            place = self.places.get(folder, uidvalidity) or Place(uidvalidity, 0)
            if uidnext - 1 <= place.last_uid:
                continue
            client.select_folder(folder, readonly=True)
            uids = new_uids(client, place.last_uid, unmarked=False)
            stored = 0
            for message in self._messages(client, folder, uids):
                if message is None:
                    continue
                item_id = "imap-" + hashlib.sha256(f"{message.id}\0{label}".encode()).hexdigest()[:24]
                try:
                    _, created = self.store.add(
                        message.text,
                        label,
                        id=item_id,
                        message_id=message.id,
                        channel="email",
                        note=f"moved into {folder} (boundaryline watch)",
                    )
                except FeedbackConflict:
                    created = False
                stored += created
            self.tally.corrections += stored
            self.places.set(folder, Place(uidvalidity, max(uids, default=place.last_uid)))
            if stored:
                self.report(f"{folder}: {stored} correction(s) to {label} stored for the next retrain")

    @property
    def store(self) -> FeedbackStore:
        if self._store is None:
            self._store = FeedbackStore(self.settings.feedback_path)
        return self._store

    def _read_sent(self, client: IMAPClient) -> None:
        """The owner's recent sent mail, for the history (fetched again only when the folder changed)."""
        if self.sent is None or not self.settings.watch_history:
            return
        status = client.folder_status(self.sent, ["UIDNEXT", "UIDVALIDITY"])
        now = (int(status[b"UIDVALIDITY"]), int(status[b"UIDNEXT"]))
        if now == self._sent_status:
            return
        client.select_folder(self.sent, readonly=True)
        self._remember(client, self.sent, now[0], client.search("ALL"), "outgoing")
        self._sent_status = now

    def _score_new(self, client: IMAPClient, scorer: Scorer) -> None:
        folder = self.account.folder
        answer = client.select_folder(folder)
        uidvalidity = int(answer[b"UIDVALIDITY"])
        keywords = keeps_keywords(answer)
        if not keywords:
            self._say_once(f"{folder} does not keep new keywords: messages are scored but cannot be marked")
        place = self.places.get(folder, uidvalidity)
        if place is None:
            place = self._first_look(client, folder, uidvalidity, int(answer.get(b"UIDNEXT", 1)))
        if (folder, uidvalidity) not in self._loaded and self.settings.watch_history:
            earlier = [uid for uid in client.search("ALL") if uid <= place.last_uid]
            self._remember(client, folder, uidvalidity, earlier, None)
            target = self.options.move_to  # flagged mail moved away earlier is still its senders' history
            if target and target != folder:
                target_validity = int(client.folder_status(target, ["UIDVALIDITY"])[b"UIDVALIDITY"])
                client.select_folder(target, readonly=True)
                self._remember(client, target, target_validity, client.search("ALL"), None)
                client.select_folder(folder)
            self._loaded.add((folder, uidvalidity))
        above = new_uids(client, place.last_uid, unmarked=False)
        todo = set(new_uids(client, place.last_uid)) if above else set()
        for start in range(0, len(above), FETCH_CHUNK):
            chunk = above[start : start + FETCH_CHUNK]
            self._score_chunk(client, folder, uidvalidity, [uid for uid in chunk if uid in todo], scorer, keywords)
            self.places.set(folder, Place(uidvalidity, chunk[-1]))

    def _first_look(self, client: IMAPClient, folder: str, uidvalidity: int, uidnext: int) -> Place:
        """Where a folder seen for the first time (or made anew) starts: after its last message, or before its
        last ``backfill`` ones. Saved at once, so that what arrives before the next look is not missed."""
        uids = sorted(client.search("ALL"))
        backfill = self.options.backfill
        if backfill:
            start = uids[-backfill - 1] if len(uids) > backfill else 0
        else:
            start = max(uids[-1] if uids else 0, uidnext - 1)
        place = Place(uidvalidity, start)
        self.places.set(folder, place)
        waiting = sum(uid > start for uid in uids)
        self.report(f"first look at {folder}: {len(uids)} message(s) there; {waiting} to score (--backfill {backfill})")
        return place

    def _score_chunk(
        self, client: IMAPClient, folder: str, uidvalidity: int, uids: Sequence[int], scorer: Scorer, marks: bool
    ) -> None:
        """Score, judge with the history, mark, move or copy one batch of new messages."""
        if not uids:
            return
        read: list[tuple[int, Message]] = []
        keywords: dict[int, tuple[str, ...]] = {}
        for uid, message in zip(uids, self._messages(client, folder, uids, keep_none=True), strict=False):
            keywords[uid] = (SCORED,)
            if message is None:
                self.tally.unreadable += 1
            else:
                read.append((uid, message))
        scores = scorer.score([message.text for _, message in read])
        new: list[Kept] = [
            (replace(message, text=""), score.label, Cues.of(message.text))
            for (_, message), score in zip(read, scores, strict=True)
        ]
        ids = {message.id for message, _, _ in new}
        earlier: list[Kept] = []
        for history in self.history.values():
            for message, cues in history.seen.values():
                if message.id not in ids:  # one message in two folders (moved, or a Gmail label) counts once
                    ids.add(message.id)
                    earlier.append((message, "professional", cues))  # an earlier message's own label is not used
        names = [name for name in (self.account.address, *self.options.owner) if name]
        owner = owner_of(OwnerEvidence.of(m for m, _, _ in [*earlier, *new]), names, self.settings)
        verdicts, _ = history_verdicts([*earlier, *new], owner, self.settings)
        flagged: list[int] = []
        for (uid, _), verdict in zip(read, verdicts[len(earlier) :], strict=True):
            self.tally.scored += 1
            if verdict.reply:
                continue
            self.tally.labels[verdict.label] += 1
            if verdict.label in KEYWORD_OF_LABEL:
                keywords[uid] += (KEYWORD_OF_LABEL[verdict.label],)
            if verdict.flagged:
                flagged.append(uid)
        if marks:
            add_keywords(client, keywords)
        target = self.options.move_to or self.options.copy_to
        done = ""
        if target and flagged:
            done = move_or_copy(client, flagged, target, move=bool(self.options.move_to))
            if done == "copied" and self.options.move_to:
                self._say_once("the server has neither MOVE nor UIDPLUS: flagged messages are copied, not moved")
            self.tally.moved += len(flagged) if done == "moved" else 0
            self.tally.copied += len(flagged) if done == "copied" else 0
        history = self._history(folder, uidvalidity)
        for (uid, _), (message, _, cues) in zip(read, new, strict=True):
            history.seen[uid] = (message, cues)
        history.trim(self.settings.watch_history)
        counts = Counter(verdict.label for verdict in verdicts[len(earlier) :] if not verdict.reply)
        labels = ", ".join(f"{counts[label]} {label}" for label in CONCERN_LABELS)
        moved = f"; {len(flagged)} {done} to {target}" if done else ""
        self.report(
            f"{folder}: UIDs {uids[0]}-{uids[-1]}: {len(read)} scored ({labels}){moved}; model {scorer.version}"
        )

    # ----- messages and history

    def _messages(
        self, client: IMAPClient, folder: str, uids: Sequence[int], *, keep_none: bool = False
    ) -> list[Message | None]:
        """The selected folder's messages ``uids`` read as scoring reads mail (text cut to ``max_text_chars``);
        None for one that cannot be read (and, with ``keep_none``, for one gone meanwhile: one per UID)."""
        found: dict[int, Message | None] = {}
        for fetched in fetch(client, uids):
            record = parse_mail(fetched.raw, f"imap:{folder}", f"uid {fetched.uid}", truncated=fetched.truncated)
            if isinstance(record, BadRecord):
                found[fetched.uid] = None
                continue
            (finished,) = finish_records(iter([record]), self.settings.max_text_chars, "email")
            found[fetched.uid] = finished if isinstance(finished, Message) else None
        if keep_none:
            return [found.get(uid) for uid in uids]
        return [found[uid] for uid in uids if uid in found]

    def _history(self, folder: str, uidvalidity: int) -> History:
        history = self.history.get(folder)
        if history is None or history.uidvalidity != uidvalidity:
            history = self.history[folder] = History(uidvalidity)
        return history

    def _remember(
        self, client: IMAPClient, folder: str, uidvalidity: int, uids: Sequence[int], direction: Direction | None
    ) -> None:
        """Hold the last ``watch_history`` of the selected folder's ``uids`` as history, fetching those not held."""
        history = self._history(folder, uidvalidity)
        keep = sorted(uids)[-self.settings.watch_history :] if self.settings.watch_history else []
        missing = [uid for uid in keep if uid not in history.seen]
        for uid, message in zip(missing, self._messages(client, folder, missing, keep_none=True), strict=True):
            if message is not None:
                marked = replace(message, direction=direction) if direction else message
                history.seen[uid] = (replace(marked, text=""), Cues.of(message.text))
        history.trim(self.settings.watch_history)

    def _say_once(self, line: str) -> None:
        if line not in self._said:
            self._said.add(line)
            self.report(line)


def watch(
    account: Account,
    password: SecretStr,
    settings: Settings,
    options: WatchOptions,
    *,
    report: Report | None = None,
    stop: threading.Event | None = None,
    model: CurrentModel | None = None,
) -> Tally:
    """Watch ``account`` (``Watcher.run``): the entry the CLI calls."""
    return Watcher(account, password, settings, options, model=model, report=report, stop=stop).run()
