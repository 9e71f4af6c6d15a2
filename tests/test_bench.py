"""The benchmark runner: resumable and loss-free, failures recorded, executors agree, work shared."""

from __future__ import annotations

import dataclasses
import json
import signal
import sqlite3
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import emoframe
from emoframe.bench.runner import run_benchmark
from emoframe.cli import main
from emoframe.errors import EmoframeError
from emoframe.pipeline import Branch
from emoframe.plugin.registry import Registry
from emoframe.results.leaderboard import leaderboard, to_csv, to_json, to_markdown
from emoframe.results.report import write_report
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec

from . import toy_plugin

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from emoframe.data.synth import generate

    root = tmp_path_factory.mktemp("bench")
    generate(root / "demo", seed=2, speakers=6, per_class=2)
    return root / "demo" / "manifest.csv"


def bench_doc(manifest: Path, protocol: str = "loso") -> dict:
    return {
        "name": "mini",
        "data": {"manifest": str(manifest)},
        "evaluation": {"protocol": protocol, "folds": 3, "bootstrap": 100},
        "branches": {
            "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.logreg"},
            "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
        },
        "fusion": ["fusion.late", "fusion.vote", {"name": "fusion.late", "params": {"weights": "learned"}}],
    }


def fold_rows(db: Path) -> dict[tuple[str, int], dict]:
    con = sqlite3.connect(db)
    rows = {}
    for pid, fold, result in con.execute("SELECT pipeline_id, fold, result FROM folds"):
        r = json.loads(result)
        for timing in ("fit_s", "predict_s"):
            r.pop(timing)
        rows[(pid, fold)] = r
    con.close()
    return rows


def test_killed_benchmark_resumes_to_the_same_store(corpus, tmp_path):
    spec = tmp_path / "bench.yaml"
    spec.write_text(yaml.safe_dump(bench_doc(corpus)))
    cmd = [sys.executable, "-m", "emoframe", "bench", str(spec), "--jobs", "1"]
    full = subprocess.run(cmd + ["--workdir", str(tmp_path / "full")], capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    expected = fold_rows(tmp_path / "full" / "results.db")
    assert len(expected) == 5 * 6  # 3 fused + 2 baselines, 6 speakers (loso)

    wd = tmp_path / "killed"
    proc = subprocess.Popen(cmd + ["--workdir", str(wd)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = wd / "results.db"
    deadline = time.time() + 120
    seen = 0
    while time.time() < deadline and proc.poll() is None:
        try:
            seen = sqlite3.connect(db).execute("SELECT COUNT(*) FROM folds").fetchone()[0] if db.exists() else 0
        except sqlite3.OperationalError:
            seen = 0
        if 0 < seen < len(expected):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    partial = fold_rows(db)
    assert 0 < len(partial) < len(expected), "the kill did not land mid-run"
    assert all(partial[k] == expected[k] for k in partial)  # what was stored is complete and right
    again = subprocess.run(cmd + ["--workdir", str(wd)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"{len(partial)} reused from the store" in again.stdout
    assert fold_rows(db) == expected  # no fold lost, none duplicated


class Broken(toy_plugin.Centroid):
    """A model whose fit always raises."""

    name = "broken.model"

    def fit(self, X, y, groups=None):
        raise RuntimeError("licence server unreachable")


def test_failing_plugin_is_recorded_and_the_rest_completes(corpus, tmp_path, registry):
    import types

    mod = types.ModuleType("brokenplugin")

    @emoframe.hookimpl
    def register_models(register):
        register(Broken)

    mod.register_models = register_models
    registry.add_plugin(mod, name="broken")
    reg = Registry.from_entry_points()
    reg.add_plugin(mod, name="broken")
    doc = bench_doc(corpus, "speaker_kfold")
    doc["branches"]["audio"]["model"] = ["sklearn.logreg", "broken.model"]
    spec = parse_spec(doc)
    outcome = run_benchmark(spec, reg, tmp_path, jobs=1)
    store = ResultsStore(tmp_path / "results.db")
    rows = leaderboard(store, outcome.run_id)
    failed = [r for r in rows if r.status == "failed"]
    done = [r for r in rows if r.status == "done"]
    assert failed and all("broken.model" in r.pipeline for r in failed)
    assert all("licence server unreachable" in r.errors[0] for r in failed)
    assert {r.pipeline for r in done} >= {"opensmile.egemaps→sklearn.logreg", "sklearn.tfidf→sklearn.logreg"}
    assert len(done) == 5 and all(r.folds == "3/3" for r in done)
    assert len(outcome.errors) == len(failed) * 3
    store.close()


def test_dask_executor_gives_the_local_leaderboard(corpus, tmp_path):
    spec = parse_spec(bench_doc(corpus, "speaker_kfold"))
    reg = Registry.from_entry_points()
    local = run_benchmark(spec, reg, tmp_path / "local", jobs=1)
    dask = run_benchmark(spec, reg, tmp_path / "dask", jobs=2, executor="dask")
    a = leaderboard(ResultsStore(tmp_path / "local" / "results.db"), local.run_id)
    b = leaderboard(ResultsStore(tmp_path / "dask" / "results.db"), dask.run_id)
    keys = ("pipeline", "uar", "uar_std", "uar_ci_low", "uar_ci_high", "wa", "fusion_gain", "gap", "confusion")
    assert [{k: r.to_record().get(k) for k in keys} for r in a] == [{k: r.to_record().get(k) for k in keys} for r in b]


def test_late_fusions_share_branch_training(corpus, tmp_path, monkeypatch):
    log = tmp_path / "fits.log"  # fold tasks run in worker processes: count through a file
    original = Branch.fit

    def counting(self, manifest, provider, progress=None, probabilities_used=True):
        with open(log, "a") as f:
            f.write(self.key + "\n")
        return original(self, manifest, provider, progress, probabilities_used)

    monkeypatch.setattr(Branch, "fit", counting)
    doc = bench_doc(corpus, "speaker_kfold")
    doc["fusion"] = [
        "fusion.late",
        {"name": "fusion.late", "params": {"weights": "learned"}},
        "fusion.stacking",
        "fusion.gated",
        "fusion.vote",
    ]
    outcome = run_benchmark(parse_spec(doc), Registry.from_entry_points(), tmp_path, jobs=1)
    assert not outcome.errors
    fits = log.read_text().split()
    # per fold: each of the 2 branches once, plus once per inner fold (3) for the out-of-fold probabilities,
    # whatever the number of fusions (5) and baselines (2) that use them
    assert len(fits) == 3 * 2 * (1 + 3)


def test_report_is_self_contained_html_with_images(corpus, tmp_path, monkeypatch):
    spec = parse_spec(bench_doc(corpus, "speaker_kfold"))
    outcome = run_benchmark(spec, Registry.from_entry_points(), tmp_path, jobs=1)
    store = ResultsStore(tmp_path / "results.db")
    path = write_report(store, outcome.run_id, tmp_path / "report")

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.imgs, self.rows, self.text = [], 0, []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.imgs.append(dict(attrs))
            if tag == "tr":
                self.rows += 1

        def handle_data(self, data):
            self.text.append(data)

    import base64

    parser, why = Collect(), Collect()
    # issue 30's section counted on its own: the page before it and after it (cost, spec, versions) apart
    page, rest = path.read_text().split("<h2 id='why'>Why: attribution</h2>")
    attribution, after = rest.split("<h2 id='cost'>")
    parser.feed(page + after)
    why.feed(attribution)
    text = " ".join(parser.text)
    assert parser.rows == 2 * (1 + 5)  # header + 5 pipelines: the leaderboard and the cost table (issue 28)
    pngs = [base64.b64decode(i["src"].split(",", 1)[1]) for i in parser.imgs]
    # UAR, gain, 5 confusions, accuracy against cost (no model trained by epochs: no training curves)
    assert len(pngs) == 2 + 5 + 1 and all(p.startswith(b"\x89PNG") for p in pngs)
    assert len(why.imgs) == 3 * 2  # per fused pipeline: reliance bars and feature-group importance
    assert "Did fusion help?" in text and "fusion" in text
    assert list(tmp_path.joinpath("report").iterdir()) == [path]  # nothing else needed
    rows = leaderboard(store, outcome.run_id)
    assert to_csv(rows).count("\n") == 6 and json.loads(to_json(rows))[0]["pipeline"]
    assert to_markdown(rows).count("\n") == 7

    # the same run and figures again (a warm rerun): the file is kept, nothing is drawn
    from emoframe.results import report as report_module

    before = path.read_bytes()

    def no_drawing(fig):
        raise AssertionError("drew the report again")

    monkeypatch.setattr(report_module, "_png", no_drawing)
    assert write_report(store, outcome.run_id, tmp_path / "report", rows) == path and path.read_bytes() == before
    monkeypatch.undo()
    changed = [dataclasses.replace(rows[0], uar=rows[0].uar - 0.01), *rows[1:]]  # other figures: another report
    write_report(store, outcome.run_id, tmp_path / "report", changed)
    assert path.read_bytes() != before
    path.write_text("edited by hand")  # not emoframe's any more (issue 26 §3): replaced only with force
    with pytest.raises(EmoframeError, match=r"index.html exists and emoframe did not write it.*--force"):
        write_report(store, outcome.run_id, tmp_path / "report", rows)
    assert path.read_text() == "edited by hand"
    write_report(store, outcome.run_id, tmp_path / "report", rows, force=True)
    assert path.read_bytes() == before
    store.close()


def test_results_and_report_commands(corpus, tmp_path):
    spec = tmp_path / "bench.yaml"
    spec.write_text(yaml.safe_dump(bench_doc(corpus, "speaker_kfold")))
    runner = CliRunner()
    first = runner.invoke(main, ["bench", str(spec), "--workdir", str(tmp_path), "--jobs", "1"])
    assert first.exit_code == 0, first.output
    assert "fusion" in first.output and "report:" in first.output
    again = runner.invoke(main, ["bench", str(spec), "--workdir", str(tmp_path), "--jobs", "1"])
    assert "0 pipeline-fold(s) run, 15 reused from the store" in again.output
    md = runner.invoke(main, ["results", "--workdir", str(tmp_path), "--format", "markdown", "--fused"])
    assert md.exit_code == 0 and md.output.count("\n") == 2 + 3
    csv = runner.invoke(main, ["results", "--workdir", str(tmp_path), "--format", "csv", "--sort", "name"])
    assert csv.output.splitlines()[0].startswith("rank,id,pipeline,n,coverage,uar,uar_ci_low")
    out = runner.invoke(main, ["report", "--workdir", str(tmp_path), "--out", str(tmp_path / "r")])
    assert out.exit_code == 0 and (tmp_path / "r" / "index.html").exists()
    fresh = runner.invoke(main, ["bench", str(spec), "--workdir", str(tmp_path), "--jobs", "1", "--fresh"])
    assert "15 pipeline-fold(s) run, 0 reused" in fresh.output
    missing = runner.invoke(main, ["results", "--workdir", str(tmp_path / "empty")])
    assert missing.exit_code == 2 and "no results" in missing.output


def test_robustness_sweep_degrades_the_touched_pipelines_only(corpus, tmp_path):
    doc = bench_doc(corpus, "speaker_kfold")
    doc["fusion"] = ["fusion.late"]
    doc["robustness"] = {"snr_db": [0], "noise": ["white"], "word_dropout": [0.8]}
    outcome = run_benchmark(parse_spec(doc), Registry.from_entry_points(), tmp_path, jobs=1)
    assert not outcome.errors
    rows = {r.pipeline: r.robustness for r in leaderboard(ResultsStore(tmp_path / "results.db"), outcome.run_id)}
    audio = rows["opensmile.egemaps→sklearn.logreg"]
    text = rows["sklearn.tfidf→sklearn.logreg"]
    assert set(audio) == {"white@0dB"} and set(text) == {"dropout@0.8"}  # each only where it touches the input
    assert audio["white@0dB"]["delta"] < -0.05  # strong noise hurts: perturbed predictions are not the clean ones
    assert text["dropout@0.8"]["delta"] < 0
    fused = next(v for k, v in rows.items() if "fusion.late" in k)
    assert set(fused) == {"white@0dB", "dropout@0.8"} and fused["white@0dB"]["rows"] == 48
    # no copy of the corpus: noise is mixed in as the audio is read, only features are cached
    assert not list(tmp_path.rglob("*.wav")) and not (tmp_path / "perturbed").exists()
    from emoframe.features import FeatureCache

    before = FeatureCache(tmp_path / "cache").info()["opensmile.egemaps"]["entries"]
    assert before == 2 * 48  # each clean row and its noisy copy, one entry each
    again = run_benchmark(parse_spec(doc), Registry.from_entry_points(), tmp_path, jobs=1, fresh=True)
    assert not again.errors  # the noisy features came from the cache: nothing new was written
    assert FeatureCache(tmp_path / "cache").info()["opensmile.egemaps"]["entries"] == before
