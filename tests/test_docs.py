"""Every hook and every built-in component is documented (datasette's test_docs idea)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emoframe.plugin import hookspecs, kinds
from emoframe.plugin.registry import Registry

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("hook", sorted(hookspecs.HOOK_KINDS))
def test_hook_is_documented(hook):
    assert f"`{hook}(register)`" in (DOCS / "plugins.md").read_text()
    assert getattr(hookspecs, hook).__doc__


@pytest.mark.parametrize("kind", [k.name for k in kinds.TABLE])
def test_the_hooks_table_and_the_rules_follow_the_table_of_kinds(kind):
    """docs/plugins.md is derived from plugin.kinds: each kind's hook row says what it registers, and
    each of its conformance checks is explained under "The rules the checks enforce"."""
    row = kinds.BY_NAME[kind]
    text = (DOCS / "plugins.md").read_text()
    assert f"| `{row.hook}(register)` | {row.registers} |" in text
    rules = text.split("## The rules the checks enforce", 1)[1].split("\n## ", 1)[0]
    for check in ("check_registrable", "check_rebuildable_by_workers", *row.checks):
        assert f"**{check}**" in rules, f"docs/plugins.md explains no rule {check}"


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


def test_the_plugin_tutorial_runs_as_written(tmp_path):
    """docs/plugins.md's Python blocks, run in order as one module: the guide cannot drift from the code."""
    import re
    import sys
    import types

    import yaml

    import emoframe
    from emoframe.spec import check as check_spec
    from emoframe.spec import parse_spec
    from emoframe.testing import checks_for

    text = (DOCS / "plugins.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 3
    module = types.ModuleType("acme_tutorial")
    sys.modules["acme_tutorial"] = module
    try:
        code = "\n".join(b for b in blocks if "@parametrize_with_checks" not in b)
        exec(compile(code, "docs/plugins.md", "exec"), module.__dict__)
        for name in ("PeakLevel", "NearestMean", "ProductOfExperts", "LetterShares"):
            cls = getattr(module, name)
            cls.__module__, cls.__qualname__ = "acme_tutorial", name
            for rule in checks_for(cls):
                rule(cls)
        registry: emoframe.Registry = module.__dict__["registry"]
        assert not [p for p in registry.broken if p.name == "acme"]
        doc = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", text, flags=re.S)[0])  # the spec of step 3
        assert check_spec(parse_spec(doc), registry) == []
    finally:
        sys.modules.pop("acme_tutorial", None)


def test_the_deploy_example_runs_as_written(tmp_path, monkeypatch):
    """docs/deploy.md's Python example, run in an empty folder: train, load, predict."""
    import re

    text = (DOCS / "deploy.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "docs/deploy.md", "exec"), {})
    assert (tmp_path / "bundle" / "bundle.json").is_file()
