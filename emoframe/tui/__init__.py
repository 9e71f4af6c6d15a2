"""`emoframe tui`: assemble pipelines, benchmark combinations and read the results (Textual)."""
