"""Issue 12: `emoframe new plugin` writes a distribution that installs, passes its tests and runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from emoframe.cli import main

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_scaffold_installs_passes_its_tests_and_runs_a_pipeline(tmp_path):
    made = CliRunner().invoke(main, ["new", "plugin", "acme", "--out", str(tmp_path)])
    assert made.exit_code == 0, made.output
    dist = tmp_path / "emoframe-acme"
    site = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(dist),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(dist / "tests")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    # 13: the fusion's checks include check_explain (issue 30)
    assert tests.returncode == 0 and "13 passed" in tests.stdout, tests.stdout + tests.stderr
    listed = subprocess.run([sys.executable, "-m", "emoframe", "plugins"], capture_output=True, text=True, env=env)
    assert all(n in listed.stdout for n in ("acme.level", "acme.nearest_mean", "acme.product")), listed.stdout

    from emoframe.data.synth import generate

    corpus = generate(tmp_path / "corpus", seed=0, speakers=3, per_class=2)
    spec = {
        "data": {"manifest": str(corpus / "manifest.csv")},
        "evaluation": {"protocol": "loso", "bootstrap": 20},
        "branches": {
            "audio": {"extractor": "acme.level", "model": "acme.nearest_mean"},
            "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
        },
        "fusion": "acme.product",
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "emoframe",
            "run",
            str(tmp_path / "spec.yaml"),
            "-j",
            "1",
            "--workdir",
            str(tmp_path / "wd"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "acme.product" in ran.stdout and "UAR" in ran.stdout


def test_scaffold_refuses_a_used_folder_and_a_bad_name(tmp_path):
    (tmp_path / "emoframe-acme").mkdir()
    (tmp_path / "emoframe-acme" / "mine.txt").write_text("keep")
    runner = CliRunner()
    used = runner.invoke(main, ["new", "plugin", "acme", "--out", str(tmp_path)])
    assert used.exit_code == 2 and "not empty" in used.output
    assert (tmp_path / "emoframe-acme" / "mine.txt").read_text() == "keep"
    bad = runner.invoke(main, ["new", "plugin", "Acme-Corp", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "not a plugin name" in bad.output
    kinds = runner.invoke(main, ["new", "plugin", "x", "--kinds", "model,video", "--out", str(tmp_path)])
    assert kinds.exit_code == 2 and "--kinds takes" in kinds.output
