"""scikit-learn components for emoframe."""
