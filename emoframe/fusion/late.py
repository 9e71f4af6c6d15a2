"""Late fusion: a weighted average of branch probabilities."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..errors import ComponentError
from ..evaluation.metrics import balanced_accuracy
from ..plugin.components import BaseParams, Labels, LateFusion
from ..plugin.contract import check_probabilities


def fitted_probas(fusion: Any, probas: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The predict-time checks every late fusion needs: fitted, valid blocks, no branch missing."""
    if not hasattr(fusion, "order_"):
        raise ComponentError(f"{fusion.name}: predict_proba called before fit")
    checked = check_probabilities(probas, len(fusion.classes_), fusion.name)
    missing = set(fusion.order_) - set(checked)
    if missing:
        raise ComponentError(f"{fusion.name}: missing branch probabilities {sorted(missing)}")
    return checked


class WeightedAverageFusion(LateFusion):
    """Weighted average of branch probabilities; weights equal, fixed, or learned.

    ``learned`` searches the weight simplex (step 0.1) for the best UAR on the
    probabilities the branches gave on held-out training speakers; ties go to the
    weights closest to equal, so nothing is tuned on noise.
    """

    name = "fusion.late"
    version = "1"

    class Params(BaseParams):
        weights: Literal["equal", "learned"] | dict[str, float] = Field(
            "equal", description="'equal', 'learned' (on inner validation), or {branch: weight}"
        )
        step: float = Field(0.1, gt=0, le=0.5, description="grid step of the learned weights")

    @property
    def needs_heldout(self) -> bool:
        return self.params.weights == "learned"

    def fit(self, probas: Mapping[str, np.ndarray], y: Labels, classes: Labels) -> WeightedAverageFusion:
        self.classes_ = np.asarray(classes)
        checked = check_probabilities(probas, len(self.classes_), self.name)
        self.order_ = sorted(checked)
        w = self.params.weights
        if w == "equal":
            self.weights_ = {k: 1.0 / len(self.order_) for k in self.order_}
        elif w == "learned":
            self.weights_ = self._learn(checked, np.asarray(y))
        else:
            unknown = set(w) - set(self.order_)
            if unknown:
                raise ComponentError(
                    f"{self.name}: weights name unknown branch(es) {sorted(unknown)}; branches are {self.order_}"
                )
            total = sum(w.get(k, 0.0) for k in self.order_)
            if total <= 0:
                raise ComponentError(f"{self.name}: weights must sum to a positive number")
            self.weights_ = {k: w.get(k, 0.0) / total for k in self.order_}
        return self

    def _learn(self, probas: dict[str, np.ndarray], y: np.ndarray) -> dict[str, float]:
        steps = int(round(1 / self.params.step))
        equal = np.full(len(self.order_), 1 / len(self.order_))
        best: np.ndarray = equal
        best_key: tuple[float, float] | None = None
        for combo in itertools.product(range(steps + 1), repeat=len(self.order_)):
            if sum(combo) != steps:
                continue
            wv = np.asarray(combo, dtype=float) / steps
            P: np.ndarray = np.sum([wv[i] * probas[k] for i, k in enumerate(self.order_)], axis=0)
            score = balanced_accuracy(y, self.classes_[np.argmax(P, axis=1)])
            key = (round(score, 9), -float(np.abs(wv - equal).sum()))
            if best_key is None or key > best_key:
                best, best_key = wv, key
        return {k: float(best[i]) for i, k in enumerate(self.order_)}

    def predict_proba(self, probas: Mapping[str, np.ndarray]) -> np.ndarray:
        probas = fitted_probas(self, probas)
        P: np.ndarray = np.sum([self.weights_[k] * probas[k] for k in self.order_], axis=0)
        return P / P.sum(axis=1, keepdims=True)

    def branch_weights(self, probas: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = len(next(iter(probas.values())))
        return {k: np.full(rows, self.weights_[k]) for k in self.order_}

    def explain(self, probas: Mapping[str, np.ndarray], prior: np.ndarray) -> dict[str, np.ndarray]:
        """Exact Shapley values in closed form: the average is linear in each branch (its rows already sum
        to 1, so the renormalisation is a no-op), so branch b contributes w_b · (P_b − prior)."""
        probas = fitted_probas(self, probas)
        prior = np.asarray(prior, dtype=np.float64)
        return {k: self.weights_[k] * (np.asarray(probas[k], dtype=np.float64) - prior) for k in self.order_}

    def onnx_graph(self, widths: Mapping[str, int]) -> bytes:
        """Σ_b w_b · P_b, renormalised per row: one Mul per branch, a Sum and a division."""
        from onnx import TensorProto, helper, numpy_helper

        nodes, inits, inputs, terms = [], [], [], []
        for k in self.order_:
            inputs.append(helper.make_tensor_value_info(k, TensorProto.DOUBLE, [None, widths[k]]))
            inits.append(numpy_helper.from_array(np.array(self.weights_[k], dtype=np.float64), f"w_{k}"))
            nodes.append(helper.make_node("Mul", [k, f"w_{k}"], [f"wp_{k}"]))
            terms.append(f"wp_{k}")
        nodes.append(helper.make_node("Sum", terms, ["total"]))
        inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"))
        nodes.append(helper.make_node("ReduceSum", ["total", "axis1"], ["rowsum"], keepdims=1))
        nodes.append(helper.make_node("Div", ["total", "rowsum"], ["probabilities"]))
        out = helper.make_tensor_value_info("probabilities", TensorProto.DOUBLE, [None, len(self.classes_)])
        graph = helper.make_graph(nodes, self.name, inputs, [out], inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
