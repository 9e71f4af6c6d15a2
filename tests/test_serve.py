"""`emoframe serve`: the same record over HTTP as on the command line, limits and bad audio answered
with the right status, and parallel clients all served (a real uvicorn server on 127.0.0.1)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from emoframe.cli import main
from emoframe.deploy.predictor import Predictor
from emoframe.deploy.server import create_app
from emoframe.deploy.train import stored_pipeline, train_bundle
from emoframe.plugin.registry import Registry
from emoframe.spec import parse_spec

REG = Registry.from_entry_points()
LATE = {
    "branches": {
        "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
        "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
    },
    "fusion": {"name": "fusion.gated"},
    "evaluation": {"folds": 2, "inner_folds": 2},
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from emoframe.data.synth import generate

    base = tmp_path_factory.mktemp("serve")
    generate(base / "demo", seed=5, speakers=4, per_class=3)
    manifest = base / "demo" / "manifest.csv"
    train_bundle(parse_spec({**LATE, "data": {"manifest": str(manifest)}}), base / "bundle", REG, jobs=1)
    frame = pd.read_csv(manifest)
    return {"base": base, "bundle": base / "bundle", "frame": frame, "root": base / "demo"}


@pytest.fixture(scope="module")
def client(served):
    model = Predictor.load(served["bundle"], REG)
    return TestClient(create_app(model, max_bytes=2_000_000))


def test_health_and_model(client, served):
    assert client.get("/health").json()["status"] == "ok"
    meta = client.get("/model").json()
    assert meta["pipeline"] and meta["classes"] == ["angry", "happy", "neutral", "sad"] and "files" not in meta


def test_predict_over_http_equals_the_command_line(client, served):
    row = served["frame"].iloc[0]
    wav = served["root"] / row["audio"]
    with open(wav, "rb") as f:
        got = client.post("/predict", files={"audio": (wav.name, f, "audio/wav")}, data={"text": row["text"]})
    assert got.status_code == 200, got.text
    cli = CliRunner().invoke(
        main, ["predict", str(served["bundle"]), str(wav), "--text", row["text"], "--format", "json", "--no-cache"]
    )
    expected = json.loads(cli.stdout)[0]
    record = got.json()
    assert record.pop("id") == wav.name and expected.pop("id") == str(wav)
    assert record == expected  # same label, class, branch probabilities and gate values
    assert {"weight:audio", "weight:text"} <= set(record)


def test_bad_requests_get_a_reason(client, served):
    r = client.post("/predict", files={"audio": ("x.wav", b"RIFF junk", "audio/wav")}, data={"text": "hi"})
    assert r.status_code == 422 and "corrupt" in r.json()["detail"] and "emoframe-serve" not in r.json()["detail"]
    wav = served["root"] / served["frame"]["audio"][0]
    r = client.post("/predict", files={"audio": (wav.name, wav.read_bytes(), "audio/wav")})
    assert r.status_code == 422 and "text" in r.json()["detail"]
    r = client.post("/predict", data={"text": "hi"})
    assert r.status_code == 422 and "audio" in r.json()["detail"]
    big = b"\0" * 2_500_000
    r = client.post("/predict", files={"audio": ("big.wav", big, "audio/wav")}, data={"text": "hi"})
    assert r.status_code == 413 and "limit of 2.0 MB" in r.json()["detail"]


def test_parallel_clients_are_all_served(served):
    import uvicorn

    model = Predictor.load(served["bundle"], REG)
    config = uvicorn.Config(create_app(model), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    rows = served["frame"].head(6)

    def ask(i: int) -> dict:
        row = rows.iloc[i % len(rows)]
        wav = Path(served["root"]) / row["audio"]
        r = httpx.post(
            f"http://127.0.0.1:{port}/predict",
            files={"audio": (wav.name, wav.read_bytes(), "audio/wav")},
            data={"text": row["text"]},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return r.json()

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(ask, range(18)))
        alone = [ask(i) for i in range(6)]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert [a["label"] for a in answers[:6]] == [a["label"] for a in alone]
    assert answers[:6] == answers[6:12] == answers[12:]


def test_train_from_a_stored_run_keeps_its_figures(served, tmp_path):
    """`emoframe train --run R --pipeline P`: the bundle says how good it is and on what."""
    from emoframe.results.store import ResultsStore

    spec = served["base"] / "bench.yaml"
    doc = {
        "name": "tiny",
        "data": {"manifest": str(served["root"] / "manifest.csv")},
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.logreg"},
            "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
        },
        "fusion": ["fusion.late", "fusion.vote"],
        "evaluation": {"protocol": "speaker_kfold", "folds": 2, "inner_folds": 2, "bootstrap": 200},
    }
    import yaml

    spec.write_text(yaml.safe_dump(doc))
    wd = tmp_path / "wd"
    r = CliRunner().invoke(main, ["bench", str(spec), "--workdir", str(wd), "--jobs", "1"])
    assert r.exit_code == 0, r.output
    store = ResultsStore(wd / "results.db", readonly=True)
    run_id = store.runs()[0]["id"]
    names = [p["name"] for p in store.pipelines(run_id)]
    fused = next(n for n in names if "late" in n)
    _, figures = stored_pipeline(store, run_id, fused)
    store.close()
    out = tmp_path / "b"
    r = CliRunner().invoke(
        main, ["train", "--run", run_id[:8], "--pipeline", fused, "--out", str(out), "--workdir", str(wd)]
    )
    assert r.exit_code == 0, r.output
    assert "evaluated in run" in r.output and "UAR" in r.output
    meta = json.loads((out / "bundle.json").read_text())
    ev = meta["evaluation"]
    assert ev["run"] == run_id and ev["protocol"] == "speaker_kfold" and ev["uar"] == figures["uar"]
    assert ev["uar_ci_low"] <= ev["uar"] <= ev["uar_ci_high"] and "fusion_gain_pts" in ev
    wrong = CliRunner().invoke(
        main, ["train", "--run", run_id[:8], "--pipeline", "nope", "--out", str(tmp_path / "c"), "--workdir", str(wd)]
    )
    assert wrong.exit_code == 2 and "no pipeline 'nope'" in wrong.output
    shutil.rmtree(tmp_path / "c", ignore_errors=True)


def test_each_worker_process_builds_the_app_from_the_environment(served, monkeypatch):
    """`serve --workers N`: uvicorn imports the factory in every worker; it loads the bundle named there."""
    from emoframe.deploy.server import BUNDLE_ENV, LIMIT_ENV, app_from_env

    monkeypatch.setenv(BUNDLE_ENV, str(served["bundle"]))
    monkeypatch.setenv(LIMIT_ENV, "1000")
    client = TestClient(app_from_env())
    assert client.get("/health").json()["status"] == "ok"
    r = client.post("/predict", files={"audio": ("a.wav", b"x" * 5000, "audio/wav")}, data={"text": "hi"})
    assert r.status_code == 413
