"""Pure functions of the figures: speaker-independent splits, metrics, bootstrap statistics and the fusion
verdict, pooling folds (``summary``), fold records, failure grouping, transcript overlap, probability columns.

Facts only: how a face colours or words them lives above (``emoframe.display``, the CLI, TUI and report);
the evaluation loop that calls these is ``bench/evaluate.py``.
"""
