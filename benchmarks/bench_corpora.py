"""Across corpora (issue 29), as ratios measured in one run, wall and CPU.

1. A 3-corpus × 4-pipeline benchmark (``data: [...]``, each corpus's grid) from a cold cache, against the
   sum of the three single-corpus benchmarks it stands for run with a warm cache plus one cold extraction
   pass over the three corpora. Target ≤ 1.1×. The feature counters prove each file is extracted once per
   extractor (``computed`` = the number of files; a rerun computes none).
2. The 3 × 3 cross-corpus matrix: each (pipeline, training corpus) fitted once — fits counted against the
   k(k − 1) × pipelines of one cross_corpus run per cell — and the time of its training-set runs (from the
   first one's start to the end; the corpora's own in-corpus runs before them are the diagonal, which the
   single runs do not give) against those single runs, both on a warm cache.

    python benchmarks/bench_corpora.py [--rounds 2] [--json out.json]

The corpora are the synthetic generator with three seeds and speaker counts (different voices).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from clock import cpu_with_children

from emoframe.bench.events import CorpusUnitStarted
from emoframe.bench.runner import run_benchmark
from emoframe.bench.study import load_sources, run_study
from emoframe.features import FeatureCache
from emoframe.pipeline import FeatureProvider
from emoframe.plugin.registry import get_registry
from emoframe.spec import parse_spec

CORPORA = [
    {"name": "a", "corpus": {"name": "demo", "params": {"seed": 21, "speakers": 6, "per_class": 6}}},
    {"name": "b", "corpus": {"name": "demo", "params": {"seed": 22, "speakers": 7, "per_class": 6}}},
    {"name": "c", "corpus": {"name": "demo", "params": {"seed": 23, "speakers": 8, "per_class": 6}}},
]
BRANCHES = {
    "audio": {
        "extractor": "librosa.mfcc",
        "model": ["sklearn.svc", "sklearn.logreg", "sklearn.random_forest", "sklearn.mlp"],
    }
}
EVALUATION = {"folds": 3, "bootstrap": 200}


def clocked(fn: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), cpu_with_children()
    out = fn()
    return out, time.perf_counter() - w0, cpu_with_children() - c0


def one_round(root: Path, study_first: bool) -> dict[str, Any]:
    """One round; ``study_first`` alternates which side runs first (a shared machine's load drifts)."""
    reg = get_registry()
    study_doc = {"data": CORPORA, "evaluation": EVALUATION, "branches": BRANCHES}
    cold = root / "cold"
    # the corpora are generated (cached on disk) before any clock starts
    load_sources(parse_spec(study_doc), reg, cold, None)
    load_sources(parse_spec(study_doc), reg, root / "single", None)
    if study_first:
        study, study_wall, study_cpu = clocked(lambda: run_study(parse_spec(study_doc), reg, cold, jobs=2))
    single_wall, single_cpu, extract_wall, extract_cpu = singles(root, reg, study_doc)
    if not study_first:
        study, study_wall, study_cpu = clocked(lambda: run_study(parse_spec(study_doc), reg, cold, jobs=2))
    assert not study.errors, study.errors
    files = sum(len(s.manifest) for s in load_sources(parse_spec(study_doc), reg, cold, None))  # type: ignore[arg-type]
    rerun = run_study(parse_spec(study_doc), reg, cold, jobs=2)
    matrix = matrix_round(root, reg, study_doc)
    return {
        "study_first": study_first,
        "files": files,
        "computed": study.computed,
        "rerun_computed": rerun.computed,
        "study_wall": study_wall,
        "study_cpu": study_cpu,
        "single_warm_wall": single_wall,
        "single_warm_cpu": single_cpu,
        "cold_extraction_wall": extract_wall,
        "cold_extraction_cpu": extract_cpu,
        "ratio_wall": study_wall / (single_wall + extract_wall),
        "ratio_cpu": study_cpu / (single_cpu + extract_cpu),
        **matrix,
    }


def singles(root: Path, reg: Any, study_doc: dict[str, Any]) -> tuple[float, float, float, float]:
    """The cold extraction pass over the three corpora, then the three one-corpus benchmarks (warm cache)."""

    def extraction_pass() -> None:
        provider = FeatureProvider(reg, cache=FeatureCache(root / "single" / "cache"), jobs=2)
        for s in load_sources(parse_spec(study_doc), reg, root / "single", None):
            provider.prepare(_ref(), s.manifest)  # type: ignore[arg-type]

    _, extract_wall, extract_cpu = clocked(extraction_pass)
    single_wall = single_cpu = 0.0
    for source in CORPORA:
        doc = {"data": {k: v for k, v in source.items() if k != "name"}, "evaluation": EVALUATION, "branches": BRANCHES}
        out, wall, cpu = clocked(lambda d=doc: run_benchmark(parse_spec(d), reg, root / "single", jobs=2))
        assert not out.errors, out.errors
        single_wall, single_cpu = single_wall + wall, single_cpu + cpu
    return single_wall, single_cpu, extract_wall, extract_cpu


def matrix_round(root: Path, reg: Any, study_doc: dict[str, Any]) -> dict[str, Any]:
    """The matrix's fits and the time of its training-set runs against one cross_corpus run per cell."""
    matrix_doc = {**study_doc, "evaluation": {**EVALUATION, "protocol": "cross_corpus_matrix"}}
    shared = ["angry", "happy", "neutral", "sad"]
    load_sources(parse_spec(matrix_doc), reg, root / "matrix", None)
    FeatureProvider(reg, cache=FeatureCache(root / "matrix" / "cache"), jobs=2).prepare_all(
        [_ref()], _all_rows(parse_spec(matrix_doc), reg, root / "matrix")
    )  # warm: the matrix and the cross_corpus runs it stands for are timed on cached features alike
    marks: list[tuple[str, float, float]] = []

    def mark(event: Any) -> None:
        if isinstance(event, CorpusUnitStarted):
            marks.append((event.role, time.perf_counter(), cpu_with_children()))

    matrix, _, _ = clocked(lambda: run_study(parse_spec(matrix_doc), reg, root / "matrix", jobs=2, events=mark))
    end_wall, end_cpu = time.perf_counter(), cpu_with_children()
    assert not matrix.errors, matrix.errors
    first = next(m for m in marks if m[0] == "matrix")  # the matrix units run after the corpora's own runs
    matrix_wall, matrix_cpu = end_wall - first[1], end_cpu - first[2]
    cells_wall = cells_cpu = 0.0
    naive_fits = 0
    for train in CORPORA:
        for test in CORPORA:
            if train is test:
                continue
            doc = {
                "data": {**{k: v for k, v in train.items() if k != "name"}, "classes": shared},
                "evaluation": {**EVALUATION, "protocol": "cross_corpus",
                               "test": {**{k: v for k, v in test.items() if k != "name"}, "classes": shared}},
                "branches": BRANCHES,
            }  # fmt: skip
            out, wall, cpu = clocked(lambda d=doc: run_benchmark(parse_spec(d), reg, root / "matrix", jobs=2))
            assert not out.errors, out.errors
            cells_wall, cells_cpu = cells_wall + wall, cells_cpu + cpu
            naive_fits += out.ran
    return {
        "matrix_fits": matrix.matrix_fits,
        "naive_fits": naive_fits,
        "matrix_wall": matrix_wall,
        "matrix_cpu": matrix_cpu,
        "cells_wall": cells_wall,
        "cells_cpu": cells_cpu,
    }


def _all_rows(spec: Any, reg: Any, workdir: Path) -> Any:
    import pandas as pd

    from emoframe.data.manifest import Manifest

    frames = [s.manifest.frame for s in load_sources(spec, reg, workdir, None) if s.manifest is not None]
    return Manifest(pd.concat(frames, ignore_index=True))


def _ref() -> Any:
    from emoframe.spec import ComponentRef

    return ComponentRef.model_validate(BRANCHES["audio"]["extractor"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rounds = []
    for i in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            r = one_round(Path(tmp), study_first=i % 2 == 1)
        rounds.append(r)
        print(
            f"round {i + 1} ({'study' if r['study_first'] else 'single runs'} first): "
            f"{r['files']} files, computed {r['computed']} (rerun {r['rerun_computed']}); "
            f"3 corpora × 4 pipelines {r['study_wall']:.1f} s wall / {r['study_cpu']:.1f} s CPU vs warm single "
            f"{r['single_warm_wall']:.1f}/{r['single_warm_cpu']:.1f} + cold extraction "
            f"{r['cold_extraction_wall']:.1f}/{r['cold_extraction_cpu']:.1f}: ratio {r['ratio_wall']:.2f}× wall, "
            f"{r['ratio_cpu']:.2f}× CPU; matrix fits {r['matrix_fits']} vs {r['naive_fits']} one run per cell, "
            f"matrix runs {r['matrix_wall']:.1f}/{r['matrix_cpu']:.1f} s vs "
            f"{r['cells_wall']:.1f}/{r['cells_cpu']:.1f} s (warm cache)",
            flush=True,
        )
    summary = {k: statistics.median(r[k] for r in rounds) for k in ("ratio_wall", "ratio_cpu")}
    print(f"median ratio over {len(rounds)} rounds: {summary['ratio_wall']:.2f}× wall, {summary['ratio_cpu']:.2f}× CPU")
    if args.json:
        args.json.write_text(json.dumps({"rounds": rounds, "median": summary}, indent=1))


if __name__ == "__main__":
    main()
