"""The small rules beside the statistics, each against values worked out by hand: rows left out grouped by
reason, probability columns put in the run's class order, the transcript-overlap warning, the unimodal parts
a fusion is compared with."""

from __future__ import annotations

import numpy as np
import pytest

from emoframe.errors import ComponentError
from emoframe.evaluation.failures import FailureGroup, as_records, failure_records, group_failures
from emoframe.evaluation.overlap import normalise_text, overlap_warning, transcript_overlap
from emoframe.evaluation.proba import align_proba
from emoframe.evaluation.records import EvaluationResult
from emoframe.evaluation.summary import part_specs
from emoframe.spec import parse_spec


def test_a_reason_is_grouped_as_written_and_its_file_travels_beside_it():
    failures = [{"id": "a", "component": "x", "reason": "800 NaN/inf samples", "file": "/d/a.wav"}]
    failures += [{"id": "b", "component": "x", "reason": "800 NaN/inf samples", "file": "/d/b.wav"}]
    (g,) = group_failures(failures)  # no text taken apart: "/inf" is part of the reason, not a path
    assert (g.reason, g.count, g.examples) == ("800 NaN/inf samples", 2, ["a (/d/a.wav)", "b (/d/b.wav)"])


def test_failures_group_by_component_and_reason_largest_first():
    failures = [
        {"id": f"r{i}", "component": "x.audio", "reason": "file not found", "file": f"/d/{i}.wav"} for i in range(7)
    ]
    failures += [{"id": "t1", "component": "y.text", "reason": "empty"}, {"id": "t2", "component": "a", "reason": "z"}]
    failures += [{"id": "t3", "component": "y.text", "reason": "empty"}]
    groups = group_failures(failures)
    assert [(g.component, g.reason, g.count) for g in groups] == [
        ("x.audio", "file not found", 7),
        ("y.text", "empty", 2),
        ("a", "z", 1),
    ]
    assert groups[0].examples == [f"r{i} (/d/{i}.wav)" for i in range(5)]  # five kept, each with its file
    assert groups[1].examples == ["t1", "t3"]
    assert groups[0].line() == "x.audio: file not found — 7 row(s), e.g. r0 (/d/0.wav), r1 (/d/1.wav), r2 (/d/2.wav) …"
    assert groups[1].line() == "y.text: empty — 2 row(s), e.g. t1, t3"
    assert groups[1].line(n_examples=1) == "y.text: empty — 2 row(s), e.g. t1 …"
    assert groups[1].line(n_examples=2) == "y.text: empty — 2 row(s), e.g. t1, t3"  # all shown: no "…"
    assert group_failures([{"id": "q"}]) == [FailureGroup("?", "", 1, ["q"])]


def test_failure_records_keep_each_row_its_reason_and_its_file_or_none():
    """One record per row, in the rows' order; a row without a file (or no ``files`` at all) has file ""."""
    reasons = {"r2": "file not found", "r1": "800 NaN/inf samples", "r3": "empty transcript"}
    assert failure_records("librosa.mfcc", reasons, {"r2": "/d/2.wav", "r1": "/d/1.wav"}) == [
        {"id": "r2", "component": "librosa.mfcc", "reason": "file not found", "file": "/d/2.wav"},
        {"id": "r1", "component": "librosa.mfcc", "reason": "800 NaN/inf samples", "file": "/d/1.wav"},
        {"id": "r3", "component": "librosa.mfcc", "reason": "empty transcript", "file": ""},
    ]
    expected = [{"id": "r1", "component": "toy.words", "reason": "x", "file": ""}]
    assert failure_records("toy.words", {"r1": "x"}) == expected
    assert failure_records("toy.words", {"r1": "x"}, None) == expected
    assert failure_records("toy.words", {"r1": "x"}, {}) == expected
    assert failure_records("toy.words", {}) == []


def test_failures_of_an_older_store_read_as_records():
    assert as_records({"r1": "broken"}) == [{"id": "r1", "component": "?", "reason": "broken"}]
    assert as_records([{"id": "r1", "component": "c", "reason": "x"}]) == [
        {"id": "r1", "component": "c", "reason": "x"}
    ]
    assert as_records(None) == [] and as_records([]) == []


def test_probability_columns_follow_the_run_s_classes():
    P = np.array([[0.2, 0.8], [0.6, 0.4]])
    out = align_proba(P, ["sad", "angry"], ["angry", "happy", "sad"], "m")
    np.testing.assert_allclose(out, [[0.8, 0.0, 0.2], [0.4, 0.0, 0.6]])
    # a class the run does not have takes its mass with it; the rest is renormalised
    out = align_proba(np.array([[0.5, 0.25, 0.25]]), ["angry", "other", "sad"], ["angry", "sad"], "m")
    np.testing.assert_allclose(out, [[2 / 3, 1 / 3]])
    # nothing left for any of the run's classes: uniform, not a division by zero
    out = align_proba(np.array([[0.0, 1.0]]), ["angry", "other"], ["happy", "sad"], "m")
    np.testing.assert_allclose(out, [[0.5, 0.5]])
    with pytest.raises(ComponentError, match="m: predict_proba returned shape"):
        align_proba(np.ones((2, 3)) / 3, ["a", "b"], ["a", "b"], "m")


def test_transcript_overlap_counts_normalised_verbatim_repeats():
    assert normalise_text("  Kids ARE talking, by the door! ") == "kids are talking by the door"
    assert transcript_overlap(["a b.", " ", "c"], ["A b", "", "d", "c!"]) == (2, 3)
    assert overlap_warning(1, 20) is None  # 5%: not above the threshold
    assert overlap_warning(2, 20) == (
        "transcript overlap: 2 of 20 test transcripts (10%) occur verbatim in training; a text model can learn "
        "the script instead of the emotion (scripted corpora such as EmoDB, RAVDESS and CREMA-D repeat sentences "
        "across speakers)"
    )
    assert overlap_warning(0, 0) is None
    assert overlap_warning(3, 20, threshold=0.2) is None and overlap_warning(5, 20, threshold=0.2) is not None


def test_a_fusion_is_compared_with_its_own_branches():
    spec = parse_spec(
        {
            "data": {"corpus": "demo"},
            "evaluation": {"bootstrap": 7, "seed": 3},
            "branches": {
                "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
                "text": {"extractor": "toy.words"},
            },
            "fusion": "fusion.early",
            "model": {"name": "toy.centroid", "params": {"temperature": 2}},
        }
    )
    parts = part_specs(spec)
    assert sorted(parts) == ["audio", "text"]
    assert parts["audio"].branches["audio"].model.name == "toy.centroid"
    assert parts["audio"].branches["audio"].model.params == {}  # its own model, not the fusion's
    assert parts["text"].branches["text"].model.params == {"temperature": 2}  # the fusion's model, alone
    assert all(p.fusion is None and p.evaluation == spec.evaluation and p.data == spec.data for p in parts.values())
    unimodal = parse_spec({"data": {"corpus": "demo"}, "branches": {"audio": {"extractor": "toy.energy"}}})
    assert part_specs(unimodal) == {}


def test_a_result_serialises_every_field():
    r = EvaluationResult("p", {}, "loso", ["a"], [], {}, 0.5, 0.1, (0.4, 0.6), 0.0, 0.0, 1.0, 2.0)
    d = r.to_dict()
    assert d["pipeline"] == "p" and d["uar_ci"] == (0.4, 0.6) and d["warnings"] == [] and d["robustness"] == {}
