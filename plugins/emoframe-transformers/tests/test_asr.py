"""transformers.whisper and ASR transcripts in a benchmark, on a tiny random-weight Whisper built here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from tiny import make_tiny_whisper_asr

from emoframe import ComponentError, Transcription
from emoframe.data.manifest import Manifest
from emoframe.features.cache import FeatureCache
from emoframe.features.transcripts import transcribe_manifest, word_error_rate
from emoframe.testing import synthetic_utterance
from emoframe_transformers.asr import WhisperTranscriber


@pytest.fixture(scope="module")
def whisper(tmp_path_factory):
    return make_tiny_whisper_asr(tmp_path_factory.mktemp("whisper"))


def transcriber(folder, **kw) -> WhisperTranscriber:
    return WhisperTranscriber(**{"model": str(folder), "max_new_tokens": 6, "device": "cpu", **kw})


def test_it_returns_text_language_and_timestamps_and_a_batch_equals_one_by_one(whisper):
    t = transcriber(whisper)
    xs = [synthetic_utterance(1.0 + 0.5 * i, 16000, i) for i in range(3)]
    batch = t.transcribe_batch(xs)
    assert all(isinstance(b, Transcription) for b in batch)
    assert all(b.language in ("en", "de") for b in batch)  # detected: the tiny model knows two
    assert batch == [t.transcribe(x) for x in xs]
    assert batch == transcriber(whisper).transcribe_batch(xs)  # deterministic (greedy)
    assert all(isinstance(s[0], float) and s[0] <= s[1] for b in batch for s in b.segments)
    fixed = transcriber(whisper, language="de", timestamps=False).transcribe(xs[0])
    assert fixed.language == "de" and fixed.segments == ()


def test_a_70_second_recording_runs_long_form(whisper):
    long = np.concatenate([synthetic_utterance(1.75, 16000, i) for i in range(40)])
    out = transcriber(whisper).transcribe(long)
    assert isinstance(out.text, str) and out.language in ("en", "de")
    assert out.segments and max(s[1] for s in out.segments) > 30  # decoding went past the first window


def test_a_model_not_on_disk_says_how_to_get_it():
    with pytest.raises(ComponentError, match="huggingface-cli download openai/whisper-small"):
        WhisperTranscriber().warmup()


def _manifest(tmp_path, n=6, texts=None):
    rows = []
    for i in range(n):
        path = tmp_path / f"u{i}.wav"
        sf.write(path, synthetic_utterance(1.0, 16000, i), 16000)
        rows.append({"id": f"u{i}", "audio": str(path), "text": (texts or ["i am so happy today"] * n)[i],
                     "label": "happy" if i % 2 else "sad", "speaker": f"s{i % 3}"})  # fmt: skip
    return Manifest.from_frame(pd.DataFrame(rows), "tiny", require_audio=True)


def test_transcripts_are_cached_reported_and_scored_against_gold(whisper, tmp_path):
    manifest = _manifest(tmp_path)
    (tmp_path / "u3.wav").write_bytes(b"RIFF not a wav")  # one damaged recording
    cache = FeatureCache(tmp_path / "cache")
    t = transcriber(whisper)
    first = transcribe_manifest(t, manifest, cache)
    assert set(first.failures) == {"u3"} and len(first.texts) == 5
    assert first.misses == 6 and first.hits == 0
    again = transcribe_manifest(transcriber(whisper, batch_size=2), manifest, cache)  # batch size: not in the key
    assert again.hits == 5 and again.texts == first.texts
    expected, n = word_error_rate(["i am so happy today"] * 5, [first.texts[i] for i in sorted(first.texts)])
    assert first.wer == pytest.approx(expected) and first.wer_rows == n == 5
    assert "word error rate" in first.line() and "1 recording(s) could not be transcribed" in first.line()


def test_word_error_rate_is_jiwers_on_normalised_text():
    import jiwer

    wer, n = word_error_rate(["I am so happy.", "leave me alone", ""], ["i am so sad", "leave me alone", "x"])
    assert n == 2 and wer == pytest.approx(
        jiwer.wer(["i am so happy", "leave me alone"], ["i am so sad", "leave me alone"])
    )
    assert word_error_rate(["", " ", "..."], ["a", "b", "c"]) == (None, 0)
    # hypotheses without words: every reference word is an error, and jiwer is not handed an empty string
    assert word_error_rate(["i am happy", "go away"], ["", "..."]) == (1.0, 2)


@pytest.mark.slow
def test_gold_and_asr_text_side_by_side_in_a_benchmark(whisper, tmp_path):
    from emoframe.bench.runner import run_benchmark
    from emoframe.plugin.registry import get_registry
    from emoframe.results.leaderboard import leaderboard
    from emoframe.results.store import ResultsStore
    from emoframe.spec import parse_spec, validate

    spec = parse_spec(
        {
            "data": {
                "corpus": {"name": "demo", "params": {"speakers": 4, "per_class": 2}},
                "transcriber": {"name": "transformers.whisper", "params": {"model": str(whisper), "max_new_tokens": 4}},
            },
            "evaluation": {"folds": 2, "bootstrap": 50},
            "branches": {
                "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg", "transcripts": ["gold", "asr"]}
            },
        }
    )
    validate(spec, get_registry())
    outcome = run_benchmark(spec, workdir=tmp_path / "wd", jobs=1)
    store = ResultsStore(tmp_path / "wd" / "results.db", readonly=True)
    rows = {r.pipeline: r for r in leaderboard(store, outcome.run_id)}
    run = store.run(outcome.run_id)
    store.close()
    assert set(rows) == {"sklearn.tfidf→sklearn.logreg", "sklearn.tfidf (ASR text)→sklearn.logreg"}
    assert all(r.status == "done" for r in rows.values()), rows
    (asr,) = run["asr"]
    assert asr["transcriber"] == "transformers.whisper" and asr["wer"] is not None and asr["rows"] == 32
    # the gold-text pipeline learns the demo's emotional words; random-weight ASR text cannot
    assert rows["sklearn.tfidf→sklearn.logreg"].uar > rows["sklearn.tfidf (ASR text)→sklearn.logreg"].uar
    again = run_benchmark(spec, workdir=tmp_path / "wd", jobs=1, fresh=True)
    assert again.run_id == outcome.run_id


@pytest.mark.slow
def test_a_bundle_transcribes_recordings_that_come_without_a_transcript(whisper, tmp_path):
    import emoframe
    from emoframe.deploy.inputs import collect
    from emoframe.deploy.train import train_bundle
    from emoframe.spec import parse_spec

    spec = parse_spec(
        {
            "data": {
                "corpus": {"name": "demo", "params": {"speakers": 4, "per_class": 2}},
                "transcripts": "asr:transformers.whisper",
                "transcriber": {"name": "transformers.whisper", "params": {"model": str(whisper), "max_new_tokens": 4}},
            },
            "branches": {"text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"}},
        }
    )
    outcome = train_bundle(spec, tmp_path / "bundle", workdir=tmp_path / "wd", jobs=1)
    meta = (outcome.path / "bundle.json").read_text()
    assert '"transcriber"' in meta and '"asr"' in meta  # the transcriber and the training WER are recorded
    model = emoframe.load(str(outcome.path))
    sf.write(tmp_path / "new.wav", synthetic_utterance(1.2, 16000, 7), 16000)
    (tmp_path / "told.wav").write_bytes((tmp_path / "new.wav").read_bytes())
    (tmp_path / "told.txt").write_text("i am so happy today", encoding="utf-8")
    inputs = collect([str(tmp_path / "new.wav"), str(tmp_path / "told.wav")])
    result = model.predict_manifest(inputs.manifest)
    assert not result.failures and not inputs.problems
    assert sorted(r["transcript_source"] for r in result.records) == ["asr", "given"]
    told = next(r for r in result.records if r["transcript_source"] == "given")
    assert told["transcript"] == "i am so happy today"
    heard = next(r for r in result.records if r["transcript_source"] == "asr")
    expected = transcriber(whisper, max_new_tokens=4).transcribe(synthetic_utterance(1.2, 16000, 7)).text
    assert heard["transcript"] == expected


def test_new_weights_under_the_same_name_make_a_new_run(tmp_path):
    from tiny import make_tiny_audio

    from emoframe.bench.runner import run_key
    from emoframe.plugin.registry import get_registry
    from emoframe.spec import parse_spec, pipelines_of

    whisper = make_tiny_whisper_asr(tmp_path / "whisper", seed=0)
    wavlm = make_tiny_audio(tmp_path / "wavlm", "wavlm", seed=0)
    spec = parse_spec(
        {
            "data": {"corpus": "demo", "transcripts": "asr:transformers.whisper"},
            "branches": {
                "audio": {"extractor": {"name": "transformers.audio_encoder", "params": {"model": str(wavlm)}},
                          "model": "sklearn.logreg"},
                "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
            },
            "fusion": "fusion.late",
        }
    )  # fmt: skip
    spec = spec.model_copy(
        update={"data": spec.data.model_copy(update={"transcriber": spec.data.transcriber.model_copy(
            update={"params": {"model": str(whisper)}})})}
    )  # fmt: skip
    registry = get_registry()

    def key() -> str:
        return run_key(spec, [], pipelines_of(spec, registry), registry)

    first = key()
    assert key() == first
    make_tiny_whisper_asr(tmp_path / "whisper", seed=1)
    second = key()
    assert second != first
    make_tiny_audio(tmp_path / "wavlm", "wavlm", seed=1)
    assert key() not in (first, second)


@pytest.mark.gpu
@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs CUDA")
def test_on_the_gpu_the_text_is_the_cpus(whisper):
    xs = [synthetic_utterance(1.0 + 0.5 * i, 16000, i) for i in range(3)]
    cpu = transcriber(whisper, device="cpu").transcribe_batch(xs)
    gpu = transcriber(whisper, device="cuda").transcribe_batch(xs)
    assert [t.text for t in gpu] == [t.text for t in cpu]
    assert all(isinstance(t.text, str) for t in transcriber(whisper, device="cuda", half=True).transcribe_batch(xs))


def test_a_transcriber_failing_on_too_many_rows_fails_as_a_whole(whisper, tmp_path):
    from emoframe.features.transcripts import add_transcripts
    from emoframe.plugin.registry import get_registry
    from emoframe.spec import ComponentRef

    manifest = _manifest(tmp_path)
    (tmp_path / "u2.wav").write_bytes(b"RIFF not a wav")  # 1 of 6 rows: 16.7%
    ref = ComponentRef(name="transformers.whisper", params={"model": str(whisper), "max_new_tokens": 4})
    out, report, failed = add_transcripts(ref, manifest, get_registry(), max_failure_share=0.02)
    assert failed is not None and "could not transcribe 1 of 6 recordings (16.7%" in failed
    assert list(out.frame["asr_text"])[2] == "" and set(report.failures) == {"u2"}
    assert add_transcripts(ref, manifest, get_registry(), max_failure_share=0.5)[2] is None
    missing = ComponentRef(name="transformers.whisper", params={"model": str(tmp_path / "nowhere")})
    assert "does not exist" in add_transcripts(missing, manifest, get_registry())[2]
