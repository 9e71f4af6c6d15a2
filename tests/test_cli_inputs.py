"""Issue 26 §4, the command line's share: a bad --scheduler or a busy port is bad input (exit 2, saying the
expected form), --scheduler implies the Dask executor and says so, library warnings come out as
emoframe's own lines, and `extract`'s counts add up."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml
from click.testing import CliRunner

from emoframe.bench.executors import choose_executor, scheduler_address
from emoframe.cli import main
from emoframe.deploy.train import train_bundle
from emoframe.errors import EmoframeError
from emoframe.plugin import registry as registry_module
from emoframe.spec import parse_spec

from .text_corpus import rotated, write_text_corpus

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(registry, monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args))

    return invoke


@pytest.fixture
def bench_spec(tmp_path: Path) -> Path:
    manifest = write_text_corpus(tmp_path / "manifest.csv", 4, 3, lambda s, label, k: rotated(label, k + s))
    spec = tmp_path / "bench.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "data": {"manifest": str(manifest)},
                "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 20},
                "branches": {"text": {"extractor": "toy.words", "model": "toy.centroid"}},
            }
        )
    )
    return spec


# -- --scheduler ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address, why",
    [
        ("not a url", "names no HOST:PORT"),
        ("tcp://", "names no HOST:PORT"),
        ("tcp://host", "names no HOST:PORT"),
        ("http://host:8786", "unknown scheme 'http://'"),
        ("tcp://host:0", "'0' is not a port"),
        ("tcp://host:70000", "'70000' is not a port"),
        ("tcp://a b:8786", "'a b' is not a host"),
        ("::1:8786", "'::1' is not a host"),
    ],
)
def test_a_bad_scheduler_is_bad_input_naming_the_form(cli, bench_spec, tmp_path, address, why):
    r = cli("bench", str(bench_spec), "--executor", "dask", "--scheduler", address, "--workdir", str(tmp_path / "wd"))
    assert r.exit_code == 2, r.output
    assert why in r.stderr and "tcp://HOST:PORT" in r.stderr and "internal error" not in r.output
    assert not (tmp_path / "wd" / "results.db").exists()  # refused before any work


def test_scheduler_addresses_dask_accepts_are_kept():
    assert scheduler_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert scheduler_address(" TCP://sched.example.org:8786 ") == "tcp://sched.example.org:8786"
    for scheme in ("tls", "wss", "ws", "ucx"):  # Dask knows them, but they fail inside Dask as emoframe connects
        with pytest.raises(EmoframeError, match=rf"'{scheme}://' .*give the Dask scheduler as tcp://HOST:PORT"):
            scheduler_address(f"{scheme}://127.0.0.1:8786")
    assert scheduler_address("tcp://[::1]:8786") == "tcp://[::1]:8786"
    assert scheduler_address("local") == "local"
    assert choose_executor(None, None) == ("local", None, None)
    assert choose_executor("dask", None) == ("dask", None, None)
    with pytest.raises(EmoframeError, match="--executor local runs without Dask"):
        choose_executor("local", "tcp://h:1")


def test_scheduler_with_executor_local_is_refused(cli, bench_spec, tmp_path):
    r = cli("bench", str(bench_spec), "--executor", "local", "--scheduler", "tcp://127.0.0.1:8786")
    assert r.exit_code == 2 and "drop --scheduler, or use --executor dask" in r.stderr


@pytest.mark.slow
def test_scheduler_alone_runs_on_that_dask_scheduler_and_says_so(cli, bench_spec, tmp_path):
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
    try:
        address = cluster.scheduler_address
        r = cli("bench", str(bench_spec), "--scheduler", address, "--workdir", str(tmp_path / "wd"))
        assert r.exit_code == 0, r.output
        assert f"--scheduler given: fold tasks run on the Dask scheduler at {address}" in r.stderr
        assert "isolated" in cluster.scheduler.task_prefixes  # the fold tasks (_isolated) ran there, not locally
    finally:
        cluster.close()


# -- serve on a busy port ---------------------------------------------------------------------------------------
@pytest.fixture
def bundle(registry, tmp_path: Path) -> Path:
    manifest = write_text_corpus(tmp_path / "m.csv", 2, 2, lambda s, label, k: rotated(label, k))
    spec = parse_spec(
        {"data": {"manifest": str(manifest)}, "branches": {"text": {"extractor": "toy.words", "model": "toy.centroid"}}}
    )
    return train_bundle(spec, tmp_path / "bundle", registry).path


def test_serve_on_a_port_in_use_is_bad_input_naming_the_port(cli, bundle):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = cli("serve", str(bundle), "--port", str(port))
    assert r.exit_code == 2, r.output
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr and "choose another --port" in r.stderr


def test_serve_on_a_host_that_is_not_one_is_bad_input(cli, bundle):
    r = cli("serve", str(bundle), "--host", "no such host!", "--port", "8000")
    assert r.exit_code == 2 and "--host no such host!: not an address" in r.stderr


# -- library warnings, extract's counts --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def awkward_corpus(tmp_path_factory) -> Path:
    """Synthetic speech with a 400-sample file (librosa warns: n_fft too large), a 100-sample one (openSMILE
    warns: segment too short), an empty file, and two rows repeating another row's audio."""
    from emoframe.data.synth import generate

    root = generate(tmp_path_factory.mktemp("awkward") / "corpus", speakers=2, per_class=2)
    frame = pd.read_csv(root / "manifest.csv")
    rng = np.random.default_rng(0)
    sf.write(root / frame.audio[0], rng.standard_normal(400) * 0.1, 16000)
    sf.write(root / frame.audio[1], rng.standard_normal(100) * 0.1, 16000)
    (root / frame.audio[2]).write_bytes(b"")
    repeats = frame.iloc[[3, 4]].assign(id=lambda f: f.id + "_again")
    pd.concat([frame, repeats]).to_csv(root / "manifest.csv", index=False)
    return root


def emoframe(*args: str) -> subprocess.CompletedProcess:
    """The real command in its own process (its workers' stderr is the process's stderr, as for a user)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "emoframe", *args], capture_output=True, text=True, env=env, timeout=300
    )


EMOFRAME_LINE = re.compile(r"(warning: |left out |\d+ row\(s\) left out; the rest was extracted)")


@pytest.mark.parametrize("extractor, jobs", [("librosa.mfcc", "2"), ("opensmile.egemaps", "1")])
def test_library_warnings_come_out_as_emoframe_lines(awkward_corpus, tmp_path, extractor, jobs):
    pytest.importorskip(extractor.split(".")[0])
    manifest = str(awkward_corpus / "manifest.csv")
    r = emoframe("extract", extractor, "--manifest", manifest, "-j", jobs, "--no-cache", "--workdir", str(tmp_path))
    assert r.returncode == 1, r.stderr  # rows left out: finished with failures
    lines = r.stderr.splitlines()
    assert lines and all(EMOFRAME_LINE.match(line) for line in lines), r.stderr
    assert "site-packages" not in r.stderr and "warnings.warn" not in r.stderr
    if extractor == "librosa.mfcc":  # reported, once, naming the library
        assert sum("warning: librosa (UserWarning): n_fft=" in line for line in lines) == 1, r.stderr
    else:  # known noise: openSMILE's NaNs are reported as the row's reason instead
        assert "Segment too short" not in r.stderr and "returned NaN or inf values" in r.stderr


def test_extract_counts_add_up(awkward_corpus, tmp_path):
    pytest.importorskip("librosa")
    manifest = str(awkward_corpus / "manifest.csv")
    rows = len(pd.read_csv(manifest))
    counts = re.compile(
        r"librosa.mfcc: (\d+) of (\d+) rows extracted \((\d+) from the cache, (\d+) computed(.*?)\), (\d+)"
    )
    seen = []
    for _ in range(2):  # cold, then from the cache
        r = emoframe("extract", "librosa.mfcc", "--manifest", manifest, "-j", "1", "--workdir", str(tmp_path))
        found = counts.search(r.stdout)
        assert found, r.stdout
        done, total, cached, computed, shared, left_out = found.groups()
        assert int(total) == rows and int(done) + int(left_out) == rows and int(cached) + int(computed) == int(done)
        assert int(left_out) == 1  # the empty file; the short ones are extracted
        seen.append((int(cached), int(computed), shared))
    assert seen == [(0, rows - 1, ", 2 of them sharing another row's identical input"), (rows - 1, 0, "")]


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "dask"])
def test_a_models_warnings_in_worker_processes_come_out_as_emoframe_lines(tmp_path, executor):
    """scikit-learn's ConvergenceWarning, raised in a supervised worker (under Dask: a Dask worker's child)."""
    pytest.importorskip("sklearn")
    if executor == "dask":
        pytest.importorskip("distributed")
    manifest = write_text_corpus(tmp_path / "manifest.csv", 4, 3, lambda s, label, k: rotated(label, k + s))
    spec = tmp_path / "mlp.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "mlp",
                "data": {"manifest": str(manifest)},
                "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 20},
                "branches": {
                    "text": {
                        "extractor": "sklearn.tfidf",
                        "model": {"name": "sklearn.mlp", "params": {"max_iter": 2, "early_stopping": False}},
                    }
                },
            }
        )
    )
    r = emoframe("bench", str(spec), "-j", "2", "--executor", executor, "--workdir", str(tmp_path / "wd"))
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert any(line.startswith("warning: sklearn (ConvergenceWarning): ") for line in lines), r.stderr
    assert "site-packages" not in r.stderr and "warnings.warn" not in r.stderr
    assert all(re.match(r"(warning: |1 pipelines × 2 folds)", line) for line in lines), r.stderr
