"""The specs we ship (examples/ and the demo's) validate against the installed plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

from emoframe.plugin.registry import Registry
from emoframe.spec import load_spec, pipelines_of

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "examples").glob("*.yaml")) + [ROOT / "emoframe" / "bench" / "demo.yaml"]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_shipped_spec_is_valid(path):
    registry = Registry.from_entry_points()
    if "emodb" in path.name and not (ROOT.parent / "shared" / "data" / "emodb").is_dir():
        pytest.skip("refers to ../shared/data/emodb")
    spec = load_spec(path, registry)
    assert pipelines_of(spec, registry)


def test_demo_covers_the_seed_combinations():
    registry = Registry.from_entry_points()
    labels = " ".join(p.label() for p in pipelines_of(load_spec(SPECS[-1], registry), registry))
    for part in (
        "opensmile.egemaps→sklearn.svc",
        "opensmile.egemaps_lld→torch.cnn",
        "opensmile.egemaps_lld→torch.lstm",
        "sklearn.tfidf→sklearn.svc",
        "vader.scores→vader.rules",
        "transformers.embed→sklearn.logreg",
        "fusion.early",
        "fusion.late",
        "fusion.stacking",
        "fusion.gated",
    ):
        assert part in labels, part
