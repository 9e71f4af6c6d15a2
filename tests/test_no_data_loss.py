"""Issue 9 §1 and §5: emoframe deletes only what it created; no command touches a user's file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from emoframe.cli import main
from emoframe.data.synth import generate
from emoframe.ownership import MARKER, OwnershipError
from emoframe.plugin import registry as registry_module


@pytest.fixture
def cli(registry, monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def plant(folder: Path, n: int = 3) -> dict[str, str]:
    """Sentinel files (one in a subfolder); returns path → sha256 for later comparison."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sub").mkdir(exist_ok=True)
    for i in range(n):
        (folder / f"keep-{i}.txt").write_text(f"user data {i}")
    (folder / "sub" / "nested.txt").write_text("nested user data")
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_demo_root_pointing_at_a_user_folder_is_refused_by_validate_and_run(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "precious"
    before = plant(user)
    spec = {
        "data": {"corpus": {"name": "demo", "params": {"root": str(user), "speakers": 2, "per_class": 1}}},
        "branches": {"text": {"extractor": "toy.words", "model": "toy.centroid"}},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    checked = cli("validate", "spec.yaml")
    assert checked.exit_code == 2, checked.output
    assert "data.corpus.params" in checked.output and "emoframe did not create it" in checked.output
    ran = cli("run", "spec.yaml", "-j", "1", "--workdir", tmp_path / "wd")
    assert ran.exit_code == 2, ran.output
    assert snapshot(user) == before


def test_corpus_synth_into_the_current_folder_is_refused(cli, tmp_path, monkeypatch):
    before = plant(tmp_path / "cwd")
    monkeypatch.chdir(tmp_path / "cwd")
    result = cli("corpus", "synth", "--out", ".", "--speakers", "2", "--per-class", "1")
    assert result.exit_code == 2 and "refusing to write the synthetic corpus" in result.output
    assert snapshot(tmp_path / "cwd") == before


def test_synth_writes_into_new_or_empty_folders_and_replaces_only_its_own(tmp_path):
    generate(tmp_path / "new", seed=1, speakers=2, per_class=1)
    (tmp_path / "empty").mkdir()
    generate(tmp_path / "empty", seed=1, speakers=2, per_class=1)
    assert snapshot(tmp_path / "new") == snapshot(tmp_path / "empty")
    generate(tmp_path / "new", seed=2, speakers=2, per_class=1)  # ours: replaced
    assert snapshot(tmp_path / "new") != snapshot(tmp_path / "empty")
    (tmp_path / "new" / "wav" / "my-notes.txt").write_text("mine")
    with pytest.raises(OwnershipError, match="my-notes.txt"):
        generate(tmp_path / "new", seed=3, speakers=2, per_class=1)
    assert (tmp_path / "new" / "wav" / "my-notes.txt").read_text() == "mine"
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OwnershipError, match="not a folder"):
        generate(tmp_path / "afile", seed=1, speakers=2, per_class=1)


def test_a_marker_inside_a_user_folder_does_not_grant_deleting_it(tmp_path):
    """A copied or forged marker of another kind never licenses deletion."""
    user = tmp_path / "user"
    before = plant(user)
    (user / MARKER).write_text('{"owner": "emoframe", "kind": "feature-cache"}')
    with pytest.raises(OwnershipError):
        generate(user, seed=1, speakers=2, per_class=1)
    assert {k: v for k, v in snapshot(user).items() if k != MARKER} == before


def test_demo_corpus_from_before_markers_is_adopted_not_regenerated(registry, tmp_path):
    folder = generate(tmp_path / "old", seed=0, speakers=2, per_class=1)
    (folder / MARKER).unlink()  # as round 1 left it
    manifest = registry.create("demo", {"root": str(folder), "speakers": 2, "per_class": 1}, kind="corpus").load()
    assert len(manifest) == 8 and (folder / MARKER).is_file()


def test_cache_clear_takes_only_names_from_the_cache_index(cli, tmp_path):
    wd = tmp_path / "wd"
    outside = plant(tmp_path / "outside")
    inside = plant(wd / "mine")
    (wd / "results.db").write_bytes(b"pretend results")
    for name in (tmp_path / "outside", "..", ".", "../outside", "/", "mine"):
        result = cli("cache", "clear", "--extractor", name, "--workdir", wd)
        assert result.exit_code == 2, (name, result.output)
        assert "no cached features of" in result.output
    assert snapshot(tmp_path / "outside") == outside and snapshot(wd / "mine") == inside
    assert (wd / "results.db").read_bytes() == b"pretend results"


def test_cache_clear_all_leaves_foreign_files_in_the_cache_folder(cli, tmp_path):
    import numpy as np

    from emoframe.features import FeatureCache

    cache = FeatureCache(tmp_path / "wd" / "cache")
    cache.put("toy.energy", "ab" + "0" * 62, np.ones(3, dtype=np.float32))
    (tmp_path / "wd" / "cache" / "toy.energy" / "README.txt").write_text("my notes")
    other = plant(tmp_path / "wd" / "cache" / "not-ours")
    result = cli("cache", "clear", "--workdir", tmp_path / "wd")
    assert result.exit_code == 0 and "removed 1 cached entry" in result.output
    assert "left 1 file(s) emoframe did not write" in result.output
    assert (tmp_path / "wd" / "cache" / "toy.energy" / "README.txt").read_text() == "my notes"
    assert snapshot(tmp_path / "wd" / "cache" / "not-ours") == other


@pytest.mark.slow
def test_no_command_touches_a_sentinel_in_the_workdir_or_the_cwd(cli, tmp_path, monkeypatch):
    """Every command, run with a workdir and a cwd full of user files, leaves those files alone."""
    cwd, wd = tmp_path / "cwd", tmp_path / "wd"
    sentinels_cwd = plant(cwd)
    sentinels_wd = plant(wd)
    corpus = generate(tmp_path / "corpus", seed=0, speakers=3, per_class=1)
    monkeypatch.chdir(cwd)
    spec = {
        "name": "tiny",
        "data": {"manifest": str(corpus / "manifest.csv")},
        "evaluation": {"protocol": "loso", "bootstrap": 20},
        "branches": {
            "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
            "text": {"extractor": "toy.words", "model": "toy.centroid"},
        },
        "fusion": "fusion.late",
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    bench = {**spec, "fusion": ["fusion.late", "fusion.vote"]}
    bench_path = tmp_path / "bench.yaml"
    bench_path.write_text(yaml.safe_dump(bench))
    commands = [
        ("plugins",),
        ("schema",),
        ("validate", spec_path),
        ("validate", "--expand", bench_path),
        ("corpus", "info", "--manifest", corpus / "manifest.csv"),
        ("corpus", "synth", "--out", tmp_path / "synth", "--speakers", "2", "--per-class", "1"),
        ("corpus", "synth", "--out", cwd, "--speakers", "2", "--per-class", "1"),  # refused
        ("extract", "toy.energy", "--manifest", corpus / "manifest.csv", "-j", "1", "--workdir", wd),
        ("cache", "info", "--workdir", wd),
        ("run", spec_path, "-j", "1", "--workdir", wd),
        ("bench", bench_path, "-j", "1", "--workdir", wd, "--report", tmp_path / "report"),
        ("bench", bench_path, "-j", "1", "--workdir", wd, "--fresh", "--report", tmp_path / "report"),
        ("results", "--workdir", wd),
        ("results", "--format", "csv", "--workdir", wd),
        ("report", "--out", tmp_path / "report2", "--workdir", wd),
        ("cache", "clear", "--extractor", "toy.energy", "--workdir", wd),
        ("cache", "clear", "--extractor", cwd, "--workdir", wd),  # refused
        ("cache", "clear", "--workdir", wd),
    ]
    for args in commands:
        result = cli(*args)
        assert "Traceback" not in result.output and "internal error" not in result.output, (args, result.output)
        assert result.exit_code in (0, 2), (args, result.exit_code, result.output)
        assert snapshot(cwd) == sentinels_cwd, args
        assert {k: v for k, v in snapshot(wd).items() if k in sentinels_wd} == sentinels_wd, args
    assert set(os.listdir(cwd)) == {"keep-0.txt", "keep-1.txt", "keep-2.txt", "sub"}
