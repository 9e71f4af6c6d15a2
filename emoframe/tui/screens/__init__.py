"""One screen a module: plugins, builder, run, results."""
