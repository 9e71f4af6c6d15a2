"""Validation of several data sources (``data: [...]``, docs/evaluation.md "Across corpora"): the rules that need
the spec only. What needs the data itself (shared labels, speakers) is checked as the sources load
(``bench.study``)."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import SpecProblem
from .models import BenchmarkSpec, PipelineSpec


def sources_rules(spec: PipelineSpec | BenchmarkSpec) -> Iterator[SpecProblem]:
    """Several data sources (``data: [...]``): distinct names, protocols that fit, a matrix of two or more.
    What needs the data itself (shared labels, speakers) is checked as the sources load
    (``bench.study``)."""
    ev = spec.evaluation
    if not spec.is_multi_corpus:
        if spec.data.protocol is not None:
            yield SpecProblem(
                "data.protocol",
                "a data source's own protocol is for one of several sources (data: [...])",
                "set evaluation.protocol instead",
            )
        if ev.protocol == "cross_corpus_matrix":
            yield SpecProblem(
                "evaluation.protocol",
                "cross_corpus_matrix needs several corpora, the spec names one",
                "list two or more data sources under data (each with a name)",
            )
        return
    sources = spec.data_sources
    seen: dict[str, int] = {}
    for i, source in enumerate(sources):
        name = source.source_name()
        if name in seen:
            yield SpecProblem(
                f"data[{i}].name",
                f"two data sources are called '{name}' (data[{seen[name]}] and data[{i}])",
                "give each source its own name (name: ...), e.g. the corpus and its seed",
            )
        seen.setdefault(name, i)
    if ev.protocol == "cross_corpus":
        yield SpecProblem(
            "evaluation.protocol",
            "cross_corpus trains on 'data' and tests on 'evaluation.test'; with several data sources use "
            "cross_corpus_matrix",
            "protocol: cross_corpus_matrix (train on each, test on every other)",
        )
    if ev.protocol == "cross_corpus_matrix" and len(sources) < 2:
        yield SpecProblem(
            "evaluation.protocol",
            f"cross_corpus_matrix needs at least two corpora, data lists {len(sources)}",
            "add another data source",
        )
