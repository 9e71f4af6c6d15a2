"""extract_shared's steps one by one: index the inputs → read the cache → what is pending → compute → results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emoframe.data.manifest import Manifest
from emoframe.errors import ComponentError
from emoframe.features import FeatureCache
from emoframe.features.cache import ExtractorKey
from emoframe.features.extract import (
    cached_features,
    compute_pending,
    extract_shared,
    extraction_result,
    pending_samples,
    shared_jobs,
)
from emoframe.features.samples import index_samples

from . import toy_plugin
from .audio_files import tone, write_wav


@pytest.fixture
def manifest(tmp_path):
    """Five rows: u0 and u1 share one file, u2 and u3 their own, u4 a file that is not there."""
    a, b, c = (write_wav(tmp_path / f"{n}.wav", tone(0.3 + 0.1 * i, freq=150 + 60 * i)) for i, n in enumerate("abc"))
    audio = [a, a, b, c, tmp_path / "gone.wav"]
    frame = pd.DataFrame(
        {"id": [f"u{i}" for i in range(5)], "audio": [str(p) for p in audio], "text": "t", "label": "x", "speaker": "s"}
    )
    c.with_name("gone.wav").write_bytes(c.read_bytes())
    m = Manifest.from_frame(frame)
    (tmp_path / "gone.wav").unlink()
    return m


def key(extractor):
    return [ExtractorKey.of(extractor).digest()]


def test_shared_jobs_refuses_fitted_extractors_and_caps_at_max_workers():
    with pytest.raises(ComponentError, match="fitted per fold"):
        shared_jobs([toy_plugin.Words()], 2)

    class Single(toy_plugin.Energy):
        max_workers = 1

    assert shared_jobs([toy_plugin.Energy()], 3) == 3 and shared_jobs([Single()], 3) == 1
    with pytest.raises(ComponentError, match="cannot share a pass"):
        shared_jobs([toy_plugin.Energy(), toy_plugin.Frames()], 1)


def test_index_samples_groups_identical_inputs_and_records_unreadable_rows(manifest):
    energy = toy_plugin.Energy()
    index = index_samples(manifest, energy, key(energy))
    assert len(index.samples) == 3 and index.unreadable == {4: "file not found"}
    first = next(iter(index.samples.values()))
    assert first.row == 0 and index.rows(first) == [0, 1] and len(first.keys) == 1


def test_cached_features_checks_entries_and_pending_keeps_only_what_is_missing(manifest, tmp_path):
    energy = toy_plugin.Energy()
    index = index_samples(manifest, energy, key(energy))
    cache = FeatureCache(tmp_path / "cache")
    samples = list(index.samples.values())
    cache.put(energy.name, samples[0].keys[0], np.ones(4, dtype=np.float32))
    cache.put(energy.name, samples[1].keys[0], np.full(4, np.nan, dtype=np.float32))  # damaged: NaN
    found = cached_features([energy], index, cache)
    assert list(found[0]) == [samples[0].row] and cache.corrupt == 1
    todo = pending_samples([energy], index, found, batch=1)
    assert [s.row for s in todo] == [s.row for s in samples[1:]]


def test_compute_pending_in_process_then_results_spread_to_rows_sharing_an_input(manifest):
    energy = toy_plugin.Energy()
    index = index_samples(manifest, energy, key(energy))
    found = cached_features([energy], index, None)
    todo = pending_samples([energy], index, found, batch=1)
    values: list[dict] = [{}]
    failures: list[dict] = [dict(index.unreadable)]
    done: list = []
    assert compute_pending([energy], todo, 1, None, None, 1, values, failures, done.append) == []
    assert set(values[0]) == {s.row for s in todo} and done[-1] == 3
    result = extraction_result(energy, 0, manifest.frame["id"].tolist(), index, found[0], values[0], failures[0], todo)
    assert result.ids == ["u0", "u1", "u2", "u3"] and result.failures == {"u4": "file not found"}
    np.testing.assert_array_equal(result.features[0], result.features[1])
    assert result.misses == 3 and result.reused == 1 and result.hits == 0


def test_extraction_result_fails_a_sample_of_another_width_by_name(manifest):
    energy = toy_plugin.Energy()
    index = index_samples(manifest, energy, key(energy))
    rows = [s.row for s in index.samples.values()]
    got = {rows[0]: np.ones(4), rows[1]: np.ones(4), rows[2]: np.ones(5)}
    result = extraction_result(energy, 0, manifest.frame["id"].tolist(), index, {}, got, {}, [])
    assert result.ids == ["u0", "u1", "u2"] and "output width must not change" in result.failures["u3"]


def test_the_steps_compose_into_extract_shared(manifest, tmp_path):
    cache = FeatureCache(tmp_path / "cache")
    first = extract_shared([toy_plugin.Energy()], manifest, jobs=1, cache=cache)[0]
    again = extract_shared([toy_plugin.Energy()], manifest, jobs=1, cache=cache)[0]
    assert first.ids == again.ids == ["u0", "u1", "u2", "u3"]
    assert (first.hits, first.misses, again.hits, again.misses) == (0, 3, 4, 0)
