"""Early fusion: concatenate per-branch feature blocks into one matrix for one model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import Field

from ..errors import ComponentError
from ..plugin.components import BaseParams, EarlyFusion


class ConcatFusion(EarlyFusion):
    """Concatenate feature blocks, each standardised and balanced so no block drowns another.

    With ``balance`` each block is divided by the square root of its width, so a
    6,373-dim ComParE block and a 4-dim VADER block carry the same total variance;
    ``reduce`` projects each wider block onto its first principal components first.
    All statistics are fitted on the training fold only.
    """

    name = "fusion.early"
    version = "1"

    class Params(BaseParams):
        standardise: bool = Field(True, description="z-score each feature on the training fold")
        balance: bool = Field(True, description="divide each block by sqrt(width): equal weight per block")
        reduce: int | None = Field(None, ge=1, description="PCA each block to at most this many dims")
        weights: dict[str, float] = Field(
            default_factory=dict, description="extra multiplier per branch name (default 1)"
        )

    def fit(self, blocks: Mapping[str, np.ndarray], y: Any = None) -> ConcatFusion:
        from sklearn.decomposition import PCA

        self.order_ = sorted(blocks)
        self.stats_: dict[str, tuple[np.ndarray, np.ndarray, Any]] = {}
        for key in self.order_:
            X = self._check(key, blocks[key])
            mean = X.mean(axis=0) if self.params.standardise else np.zeros(X.shape[1])
            std = X.std(axis=0) if self.params.standardise else np.ones(X.shape[1])
            std[std < 1e-12] = 1.0
            Z = (X - mean) / std
            pca = None
            if self.params.reduce and X.shape[1] > self.params.reduce:
                k = min(self.params.reduce, X.shape[0])
                pca = PCA(n_components=k, random_state=0).fit(Z)
            self.stats_[key] = (mean, std, pca)
        return self

    def transform(self, blocks: Mapping[str, np.ndarray]) -> np.ndarray:
        if not hasattr(self, "stats_"):
            raise ComponentError(f"{self.name}: transform called before fit")
        missing = set(self.order_) - set(blocks)
        if missing:
            raise ComponentError(f"{self.name}: missing feature block(s) {sorted(missing)}")
        parts = []
        for key in self.order_:
            mean, std, pca = self.stats_[key]
            Z = (self._check(key, blocks[key]) - mean) / std
            if pca is not None:
                Z = pca.transform(Z)
            w = self.params.weights.get(key, 1.0)
            if self.params.balance:
                w = w / np.sqrt(Z.shape[1])
            parts.append(Z * w)
        return np.hstack(parts).astype(np.float32)

    def onnx_graph(self, widths: Mapping[str, int]) -> bytes:
        """Per block: standardise, PCA, weight; then concatenate (float32, as transform returns)."""
        from onnx import TensorProto, helper, numpy_helper

        if not hasattr(self, "stats_"):
            raise ComponentError(f"{self.name}: export called before fit")
        nodes, inits, inputs, parts = [], [], [], []

        def const(name: str, value: Any) -> str:
            inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float64), name))
            return name

        for key in self.order_:
            mean, std, pca = self.stats_[key]
            inputs.append(helper.make_tensor_value_info(key, TensorProto.DOUBLE, [None, widths[key]]))
            nodes.append(helper.make_node("Sub", [key, const(f"{key}_mean", mean)], [f"{key}_c"]))
            nodes.append(helper.make_node("Div", [f"{key}_c", const(f"{key}_std", std)], [f"{key}_z"]))
            z, width = f"{key}_z", len(mean)
            if pca is not None:
                nodes.append(helper.make_node("Sub", [z, const(f"{key}_pmean", pca.mean_)], [f"{key}_pc"]))
                nodes.append(
                    helper.make_node("MatMul", [f"{key}_pc", const(f"{key}_comp", pca.components_.T)], [f"{key}_p"])
                )
                z, width = f"{key}_p", pca.components_.shape[0]
            w = self.params.weights.get(key, 1.0)
            if self.params.balance:
                w = w / np.sqrt(width)
            nodes.append(helper.make_node("Mul", [z, const(f"{key}_w", w)], [f"{key}_out"]))
            parts.append(f"{key}_out")
        nodes.append(helper.make_node("Concat", parts, ["fused"], axis=1))
        nodes.append(helper.make_node("Cast", ["fused"], ["fused32"], to=TensorProto.FLOAT))
        nodes.append(helper.make_node("Cast", ["fused32"], ["features"], to=TensorProto.DOUBLE))
        out = helper.make_tensor_value_info("features", TensorProto.DOUBLE, [None, None])
        graph = helper.make_graph(nodes, self.name, inputs, [out], inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()

    def _check(self, key: str, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ComponentError(
                f"{self.name}: block '{key}' must be a 2-D (samples × dims) array, "
                f"got shape {X.shape}; early fusion takes vector features"
            )
        if hasattr(self, "stats_") and key in self.stats_ and X.shape[1] != self.stats_[key][0].shape[0]:
            raise ComponentError(
                f"{self.name}: block '{key}' has {X.shape[1]} dims, fitted on {self.stats_[key][0].shape[0]}"
            )
        return X
