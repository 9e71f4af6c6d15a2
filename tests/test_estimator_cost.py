"""What a fit costs: calibration only where probabilities are read, warnings for slow-by-nature choices."""

from __future__ import annotations

import numpy as np
import pytest

from emoframe.plugin.registry import get_registry
from emoframe.spec import cost_warnings, parse_spec, pipelines_of
from emoframe.testing import toy_data


def svc(**params):
    return get_registry().create("sklearn.svc", params, kind="model")


def test_svc_calibrates_only_when_its_probabilities_are_read():
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    X, y, _ = toy_data("vector")
    read = svc().fit(X, y)
    assert isinstance(read.model_[-1], CalibratedClassifierCV)
    labels = svc()
    labels.probabilities_used = False
    labels.fit(X, y)
    assert type(labels.model_[-1]) is SVC  # one fit, no internal calibration folds
    P = labels.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1.0)
    # the SVC's own decision: its one-vs-one vote, ties broken by confidence
    voting = clone(labels.model_).set_params(svc__break_ties=True).fit(X, y)
    np.testing.assert_array_equal(labels.classes_[P.argmax(1)], voting.predict(X))
    forced = svc(probabilities="platt")
    forced.probabilities_used = False
    assert isinstance(forced.fit(X, y).model_[-1], CalibratedClassifierCV)


def test_svc_scores_for_two_classes():
    X, y, _ = toy_data("vector")
    keep = np.isin(y, ["happy", "sad"])
    model = svc(probabilities="scores").fit(X[keep], y[keep])
    P = model.predict_proba(X[keep])
    assert P.shape == (keep.sum(), 2)
    np.testing.assert_array_equal(model.classes_[P.argmax(1)], model.model_.predict(X[keep]))  # two classes: no ties


def _benchmark(branches, **extra):
    return parse_spec(
        {"data": {"corpus": "demo"}, "evaluation": {"protocol": "speaker_kfold", "folds": 2}, "branches": branches}
        | extra
    )


def test_a_kernel_svc_on_tfidf_is_warned_about_with_the_width():
    reg = get_registry()
    slow = _benchmark({"text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"}})
    (note,) = cost_warnings(pipelines_of(slow, reg), reg, 4000)
    assert "rbf kernel on 4000 rows of sparse features up to 20000 columns" in note and "sklearn.logreg" in note
    assert cost_warnings(pipelines_of(slow, reg), reg, 480) == []  # small: a kernel SVC is fine
    linear_svc = {"name": "sklearn.svc", "params": {"kernel": "linear"}}
    linear = _benchmark({"text": {"extractor": "sklearn.tfidf", "model": linear_svc}})
    assert cost_warnings(pipelines_of(linear, reg), reg, 4000) == []
    dense = _benchmark({"audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"}})
    assert cost_warnings(pipelines_of(dense, reg), reg, 4000) == []
    early = parse_spec(
        {
            "data": {"corpus": "demo"},
            "branches": {"audio": {"extractor": "opensmile.egemaps"}, "text": {"extractor": "sklearn.tfidf"}},
            "fusion": "fusion.early",
            "model": "sklearn.svc",
        }
    )
    assert len(cost_warnings([early], reg, 4000)) == 1


def test_validate_warns_with_the_size_of_the_manifest(tmp_path):
    import yaml
    from click.testing import CliRunner

    from emoframe.cli import main

    from .text_corpus import rotated, write_text_corpus

    write_text_corpus(tmp_path / "t.csv", 10, 110, lambda s, label, k: rotated(label, k))  # 2200 rows
    spec = tmp_path / "spec.yaml"
    branches = {"text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"}}
    spec.write_text(yaml.safe_dump({"data": {"manifest": "t.csv"}, "branches": branches}))
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "on 2200 rows of sparse features" in result.output


@pytest.mark.slow
def test_in_a_benchmark_unimodal_svc_is_one_fit_and_a_late_fusion_branch_is_calibrated(tmp_path):
    """Through the runner: the labels-only pipeline fits one SVC, the fused one calibrates its branch."""
    from emoframe.bench.evaluate import plan as make_plan
    from emoframe.bench.evaluate import run_fold
    from emoframe.pipeline import FeatureProvider, FoldWork

    from .text_corpus import rotated, write_text_corpus

    path = write_text_corpus(tmp_path / "t.csv", 4, 8, lambda s, label, k: rotated(label, k))
    reg = get_registry()
    spec = parse_spec(
        {
            "data": {"manifest": str(path)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 2},
            "branches": {
                "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
                "text_b": {"modality": "text", "extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
            },
            "fusion": "fusion.late",
        }
    )
    unimodal = parse_spec(
        {
            "data": {"manifest": str(path)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 2},
            "branches": {"text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"}},
        }
    )
    provider = FeatureProvider(reg)
    p = make_plan(spec, reg, provider, [])
    train, test = p.splits[0]
    work = FoldWork()
    run_fold(unimodal, 1, train, test, p.classes, reg, provider, work)
    run_fold(spec, 1, train, test, p.classes, reg, provider, work)
    fitted = {
        (b.key, b.model.probabilities_used): type(b.model.model_[-1]).__name__
        for b in work._branches.values()
        if b.model_ref is not None and b.model_ref.name == "sklearn.svc"
    }
    assert fitted == {("text", False): "SVC", ("text", True): "CalibratedClassifierCV"}
