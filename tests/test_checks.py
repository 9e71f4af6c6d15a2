"""Issue 12: emoframe.testing as a pytest plugin — one test per (component, check), rules named."""

from __future__ import annotations

import pytest

from emoframe.testing import check_model, checks_for, parametrize_with_checks

from . import contract_plugin, toy_plugin


@parametrize_with_checks([toy_plugin.Energy, toy_plugin.Frames, toy_plugin.Centroid])
def test_conformance(component, check):
    check(component)


def test_ids_read_as_component_and_check():
    mark = parametrize_with_checks([toy_plugin.Energy])
    ids = mark.kwargs["ids"]
    assert ids == [
        "Energy-check_registrable",
        "Energy-check_rebuildable_by_workers",
        "Energy-check_extractor",
        "Energy-check_roundtrip",
    ]


def test_a_raw_exception_becomes_the_rule_it_broke():
    """A model written without the rules raises AttributeError on predict-before-fit: the check says which rule."""
    rules = [c for c in parametrize_with_checks([contract_plugin.SklearnStyle]).args[1] if True]
    (_, rule) = rules[2]  # registrable, rebuildable, check_model, check_roundtrip
    with pytest.raises(AssertionError) as err:
        rule(contract_plugin.SklearnStyle)
    message = str(err.value)
    assert message.startswith("rule check_model broken by SklearnStyle: raised AttributeError")
    assert "docs/plugins.md#the-rules-the-checks-enforce" in message


def test_checks_apply_by_kind():
    assert check_model in checks_for(toy_plugin.Centroid)
    assert [c.__name__ for c in checks_for(toy_plugin.ToyCorpus)] == [
        "check_registrable",
        "check_rebuildable_by_workers",
    ]
