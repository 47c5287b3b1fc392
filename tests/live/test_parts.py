"""The live path's parts that need no server: the account a URL names (and the URLs refused), the place
file, and the model kept current across promotions."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from boundaryline import cli, registry
from boundaryline.live.imap import Account, MailboxError, Place, PlaceFile, move_or_copy
from boundaryline.live.model import CurrentModel
from boundaryline.settings import Settings
from tests.live.test_watch import new_version


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("imaps://ana@example.com@imap.gmail.com/INBOX", ("imaps", "ana@example.com", "imap.gmail.com", 993, "INBOX")),
        (
            "imaps://ana%40fastmail.com@imap.fastmail.com",
            ("imaps", "ana@fastmail.com", "imap.fastmail.com", 993, "INBOX"),
        ),
        ("imap://sam@127.0.0.1:14300/Work%20mail", ("imap", "sam", "127.0.0.1", 14300, "Work mail")),
        ("imap://sam@[::1]/INBOX", ("imap", "sam", "::1", 143, "INBOX")),
    ],
)
def test_an_imap_url_names_the_account(url: str, expected: tuple[object, ...]) -> None:
    account = Account.parse(url)
    assert (account.scheme, account.user, account.host, account.port, account.folder) == expected
    assert len(account.key) == 16 and account.key == Account.parse(url).key


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("imaps://ana:hunter2-secret@imap.example.com/INBOX", "holds a password"),
        ("https://ana@example.com/INBOX", "starts with imaps://"),
        ("imaps://imap.example.com/INBOX", "no user"),
        ("imaps://ana@imap.example.com:99999/INBOX", "not an IMAP URL"),
        ("imaps://ana:hunter2/INBOX", "not an IMAP URL"),  # no host: the password would read as a port
        ("imaps://ana@imap.example.com/INBOX?x=1", "without ?"),
    ],
)
def test_a_bad_url_is_refused_in_one_sentence_without_the_password(url: str, said: str) -> None:
    with pytest.raises(MailboxError, match=said) as refused:
        Account.parse(url)
    assert "hunter2" not in str(refused.value)


def test_the_place_file_is_private_and_forgets_a_folder_made_anew(tmp_path: Path) -> None:
    account = Account.parse("imaps://ana@example.com@imap.example.com/INBOX")
    places = PlaceFile.load(tmp_path / "watch" / "a.json", account)
    places.set("INBOX", Place(7, 42))
    again = PlaceFile.load(tmp_path / "watch" / "a.json", account)
    assert again.get("INBOX", 7) == Place(7, 42)
    assert again.get("INBOX", 8) is None  # another UIDVALIDITY: its UIDs mean other messages
    assert (tmp_path / "watch" / "a.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((tmp_path / "watch" / "a.json").read_text())["account"] == str(account)


def test_a_damaged_place_file_stops_the_watch_rather_than_guessing(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(MailboxError, match="cannot be read"):
        PlaceFile.load(tmp_path / "a.json", Account.parse("imaps://ana@imap.example.com/INBOX"))


def test_the_model_follows_a_promotion_and_keeps_the_last_good_one(tiny_project: Settings) -> None:
    model = CurrentModel(tiny_project)
    first = model.scorer.version
    assert model.get() == (model.scorer, None)

    second = new_version(tiny_project)
    registry.promote(tiny_project.models_dir, second, reason="test")
    scorer, previous = model.get()
    assert (scorer.version, previous) == (second, first)

    broken = new_version(tiny_project)
    registry.promote(tiny_project.models_dir, broken, reason="test")
    (tiny_project.models_dir / broken / "manifest.json").write_text("{half a manifest")  # after the promotion
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scorer, previous = model.get()
    assert (scorer.version, previous) == (second, None)
    assert model.problem is not None and broken in model.problem


class FakeServer:
    """Records what the watch asks of a server with the given capabilities."""

    def __init__(self, *capabilities: str) -> None:
        self.capabilities = set(capabilities)
        self.calls: list[tuple[object, ...]] = []

    def has_capability(self, name: str) -> bool:
        return name in self.capabilities

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kwargs: self.calls.append((name, *args))


@pytest.mark.parametrize(
    ("capabilities", "done", "calls"),
    [
        (("MOVE",), "moved", [("move", [3, 5], "Flagged")]),
        (
            ("UIDPLUS",),
            "moved",
            [("copy", [3, 5], "Flagged"), ("add_flags", [3, 5], [b"\\Deleted"]), ("uid_expunge", [3, 5])],
        ),
        ((), "copied", [("copy", [3, 5], "Flagged")]),  # never a plain EXPUNGE: it would take others too
    ],
)
def test_a_move_expunges_exactly_the_moved_messages_or_nothing(
    capabilities: tuple[str, ...], done: str, calls: list[tuple[object, ...]]
) -> None:
    server = FakeServer(*capabilities)
    assert move_or_copy(server, [3, 5], "Flagged", move=True) == done
    assert server.calls == calls
    copier = FakeServer("MOVE", "UIDPLUS")
    assert move_or_copy(copier, [3, 5], "Flagged", move=False) == "copied"
    assert copier.calls == [("copy", [3, 5], "Flagged")]


def test_a_password_in_the_url_is_refused_and_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["watch", "--once", "imaps://ana:s3cret-pw-99@imap.example.com/INBOX"]) == 2
    captured = capsys.readouterr()
    assert "holds a password" in captured.err and "s3cret-pw-99" not in captured.out + captured.err
