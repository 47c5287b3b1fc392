"""Quotation and signature removal compared on a real Maildir (``make study``): how many messages keep text
of their own, how many quoted lines leak into what is scored, how many of the sender's own lines survive,
and the cost per message. quotequail is measured when installed (``pip install quotequail``).
"""

from __future__ import annotations

import argparse
import email
import re
import time
from collections.abc import Callable
from email import policy
from pathlib import Path

from mailparser_reply import EmailReplyParser

from boundaryline.inbox.cleanup import LANGUAGES, html_to_text, own_text
from boundaryline.inbox.mail import _decode_part
from boundaryline.settings import get_settings

QUOTED = re.compile(r"^\s*>")


def bodies(maildir: Path) -> list[str]:
    out = []
    for file in sorted(p for sub in ("cur", "new") if (maildir / sub).is_dir() for p in (maildir / sub).iterdir()):
        mail = email.message_from_bytes(file.read_bytes(), policy=policy.default)
        part = mail.get_body(preferencelist=("plain", "html"))
        if part is None:
            continue
        text = _decode_part(part)
        out.append((html_to_text(text) if part.get_content_subtype() == "html" else text).replace("\r\n", "\n"))
    return out


def methods() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {
        "mail-parser-reply, as shipped": lambda t: EmailReplyParser(languages=LANGUAGES).parse_reply(t) or "",
        "boundaryline (quoted lines out, then mail-parser-reply; list footers)": lambda t: (
            "" if (body := own_text(t)).quoted_only else body.text
        ),
    }
    try:
        import quotequail

        found["quotequail"] = lambda t: "\n".join(text for new, text in quotequail.quote(t) if new)
    except ImportError:
        pass
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("maildir", nargs="?", type=Path, default=get_settings().real_mail_dir / "maildir")
    args = parser.parse_args(argv)
    texts = bodies(args.maildir)
    print(f"{len(texts)} messages in {args.maildir}\n")
    print(
        "| method | keep text of their own | quoted lines leaked | sender's lines kept | ms/msg |\n|---|---|---|---|---|"
    )
    for name, method in methods().items():
        start = time.perf_counter()
        results = [method(t) for t in texts]
        ms = (time.perf_counter() - start) / len(texts) * 1000
        leaked = quoted = kept = own = 0
        for text, result in zip(texts, results, strict=True):
            lines = text.split("\n")
            quoted_lines = {ln.strip() for ln in lines if QUOTED.match(ln) and len(ln.strip("> ").strip()) > 20}
            own_lines = {
                ln.strip()
                for ln in lines
                if not QUOTED.match(ln) and len(ln.strip()) > 40
                and not re.search(r"wrote|mailing list|unsubscribe", ln, re.IGNORECASE)
            }  # fmt: skip
            out = {ln.strip() for ln in result.split("\n")}
            quoted, leaked = quoted + len(quoted_lines), leaked + len(quoted_lines & out)
            own, kept = own + len(own_lines), kept + len(own_lines & out)
        with_text = sum(bool(r.strip()) for r in results)
        print(
            f"| {name} | {with_text}/{len(texts)} ({with_text / len(texts):.0%}) | {leaked}/{quoted} | {kept / own:.0%} | {ms:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
