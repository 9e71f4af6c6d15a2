"""scikit-learn classifiers behind emoframe's Model contract (vector input, dense or sparse)."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from pydantic import Field

from emoframe import ComponentError, Model, Params


class _SklearnModel(Model):
    accepts = frozenset({"vector"})
    accepts_sparse = True  # TF-IDF stays sparse: no centring, sparse-aware estimators

    def estimator(self, sparse: bool) -> Any:
        raise NotImplementedError

    def _check(self, X: Any) -> Any:
        import scipy.sparse as sp

        if sp.issparse(X):
            return X.tocsr()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ComponentError(f"{self.name}: expects a (samples × dims) matrix, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ComponentError(f"{self.name}: input has NaN or inf values")
        return X

    def fit(self, X: Any, y: Any, groups: Any = None) -> _SklearnModel:
        import scipy.sparse as sp
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X = self._check(X)
        y = np.asarray(y)
        if len(y) != X.shape[0]:
            raise ComponentError(f"{self.name}: {X.shape[0]} rows but {len(y)} labels")
        if len(np.unique(y)) < 2:
            raise ComponentError(f"{self.name}: needs at least two classes to train, got {np.unique(y).tolist()}")
        sparse = sp.issparse(X)
        steps = [StandardScaler(with_mean=not sparse)] if getattr(self.params, "scale", False) else []
        self.model_ = make_pipeline(*steps, self.estimator(sparse)).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise ComponentError(f"{self.name}: predict_proba called before fit")
        X = self._check(X)
        expected = self.model_.n_features_in_
        if X.shape[1] != expected:
            raise ComponentError(f"{self.name}: fitted on {expected} features, got {X.shape[1]}")
        return self._proba(X)

    def _proba(self, X: Any) -> np.ndarray:
        return self.model_.predict_proba(X)

    def onnx_graph(self) -> bytes:
        """The fitted scikit-learn pipeline through skl2onnx: float64 input ``X`` where onnxruntime runs
        the converted operators in double precision, else float32; checked on random rows."""
        if not hasattr(self, "model_"):
            raise ComponentError(f"{self.name}: export called before fit")
        import onnxruntime as ort
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

        X = np.random.default_rng(0).normal(size=(3, self.model_.n_features_in_))
        problems = []
        for tensor, dtype in ((DoubleTensorType, np.float64), (FloatTensorType, np.float32)):
            try:
                with warnings.catch_warnings():  # skl2onnx reads attributes scikit-learn marks deprecated
                    warnings.simplefilter("ignore", FutureWarning)
                    onx = to_onnx(
                        self.model_, initial_types=[("X", tensor([None, X.shape[1]]))], options={"zipmap": False}
                    )
                data = onx.SerializeToString()
                sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
                got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"X": X.astype(dtype)})))
                if "probabilities" not in got or got["probabilities"].shape != (len(X), len(self.classes_)):
                    raise ValueError(f"unexpected outputs {sorted(got)}")
                return data
            except Exception as exc:  # noqa: BLE001 - try the other precision, then say why
                problems.append(f"{np.dtype(dtype).name}: {type(exc).__name__}: {str(exc)[:200]}")
        raise NotImplementedError(
            f"{self.name}: skl2onnx could not convert {self.model_.steps[-1][1]!r} ({'; '.join(problems)})"
        )


ClassWeight = Literal["balanced"] | None


class SVC(_SklearnModel):
    """Standardisation + support vector classifier; Platt-calibrated probabilities where they are read.

    ``probabilities: auto`` calibrates (Platt scaling on internal folds: about six SVC fits) only
    when something reads the probabilities — a late fusion, or predict_proba outside a benchmark.
    Where only the predicted label counts (a benchmark's unimodal or early-fusion pipeline) it fits
    one SVC, and its "probabilities" are the softmax of the one-vs-rest decision values: scores
    whose argmax is the SVC's one-vs-one vote (ties broken by confidence), not calibrated
    probabilities.
    """

    name = "sklearn.svc"
    version = "2"
    calibrates = True

    class Params(Params):
        C: float = Field(1.0, gt=0, description="inverse regularisation")
        kernel: Literal["rbf", "linear", "poly", "sigmoid"] = Field("rbf", description="kernel")
        gamma: float | Literal["scale", "auto"] = Field("scale", description="RBF width")
        class_weight: ClassWeight = Field(None, description="'balanced' reweights classes by frequency")
        scale: bool = Field(True, description="standardise features on the training fold first")
        probabilities: Literal["auto", "platt", "scores"] = Field(
            "auto",
            description="platt: calibrated on internal folds (~6 SVC fits); scores: one fit, softmax of the "
            "decision values; auto: platt where the probabilities are read, else scores",
        )
        seed: int = Field(0, description="seed of the probability calibration")

    #: rows from which a kernel SVC on wide sparse input takes minutes per fit
    SLOW_SPARSE_ROWS = 2000

    @classmethod
    def cost_warning(cls, params: Any, inputs: str, rows: int) -> str | None:
        kind, _, width = inputs.partition(" ")
        if kind != "sparse" or params.kernel == "linear" or rows < cls.SLOW_SPARSE_ROWS:
            return None
        return (
            f"sklearn.svc with the {params.kernel} kernel on {rows} rows of sparse features up to "
            f"{width or 'many'} columns wide (TF-IDF): a kernel SVC's fit grows with the square of the rows "
            "and is slow on wide sparse input (minutes per fold at this size); sklearn.logreg or sklearn.svc "
            "with kernel: linear fit the same features in seconds"
        )

    def estimator(self, sparse: bool) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC as SkSVC

        p = self.params
        svc = SkSVC(C=p.C, kernel=p.kernel, gamma=p.gamma, class_weight=p.class_weight, random_state=p.seed)
        if not self.calibrated_:
            return svc
        # Platt scaling on internal folds, one SVC refitted on all rows (SVC(probability=True) is deprecated)
        return CalibratedClassifierCV(svc, method="sigmoid", cv=self._cv, ensemble=False)

    def fit(self, X: Any, y: Any, groups: Any = None) -> _SklearnModel:
        from sklearn.model_selection import StratifiedKFold

        mode = self.params.probabilities  # decided at fit: calibrate only where probabilities are read
        self.calibrated_ = mode == "platt" or (mode == "auto" and self.probabilities_used)
        counts = np.unique(np.asarray(y), return_counts=True)[1]
        self._cv = StratifiedKFold(
            n_splits=int(max(2, min(5, counts.min()))), shuffle=True, random_state=self.params.seed
        )
        return super().fit(X, y, groups)

    def onnx_graph(self) -> bytes:
        if not getattr(self, "calibrated_", True):
            raise NotImplementedError(
                f"{self.name} was fitted with probabilities: scores (softmax of decision values, computed in "
                "Python); train it with probabilities: platt (what `emoframe train` does with auto) to export it"
            )
        return super().onnx_graph()

    def _proba(self, X: Any) -> np.ndarray:
        if self.calibrated_:
            return self.model_.predict_proba(X)
        d = np.asarray(self.model_.decision_function(X), dtype=np.float64)
        if d.ndim == 1:  # two classes: the decision value favours classes_[1]
            d = np.column_stack([-d, d])
        e = np.exp(d - d.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


class LogReg(_SklearnModel):
    """Standardisation + multinomial logistic regression."""

    name = "sklearn.logreg"
    version = "1"

    class Params(Params):
        C: float = Field(1.0, gt=0, description="inverse regularisation")
        class_weight: ClassWeight = Field(None, description="'balanced' reweights classes by frequency")
        max_iter: int = Field(2000, ge=10, description="solver iterations")
        scale: bool = Field(True, description="standardise features on the training fold first")

    def linear_weights(self) -> np.ndarray | None:
        """(classes × features) coefficients on the features as given (a scaling step folded in)."""
        if not hasattr(self, "model_"):
            return None
        lr = self.model_[-1]
        coef = np.asarray(lr.coef_, dtype=np.float64)
        if coef.shape[0] == 1:  # two classes: one row that favours classes_[1]
            coef = np.vstack([-coef[0], coef[0]])
        if len(self.model_) > 1:  # StandardScaler first: a unit of the raw feature is 1/scale standard units
            scale = getattr(self.model_[0], "scale_", None)
            if scale is not None:
                coef = coef / np.where(scale > 0, scale, 1.0)
        return coef

    def estimator(self, sparse: bool) -> Any:
        from sklearn.linear_model import LogisticRegression

        p = self.params
        return LogisticRegression(C=p.C, class_weight=p.class_weight, max_iter=p.max_iter)


class RandomForest(_SklearnModel):
    """Random forest of decision trees (no scaling needed)."""

    name = "sklearn.random_forest"
    version = "1"

    class Params(Params):
        n_estimators: int = Field(300, ge=1, description="number of trees")
        max_depth: int | None = Field(None, ge=1, description="tree depth limit (null: none)")
        class_weight: Literal["balanced", "balanced_subsample"] | None = Field(None, description="class reweighting")
        seed: int = Field(0, description="random seed")
        n_jobs: int = Field(1, description="threads (1 keeps fold-level parallelism predictable)")

    def estimator(self, sparse: bool) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        p = self.params
        return RandomForestClassifier(
            n_estimators=p.n_estimators,
            max_depth=p.max_depth,
            class_weight=p.class_weight,
            random_state=p.seed,
            n_jobs=p.n_jobs,
        )


class MLP(_SklearnModel):
    """Standardisation + multi-layer perceptron (ReLU, Adam, early stopping on a random 10%)."""

    name = "sklearn.mlp"
    version = "1"

    class Params(Params):
        hidden: list[int] = Field(default_factory=lambda: [128], description="hidden layer sizes")
        alpha: float = Field(1e-3, ge=0, description="L2 penalty")
        max_iter: int = Field(500, ge=1, description="epochs at most")
        early_stopping: bool = Field(True, description="stop when the held-out 10% stops improving")
        seed: int = Field(0, description="random seed")
        scale: bool = Field(True, description="standardise features on the training fold first")

    def estimator(self, sparse: bool) -> Any:
        from sklearn.neural_network import MLPClassifier

        p = self.params
        return MLPClassifier(
            hidden_layer_sizes=tuple(p.hidden),
            alpha=p.alpha,
            max_iter=p.max_iter,
            early_stopping=p.early_stopping,
            random_state=p.seed,
        )
