"""A runnable pipeline built from a validated spec: fit, predict_proba, branch probabilities.

    pipe = Pipeline.from_spec("pipeline.yaml").fit(train_manifest)
    P = pipe.predict_proba(test_manifest)          # rows aligned with the manifest, columns pipe.classes_

Stateless features come from a :class:`FeatureProvider` (cached, computed once per corpus and
shared between folds and pipelines); fitted extractors (TF-IDF) and every model see the rows
passed to ``fit`` only. Learned late fusions are fitted on out-of-fold probabilities that the
branches give on training speakers held out in inner folds.
"""

from .fitted import Branch, FoldWork, Pipeline, Progress, speaker_normalise
from .provider import FeatureProvider

__all__ = ["Branch", "FeatureProvider", "FoldWork", "Pipeline", "Progress", "speaker_normalise"]
