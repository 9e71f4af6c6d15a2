"""Built-in fusions (early: concatenation; late: weighted average, vote, gated, stacking), plugins like any
other: registered by ``default_plugin`` through the core's entry point, held to ``plugin.contract``."""
