"""Several workers, one /metrics: in Prometheus multiprocess mode each process writes its counts to files in
PROMETHEUS_MULTIPROC_DIR and /metrics, on any of them, reports the sum. Two processes here, one after the
other (the variable must be set before prometheus_client is imported, so each is a fresh interpreter)."""

import os
import re
import subprocess
import sys
from pathlib import Path

from boundaryline.settings import Settings

WORKER = """
import sys
from fastapi.testclient import TestClient
from service.app import create_app

with TestClient(create_app()) as client:
    assert client.post("/v1/score", json={"text": "Coffee next week?"}).status_code == 200
    if sys.argv[1:] == ["report"]:
        print(client.get("/metrics").text)
"""


def _sum(metrics: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        found = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if found and all(f'{k}="{v}"' in found[1] for k, v in labels.items()):
            total += float(found[2])
    return total


def test_metrics_sum_the_counts_of_every_worker(tiny_trained: Settings, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "BOUNDARYLINE_ROOT": str(tiny_trained.root), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    root = Path(__file__).parents[2]
    run = [sys.executable, "-c", WORKER]
    subprocess.run(run, env=env, cwd=root, check=True, capture_output=True, timeout=120)
    second = subprocess.run(
        [*run, "report"], env=env, cwd=root, check=True, capture_output=True, text=True, timeout=120
    )
    assert len(list(metrics_dir.glob("*.db"))) >= 2, "each process writes its own files"
    assert _sum(second.stdout, "boundaryline_predictions_total") == 2
    assert _sum(second.stdout, "http_requests_total", handler="/v1/score", method="POST") == 2
