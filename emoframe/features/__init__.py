"""Content-addressed feature cache and parallel extraction."""

from .cache import FeatureCache
from .extract import ExtractionResult, extract_features

__all__ = ["ExtractionResult", "FeatureCache", "extract_features"]
