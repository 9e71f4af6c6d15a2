"""Every hook and every built-in component is documented (datasette's test_docs idea)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emoframe import hookspecs
from emoframe.registry import Registry

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("hook", sorted(hookspecs.HOOK_KINDS))
def test_hook_is_documented(hook):
    assert f"`{hook}(register)`" in (DOCS / "plugins.md").read_text()
    assert getattr(hookspecs, hook).__doc__


def first_party_components():
    """Components of emoframe itself and of the distributions under plugins/."""
    reg = Registry.from_entry_points()
    return [c for c in reg.components() if c.distribution == "emoframe" or c.distribution.startswith("emoframe-")]


@pytest.mark.parametrize("name", [c.name for c in first_party_components()])
def test_first_party_component_is_documented(name):
    assert f"`{name}`" in (DOCS / "components.md").read_text()


def test_every_component_has_a_docstring_and_described_params():
    for c in first_party_components():
        assert c.summary, c.name
        for field, prop in c.params_schema().get("properties", {}).items():
            assert prop.get("description"), f"{c.name}.{field} has no description"
