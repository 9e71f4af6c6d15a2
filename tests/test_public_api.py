"""Issue 12: one public API for plugin authors; a name that disappears breaks this test first."""

from __future__ import annotations

import emoframe

PUBLIC = {
    "Component",
    "ComponentError",
    "Corpus",
    "DataError",
    "EarlyFusion",
    "EmoframeError",
    "FeatureExtractor",
    "Fusion",
    "LateFusion",
    "Model",
    "NameConflictError",
    "Params",
    "ParamsError",
    "PluginCallError",
    "Registry",
    "SpecError",
    "UnknownComponentError",
    "__version__",
    "align_proba",
    "balanced_accuracy",
    "check_feature",
    "check_probabilities",
    "check_probas",
    "get_registry",
    "hookimpl",
    "inner_folds",
    "inner_split",
}


def test_every_public_name_is_there():
    assert PUBLIC <= set(emoframe.__all__), sorted(PUBLIC - set(emoframe.__all__))
    for name in PUBLIC:
        assert hasattr(emoframe, name), name


def test_the_checks_of_the_testing_module_are_importable():
    from emoframe.testing import check_extractor, check_fusion, check_model, parametrize_with_checks  # noqa: F401
