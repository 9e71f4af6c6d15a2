"""VADER components for emoframe."""
