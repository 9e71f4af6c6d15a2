"""Benchmarks: grid expansion with baselines, fold tasks, executors, the resumable runner."""
