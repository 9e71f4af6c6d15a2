"""Issue 11: every figure on the rows it claims, every run findable, every row labelled."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from emoframe.bench.runner import run_benchmark
from emoframe.cli import main
from emoframe.evaluation.records import FoldResult
from emoframe.evaluation.stats import bootstrap_ci
from emoframe.evaluation.summary import summarise
from emoframe.plugin import registry as registry_module
from emoframe.plugin.registry import Registry
from emoframe.results.leaderboard import leaderboard, to_csv, to_json, to_markdown
from emoframe.results.store import ResultsStore
from emoframe.spec import load_spec, parse_spec, pipelines_of

from . import fault_plugin, toy_plugin
from .text_corpus import rotated, write_text_corpus

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """Text-only: 6 speakers × 2 classes × 4 utterances; "boom" in 2 of 48 rows, "bright" in every happy one."""
    boom = {(0, "happy", 0), (3, "sad", 2)}
    return write_text_corpus(
        tmp_path_factory.mktemp("integrity") / "manifest.csv",
        6,
        4,
        lambda s, label, k: f"{rotated(label, k)} {k}" + (" boom" if (s, label, k) in boom else ""),
    )


@pytest.fixture
def reg() -> Registry:
    r = Registry.from_entry_points(allow=[])
    r.add_plugin(toy_plugin, name="toy")
    r.add_plugin(fault_plugin, name="fault")
    return r


def grid(manifest: Path, trigger: str | None = None, share: float = 0.02):
    branches: dict = {"text": {"extractor": "toy.words", "model": "toy.centroid"}}
    if trigger:
        bad = {
            "extractor": {"name": "fault.text", "params": {"mode": "nan", "trigger": trigger}},
            "model": "toy.centroid",
        }
        branches = {"text": [branches["text"], bad]}
    return parse_spec(
        {
            "name": "integrity",
            "kind": "benchmark",
            "data": {"manifest": str(manifest)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 3, "bootstrap": 50, "max_failure_share": share},
            "branches": branches,
        }
    )


def rows_of(wd: Path, run_id: str) -> dict[str, dict]:
    store = ResultsStore(wd / "results.db", readonly=True)
    try:
        return {r.pipeline: r.to_record() for r in leaderboard(store, run_id)}  # the exported record
    finally:
        store.close()


HEALTHY = "toy.words→toy.centroid"


def test_a_failed_component_takes_no_rows_from_anyone_else(manifest, reg, tmp_path):
    alone = run_benchmark(grid(manifest), reg, tmp_path / "alone", jobs=1)
    reference = rows_of(tmp_path / "alone", alone.run_id)[HEALTHY]
    out = run_benchmark(grid(manifest, trigger="bright"), reg, tmp_path / "with", jobs=1)  # fails on the 24 happy rows
    rows = rows_of(tmp_path / "with", out.run_id)
    healthy = rows[HEALTHY]
    for key in ("n", "uar", "uar_ci_low", "uar_ci_high", "uar_fold_mean", "wa", "macro_f1"):
        assert healthy[key] == reference[key], key  # exactly the figures it has without the broken extractor
    assert healthy["n"] == 48 and healthy["coverage"] == 1.0
    failed = next(r for name, r in rows.items() if "fault.text" in name)
    assert failed["status"] == "failed"
    message = failed["errors"][0]
    assert "fault.text" in message and "24 of 48 rows" in message and "NaN" in message, message


def test_an_odd_bad_row_is_left_out_of_every_pipeline_and_counted(manifest, reg, tmp_path):
    out = run_benchmark(grid(manifest, trigger="boom", share=0.1), reg, tmp_path, jobs=1)  # 2 of 48 < 10%
    rows = rows_of(tmp_path, out.run_id)
    assert {r["n"] for r in rows.values()} == {46}
    assert {round(r["coverage"], 4) for r in rows.values()} == {round(46 / 48, 4)}
    runner = CliRunner()
    listed = runner.invoke(main, ["failures", "--format", "json", "--workdir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    records = json.loads(listed.output)
    assert sorted(r["what"] for r in records if r["kind"] == "row") == ["s0_happy_0", "s3_sad_2"]
    assert all("fault.text" in r["component"] for r in records if r["kind"] == "row")


def test_headline_interval_and_sort_key_are_one_estimand():
    """Unbalanced folds: the fold mean can sit outside the pooled CI; the headline is the pooled UAR."""
    classes = ["a", "b"]
    folds = []
    big_t = ["a"] * 100 + ["b"] * 100
    big_p = ["a"] * 55 + ["b"] * 45 + ["b"] * 55 + ["a"] * 45  # 0.55
    small_t, small_p = ["a", "b"] * 5, ["a", "b"] * 5  # 1.0 on 10 rows
    for f, (t, p) in enumerate([(big_t, big_p), (small_t, small_p), (small_t, small_p)], start=1):
        folds.append(
            FoldResult(
                fold=f,
                test_ids=[f"{f}-{i}" for i in range(len(t))],
                y_true=t,
                y_pred=p,
                proba=[[0.5, 0.5]] * len(t),
                train_uar=1.0,
                test_uar=1.0 if f > 1 else 0.55,
                fit_s=0,
                predict_s=0,
            )
        )
    spec = parse_spec(
        {
            "data": {"corpus": "demo"},
            "evaluation": {"bootstrap": 500},
            "branches": {"text": {"extractor": "toy.words", "model": "toy.centroid"}},
        }
    )
    r = summarise(spec, folds, classes)
    lo, hi = r.uar_ci
    assert lo <= r.metrics["uar"] <= hi  # the interval contains its headline
    assert not lo <= r.uar_mean <= hi  # the fold mean (0.85) would not have been
    assert (lo, hi) == bootstrap_ci(big_t + small_t * 2, big_p + small_p * 2, classes, n=500, seed=0)


def test_run_is_recorded_in_the_store_like_bench(manifest, tmp_path, monkeypatch, registry):
    monkeypatch.setattr(registry_module, "_default", registry)
    pipeline = {
        "name": "one pipeline",
        "data": {"manifest": str(manifest)},
        "evaluation": {"protocol": "speaker_kfold", "folds": 3, "bootstrap": 20},
        "branches": {"text": {"extractor": "toy.words", "model": "toy.centroid"}},
    }
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(pipeline))
    (tmp_path / "b.yaml").write_text(
        yaml.safe_dump(
            {
                **pipeline,
                "name": "a grid",
                "branches": {
                    "text": {
                        "extractor": "toy.words",
                        "model": ["toy.centroid", {"name": "toy.centroid", "params": {"temperature": 3}}],
                    }
                },
            }
        )
    )
    runner = CliRunner()
    wd = str(tmp_path / "wd")
    ran = runner.invoke(main, ["run", str(tmp_path / "p.yaml"), "-j", "1", "--workdir", wd])
    assert ran.exit_code == 0, ran.output
    assert "pooled over n = 48 (100%)" in ran.output and "stored as run" in ran.output
    assert not (tmp_path / "wd" / "runs").exists()
    assert runner.invoke(main, ["bench", str(tmp_path / "b.yaml"), "-j", "1", "--workdir", wd]).exit_code == 0
    listed = json.loads(runner.invoke(main, ["runs", "--format", "json", "--workdir", wd]).output)
    assert {(r["name"], r["kind"], r["status"]) for r in listed} == {
        ("one pipeline", "run", "complete"),
        ("a grid", "bench", "complete"),
    }
    for name in ("one pipeline", "a grid"):
        shown = runner.invoke(main, ["results", "--run", name, "--workdir", wd])
        assert shown.exit_code == 0 and "n (coverage)" in shown.output and "48 (100%)" in shown.output
        assert runner.invoke(main, ["report", name, "--out", str(tmp_path / name), "--workdir", wd]).exit_code == 0
    compared = runner.invoke(
        main, ["compare", "a grid", "toy.words→toy.centroid", "toy.words→toy.centroid(temperature=3)", "--workdir", wd]
    )
    assert compared.exit_code == 0, compared.output
    assert "UAR points [" in compared.output and "on 48 shared rows" in compared.output
    missing = runner.invoke(main, ["compare", "a grid", "toy.words→toy.centroid", "nope", "--workdir", wd])
    assert missing.exit_code == 2, missing.output
    grid = next(r["id"] for r in listed if r["name"] == "a grid")
    forms = (
        "give a leaderboard rank (1 = the best), a pipeline id (at least 4 of its hex characters) "
        "or the pipeline's exact label, as `emoframe results` shows them"
    )
    lines = missing.output.splitlines()
    assert lines[:2] == [f"error: no pipeline 'nope' in run {grid[:12]}; {forms}", "error: candidates:"], lines
    board = json.loads(runner.invoke(main, ["results", "--run", grid, "--format", "json", "--workdir", wd]).output)
    candidates = [f"error:   #{r['rank']:<4}{r['short_id']}  {r['pipeline']}  (UAR {r['uar']:.3f})" for r in board]
    assert lines[2:] == candidates and [r["rank"] for r in board] == [1, 2]
    vague = runner.invoke(main, ["compare", "a grid", "toy.words", "nope", "--workdir", wd])
    assert vague.exit_code == 2, vague.output
    assert vague.output.splitlines()[0] == (
        f"error: no pipeline 'toy.words' in run {grid[:12]}; {forms} — did you mean one of these?"
    )
    assert vague.output.splitlines()[1:] == ["error: candidates:", *candidates]


def test_gain_is_in_points_in_every_export(manifest, tmp_path, registry):
    doc = {
        "name": "fused",
        "data": {"manifest": str(manifest)},
        "kind": "benchmark",
        "evaluation": {"protocol": "speaker_kfold", "folds": 3, "bootstrap": 50},
        "branches": {
            "text": {"extractor": "toy.words", "model": "toy.centroid"},
            "text_2": {
                "modality": "text",
                "extractor": "toy.words",
                "model": {"name": "toy.centroid", "params": {"temperature": 4}},
            },
        },
        "fusion": "fusion.late",
    }
    out = run_benchmark(parse_spec(doc), registry, tmp_path, jobs=1)
    store = ResultsStore(tmp_path / "results.db", readonly=True)
    rows = leaderboard(store, out.run_id)
    store.close()
    fused = next(r for r in rows if r.fused)
    assert fused.gain_ci_low_pts <= fused.gain_pts <= fused.gain_ci_high_pts
    as_csv = next(csv.DictReader(io.StringIO(to_csv([fused]))))
    assert "gain_pts" in as_csv and "fusion_gain" not in as_csv and float(as_csv["gain_pts"]) == fused.gain_pts
    assert json.loads(to_json([fused]))[0]["gain_pts"] == fused.gain_pts
    md = to_markdown([fused])
    assert "fusion gain pts" in md and f"{fused.gain_pts:+.1f}" in md


def test_labels_are_unique_in_the_demo_grid_and_every_example(registry):
    from importlib.resources import files

    full = Registry.from_entry_points()
    specs = [load_spec(Path(str(files("emoframe.bench") / "demo.yaml")))]
    specs += [load_spec(p) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    for spec in specs:
        labels = [p.label() for p in pipelines_of(spec, full)]
        assert len(labels) == len(set(labels)), [x for x in labels if labels.count(x) > 1]


def test_normalise_is_a_slot_like_any_other_and_shows_in_the_label(registry):
    spec = parse_spec(
        {
            "data": {"corpus": "demo"},
            "branches": {
                "audio": {"extractor": "toy.energy", "model": "toy.centroid", "normalise": ["none", "speaker"]}
            },
        }
    )
    labels = sorted(p.label() for p in pipelines_of(spec, registry))
    assert labels == ["toy.energy (speaker-norm)→toy.centroid", "toy.energy→toy.centroid"]


def test_one_manifest_check_for_every_command(tmp_path, monkeypatch, registry):
    monkeypatch.setattr(registry_module, "_default", registry)
    from emoframe.data.synth import generate

    corpus = generate(tmp_path / "c", seed=1, speakers=3, per_class=1)
    (corpus / "wav").joinpath(sorted(p.name for p in (corpus / "wav").iterdir())[0]).unlink()
    runner = CliRunner()
    info = runner.invoke(main, ["corpus", "info", "--manifest", str(corpus / "manifest.csv")])
    spec = {
        "data": {"manifest": str(corpus / "manifest.csv")},
        "evaluation": {"protocol": "loso", "bootstrap": 20, "max_failure_share": 0.1},
        "branches": {"audio": {"extractor": "toy.energy", "model": "toy.centroid"}},
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    ran = runner.invoke(main, ["run", str(tmp_path / "s.yaml"), "-j", "1", "--workdir", str(tmp_path / "wd")])
    assert info.exit_code == 0 and ran.exit_code == 0, (info.output, ran.output)
    message = next(line for line in info.output.splitlines() if "audio file not found" in line)
    assert ".wav" in message and message in ran.output  # the same words, with the path, in both
    assert "file not found — 1 row(s), e.g. " in ran.output and ".wav)" in ran.output  # that row, with its file


# -- issue 26 §2 and §3: bundles checked file by file and against the code they were trained with ---------


@pytest.fixture(scope="module")
def audio_corpus(tmp_path_factory) -> Path:
    from emoframe.data.synth import generate

    return generate(tmp_path_factory.mktemp("i26") / "corpus", seed=4, speakers=4, per_class=2) / "manifest.csv"


CC_PIPELINE = {
    "name": "cc",
    "branches": {"audio": {"extractor": "cc.energy", "model": "cc.centroid"}},
}


def train_cc(corpus: Path, root: Path, out: Path, force: bool = False) -> Path:
    from emoframe.deploy.train import train_bundle

    from . import code_plugin as cp

    spec = parse_spec({**CC_PIPELINE, "data": {"manifest": str(corpus)}})
    return train_bundle(spec, out, cp.registry(root), jobs=1, force=force).path


def predict_cli(monkeypatch, root: Path, bundle: Path, *args: str):
    from . import code_plugin as cp

    monkeypatch.setattr(registry_module, "_default", cp.registry(root))
    return CliRunner().invoke(main, ["predict", str(bundle), *args])


def test_a_bundle_on_edited_code_is_warned_about_by_name_and_refused_when_strict(
    audio_corpus, code_plugin, tmp_path, monkeypatch
):
    import emoframe
    from emoframe import BundleError
    from emoframe.deploy.bundle import BundleWarning
    from emoframe.deploy.predictor import Predictor

    from . import code_plugin as cp

    bundle = train_cc(audio_corpus, code_plugin, tmp_path / "b")
    wav = str(audio_corpus.parent / "wav" / sorted(p.name for p in (audio_corpus.parent / "wav").iterdir())[0])
    meta = json.loads((bundle / "bundle.json").read_text())
    assert all(len(e["code"]) == 64 for e in meta["components"])  # every component's code digest recorded
    clean = predict_cli(monkeypatch, code_plugin, bundle, wav, "--format", "json", "--strict")
    assert clean.exit_code == 0 and "warning" not in clean.output, clean.output
    cp.write(code_plugin, sharpness="4.0")  # the model's helper module edited, version "1" kept
    (note,) = Predictor.load(bundle, cp.registry(code_plugin)).warnings
    assert note.startswith("model 'cc.centroid': its code here differs from the code this bundle was trained with")
    with pytest.warns(BundleWarning, match=r"model 'cc.centroid': its code here differs .*version 1 unchanged"):
        emoframe.load(str(bundle), cp.registry(code_plugin))
    with pytest.raises(BundleError, match=r"(?s)refusing to load \(strict\).*model 'cc.centroid'"):
        emoframe.load(str(bundle), cp.registry(code_plugin), strict=True)
    warned = predict_cli(monkeypatch, code_plugin, bundle, wav, "--format", "json")
    assert warned.exit_code == 0 and "warning: model 'cc.centroid': its code here differs" in warned.output
    assert "cc.energy" not in warned.output.split("[")[0]  # only the component that changed is named
    refused = predict_cli(monkeypatch, code_plugin, bundle, wav, "--strict")
    assert refused.exit_code == 2 and "model 'cc.centroid'" in refused.output, refused.output
    served = CliRunner().invoke(main, ["serve", str(bundle), "--strict", "--port", "0"])  # refused before it starts
    assert served.exit_code == 2 and "refusing to load (strict)" in served.output, served.output


def test_an_extractor_whose_width_changed_is_named_not_the_model(audio_corpus, code_plugin, tmp_path, monkeypatch):
    from . import code_plugin as cp

    bundle = train_cc(audio_corpus, code_plugin, tmp_path / "b")
    assert json.loads((bundle / "bundle.json").read_text())["components"][0]["width"] == 4
    cp.write(code_plugin, extra="0.0, float(e.min())")  # features.py now gives 5 values per sample
    wav = str(next((audio_corpus.parent / "wav").iterdir()))
    result = predict_cli(monkeypatch, code_plugin, bundle, wav, "--no-cache")
    assert result.exit_code == 2, result.output
    assert "extractor 'cc.energy' (branch 'audio') gives 5 feature(s) per sample here but gave 4" in result.output
    assert "its code changed since the bundle was trained" in result.output
    assert "fitted on" not in result.output


def test_renaming_a_class_or_a_hyperparameter_in_bundle_json_is_refused(
    audio_corpus, code_plugin, tmp_path, monkeypatch
):
    import shutil

    bundle = train_cc(audio_corpus, code_plugin, tmp_path / "b")
    wav = str(next((audio_corpus.parent / "wav").iterdir()))
    for name, edit in (
        ("class", lambda text: text.replace('"sad"', '"SAD"')),
        ("hyperparameter", lambda text: text.replace('"protocol": "speaker_kfold"', '"protocol": "loso"')),
    ):
        copy = shutil.copytree(bundle, tmp_path / name)
        text = (copy / "bundle.json").read_text()
        assert edit(text) != text, name
        (copy / "bundle.json").write_text(edit(text))
        result = predict_cli(monkeypatch, code_plugin, copy, wav, "--format", "csv")
        assert result.exit_code == 2, (name, result.output)
        assert "bundle.json: changed since emoframe wrote it" in result.output and "SAD" not in result.output


def test_a_bundle_from_before_digests_loads_with_a_warning_and_strict_refuses(audio_corpus, code_plugin, tmp_path):
    """Format 1 (bundle.json lists the state files' sha256, nothing covers bundle.json) stays readable."""
    from emoframe import BundleError
    from emoframe.deploy.bundle import SUMS, _sha256
    from emoframe.deploy.predictor import Predictor
    from emoframe.ownership import MARKER

    from . import code_plugin as cp

    bundle = train_cc(audio_corpus, code_plugin, tmp_path / "b")
    (bundle / SUMS).unlink()
    meta = json.loads((bundle / "bundle.json").read_text())
    meta["format"] = 1
    for e in meta["components"]:
        e.pop("code"), e.pop("width", None)
    meta["files"] = {
        p.relative_to(bundle).as_posix(): _sha256(p)
        for p in bundle.rglob("*")
        if p.is_file() and p.name not in ("bundle.json", MARKER)
    }
    (bundle / "bundle.json").write_text(json.dumps(meta))
    model = Predictor.load(bundle, cp.registry(code_plugin))
    assert len(model.warnings) == 1 and "bundle format 1" in model.warnings[0]
    with pytest.raises(BundleError, match="refusing to load \\(strict\\)"):
        Predictor.load(bundle, cp.registry(code_plugin), strict=True)
    (bundle / "bundle.json").write_text(json.dumps({**meta, "format": 2}))  # claims the new format: needs its sums
    with pytest.raises(BundleError, match="bundle.sha256: missing"):
        Predictor.load(bundle, cp.registry(code_plugin))


def test_train_force_replaces_only_bundle_files_that_still_hold_what_emoframe_wrote(
    audio_corpus, code_plugin, tmp_path
):
    import shutil

    from emoframe import BundleError
    from emoframe.ownership import MARKER

    bundle = train_cc(audio_corpus, code_plugin, tmp_path / "b")
    train_cc(audio_corpus, code_plugin, bundle, force=True)  # its own bundle, unchanged: replaced
    user = tmp_path / "user"
    shutil.copytree(bundle, user)  # a bundle's marker and digest list copied beside a user's own files
    (bundle / "bundle.json").write_text((bundle / "bundle.json").read_text() + " ")  # edited since
    with pytest.raises(BundleError, match=r"bundle.json \(changed since emoframe wrote it\)"):
        train_cc(audio_corpus, code_plugin, bundle, force=True)
    (user / "bundle.json").write_text("my own notes")
    for f in user.rglob("state.json"):
        f.write_text("{}")
    before = {p: p.read_bytes() for p in user.rglob("*") if p.is_file()}
    with pytest.raises(BundleError, match="changed since emoframe wrote it"):
        train_cc(audio_corpus, code_plugin, user, force=True)
    assert {p: p.read_bytes() for p in user.rglob("*") if p.is_file()} == before and (user / MARKER).is_file()


# -- issue 26 §3: ownership markers record content; a report replaces only its own page -------------------


def test_a_copied_corpus_marker_does_not_let_synth_overwrite_a_users_manifest(tmp_path, monkeypatch, registry):
    import shutil

    from emoframe.data.synth import generate
    from emoframe.ownership import MARKER, OwnershipError

    ours = generate(tmp_path / "ours", seed=1, speakers=2, per_class=1)
    user = tmp_path / "user"
    shutil.copytree(ours, user)
    (user / "manifest.csv").write_text("id,audio,text,label,speaker\nmine,,my own data,happy,me\n")
    mine = (user / "manifest.csv").read_bytes()
    assert (user / MARKER).is_file()  # the marker came along with the copy
    result = CliRunner().invoke(main, ["corpus", "synth", "--out", str(user), "--speakers", "2", "--per-class", "1"])
    assert result.exit_code == 2 and "manifest.csv (changed since emoframe wrote it)" in result.output, result.output
    assert (user / "manifest.csv").read_bytes() == mine
    # the demo corpus does not read it as its own either: it would regenerate, and refuses instead
    monkeypatch.setattr(registry_module, "_default", registry)
    demo = registry.create("demo", {"root": str(user), "speakers": 2, "per_class": 1}, kind="corpus")
    with pytest.raises(OwnershipError, match=r"manifest.csv \(changed since emoframe wrote it\)"):
        demo.load()
    assert (user / "manifest.csv").read_bytes() == mine


def test_a_marker_from_before_digests_licenses_no_replacement(tmp_path):
    from emoframe.data.synth import generate
    from emoframe.ownership import MARKER, OwnershipError

    folder = generate(tmp_path / "old", seed=1, speakers=2, per_class=1)
    m = json.loads((folder / MARKER).read_text())
    m["files"] = sorted(m["files"])  # names only, as emoframe wrote markers before
    (folder / MARKER).write_text(json.dumps(m))
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with pytest.raises(OwnershipError, match="older emoframe without its digest"):
        generate(folder, seed=2, speakers=2, per_class=1)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    generate(tmp_path / "mine", seed=1, speakers=2, per_class=1)
    generate(tmp_path / "mine", seed=2, speakers=2, per_class=1)  # a marker with digests: replaced as before


def test_report_keeps_a_users_index_html_unless_forced(manifest, tmp_path, monkeypatch, registry):
    monkeypatch.setattr(registry_module, "_default", registry)
    out = run_benchmark(grid(manifest), registry, tmp_path / "wd", jobs=1)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html>my own home page</html>")
    runner = CliRunner()
    args = ["report", out.run_id, "--out", str(site), "--workdir", str(tmp_path / "wd")]
    refused = runner.invoke(main, args)
    assert refused.exit_code == 2 and "emoframe did not write it" in refused.output and "--force" in refused.output
    assert (site / "index.html").read_text() == "<html>my own home page</html>"
    forced = runner.invoke(main, [*args, "--force"])
    assert forced.exit_code == 0 and "emoframe report" in (site / "index.html").read_text()
    again = runner.invoke(main, args)  # a report emoframe wrote is redrawn without --force
    assert again.exit_code == 0, again.output
    bench_args = ["bench", "--report", str(tmp_path / "mine"), "-j", "1", "--workdir", str(tmp_path / "wd")]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "index.html").write_text("keep")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(grid(manifest).to_dict()))
    early = runner.invoke(main, [*bench_args[:1], str(tmp_path / "b.yaml"), *bench_args[1:]])
    assert early.exit_code == 2 and "emoframe did not write it" in early.output and "pipeline-fold" not in early.output
    assert "--report folder" in early.output and "pass --force" not in early.output  # bench has no --force
    assert (tmp_path / "mine" / "index.html").read_text() == "keep"
    (tmp_path / "dir" / "index.html").mkdir(parents=True)  # a folder where the page would go: bad input, not exit 1
    for extra in ([], ["--force"]):
        folder = runner.invoke(main, ["report", out.run_id, "--out", str(tmp_path / "dir"), *extra, *args[4:]])
        assert folder.exit_code == 2 and "index.html is a folder, not a report" in folder.output, folder.output
    assert (tmp_path / "dir" / "index.html").is_dir()
