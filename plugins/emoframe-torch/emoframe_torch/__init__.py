"""PyTorch models for emoframe."""
