"""Corpus loaders for the layouts users have on disk, each mapping labels to emoframe's vocabulary."""
