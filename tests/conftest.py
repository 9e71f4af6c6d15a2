from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from emoframe.plugin.registry import Registry

from . import toy_plugin

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def registry() -> Registry:
    """Built-ins from entry points plus the toy plugin, registered programmatically."""
    reg = Registry.from_entry_points(allow=[])
    reg.add_plugin(toy_plugin, name="toy")
    return reg


@pytest.fixture
def make_dist(tmp_path, monkeypatch):
    """Install a plugin distribution as entry-point metadata on sys.path (no core change)."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def make(dist: str, module: str, source: str, ep_name: str | None = None, version: str = "0.1") -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[emoframe]\n{ep_name or module} = {module}\n")
        sys.modules.pop(module, None)
        return site

    yield make


@pytest.fixture
def code_plugin(tmp_path, monkeypatch):
    """A plugin package on disk whose code a test edits (tests/code_plugin.py); forgotten afterwards."""
    from . import code_plugin as cp

    root = tmp_path / "plugin-src"
    cp.write(root)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # an edit within the same second is read, not a .pyc
    yield root
    cp.forget()
