"""Features for fits: each stateless extractor's per-sample features, extracted once (cached) and shared
by every fit of every fold and pipeline that asks for them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..data.manifest import Manifest
from ..errors import ComponentError
from ..features import FeatureCache
from ..plugin.components import FeatureExtractor
from ..plugin.registry import Registry, get_registry
from ..spec import ComponentRef
from ..workers import Limits


class FeatureProvider:
    """Per-sample features of stateless extractors, extracted once (cached) and shared by every fit.

    With ``limits`` extraction runs in supervised workers (a crashing extractor costs only its
    samples); without, and with one job, in this process (as inside a fold task's worker).
    ``progress`` is True (a terminal bar) or a callback ``(extractor name, done, total)``.
    """

    def __init__(
        self,
        registry: Registry | None = None,
        cache: FeatureCache | None = None,
        jobs: int | None = None,
        progress: bool | Callable[[str, int, int], None] = False,
        limits: Limits | None = None,
        extractors: dict[str, FeatureExtractor] | None = None,
    ):
        self.registry = registry or get_registry()
        self.cache, self.jobs, self.progress, self.limits = cache, jobs, progress, limits
        #: extractor instances by ref key; pass one dict to several providers (a loaded bundle answering
        #: many requests) so a model loaded in warmup() is loaded once, not per provider
        self.extractors = extractors if extractors is not None else {}
        self._values: dict[str, dict[str, np.ndarray]] = {}
        self.failures: dict[str, dict[str, str]] = {}
        self.corrupt = 0  # damaged cache entries found (and recomputed)
        #: extractor name → distinct inputs computed / rows read from the feature cache, over this provider's
        #: life: a benchmark over several corpora proves with them that each file is extracted once
        self.computed: dict[str, int] = {}
        self.from_cache: dict[str, int] = {}

    def warnings(self) -> list[str]:
        """What the user should know about this provider's cache: damaged entries, a cache not written."""
        out = []
        if self.corrupt:
            out.append(
                f"{self.corrupt} damaged feature-cache entr{'y' if self.corrupt == 1 else 'ies'} found; "
                "recomputed and rewritten"
            )
        if self.cache is not None and self.cache.write_error:
            out.append(self.cache.write_error)
        return out

    def extractor(self, ref: ComponentRef) -> FeatureExtractor:
        key = ref.key()
        if key not in self.extractors:
            self.extractors[key] = self.registry.create(ref.name, ref.params, kind="extractor")
        return self.extractors[key]

    def _key(self, ref: ComponentRef, manifest: Manifest) -> str:
        """Features are memoised by extractor and row id, and, for text extractors, by where the text came from."""
        if manifest.text_source != "gold" and self.extractor(ref).modality == "text":
            return f"{ref.key()}|{manifest.text_source}"
        return ref.key()

    def _progress(self, name: str) -> Any:
        if not callable(self.progress):
            return self.progress
        report = self.progress

        def progress(done: int, total: int) -> None:
            report(name, done, total)

        return progress

    def prepare(self, ref: ComponentRef, manifest: Manifest) -> None:
        """Extract whatever rows of ``manifest`` this extractor has not seen yet."""
        self._prepare_together([ref], manifest)

    def prepare_all(self, refs: list[ComponentRef], manifest: Manifest) -> None:
        """:meth:`prepare` each extractor; stateless extractors that can share a pass over each sample
        (``FeatureExtractor.shared_pass``, e.g. eGeMAPS functionals and LLDs) share it."""
        from ..features.extract import can_share

        groups: list[list[ComponentRef]] = []
        for ref in {r.key(): r for r in refs}.values():
            ext = self.extractor(ref)
            group = next((g for g in groups if can_share(self.extractor(g[0]), ext)), None)
            if group is None:
                groups.append([ref])
            else:
                group.append(ref)
        for group in groups:
            if len(group) > 1 and self._prepare_together(group, manifest):
                continue
            for ref in group:
                self._prepare_together([ref], manifest)

    def _prepare_together(self, refs: list[ComponentRef], manifest: Manifest) -> bool:
        """Extract the rows of ``manifest`` any of ``refs`` has not seen, in one pass when several. False
        when a group failed before any sample (each extractor is then prepared alone, for its own reason)."""
        from ..features.extract import extract_shared

        keys = [self._key(ref, manifest) for ref in refs]
        known = [self._values.setdefault(key, {}) for key in keys]
        failed = [self.failures.setdefault(key, {}) for key in keys]
        ids = manifest.frame["id"].tolist()
        need = [any(i not in got and i not in bad for got, bad in zip(known, failed)) for i in ids]
        if not any(need):  # the common case inside a fold: everything extracted already
            return True
        todo = manifest.subset(np.array(need))
        extractors = [self.extractor(ref) for ref in refs]
        try:
            results = extract_shared(
                extractors,
                todo,
                jobs=self.jobs,
                cache=self.cache,
                progress=self._progress(" + ".join(ref.name for ref in refs)),
                limits=self.limits,
            )
        except ComponentError as exc:  # before any sample (e.g. a pretrained model not on disk): every row
            if len(refs) > 1:
                return False
            failed[0].update({str(i): str(exc) for i in todo.ids})
            return True
        for ref, result, got, bad in zip(refs, results, known, failed):
            self.computed[ref.name] = self.computed.get(ref.name, 0) + result.misses
            self.from_cache[ref.name] = self.from_cache.get(ref.name, 0) + result.hits
            fresh = result.as_dict()
            got.update(fresh)
            for i in fresh:  # computed again for another extractor of the pass, and it worked this time
                bad.pop(i, None)
            bad.update({i: r for i, r in result.failures.items() if i not in got})
        self.corrupt += results[0].corrupt  # counted once per pass: the extractors share one cache
        return True

    def get(self, ref: ComponentRef, manifest: Manifest) -> list[np.ndarray]:
        self.prepare(ref, manifest)
        key = self._key(ref, manifest)
        known = self._values[key]
        missing = [i for i in manifest.ids if i not in known]
        if missing:
            reasons = self.failures.get(key, {})
            detail = "; ".join(f"{i}: {reasons.get(i, 'not extracted')}" for i in missing[:3])
            raise ComponentError(
                f"{ref.name}: no features for {len(missing)} sample(s) ({detail}); "
                "drop them from the manifest (evaluation does this and reports them)"
            )
        return [known[i] for i in manifest.ids]

    def failed_rows(self, ref: ComponentRef, manifest: Manifest) -> dict[str, str]:
        """Row id → reason, for the rows of ``manifest`` this extractor could not process."""
        self.prepare(ref, manifest)
        key = self._key(ref, manifest)
        failed = self.failures.get(key, {})
        known = self._values[key]
        return {str(i): failed.get(i, "not extracted") for i in manifest.ids if i not in known}

    def left_out(self, ref: ComponentRef, manifest: Manifest) -> list[dict[str, str]]:
        """:meth:`failed_rows` as failure records (``evaluation.failures``): an audio extractor's name the
        row's audio file beside the reason, so a summary shows it without parsing the reason."""
        from ..evaluation.failures import failure_records

        reasons = self.failed_rows(ref, manifest)
        audio = self.extractor(ref).modality == "audio" and bool(reasons)
        files = dict(zip(manifest.frame["id"].astype(str), manifest.frame["audio"])) if audio else None
        return failure_records(ref.label(), reasons, files)

    def usable(self, refs: list[ComponentRef], manifest: Manifest) -> Manifest:
        """The rows every one of these extractors could process."""
        keep = np.ones(len(manifest), dtype=bool)
        self.prepare_all(refs, manifest)
        for ref in refs:
            known = self._values[self._key(ref, manifest)]
            keep &= manifest.frame["id"].isin(known).to_numpy()
        return manifest.subset(keep)
