"""Parallel backends (sequential, threads, multiprocessing, loky)."""
