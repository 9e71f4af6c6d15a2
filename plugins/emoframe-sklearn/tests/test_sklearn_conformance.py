"""Every component of emoframe-sklearn against emoframe's rules: one test per (component, check)."""

from __future__ import annotations

from emoframe.plugin.registry import Registry
from emoframe.testing import parametrize_with_checks
from emoframe_sklearn.models import MLP, SVC, LogReg, RandomForest
from emoframe_sklearn.tfidf import Tfidf

COMPONENTS = [SVC, LogReg, RandomForest, MLP, Tfidf]
#: small settings so the checks stay fast; behaviour is the same code path
FAST: dict[type, dict] = {RandomForest: {"n_estimators": 20}, MLP: {"max_iter": 50}}


def test_every_registered_component_is_checked():
    registry = Registry.from_entry_points()
    registered = {registry.get(n).cls for kind in ("extractor", "model") for n in registry.names(kind)}
    assert {c for c in registered if c.__module__.startswith("emoframe_sklearn.")} == set(COMPONENTS)


@parametrize_with_checks(COMPONENTS, FAST)
def test_conformance(component, check):
    check(component)
