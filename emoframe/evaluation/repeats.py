"""Repeats of a protocol: the seed each repeat runs with.

Pure: a repeat is the whole protocol again with a seed derived from the spec's ``evaluation.seed``;
repeat 0 keeps that seed, so a run with one repeat is exactly the run without repeats.
"""

from __future__ import annotations

import hashlib

SEED_SPACE = 2**32  # numpy's seeds: every derived seed is a valid evaluation.seed


def derive_seed(seed: int, repeat: int) -> int:
    """The seed of ``repeat`` (0-based) for a spec seeded ``seed``: ``seed`` itself for repeat 0, else a
    hash of both, so that repeats are independent draws and the same spec always derives the same seeds."""
    if repeat == 0:
        return seed
    digest = hashlib.sha256(f"emoframe-repeat:{seed}:{repeat}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_SPACE
