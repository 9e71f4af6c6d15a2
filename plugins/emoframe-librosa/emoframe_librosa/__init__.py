"""librosa feature extractors for emoframe."""
