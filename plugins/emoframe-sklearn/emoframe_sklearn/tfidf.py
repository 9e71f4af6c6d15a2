"""TF-IDF text features, fitted on the training fold only."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from emoframe import ComponentError, FeatureExtractor
from emoframe import Params as BaseParams


class Tfidf(FeatureExtractor):
    """TF-IDF of word or character n-grams (sparse), vocabulary learned on the training fold only."""

    name = "sklearn.tfidf"
    version = "1"
    modality = "text"
    output = "vector"
    stateless = False
    sparse = True

    @classmethod
    def width(cls, params: Any) -> int | None:
        return params.max_features

    class Params(BaseParams):
        analyzer: Literal["word", "char_wb"] = Field("word", description="word n-grams or character n-grams")
        ngram_min: int = Field(1, ge=1, description="shortest n-gram")
        ngram_max: int = Field(2, ge=1, le=8, description="longest n-gram")
        min_df: int = Field(1, ge=1, description="ignore n-grams in fewer training documents")
        max_features: int | None = Field(20000, ge=1, description="keep the most frequent n-grams")
        sublinear_tf: bool = Field(True, description="1 + log(tf)")
        lowercase: bool = Field(True, description="lower-case before tokenising")

        @model_validator(mode="after")
        def _range(self) -> Any:
            if self.ngram_max < self.ngram_min:
                raise ValueError("ngram_max must be ≥ ngram_min")
            return self

    def fit(self, inputs: Any, y: Any = None) -> Tfidf:
        self._learn(inputs, transform=False)
        return self

    def fit_transform(self, inputs: Any, y: Any = None) -> Any:
        """One tokenisation of the training texts for the vocabulary and their features (as scikit-learn's)."""
        return self._learn(inputs, transform=True)

    def _learn(self, inputs: Any, transform: bool) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        p = self.params
        self.vectorizer_ = TfidfVectorizer(
            analyzer=p.analyzer,
            ngram_range=(p.ngram_min, p.ngram_max),
            min_df=p.min_df,
            max_features=p.max_features,
            sublinear_tf=p.sublinear_tf,
            lowercase=p.lowercase,
        )
        texts = [str(t) for t in inputs]
        if not any(t.strip() for t in texts):
            raise ComponentError(f"{self.name}: every training transcript is empty; nothing to learn a vocabulary from")
        try:
            out = self.vectorizer_.fit_transform(texts) if transform else self.vectorizer_.fit(texts)
        except ValueError as exc:  # e.g. empty vocabulary after min_df
            raise ComponentError(f"{self.name}: {exc}") from None
        self.fitted_on_ = len(texts)
        return out

    def feature_names(self) -> list[str] | None:
        """The fitted vocabulary's terms, one per column (None before fit)."""
        if not hasattr(self, "vectorizer_"):
            return None
        return [str(t) for t in self.vectorizer_.get_feature_names_out()]

    def transform(self, inputs: Any) -> Any:
        if not hasattr(self, "vectorizer_"):
            raise ComponentError(f"{self.name}: transform called before fit (it is fitted on the training fold)")
        return self.vectorizer_.transform([str(t) for t in inputs])
