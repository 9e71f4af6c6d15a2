"""openSMILE feature extractors for emoframe."""
