"""From "this pipeline won" to "it labels my recordings": bundles, prediction, export and serving.

from emoframe.deploy import train_bundle, load
"""

from .predictor import Predictor, load
from .train import train_bundle

__all__ = ["Predictor", "load", "train_bundle"]
