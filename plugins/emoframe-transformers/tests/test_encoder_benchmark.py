"""The issue's one spec, end to end through the CLI: eGeMAPS→SVC, WavLM(mean)→SVC, WavLM(all layers)→weighted
head, fused with gold-text and ASR-text branches — tiny random-weight models standing in for downloaded ones."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from tiny import make_tiny_audio, make_tiny_whisper_asr

from emoframe.cli import main


@pytest.mark.slow
def test_one_spec_benchmarks_encoders_and_gold_and_asr_text(tmp_path):
    wavlm = make_tiny_audio(tmp_path / "models" / "wavlm", "wavlm", norm="group")  # wavlm-base-plus is group-norm
    whisper = make_tiny_whisper_asr(tmp_path / "models" / "whisper")
    encoder = {"name": "transformers.audio_encoder", "params": {"model": str(wavlm)}}
    spec = {
        "name": "encoders and ASR",
        "data": {
            "corpus": {"name": "demo", "params": {"speakers": 4, "per_class": 2}},
            "transcriber": {"name": "transformers.whisper", "params": {"model": str(whisper), "max_new_tokens": 4}},
        },
        "evaluation": {"folds": 2, "bootstrap": 50},
        "branches": {
            "audio": [
                {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
                {"extractor": encoder, "model": "sklearn.svc"},
                {
                    "extractor": {**encoder, "params": {**encoder["params"], "layers": "all"}},
                    "model": {"name": "torch.weighted_layers", "params": {"epochs": 3, "hidden": 8}},
                },
            ],
            "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg", "transcripts": ["gold", "asr"]},
        },
        "fusion": "fusion.late",
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(path)]).exit_code == 0
    result = runner.invoke(main, ["bench", str(path), "--workdir", str(tmp_path / "wd"), "-j", "2"])
    assert result.exit_code == 0, result.output
    assert "ASR transcripts from transformers.whisper: word error rate" in result.output
    assert "torch.weighted_layers layer_weights (mean ± std over folds)" in result.output
    board = runner.invoke(main, ["results", "--workdir", str(tmp_path / "wd"), "--format", "json"])
    rows = json.loads(board.output)
    names = {r["pipeline"] for r in rows}
    assert len(rows) == 3 * 2 + 3 + 2  # every fusion of 3 audio × 2 text branches, and each branch alone
    assert all(r["status"] == "done" for r in rows), [(r["pipeline"], r["errors"]) for r in rows]
    assert {"sklearn.tfidf→sklearn.logreg", "sklearn.tfidf (ASR text)→sklearn.logreg"} <= names
    fused_asr = [r for r in rows if r["fused"] and "(ASR text)" in r["pipeline"]]
    assert len(fused_asr) == 3 and all(r["verdict"] for r in fused_asr)  # each says whether fusion helped
    weights = next(r["learned"] for r in rows if "torch.weighted_layers" in r["pipeline"] and not r["fused"])
    (summary,) = weights.values()
    assert len(summary["layer_weights"]["mean"]) == 3 and abs(sum(summary["layer_weights"]["mean"]) - 1) < 1e-3
