"""The demo city loads through the same HTTP upload-and-job path a design institute uses."""

from __future__ import annotations

import json
from pathlib import Path

from api.demo import SAMPLES, load_samples


def test_demo_samples_load_and_publish(settings, live_server: str, start_worker, client) -> None:
    start_worker()
    jobs = load_samples(settings, live_server)
    manifest = json.loads((SAMPLES / "demo.json").read_text(encoding="utf-8"))
    assert len(jobs) == len(manifest["datasets"])
    assert all(job["state"] == "succeeded" for job in jobs), jobs
    listed = client.get("/api/v1/datasets").json()["datasets"]  # public: visible without a token
    assert {d["name"] for d in listed} == {item["name"] for item in manifest["datasets"]}
    city = client.get("/tiles/city/tileset.json").json()
    districts = {group["extras"]["district"] for group in city["root"]["children"]}
    assert {"150603", "150602", None} <= districts
    # loading again keeps what is there (idempotent)
    assert load_samples(settings, live_server) == []
    assert len(client.get("/api/v1/datasets").json()["datasets"]) == len(manifest["datasets"])


def test_samples_exist() -> None:
    manifest = json.loads((SAMPLES / "demo.json").read_text(encoding="utf-8"))
    for item in manifest["datasets"]:
        assert (Path(SAMPLES) / item["file"]).is_file(), item["file"]


def test_demo_command_speaks_to_people(settings, tmp_path: Path) -> None:
    """`cim demo`: step lines, the URL and working sign-in credentials at the end; no library or server log
    lines in between (they go to the data folder); Ctrl-C stops it cleanly."""
    import signal
    import subprocess
    import sys

    import httpx

    from tests.support import postgis
    from tests.support.waiting import wait_for

    port = postgis.free_port()
    data_dir = tmp_path / "demo-data"
    env = postgis.subprocess_env(settings.database_url or "", data_dir)
    output = tmp_path / "demo.out"
    with output.open("wb") as sink:
        demo = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "demo", "--port", str(port)], env=env, stdout=sink, stderr=sink
        )
    try:
        wait_for(lambda: "Ctrl-C stops it." in output.read_text(encoding="utf-8"), timeout=600, interval=1.0)
        lines = output.read_text(encoding="utf-8").splitlines()
        manifest = json.loads((SAMPLES / "demo.json").read_text(encoding="utf-8"))
        for item in manifest["datasets"]:
            assert any(line.strip() == f"{item['name']}: succeeded" for line in lines), (item["name"], lines)
        assert any(f"http://127.0.0.1:{port}/" in line for line in lines), lines
        noise = [line for line in lines if any(w in line for w in ("INFO", "WARNING", "DEBUG", "Traceback", "uvicorn"))]
        assert not noise, noise
        sign_in = next(line for line in lines if line.startswith("sign in as"))
        username, password = sign_in.split("'")[1], sign_in.split("'")[3]
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/session", json={"username": username, "password": password}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        assert (data_dir / "logs" / "server.log").stat().st_size > 0
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
    assert output.read_text(encoding="utf-8").rstrip().endswith("stopped.")
