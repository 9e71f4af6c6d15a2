"""Built-in fusion strategies (no heavy dependency), registered through the core's entry point."""
