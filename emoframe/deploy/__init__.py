"""From "this pipeline won" to "it labels my recordings": bundles, prediction, export and serving."""
