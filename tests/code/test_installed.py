"""Installable anywhere (issue 24): the wheel, installed outside the checkout, scores, serves and retrains from
its own data folder (``BOUNDARYLINE_HOME``), seeded from the model the wheel carries."""

import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

PROJECT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline (hatchling from the dev extras) and installed into a folder of its own."""
    where = tmp_path_factory.mktemp("installed")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(PROJECT), "--no-deps", "--no-build-isolation", "-q", "-w",
         str(where / "wheel")],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = (where / "wheel").glob("boundaryline-*.whl")
    with zipfile.ZipFile(wheel) as archive:  # corpus building stays in the checkout; the model in service ships
        names = archive.namelist()
    assert not [n for n in names if n.startswith("boundaryline/corpus/")]
    assert "boundaryline/shipped/scoring.npz" in names
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(where / "site"), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return where


def run(installed: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNDARYLINE_")}
    env |= {"PYTHONPATH": str(installed / "site"), "BOUNDARYLINE_HOME": str(installed / "home")}
    return subprocess.run(  # from a folder that is no checkout, with the installed package first on the path
        [sys.executable, "-m", "boundaryline.cli", *args], cwd=installed, env=env, text=True, capture_output=True,
        **kwargs,  # type: ignore[call-overload]
    )  # fmt: skip


def test_the_installed_package_scores_serves_and_retrains_from_its_home(installed: Path) -> None:
    (installed / "in.csv").write_text("id,from,text\nm1,a@x.com,Coffee next week?\nm2,b@x.com,Dinner just us?\n")
    scored = run(installed, "score", "in.csv", "--out", "r.csv", "-q")
    assert scored.returncode == 0, scored.stderr
    assert (installed / "r.csv").read_text(encoding="utf-8-sig").count("\n") == 3
    home = installed / "home"
    shipped = (PROJECT / "models" / "current").read_text().strip()
    assert (home / "models" / "current").read_text().strip() == shipped
    assert (home / "data" / "corpus" / "messages.csv").is_file() and (
        home / "data" / "corpus" / "challenge.csv"
    ).is_file()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNDARYLINE_")}
    env |= {"PYTHONPATH": str(installed / "site"), "BOUNDARYLINE_HOME": str(home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "boundaryline.cli", "serve", "--port", str(port)], cwd=installed, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline, ready = time.monotonic() + 60, None
        while time.monotonic() < deadline and ready is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.1)
        assert ready == {"status": "ready", "model_version": shipped}
    finally:
        server.terminate()
        server.wait(timeout=30)
    retrained = run(installed, "retrain", str(PROJECT / "tests" / "fixtures" / "retrain_good.csv"), "--quick")
    assert retrained.returncode == 0, retrained.stdout[-2000:] + retrained.stderr[-2000:]
    assert (home / "models" / "current").read_text().strip() != shipped
    assert not (PROJECT / "models" / (home / "models" / "current").read_text().strip()).exists()
