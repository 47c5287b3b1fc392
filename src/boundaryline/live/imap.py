"""The IMAP side of ``boundaryline watch``: the account a URL names, a connection over TLS, the folders and
keywords the watch uses, messages fetched without marking them read, and the place kept between runs.

What the watch may do to a mailbox, and nothing else: add its keywords (``$BoundarylineScored``,
``$Pestering``, ``$Proposition``), copy or (when asked) move a flagged message, create its own folders. It
never changes a message's content or its ``\\Seen`` flag (``BODY.PEEK[]``, and the correction folders are
opened read-only), and never expunges anything but a message it was asked to move, by UID.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.imapclient import SENT

from boundaryline.files import write_atomic

log = logging.getLogger("boundaryline.live")
# imapclient logs the protocol itself at DEBUG, fetched messages included: never let that reach a handler.
logging.getLogger("imapclient").setLevel(logging.INFO)

SCORED = "$BoundarylineScored"  # every message the watch has read, scored or not
KEYWORD_OF_LABEL = {"pestering": "$Pestering", "inappropriate_proposition": "$Proposition"}
CORRECTIONS = "Boundaryline"  # the parent of the folders a correction is made by moving a message into
LABEL_OF_FOLDER = {
    "Not a concern": "professional",
    "Pestering": "pestering",
    "Proposition": "inappropriate_proposition",
}
MAX_FETCH_BYTES = 5_000_000  # a message's first bytes read for scoring (the mail readers' MAX_MAIL_BYTES)
FETCH_CHUNK = 100  # messages per FETCH
PORTS = {"imaps": 993, "imap": 143}
# Everything a lost or refused connection can raise: the socket's, TLS's and the protocol's errors.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError, IMAPClientError, EOFError)


class MailboxError(RuntimeError):
    """A mailbox that cannot be used as asked (bad URL, no TLS, login refused); said in one sentence, never with
    the password."""


class LoginRefused(MailboxError):
    """The server refused the user name and password."""


@dataclass(frozen=True)
class Account:
    """One mailbox: ``imaps://user@host[:port]/FOLDER`` (TLS from the start) or ``imap://…`` (STARTTLS)."""

    scheme: str
    user: str
    host: str
    port: int
    folder: str = "INBOX"

    @classmethod
    def parse(cls, url: str) -> Account:
        """The account a URL names. A URL holding a password is refused without echoing it."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:  # its message may quote the URL, a password included ("imaps://ana:secret/INBOX")
            raise MailboxError("not an IMAP URL; expected imaps://user@host[:port]/INBOX") from None
        if parts.scheme not in PORTS:
            raise MailboxError("an IMAP URL starts with imaps:// (TLS) or imap:// (STARTTLS)")
        userinfo, at, _ = parts.netloc.rpartition("@")
        if ":" in userinfo:
            raise MailboxError(
                "the URL holds a password: give it in BOUNDARYLINE_IMAP_PASSWORD or --password-file, never on the"
                " command line"
            )
        if not at or not userinfo or not parts.hostname:
            raise MailboxError("the URL names no user or no host; expected imaps://user@host[:port]/INBOX")
        if parts.query or parts.fragment:
            raise MailboxError("an IMAP URL here is imaps://user@host[:port]/FOLDER, without ?… or #…")
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        return cls(parts.scheme, unquote(userinfo), parts.hostname, port or PORTS[parts.scheme], folder)

    @property
    def key(self) -> str:
        """A short stable name for the account's place file (a hash: the file name says nothing of the account)."""
        return hashlib.sha256(f"{self.user}\0{self.host}\0{self.port}\0{self.folder}".encode()).hexdigest()[:16]

    @property
    def address(self) -> str | None:
        """The account's address when its user name is one (the owner of the mailbox)."""
        return self.user if "@" in self.user else None

    @property
    def loopback(self) -> bool:
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


def connect(account: Account, password: str, *, insecure: bool = False, timeout: float = 60.0) -> IMAPClient:
    """A logged-in connection. TLS with the certificate checked; ``insecure``: not checked, and plain IMAP
    allowed to this machine only (a local test server). Raises ``MailboxError`` when the login is refused or the
    server offers no TLS; ``CONNECTION_ERRORS`` when it cannot be reached."""
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    tls = account.scheme == "imaps"
    client = IMAPClient(account.host, account.port, ssl=tls, ssl_context=context if tls else None, timeout=timeout)
    try:  # whatever fails after the connection is made, the socket is closed before the error goes up
        if not tls:
            if client.has_capability("STARTTLS"):
                client.starttls(context)
            elif not (insecure and account.loopback):
                raise MailboxError(
                    f"{account.host} offers no STARTTLS: refusing to send the password in the clear (plain IMAP"
                    " is allowed only to this machine, with --insecure)"
                )
        try:
            client.login(account.user, password)
        except IMAPClientError as error:
            # the server's answer, which never holds the password (imapclient also redacts LOGIN from its log)
            raise LoginRefused(f"the login of {account.user} at {account.host} was refused: {error}") from None
    except BaseException:
        client.shutdown()
        raise
    return client


def close(client: IMAPClient) -> None:
    """Log out, or just drop a connection that is gone already."""
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception as error:  # the socket is gone: nothing left to close
            log.debug("closing a dead connection: %s", type(error).__name__)


def folder_name(client: IMAPClient, *parts: str) -> str:
    """A folder of the personal namespace from its path's parts, with the server's prefix and separator
    (``Boundaryline/Pestering`` on Gmail, ``Boundaryline.Pestering`` on Dovecot's Maildir, ``INBOX.…`` on Courier)."""
    prefix, separator = "", "/"
    if client.has_capability("NAMESPACE"):
        personal = client.namespace().personal
        if personal:
            prefix, separator = personal[0][0], personal[0][1] or separator
    else:
        listed = client.list_folders("", "INBOX")
        if listed and listed[0][1]:
            separator = listed[0][1].decode() if isinstance(listed[0][1], bytes) else listed[0][1]
    return prefix + separator.join(parts)


def correction_folders(client: IMAPClient) -> dict[str, str]:
    """The correction folders as this server names them, each with the label a message moved into it has."""
    return {folder_name(client, CORRECTIONS, name): label for name, label in LABEL_OF_FOLDER.items()}


def ensure_folder(client: IMAPClient, folder: str) -> bool:
    """Create and subscribe ``folder`` when it is missing (so that mail programs show it); True when it was."""
    if client.folder_exists(folder):
        return False
    client.create_folder(folder)
    try:
        client.subscribe_folder(folder)
    except IMAPClientError as error:  # not every server keeps subscriptions; the folder is there all the same
        log.info("could not subscribe to %s: %s", folder, type(error).__name__)
    return True


def sent_folder(client: IMAPClient, given: str | None = None) -> str | None:
    """The account's Sent folder: ``given``, else the one the server marks ``\\Sent``, else a usual name."""
    if given:
        return given if client.folder_exists(given) else None
    found = client.find_special_folder(SENT)
    return str(found) if found else None


@dataclass(frozen=True)
class Fetched:
    """One message as fetched: its UID, its first bytes, and whether there was more."""

    uid: int
    raw: bytes
    truncated: bool


def fetch(client: IMAPClient, uids: Sequence[int], *, max_bytes: int = MAX_FETCH_BYTES) -> Iterator[Fetched]:
    """The selected folder's messages ``uids``, in UID order, ``FETCH_CHUNK`` at a time, each read with
    ``BODY.PEEK[]`` (so that it is not marked read) up to ``max_bytes``. A UID gone meanwhile is left out."""
    wanted = sorted(uids)
    for start in range(0, len(wanted), FETCH_CHUNK):
        chunk = wanted[start : start + FETCH_CHUNK]
        answer = client.fetch(chunk, ["RFC822.SIZE", f"BODY.PEEK[]<0.{max_bytes}>"])
        for uid in chunk:
            data = answer.get(uid)
            if data is None:
                continue
            raw = _body(data)
            if raw is None:
                continue
            yield Fetched(uid, raw, int(data.get(b"RFC822.SIZE", len(raw))) > len(raw))


def _body(data: dict[bytes, Any]) -> bytes | None:
    """The message bytes of one FETCH answer (the key is ``BODY[]<0>`` for a partial fetch, ``BODY[]`` on some
    servers)."""
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[") and isinstance(value, bytes):
            return value
    return None


def new_uids(client: IMAPClient, after: int, *, unmarked: bool = True) -> list[int]:
    """The selected folder's UIDs above ``after`` (``unmarked``: without ``$BoundarylineScored``). ``UID n:*``
    always names the last message, even below n: it is filtered out."""
    criteria: list[Any] = ["UID", f"{after + 1}:*"]
    if unmarked:
        criteria += ["NOT", "KEYWORD", SCORED]
    return sorted(uid for uid in client.search(criteria) if uid > after)


def add_keywords(client: IMAPClient, keywords: dict[int, tuple[str, ...]]) -> None:
    """Add each message's keywords (one STORE per distinct set), leaving its other flags as they are."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for uid, words in keywords.items():
        groups.setdefault(words, []).append(uid)
    for words, uids in groups.items():
        client.add_flags(uids, list(words), silent=True)


def keeps_keywords(select_answer: dict[bytes, Any]) -> bool:
    """Whether the server keeps new keywords in the selected folder (``\\*`` in PERMANENTFLAGS, or ours listed)."""
    permanent = {bytes(flag) for flag in select_answer.get(b"PERMANENTFLAGS", ())}
    return b"\\*" in permanent or SCORED.encode() in permanent


def move_or_copy(client: IMAPClient, uids: Sequence[int], folder: str, *, move: bool) -> str:
    """Copy the messages to ``folder``, or move them: MOVE where the server has it, else COPY, ``\\Deleted`` and
    ``UID EXPUNGE`` of exactly these UIDs (UIDPLUS). Without either a move is a copy (a plain EXPUNGE would
    remove every message marked deleted, not only these). Returns what was done: moved or copied."""
    if not uids:
        return "moved" if move else "copied"
    if move and client.has_capability("MOVE"):
        client.move(list(uids), folder)
        return "moved"
    client.copy(list(uids), folder)
    if move and client.has_capability("UIDPLUS"):
        client.add_flags(list(uids), [b"\\Deleted"], silent=True)
        client.uid_expunge(list(uids))
        return "moved"
    return "copied"


# ----- where the watch is: per folder, the UIDVALIDITY and the last UID read


@dataclass(frozen=True)
class Place:
    """How far a folder has been read: UIDs are only comparable under one UIDVALIDITY."""

    uidvalidity: int
    last_uid: int

    def to_dict(self) -> dict[str, int]:
        return {"uidvalidity": self.uidvalidity, "last_uid": self.last_uid}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Place:
        return cls(int(value["uidvalidity"]), int(value["last_uid"]))


@dataclass
class PlaceFile:
    """The account's places, one JSON file (0600, written atomically): the account (never the password) and,
    per folder, its ``Place``."""

    path: Path
    account: str
    places: dict[str, Place] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, account: Account) -> PlaceFile:
        if not path.exists():
            return cls(path, str(account))
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
            places = {name: Place.from_dict(place) for name, place in value["folders"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise MailboxError(
                f"{path}: the watch's place file cannot be read ({type(error).__name__}); remove it to start again"
                " (new messages only, or --backfill N)"
            ) from None
        return cls(path, str(account), places)

    def get(self, folder: str, uidvalidity: int) -> Place | None:
        """The folder's place, unless its UIDVALIDITY changed (the folder was made anew: its UIDs mean others)."""
        place = self.places.get(folder)
        return place if place is not None and place.uidvalidity == uidvalidity else None

    def set(self, folder: str, place: Place) -> None:
        if self.places.get(folder) != place:
            self.places[folder] = place
            self.save()

    def save(self) -> None:
        value = {"account": self.account, "folders": {k: v.to_dict() for k, v in sorted(self.places.items())}}
        write_atomic(self.path, json.dumps(value, indent=2) + "\n", private=True)
