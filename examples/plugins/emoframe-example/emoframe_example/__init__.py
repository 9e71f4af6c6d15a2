"""emoframe plugin example."""
