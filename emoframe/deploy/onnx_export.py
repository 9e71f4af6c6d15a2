"""``emoframe export BUNDLE --onnx OUT``: a bundle's trainable stages as ONNX graphs.

What goes to ONNX: each branch's model (features → probabilities), the fusion (late: branch
probabilities → probabilities; early: branch features → fused features) and an early
fusion's model. What stays in Python: feature extraction (openSMILE, librosa, TF-IDF's
vocabulary, encoders) and speaker normalisation — ``export.json`` names each extractor with
its parameters so a deployment computes the same inputs. :class:`OnnxPipeline` runs the
export with onnxruntime on features emoframe computes, which is how parity is checked.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..data.manifest import Manifest
from ..errors import BundleError
from ..evaluation.proba import align_proba
from ..ownership import OwnershipError, mark, marker, owns, recorded, replace_owned
from ..pipeline import FeatureProvider
from ..pipeline.arrays import dense as _dense
from .predictor import Predictor

EXPORT = "export.json"
KIND = "onnx-export"
FORMAT = 1


def _graph(component: Any, *args: Any) -> tuple[bytes | None, str | None]:
    try:
        return component.onnx_graph(*args), None
    except NotImplementedError as exc:
        return None, f"{component.kind} '{component.name}': {exc or 'no ONNX export'}"
    except Exception as exc:  # noqa: BLE001 - a converter's failure is that component's reason
        return None, f"{component.kind} '{component.name}': export failed ({type(exc).__name__}: {exc})"


def check_target(out: Path, force: bool) -> None:
    """Refuse an ``out`` that holds anything but an export emoframe wrote there (that one with ``force``)."""
    if out.exists() and not (out.is_dir() and not any(out.iterdir())) and not (force and owns(out, KIND)):
        raise BundleError(
            f"{out} exists and is not empty; choose a new folder"
            + (" (or --force to replace the export emoframe wrote there)" if owns(out, KIND) else "")
        )


def branch_graphs(model: Predictor, graphs: dict[str, bytes], reasons: list[str]) -> dict[str, Any]:
    """Each branch's entry of ``export.json`` (its extractor, normalisation and model file); its model's graph
    goes into ``graphs``, or why it cannot into ``reasons``."""
    branches: dict[str, Any] = {}
    for key, b in sorted(model.pipeline.branches.items()):
        entry: dict[str, Any] = {
            "modality": b.modality,
            "extractor": None
            if b.extractor is None
            else {"name": b.extractor.name, "params": b.extractor.params.model_dump(mode="json")},
            "normalise": b.spec.normalise,
        }
        if b.extractor is None:
            reasons.append(
                f"branch '{key}' feeds raw {b.modality} to its model; only models on features can be exported"
            )
        if b.model is not None:
            data, why = _graph(b.model)
            if why:
                reasons.append(why)
            else:
                graphs[f"branches/{key}.onnx"] = data  # type: ignore[assignment]
            entry["model"] = {
                "name": b.model.name,
                "file": f"branches/{key}.onnx",
                "classes": [str(c) for c in b.model.classes_],
                "inputs": _inputs_doc(b.model),
            }
        branches[key] = entry
    return branches


def fusion_graphs(model: Predictor, meta: dict[str, Any], graphs: dict[str, bytes], reasons: list[str]) -> None:
    """The fusion's entry (and an early fusion's model's) in ``meta``; their graphs into ``graphs``, or why
    they cannot be exported into ``reasons``."""
    pipe = model.pipeline
    if pipe.fusion is not None:
        if pipe.early:
            widths = {k: len(pipe.fusion.stats_[k][0]) for k in pipe.fusion.order_}
        else:
            widths = {k: len(model.classes) for k in pipe.branches}
        data, why = _graph(pipe.fusion, widths)
        if why:
            reasons.append(why)
        else:
            graphs["fusion.onnx"] = data  # type: ignore[assignment]
        meta["fusion"] = {
            "name": pipe.fusion.name,
            "kind": pipe.fusion.fusion_kind,
            "file": "fusion.onnx",
            "inputs": widths,
        }
    if pipe.early and pipe.model is not None:
        data, why = _graph(pipe.model)
        if why:
            reasons.append(why)
        else:
            graphs["model.onnx"] = data  # type: ignore[assignment]
        meta["model"] = {
            "name": pipe.model.name,
            "file": "model.onnx",
            "classes": [str(c) for c in pipe.model.classes_],
        }


def export_graphs(model: Predictor) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Every ONNX graph of the bundle (path in the export → bytes) and ``export.json``'s content; raises
    BundleError naming every stage that cannot be exported."""
    graphs: dict[str, bytes] = {}
    reasons: list[str] = []
    meta: dict[str, Any] = {
        "format": FORMAT,
        "pipeline": model.meta["pipeline"],
        "bundle_created": model.meta["created"],
        "classes": model.classes,
        "branches": branch_graphs(model, graphs, reasons),
        "in_python": "feature extraction (each branch's extractor with these params) and speaker normalisation; "
        "emoframe computes them (OnnxPipeline in emoframe.deploy.onnx_export)",
    }
    fusion_graphs(model, meta, graphs, reasons)
    if reasons:
        raise BundleError(f"{model.meta['pipeline']} cannot be exported to ONNX:\n  " + "\n  ".join(reasons))
    return graphs, meta


def parity(folder: Path, model: Predictor, meta: dict[str, Any], check: Manifest) -> dict[str, Any]:
    """Run the bundle and the export in ``folder`` (described by ``meta``, its ``files`` listed) on ``check``'s
    rows (bad rows apart): the rows compared and the largest probability difference."""
    runner = OnnxPipeline(folder, model, meta)
    provider = model.provider()
    result = model.predict_manifest(check, provider)  # the bundle's probabilities, bad rows apart
    usable = check.subset(~check.frame["id"].isin(result.failures).to_numpy())
    P = np.array([[r[c] for c in model.classes] for r in result.records]).reshape(len(usable), -1)
    Q = runner.predict_proba(usable, provider)
    return {"rows": len(usable), "max_abs_diff": float(np.max(np.abs(P - Q))) if len(usable) else None}


def previous_files(out: Path) -> dict[str, str | None]:
    """What emoframe wrote in ``out`` before (file → sha256); an export from before content digests gives
    names only, none of them verifiable."""
    previous = recorded(marker(out))
    if previous:
        return previous
    try:
        old = json.loads((out / EXPORT).read_text(encoding="utf-8")).get("files", []) if out.is_dir() else []
    except (OSError, ValueError, AttributeError):
        old = []
    return dict.fromkeys([EXPORT, *old])


def export_onnx(
    model: Predictor, out: str | Path, check: Manifest | None = None, force: bool = False
) -> dict[str, Any]:
    """Write the ONNX graphs and ``export.json`` to ``out`` (atomically); with ``check``, run both the
    bundle and the export on those rows and record the largest probability difference. The steps:
    :func:`check_target` → :func:`export_graphs` → (:func:`parity`) → replace ``out`` with the new folder."""
    out = Path(out)
    check_target(out, force)
    graphs, meta = export_graphs(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-onnx-", dir=out.parent))
    try:
        for rel, data in graphs.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        meta["files"] = sorted(graphs)
        if check is not None:
            meta["parity"] = parity(tmp, model, meta, check)
        (tmp / EXPORT).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        mark(tmp, KIND, files=[EXPORT, *graphs], pipeline=model.meta["pipeline"])
        replace_owned(tmp, out, KIND, previous_files(out))
    except OwnershipError as exc:
        _cleanup(tmp)
        raise BundleError(str(exc)) from None
    except BaseException:
        _cleanup(tmp)
        raise
    return meta


def _cleanup(tmp: Path) -> None:
    """Remove the temporary folder this export made (mkdtemp), after a failure."""
    for dirpath, _dirs, names in os.walk(tmp, topdown=False):
        for n in names:
            Path(dirpath, n).unlink(missing_ok=True)
        Path(dirpath).rmdir()


def _inputs_doc(model: Any) -> str:
    doc = (type(model).onnx_feeds.__doc__ or "").strip()
    return " ".join(doc.split()) or "X: (rows × features) matrix"


class OnnxPipeline:
    """Runs an export with onnxruntime on the features of the bundle's own (Python) extractors."""

    def __init__(self, folder: str | Path, model: Predictor, meta: dict[str, Any] | None = None):
        import onnxruntime as ort

        self.folder, self.model = Path(folder), model
        self.meta = meta or json.loads((self.folder / EXPORT).read_text(encoding="utf-8"))
        self.sessions = {
            rel: ort.InferenceSession(str(self.folder / rel), providers=["CPUExecutionProvider"])
            for rel in self.meta.get("files", [])
        }

    def _run(self, rel: str, feeds: dict[str, np.ndarray], output: str) -> np.ndarray:
        sess = self.sessions[rel]
        types = {i.name: i.type for i in sess.get_inputs()}
        cast = {
            k: v.astype(np.float32)
            if types.get(k) == "tensor(float)"
            else (v.astype(np.float64) if types.get(k) == "tensor(double)" else v)
            for k, v in feeds.items()
        }
        names = [o.name for o in sess.get_outputs()]
        return np.asarray(
            sess.run([output], cast)[0] if output in names else sess.run(None, cast)[-1], dtype=np.float64
        )

    def predict_proba(self, manifest: Manifest, provider: FeatureProvider | None = None) -> np.ndarray:
        pipe = self.model.pipeline
        provider = provider or self.model.provider()
        classes = np.asarray(self.model.classes, dtype=object)
        if pipe.early:
            blocks = {k: _dense(b.inputs(manifest, provider, fit=False)) for k, b in pipe.branches.items()}
            Z = self._run("fusion.onnx", blocks, "features")
            P = self._run("model.onnx", pipe.model.onnx_feeds(Z), "probabilities")  # type: ignore[union-attr]
            return align_proba(P, np.asarray(self.meta["model"]["classes"], dtype=object), classes, "onnx")
        probas = {}
        for key, b in pipe.branches.items():
            X = b.inputs(manifest, provider, fit=False)
            P = self._run(f"branches/{key}.onnx", b.model.onnx_feeds(X), "probabilities")  # type: ignore[union-attr]
            probas[key] = align_proba(
                P, np.asarray(self.meta["branches"][key]["model"]["classes"], dtype=object), classes, key
            )
        if pipe.fusion is None:
            return next(iter(probas.values()))
        return self._run("fusion.onnx", probas, "probabilities")
