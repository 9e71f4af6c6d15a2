"""What code a pipeline runs today: each component's name → its code digest (``code_digest``).

The runner stores it with every fold, and the faces that read a stored run (``results``, ``compare``,
``report``, ``train --run``) compare it with what was stored, so a figure is never taken for today's
code's when the code changed since it was computed.
"""

from __future__ import annotations

from ..code_digest import code_digest
from ..plugin.registry import Registry
from .models import PipelineSpec


def pipeline_code(spec: PipelineSpec, registry: Registry) -> dict[str, str]:
    """name → code digest of every component a pipeline runs (extractors, models, fusion, transcriber)."""
    refs = [spec.fusion, spec.model, spec.data.transcriber if spec.uses_asr else None] + [
        r for b in spec.branches.values() for r in (b.extractor, b.model)
    ]
    out = {}
    for ref in refs:
        if ref is not None and ref.name in registry:
            out[ref.name] = code_digest(registry.get(ref.name).cls)
    return dict(sorted(out.items()))
