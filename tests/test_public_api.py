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
#: the notebook API (issue 31): the workflow of the CLI as functions, and the stored run they return
NOTEBOOK = {"validate", "bench", "run", "runs", "open_run", "extract", "Run"}


def test_every_public_name_is_there():
    assert PUBLIC | NOTEBOOK <= set(emoframe.__all__), sorted(PUBLIC | NOTEBOOK - set(emoframe.__all__))
    for name in PUBLIC | NOTEBOOK:
        assert hasattr(emoframe, name), name


def test_the_notebook_api_is_typed_and_documented():
    import inspect

    for name in NOTEBOOK - {"Run"}:
        obj = getattr(emoframe, name)
        assert inspect.getdoc(obj), name
        assert inspect.signature(obj).return_annotation is not inspect.Signature.empty, name
    assert inspect.getdoc(emoframe.Run) and inspect.isclass(emoframe.Run)


def test_bench_is_the_function_and_the_subpackage_stays_reachable():
    """``emoframe.bench`` (the function) shares its name with the subpackage ``emoframe.bench``: importing
    the subpackage keeps the function in place, and the subpackage's modules stay reachable through it."""
    import importlib
    import inspect

    import emoframe.bench.events

    assert inspect.signature(emoframe.bench).parameters["workdir"].kind is inspect.Parameter.KEYWORD_ONLY
    assert emoframe.bench.events is importlib.import_module("emoframe.bench.events")


def test_the_checks_of_the_testing_module_are_importable():
    from emoframe.testing import check_extractor, check_fusion, check_model, parametrize_with_checks  # noqa: F401
