"""Hugging Face transformers components for emoframe."""
