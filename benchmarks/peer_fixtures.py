"""The readers on other projects' test inputs (``../shared/peer-fixtures``; part of ``make study``; issue 22).

Per fixture folder: how many files were read as an export (one or more messages), how many were refused as a
whole (with the reason), and the records skipped inside the files read, grouped by reason. Each file is read
the way ``boundaryline score FILE`` reads it (its format detected), and each folder that is an export as a
whole (a Slack export) is read as one. Only counts and reasons are written, never a message's text.

Results: ``reports/study/peer_fixtures.json`` and ``.md``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from boundaryline.files import write_atomic
from boundaryline.inbox import BadRecord, Message, SystemNotice, detect_format, read_inbox
from boundaryline.settings import get_settings

# Folders read as one export, besides their files; files that are the fixtures' expected outputs, not inputs.
WHOLE_EXPORTS = ("slack-export-viewer/unz",)
NOT_INPUTS = (".ts", ".py", ".md")


def read_one(path: Path) -> dict[str, Any]:
    """What ``boundaryline score PATH`` makes of ``path``: its format, messages, notices and skips by reason."""
    try:
        fmt = detect_format(path)
        records = list(read_inbox(path))
    except (ValueError, OSError) as error:
        return {"format": None, "refused": str(error).removeprefix(f"{path}: ")}
    skipped = Counter(r.reason for r in records if isinstance(r, BadRecord))
    return {
        "format": fmt,
        "messages": sum(isinstance(r, Message) for r in records),
        "notices": sum(isinstance(r, SystemNotice) for r in records),
        "skipped": dict(skipped),
    }


def study(root: Path) -> dict[str, Any]:
    folders: dict[str, Any] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(
            p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() not in NOT_INPUTS and "unz" not in p.parts
        )
        inputs = {str(p.relative_to(root)): read_one(p) for p in files}
        inputs |= {name: read_one(root / name) for name in WHOLE_EXPORTS if name.startswith(folder.name + "/")}
        read = [r for r in inputs.values() if r["format"] and r["messages"]]
        refused: Counter[str] = Counter()
        for r in inputs.values():
            if r not in read:  # refused whole, or read with every record skipped (each for its reason)
                refused.update(
                    [r["refused"]] if r.get("refused") else [f"read: {k}" for k in r["skipped"]] or ["empty"]
                )
        folders[folder.name] = {
            "inputs": len(inputs),
            "read": len(read),
            "messages": sum(r["messages"] for r in read),
            "skipped_records": sum(sum(r["skipped"].values()) for r in read),
            "skipped_by_reason": dict(sum((Counter(r["skipped"]) for r in read), Counter())),
            "not_read_by_reason": dict(refused),
            "formats": dict(Counter(r["format"] for r in read)),
            "files": inputs,
        }
    return folders


def markdown(folders: dict[str, Any]) -> str:
    lines = [
        "# The readers on other projects' test inputs",
        "",
        "`python -m benchmarks.peer_fixtures` over `../shared/peer-fixtures` (counts and reasons only).",
        "",
        "| folder | inputs | read | messages | records skipped | not read | formats |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, f in folders.items():
        formats = ", ".join(f"{k} {v}" for k, v in f["formats"].items())
        not_read = sum(f["not_read_by_reason"].values())
        lines.append(
            f"| {name} | {f['inputs']} | {f['read']} | {f['messages']} | {f['skipped_records']} | {not_read} | {formats} |"
        )
    for name, f in folders.items():
        reasons = [*f["skipped_by_reason"].items(), *f["not_read_by_reason"].items()]
        if reasons:
            lines += ["", f"## {name}", ""]
            lines += [f"- {n} × {reason}" for reason, n in sorted(reasons, key=lambda item: -item[1])]
    return "\n".join(lines) + "\n"


def main() -> None:
    settings = get_settings()
    root = settings.root.parent / "shared" / "peer-fixtures"
    if not root.is_dir():
        print(f"peer fixtures: none at {root}; nothing to study")
        return
    folders = study(root)
    out = settings.root / "reports" / "study"
    write_atomic(out / "peer_fixtures.json", json.dumps(folders, indent=2, sort_keys=True) + "\n")
    write_atomic(out / "peer_fixtures.md", markdown(folders))
    print(markdown(folders))


if __name__ == "__main__":
    main()
