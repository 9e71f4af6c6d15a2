"""The components against emoframe's rules: one test per (component, check)."""

from emoframe.testing import parametrize_with_checks

from emoframe_example.plugin import Level, NearestMean, ProductOfExperts


@parametrize_with_checks([Level, NearestMean, ProductOfExperts])
def test_conformance(component, check):
    check(component)
