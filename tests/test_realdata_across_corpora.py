"""The shipped example across corpora, end to end: EmoDB (../shared/data) plus two synthetic corpora."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from emoframe.cli.main import main
from emoframe.results import corpora as rc
from emoframe.results.store import ResultsStore

from .conftest import ROOT, SHARED_DATA

EMODB = SHARED_DATA / "emodb"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.slow,
    pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason="../shared/data/emodb absent"),
]


def test_example_emodb_plus_two_synthetic_corpora_runs_end_to_end(tmp_path):
    doc = yaml.safe_load((ROOT / "examples" / "emodb-plus-synthetic.yaml").read_text())
    doc["data"][0]["corpus"]["params"]["root"] = str(EMODB)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(doc))
    wd = tmp_path / "wd"
    result = CliRunner().invoke(main, ["bench", str(spec), "--workdir", str(wd), "-j", "2"])
    assert result.exit_code == 0, result.output
    assert "cross-corpus matrix on angry, happy, neutral, sad" in result.output
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        (study_id,) = [r["id"] for r in store.runs() if rc.is_study(store, r["id"])]
        info, units = rc.study(store, study_id)  # type: ignore[misc]
        across = rc.across_corpora(store, study_id)
        cells = rc.matrix_cells(store, study_id)
        emodb_rows = rc.corpus_leaderboards(store, study_id)["emodb"]
    finally:
        store.close()
    assert all(u.status == "done" for u in units) and len(units) == 3 + 3 + 3
    assert info["cards"]["emodb"]["sample_rates"] == {"22050": 339}  # the four classes' files, 2 s at 22.05 kHz
    assert any("different sample rates" in n for n in info["notes"])
    assert len(across.rows) == 4 and across.ranks is not None and across.ranks.tested  # 4 pipelines, 3 corpora
    assert len(cells) == 4 * (3 + 6 + 3) and all(c.uar_ci_low <= c.uar <= c.uar_ci_high for c in cells)
    assert all(r.folds == "10/10" for r in emodb_rows)  # EmoDB's own protocol: leave one speaker out
    assert max(r.uar for r in emodb_rows if r.uar is not None) > 0.6  # 4 classes, chance 0.25
    ranked = CliRunner().invoke(main, ["rank", study_id, "--workdir", str(wd)])
    assert ranked.exit_code == 0 and "Friedman" in ranked.output
