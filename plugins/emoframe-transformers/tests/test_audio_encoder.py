"""transformers.audio_encoder on tiny random-weight encoders of every family, loaded the way a user's are."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import AUDIO_FAMILIES, make_tiny_audio

from emoframe import ComponentError
from emoframe.features.cache import ExtractorKey
from emoframe.testing import check_extractor, synthetic_utterance
from emoframe_transformers.audio import AudioEncoder


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio-models")
    out = {fam: make_tiny_audio(root / fam, fam) for fam in AUDIO_FAMILIES}
    out["wav2vec2-group"] = make_tiny_audio(root / "wav2vec2-group", "wav2vec2", norm="group")
    return out


def signals(n: int = 3) -> list[np.ndarray]:
    return [synthetic_utterance(1.0 + 0.35 * i, 16000, i) for i in range(n)]


@pytest.mark.parametrize("family", AUDIO_FAMILIES)
@pytest.mark.parametrize(
    ("layers", "combine", "pooling", "kind", "shape"),
    [
        ("last", "stack", "mean", "vector", (32,)),
        (1, "stack", "mean+std", "vector", (64,)),
        ("all", "stack", "mean", "layers", (3, 32)),
        ([0, -1], "stack", "mean+std", "layers", (2, 64)),
        ("all", "mean", "mean", "vector", (32,)),
        ([1, 2], "concat", "mean", "vector", (64,)),
        ("last", "stack", "none", "sequence", (None, 32)),
        ("all", "mean", "none", "sequence", (None, 32)),
    ],
)
def test_shapes_per_layer_choice_and_pooling(models, family, layers, combine, pooling, kind, shape):
    e = AudioEncoder(model=str(models[family]), layers=layers, combine=combine, pooling=pooling)
    assert e.output == kind == AudioEncoder.output_for(e.params)
    out = e.extract(synthetic_utterance(1.5, 16000, 0))
    dims = 16 if family == "whisper" else 32  # the tiny Whisper is 16 wide
    expected = tuple(None if s is None else s * dims // 32 if i == len(shape) - 1 else s for i, s in enumerate(shape))
    assert out.dtype == np.float32 and out.ndim == len(expected)
    assert all(e_ is None or a == e_ for a, e_ in zip(out.shape, expected)), (out.shape, expected)
    if kind == "sequence":
        assert 70 <= out.shape[0] <= 76  # 1.5 s at 20 ms a frame
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("family", [*AUDIO_FAMILIES, "wav2vec2-group"])
def test_a_batch_equals_one_by_one(models, family):
    e = AudioEncoder(model=str(models[family]), layers="all", pooling="mean+std", batch_size=8)
    xs = signals(4)
    batch = e.extract_batch(xs)
    for b, x in zip(batch, xs):
        np.testing.assert_allclose(b, e.extract(x), atol=1e-4)


def test_no_chunk_is_a_sliver_too_short_for_the_encoder(models):
    e = AudioEncoder(model=str(models["wav2vec2-group"]), pooling="none", chunk_seconds=2, overlap_seconds=0)
    x = synthetic_utterance(2.005, 16000, 3)  # 2 s and 80 samples: a naive split leaves 5 ms
    out = e.extract(x)
    assert out.shape[0] == AudioEncoder(model=str(models["wav2vec2-group"]), pooling="none").extract(x).shape[0]


@pytest.mark.parametrize("family", ["wavlm", "whisper"])
def test_a_70_second_recording_is_chunked_and_stitched_not_truncated(models, family):
    e = AudioEncoder(model=str(models[family]), pooling="none", chunk_seconds=20, overlap_seconds=2)
    long = np.concatenate([synthetic_utterance(1.75, 16000, i) for i in range(40)])  # 70 s
    out = e.extract(long)
    assert abs(out.shape[0] - 70 * 50) <= 2  # every 20 ms frame of 70 s, once
    # by hand: chunks of 20 s every 18 s, the last one ending at the end (50–70 s); each keeps its frames
    # up to 1 s into the overlap with the next
    m = e._load()
    from emoframe_transformers.audio import forward

    parts, hop, keep = [], 320, 50
    starts = [0, 18 * 16000, 36 * 16000, 50 * 16000]
    for n, s in enumerate(starts):
        h = forward(m, [long[s : s + 20 * 16000]], [m["n_layers"]])[0][0]
        lo = 0 if n == 0 else keep
        hi = (starts[n + 1] - s) // hop + keep if n + 1 < len(starts) else len(h)
        parts.append(h[lo:hi])
    np.testing.assert_allclose(out, np.concatenate(parts), atol=1e-4)
    pooled = AudioEncoder(model=str(models[family]), chunk_seconds=20, overlap_seconds=2).extract(long)
    np.testing.assert_allclose(pooled, out.mean(0), atol=1e-4)


def test_deterministic_and_picklable(models):
    check_extractor(AudioEncoder, {"model": str(models["wavlm"]), "layers": "all"})
    a = AudioEncoder(model=str(models["hubert"])).extract(signals(1)[0])
    b = AudioEncoder(model=str(models["hubert"])).extract(signals(1)[0])
    np.testing.assert_array_equal(a, b)


def test_the_cache_key_changes_with_the_weights_not_the_batch_size(tmp_path):
    folder = make_tiny_audio(tmp_path / "m", "wavlm", seed=0)
    key = ExtractorKey.of(AudioEncoder(model=str(folder))).digest()
    assert ExtractorKey.of(AudioEncoder(model=str(folder), batch_size=2, device="cpu")).digest() == key
    assert ExtractorKey.of(AudioEncoder(model=str(folder), layers=1)).digest() != key
    make_tiny_audio(folder, "wavlm", seed=1)  # other weights, same folder and name
    assert ExtractorKey.of(AudioEncoder(model=str(folder))).digest() != key


def test_a_model_not_on_disk_says_how_to_get_it():
    e = AudioEncoder(model="microsoft/wavlm-base-plus-not-cached-here")
    with pytest.raises(ComponentError) as err:
        e.warmup()
    msg = str(err.value)
    assert "not on this machine" in msg and "allow_download: true" in msg
    assert "huggingface-cli download microsoft/wavlm-base-plus-not-cached-here" in msg
    with pytest.raises(ComponentError, match="does not exist"):
        AudioEncoder(model="./no/such/folder").identity()


def test_a_folder_without_a_model_and_a_layer_that_does_not_exist(models, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ComponentError, match="no config.json"):
        AudioEncoder(model=str(tmp_path / "empty")).warmup()
    with pytest.raises(ComponentError, match="layer 7 does not exist.*0…2"):
        AudioEncoder(model=str(models["wav2vec2"]), layers=7).extract(signals(1)[0])


def test_parameters_that_cannot_go_together_are_refused():
    from emoframe import ParamsError

    with pytest.raises(ParamsError, match="stacked layers need pooling"):
        AudioEncoder(layers="all", pooling="none")
    with pytest.raises(ParamsError, match="overlap_seconds"):
        AudioEncoder(chunk_seconds=4, overlap_seconds=2)


def test_extraction_through_the_engine_caches_and_shares_the_model(models, tmp_path):
    import pandas as pd
    import soundfile as sf

    from emoframe.data.manifest import Manifest
    from emoframe.features.cache import FeatureCache
    from emoframe.features.extract import extract_features

    rows = []
    for i, s in enumerate(signals(5)):
        sf.write(tmp_path / f"u{i}.wav", s, 16000)
        rows.append({"id": f"u{i}", "audio": str(tmp_path / f"u{i}.wav"), "text": "", "label": "a", "speaker": "s"})
    manifest = Manifest.from_frame(pd.DataFrame(rows), "tiny")
    e = AudioEncoder(model=str(models["wavlm"]), layers="all", batch_size=2)
    cache = FeatureCache(tmp_path / "cache")
    first = extract_features(e, manifest, jobs=1, cache=cache)
    again = extract_features(AudioEncoder(model=str(models["wavlm"]), layers="all"), manifest, jobs=1, cache=cache)
    assert first.misses == 5 and again.hits == 5 and again.misses == 0
    for a, b in zip(first.features, again.features):
        np.testing.assert_array_equal(a, b)
    assert first.features[0].shape == (3, 32)


@pytest.mark.gpu
@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs CUDA")
def test_on_the_gpu_with_and_without_half_precision(models):
    x = signals(2)
    cpu = AudioEncoder(model=str(models["wavlm"]), device="cpu").extract_batch(x)
    gpu = AudioEncoder(model=str(models["wavlm"]), device="cuda").extract_batch(x)
    half = AudioEncoder(model=str(models["wavlm"]), device="cuda", half=True).extract_batch(x)
    for c, g, h in zip(cpu, gpu, half):
        np.testing.assert_allclose(g, c, atol=1e-3)
        np.testing.assert_allclose(h, c, atol=5e-2)
