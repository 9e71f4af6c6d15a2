"""Every component of emoframe-vader against emoframe's rules: one test per (component, check)."""

from __future__ import annotations

from emoframe.plugin.registry import Registry
from emoframe.testing import parametrize_with_checks
from emoframe_vader.components import VaderScores, ValenceRules

COMPONENTS = [VaderScores, ValenceRules]
FAST: dict[type, dict] = {}


def test_every_registered_component_is_checked():
    registry = Registry.from_entry_points()
    registered = {registry.get(n).cls for kind in ("extractor", "model") for n in registry.names(kind)}
    assert {c for c in registered if c.__module__.startswith("emoframe_vader.")} == set(COMPONENTS)


@parametrize_with_checks(COMPONENTS, FAST)
def test_conformance(component, check):
    check(component)
