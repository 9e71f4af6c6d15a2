"""Manifests, audio I/O, corpus loaders and the synthetic demo corpus."""

from .audio import AudioError, load_audio
from .manifest import Manifest, load_manifest

__all__ = ["AudioError", "Manifest", "load_audio", "load_manifest"]
