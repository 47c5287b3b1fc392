"""The live path's two figures, with the model in service (not collected by pytest)::

    .venv/bin/python -m tests.live.bench [N_MESSAGES]

1. ``boundaryline watch --once --backfill N`` over N messages appended to a throw-away Dovecot: messages per
   second of the whole command (a fresh process: start-up, model, connection, history, scoring, keywords);
2. ``boundaryline filter``, a fresh process per message as a delivery agent runs it: the median wall time of 20.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from boundaryline.settings import Settings
from tests.live.conftest import mail
from tests.live.dovecot import Dovecot

BIN = Path(sys.executable).parent


def main(count: int = 500) -> None:
    settings = Settings()
    texts = pd.read_csv(settings.corpus_path, dtype=str, keep_default_na=False)["text"].sample(
        count, replace=True, random_state=0
    )
    raws = [mail(text, sender=f"Sender {i % 50} <sender{i % 50}@example.com>") for i, text in enumerate(texts)]
    server = Dovecot.make()
    try:
        with server.client() as client:
            for raw in raws:
                client.append("INBOX", raw)
        with tempfile.TemporaryDirectory() as scratch:
            env = {
                **os.environ,
                "BOUNDARYLINE_IMAP_PASSWORD": server.password,
                "BOUNDARYLINE_WATCH_STATE_DIR": scratch,
                "BOUNDARYLINE_FEEDBACK_DB": f"{scratch}/feedback.sqlite3",
            }
            command = [str(BIN / "boundaryline"), "watch", "--once", "--insecure", "--backfill", str(count), server.url]
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - start
        print(done.stdout.strip().splitlines()[-1])
        print(f"watch --once: {count} messages in {wall:.2f} s = {count / wall:.0f} messages/s (one fresh process)")
    finally:
        server.remove()
    times = []
    for raw in raws[:20]:
        start = time.perf_counter()
        subprocess.run([str(BIN / "boundaryline"), "filter"], input=raw, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    print(f"filter: median {statistics.median(times) * 1000:.0f} ms per message (20 fresh processes)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
