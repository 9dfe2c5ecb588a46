"""Automatic memory-mapping of large numpy arrays sent to worker processes."""
