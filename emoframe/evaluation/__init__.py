"""Speaker-independent splits, metrics, bootstrap statistics and the evaluation loop."""
