"""Whose inbox it is (issue 20): decided per export shape, said in the summary, never guessed; and the sender
ranking built from the same turns as the rows."""

import csv
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from boundaryline.inbox import Message, read_inbox
from boundaryline.owner import OwnerEvidence, decide_owner
from boundaryline.predict import Scorer
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.scoring.output import BatchSummary
from boundaryline.settings import Settings

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
SHARED_MAILDIR = Path(__file__).parents[2].parent / "shared" / "real-mail" / "maildir"


def score(
    path: Path, settings: Settings, scorer: Scorer, tmp_path: Path, **options: Any
) -> tuple[BatchSummary, list[dict[str, Any]]]:
    out = tmp_path / "out" / "results.jsonl"
    summary = score_inbox(path, settings=settings, options=ScoreOptions(**options), scorer=scorer,
                          out=out)  # fmt: skip
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return summary, rows


def longest_run_by_sender(rows: list[dict[str, Any]]) -> dict[str, int]:
    longest: dict[str, int] = defaultdict(int)
    for row in rows:
        if row["direction"] != "outgoing":
            longest[row["sender"].lower()] = max(longest[row["sender"].lower()], row.get("unanswered") or 0)
    return dict(longest)


def assert_ranking_is_the_rows(summary: BatchSummary, rows: list[dict[str, Any]]) -> None:
    """One truth: each sender's longest run in the summary is the largest ``unanswered`` among its rows."""
    from_rows = longest_run_by_sender(rows)
    for sender in summary.senders:
        ids = set(sender["message_ids"])
        expected = max((r.get("unanswered") or 0 for r in rows if r["id"] in ids), default=0)
        assert sender["longest_unanswered_run"] == expected, sender["sender"]
    assert max(from_rows.values(), default=0) == max((s["longest_unanswered_run"] for s in summary.senders), default=0)


# ----- a mailbox with a mailing list in it


def mail(n: int, sender: str, to: str, hours: float, subject: str, body: str, headers: str = "") -> str:
    date = (T0 + timedelta(hours=hours)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"From x@y Mon Mar  2 09:00:00 2026\nFrom: {sender}\nTo: {to}\nSubject: {subject}\nDate: {date}\n"
        f"Message-ID: <m{n}@example.com>\n{headers}\n{body}\n\n"
    )


def write_list_mbox(path: Path) -> Path:
    """Direct mail to the owner, and more list mail: the list is the most frequent recipient, and Mailman
    rewrote its From for DMARC ("'Alice' via dev-list")."""
    list_headers = "List-Id: Dev list <dev-list.lists.example.org>\nList-Post: <mailto:dev-list@lists.example.org>\n"
    via = "\"'Alice Moreau' via dev-list\" <dev-list@lists.example.org>"
    messages = [
        mail(1, "Sam <sam@example.com>", "me@example.com", 0, "Call?", "Could we have a short call about the role?"),
        mail(2, "Sam <sam@example.com>", "me@example.com", 30, "Call?", "Any update on the call?"),
        mail(3, "Me <me@example.com>", "sam@example.com", 31, "Re: Call?", "Sure, Tuesday at 10 works."),
        mail(4, "Ana <ana@example.com>", "me@example.com", 40, "Thanks", "Thanks for the intro yesterday."),
    ]
    for i in range(6):
        messages.append(mail(10 + i, via, "dev-list@lists.example.org", 2 + i, f"[dev] release {i}",
                             "Can someone review the release notes before Friday?",
                             list_headers + "Reply-To: dev-list@lists.example.org\n"))  # fmt: skip
    path.write_text("".join(messages), encoding="utf-8")
    return path


def test_a_list_is_never_the_owner_and_its_mail_comes_from_its_author(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    summary, rows = score(write_list_mbox(tmp_path / "inbox.mbox"), tiny_trained, tiny_scorer, tmp_path)
    assert summary.owner is not None and summary.owner.aliases == {"me@example.com"}
    assert "recipient of 3 of the 4 direct messages" in summary.owner.how
    listed = [r for r in rows if r["subject"].startswith("[dev]")]
    assert len(listed) == 6 and {r["direction"] for r in listed} == {"incoming"}
    assert {r["sender"] for r in listed} == {"Alice Moreau"}
    assert all(r["label"] for r in listed) and not any(r["pattern"] for r in listed)  # nobody's run: not to the owner
    assert summary.outgoing == 1 and summary.history_applied
    assert "Owner: me@example.com (the recipient of 3 of the 4 direct messages)" in (
        tmp_path / "out" / "results.summary.md"
    ).read_text(encoding="utf-8")
    assert_ranking_is_the_rows(summary, rows)


@pytest.mark.skipif(not SHARED_MAILDIR.is_dir(), reason="../shared/real-mail/maildir is not beside the checkout")
def test_a_real_list_archive_has_no_owner_and_every_message_is_labelled(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    """300 real list messages (four lists, Google Groups' "X via open-iscsi" among them): none is taken for the
    owner's own mail; the owner is not decided, so no history is applied, and the summary says so."""
    summary, rows = score(SHARED_MAILDIR, tiny_trained, tiny_scorer, tmp_path)
    assert summary.outgoing == 0 and len(rows) == summary.scored and all(r["label"] for r in rows)
    assert summary.owner is not None and not summary.owner.decided and not summary.history_applied
    assert not any(" via " in r["sender"] for r in rows)
    summary_md = (tmp_path / "out" / "results.summary.md").read_text(encoding="utf-8")
    assert "Owner not decided" in summary_md and "--owner" in summary_md


# ----- LinkedIn's messages.csv: names, not addresses

LINKEDIN_HEADER = (
    "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER"
)


def write_linkedin(path: Path, rows: list[tuple[str, str, str, float, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LINKEDIN_HEADER.split(","))
        for conversation, sender, to, hours, text in rows:
            when = (T0 + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S UTC")
            writer.writerow([conversation, "", sender, "", to, "", when, "", text, "INBOX"])
    return path


def linkedin_export() -> list[tuple[str, str, str, float, str]]:
    """Ana Lima's export: a vendor following up eleven times over four weeks without a reply, a friend's burst
    she answers, a recruiter she answers, two closed accounts ("LinkedIn Member") in two conversations."""
    rows = [("c1", "Raj Patel", "Ana Lima", 60 * i, "Following up: can we book a demo this week?") for i in range(11)]
    rows += [("c2", "Bo Chen", "Ana Lima", 1 + i / 60, t) for i, t in enumerate(["Hi!", "How have you been?", "Long time", "Are you coming on Friday?"])]  # fmt: skip
    rows += [("c2", "Ana Lima", "Bo Chen", 3, "Yes! See you there.")]
    rows += [("c3", "Kim Ito", "Ana Lima", 5, "Would you be open to a role at Acme?"),
             ("c3", "Ana Lima", "Kim Ito", 6, "Not right now, thanks."),
             ("c3", "Kim Ito", "Ana Lima", 50, "Understood! Could we talk next month?")]  # fmt: skip
    rows += [("c4", "LinkedIn Member", "Ana Lima", 7 + 24 * i, "Can you refer me?") for i in range(2)]
    rows += [("c5", "LinkedIn Member", "Ana Lima", 8 + 24 * i, "Are you hiring?") for i in range(2)]
    rows += [("c6", "Ana Lima", "Dee Roy", 9, "Congrats on the new job!")]
    return rows


def test_the_linkedin_owner_is_the_person_in_every_conversation(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    summary, rows = score(
        write_linkedin(tmp_path / "messages.csv", linkedin_export()), tiny_trained, tiny_scorer, tmp_path
    )
    assert summary.owner is not None and summary.owner.aliases == {"ana lima"}
    assert "in 4 of the 4 two-person conversations" in summary.owner.how  # the closed accounts name nobody
    assert summary.outgoing == 3 and summary.history_applied
    assert "ana lima" not in {s["sender"] for s in summary.senders}
    raj = [r for r in rows if r["sender"] == "Raj Patel"]
    assert [r["unanswered"] for r in raj] == list(range(1, 12))
    assert [r["label"] for r in raj][2:] == ["pestering"] * 9  # from the third on, and it never lets go
    bo = [r for r in rows if r["sender"] == "Bo Chen"]
    assert [r["unanswered"] for r in bo] == [1, 1, 1, 1] and not any(r["fired"] == "pattern" for r in bo)
    kim = [r for r in rows if r["sender"] == "Kim Ito"]
    assert kim[-1]["pattern"] == "written again after the owner said no or not now"
    members = [s for s in summary.senders if s["sender"].startswith("linkedin member")]
    assert len(members) == 2 and {s["messages"] for s in members} == {2}  # two people, not one
    assert_ranking_is_the_rows(summary, rows)
    raj_summary = next(s for s in summary.senders if s["sender"] == "raj patel")
    assert raj_summary["longest_unanswered_run"] == 11 and raj_summary["shortest_gap"] == "2 days, 12:00:00"


def test_owner_given_by_name_matches_the_rows(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path) -> None:
    """``--owner`` with a name (several for aliases): the ranking's runs are the rows' (they once disagreed)."""
    path = write_linkedin(tmp_path / "messages.csv", linkedin_export())
    summary, rows = score(path, tiny_trained, tiny_scorer, tmp_path, owner=("Ana Lima", "ana@example.com"))
    assert summary.owner is not None and summary.owner.aliases == {"ana lima", "ana@example.com"}
    assert "--owner" in summary.owner.how
    assert max(s["longest_unanswered_run"] for s in summary.senders) == 11
    assert_ranking_is_the_rows(summary, rows)


def test_one_conversation_cannot_tell_its_owner(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path) -> None:
    rows = [("c1", "Raj Patel", "Ana Lima", 24 * i, "Can we book a demo?") for i in range(5)]
    rows.append(("c1", "Ana Lima", "Raj Patel", 200, "Thanks, no."))
    summary, results = score(write_linkedin(tmp_path / "messages.csv", rows), tiny_trained, tiny_scorer, tmp_path)
    assert summary.owner is not None and not summary.owner.decided and not summary.history_applied
    assert "one conversation between two people" in summary.owner.how
    assert summary.outgoing == 0 and all(r["pattern"] == "" and "unanswered" not in r for r in results)
    given, _ = score(tmp_path / "messages.csv", tiny_trained, tiny_scorer, tmp_path, owner="Ana Lima")
    assert given.outgoing == 1 and given.history_applied


# ----- WhatsApp: the file is named after the counterpart


def write_whatsapp(folder: Path, counterpart: str, lines: list[tuple[float, str, str]]) -> Path:
    path = folder / f"WhatsApp Chat with {counterpart}.txt"
    text = "".join(
        f"{(T0 + timedelta(minutes=m)).strftime('%d/%m/%Y, %H:%M')} - {who}: {what}\n" for m, who, what in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_the_whatsapp_owner_is_the_one_the_file_is_not_named_after(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    """Alice writes more than the owner (so she is the most frequent recipient's counterpart, not the owner),
    in bursts a minute apart: each burst is one turn."""
    lines = [(0, "Alice Lima", "Hi!"), (1, "Alice Lima", "How have you been?"), (2, "Alice Lima", "Long time"),
             (3, "Alice Lima", "Are you coming on Friday?"), (60, "Jo Park", "Yes, see you there"),
             (24 * 60, "Alice Lima", "Can you send me the deck?"), (24 * 60 + 1, "Alice Lima", "The one from Friday?")]  # fmt: skip
    summary, rows = score(write_whatsapp(tmp_path, "Alice Lima", lines), tiny_trained, tiny_scorer, tmp_path)
    assert summary.owner is not None and summary.owner.aliases == {"jo park"}
    assert "named after (alice lima)" in summary.owner.how
    alice = [r for r in rows if r["sender"] == "Alice Lima"]
    assert [r["unanswered"] for r in alice] == [1, 1, 1, 1, 1, 1]
    assert summary.outgoing == 1 and not any(r["fired"] == "pattern" for r in alice)
    assert_ranking_is_the_rows(summary, rows)


# ----- the decision itself


def message(sender: str, to: str | None, **fields: Any) -> Message:
    return Message("m", "", "t", sender, to, T0, **fields)


def test_the_rules_in_order() -> None:
    marked = [message("me@x.com", "a@x.com", direction="outgoing"), message("a@x.com", "me@x.com")]
    assert decide_owner(OwnerEvidence.of(marked)).aliases == {"me@x.com"}
    assert decide_owner(OwnerEvidence.of(marked), ["Other <o@x.com>"]).aliases == {"o@x.com"}
    spread = [message(f"s{i}@x.com", f"r{i}@x.com") for i in range(4)]
    undecided = decide_owner(OwnerEvidence.of(spread))
    assert not undecided.decided and undecided.how == "no one address receives most of the direct mail"
    nothing = decide_owner(OwnerEvidence.of([message("a@x.com", None)]))
    assert nothing.how == "the export names no recipients and marks no message as sent"


def test_evidence_adds_up_across_parts() -> None:
    """Partitions and Dask parts gather evidence apart: the sum decides as the whole would."""
    messages = [message(p, "Ana Lima", thread=t, channel="linkedin_dm") for t, p in
                [("c1", "Raj"), ("c2", "Bo"), ("c3", "Kim")]]  # fmt: skip
    messages += [message("Ana Lima", "Raj", thread="c1", channel="linkedin_dm")]
    whole = decide_owner(OwnerEvidence.of(messages))
    parts = OwnerEvidence.of(messages[:2]) + OwnerEvidence.of(messages[2:])
    assert decide_owner(parts) == whole and whole.aliases == {"ana lima"}


def test_the_owner_setting_takes_one_name_or_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUNDARYLINE_OWNER", "ana@example.com")
    assert Settings().owner == ["ana@example.com"]
    monkeypatch.setenv("BOUNDARYLINE_OWNER", '["ana@example.com", "Ana Lima"]')
    assert Settings().owner == ["ana@example.com", "Ana Lima"]


def test_list_mail_is_read_with_its_author(tmp_path: Path) -> None:
    [*records] = read_inbox(write_list_mbox(tmp_path / "inbox.mbox"))
    listed = [r for r in records if isinstance(r, Message) and r.mailing_list]
    assert len(listed) == 6 and {(r.sender, r.mailing_list) for r in listed} == {
        ("Alice Moreau", "dev-list@lists.example.org")
    }


SLACK = Path(__file__).parents[2].parent / "shared" / "peer-fixtures" / "slack-export-viewer" / "unz"


@pytest.mark.skipif(not SLACK.is_dir(), reason="../shared/peer-fixtures is not beside the checkout")
def test_a_slack_workspace_of_channels_names_no_owner() -> None:
    """A real workspace export (two channels, no DMs): channels say nothing of whose export it is."""
    messages = [m for m in read_inbox(SLACK) if isinstance(m, Message)]
    owner = decide_owner(OwnerEvidence.of(messages))
    assert len(messages) > 40 and not owner.decided
    assert owner.how == "no two-person conversation (only group chats or channels) to tell the owner by"


def test_slack_direct_messages_name_the_owner_whatever_the_channels() -> None:
    dms = [message(p, "ana", thread=f"D{i}", channel="chat") for i, p in enumerate(["raj", "bo", "kim"])]
    channel = [message(p, None, thread="C1", channel="chat") for p in ["raj", "bo", "kim", "dee", "lu"]]
    owner = decide_owner(OwnerEvidence.of(dms + channel))
    assert owner.aliases == {"ana"} and owner.how == "the one person in 3 of the 3 two-person conversations"


def test_a_tie_for_the_most_mail_decides_nothing() -> None:
    both = [message(f"s{i}@x.com", "a@x.com, b@x.com") for i in range(3)]
    assert decide_owner(OwnerEvidence.of(both)).how == "no one address receives most of the direct mail"


def test_a_slack_channel_with_two_posters_is_not_a_conversation_of_two() -> None:
    posts = [message(p, None, thread=c, channel="chat") for c in ("C1", "C2") for p in (f"{c}-poster", "bob")]
    assert not decide_owner(OwnerEvidence.of(posts)).decided


@pytest.mark.parametrize(
    ("headers", "sender", "relayed_by", "author"),
    [
        ("", "Jane Doe via DocuSign <dse@docusign.net>", None, "Jane Doe via DocuSign <dse@docusign.net>"),
        ("List-Id: <dev.lists.example.org>\n", "Jane Doe Via dev <dev@lists.example.org>", "dev@lists.example.org",
         "Jane Doe"),
        ("List-Post: <mailto:dev@lists.example.org>\n", "Jane <jane@example.com>", "dev@lists.example.org",
         "Jane <jane@example.com>"),
    ],
    ids=["via-without-list-headers", "via-any-case", "list-post"],
)  # fmt: skip
def test_what_is_list_mail(tmp_path: Path, headers: str, sender: str, relayed_by: str | None, author: str) -> None:
    path = tmp_path / "one.mbox"
    path.write_text(mail(1, sender, "me@example.com", 0, "Hi", "Hello there.", headers), encoding="utf-8")
    [found] = read_inbox(path)
    assert isinstance(found, Message) and (found.mailing_list, found.sender) == (relayed_by, author)


def test_a_placeholder_marked_as_sent_is_never_the_owner() -> None:
    sent = [message("LinkedIn Member", "Raj", direction="outgoing", thread="c1", channel="linkedin_dm")]
    assert "linkedin member (conversation c1)" not in decide_owner(OwnerEvidence.of(sent)).aliases
