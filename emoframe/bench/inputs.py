"""What a run prepares before its folds, beside the plan: ASR transcripts (and the features of the text
branches that read them) and the perturbed test sets of a robustness sweep."""

from __future__ import annotations

from typing import Any

from ..data.manifest import Manifest
from ..features import FeatureCache
from ..pipeline import FeatureProvider
from ..plugin.registry import Registry
from ..results.store import ResultsStore
from ..spec import BenchmarkSpec, PipelineSpec
from ..workers import Limits
from .evaluate import Plan
from .events import EventHandler, ExtractionProgress, PerturbationStarted


def transcripts_for(
    spec: PipelineSpec,
    manifest: Manifest,
    test_manifest: Manifest | None,
    registry: Registry,
    cache: FeatureCache | None,
    limits: Limits,
    emit: EventHandler,
    store: ResultsStore,
    run_id: str,
) -> tuple[Manifest, Manifest | None, str | None]:
    """The manifests with ASR text (cached per recording); the WER and failures stored with the run. Returns
    why the transcriber failed as a whole (its pipelines fail with it), or None. A share of failed rows above
    evaluation.max_failure_share counts as failed too."""
    from ..features.transcripts import add_transcripts

    ref = spec.data.transcriber
    assert ref is not None  # validation: asr needs a transcriber
    label = f"{ref.name} (speech recognition)"
    reports, failed = [], None
    sides: list[Manifest | None] = []
    for m in (manifest, test_manifest):
        if m is None:
            sides.append(None)
            continue
        out, report, error = add_transcripts(
            ref,
            m,
            registry,
            cache,
            limits,
            lambda done, total: emit(ExtractionProgress(label, done, total)),
            spec.evaluation.max_failure_share,
        )
        sides.append(out)
        reports.append(report)
        failed = failed or error
    store.set_asr(run_id, [r.to_dict() | {"line": r.line()} for r in reports])
    return sides[0], sides[1], failed  # type: ignore[return-value]


def prepare_asr_features(
    pipelines: list[PipelineSpec],
    registry: Registry,
    provider: FeatureProvider,
    manifest: Manifest,
    test_manifest: Manifest | None,
) -> None:
    """Extract (and cache) the features of text branches that read ASR text, as plan does for the gold text."""
    for ps in pipelines:
        for key, branch in ps.branches.items():
            if ps.transcripts_of(key) != "asr" or branch.extractor is None:
                continue
            if not provider.extractor(branch.extractor).stateless:
                continue
            for m in (manifest, test_manifest):
                if m is not None:
                    provider.prepare(branch.extractor, m.with_asr_text())


def perturbed_sets(
    spec: BenchmarkSpec | PipelineSpec,
    p: Plan,
    registry: Registry,
    cache: FeatureCache | None,
    jobs: int,
    refs: list[Any],
    emit: EventHandler,
    limits: Limits,
) -> list[tuple[Any, Any]]:
    """The robustness conditions with their perturbed copies of every test row, features extracted
    (cached). Noise is mixed in as the extraction workers read the audio: no audio is written."""
    robustness = getattr(spec, "robustness", None)
    if robustness is None:
        return []
    import pandas as pd

    from ..data.perturb import perturbed_manifest

    tested = Manifest(pd.concat([test.frame for _, test in p.splits], ignore_index=True))
    out = []
    for condition in robustness.conditions():
        emit(PerturbationStarted(condition.name))
        m = perturbed_manifest(tested, condition, robustness.seed)
        FeatureProvider(registry, cache=cache, jobs=jobs, limits=limits).usable(
            [r for r in refs if registry.get(r.name).modality == condition.modality], m
        )
        out.append((condition, m))
    return out
